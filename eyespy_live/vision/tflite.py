"""One place that knows which TFLite interpreter package is installed.

ai-edge-litert is the maintained runtime; tflite-runtime is its frozen predecessor and still
works on older systems, so it is the fallback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


class InterpreterMissing(RuntimeError):
    pass


def interpreter_class() -> type:
    try:
        from ai_edge_litert.interpreter import Interpreter

        return Interpreter
    except ImportError:
        pass
    try:
        from tflite_runtime.interpreter import Interpreter

        return Interpreter
    except ImportError as exc:
        raise InterpreterMissing(
            "No TFLite interpreter found: install ai-edge-litert "
            "(pip install ai-edge-litert) or tflite-runtime"
        ) from exc


def load_interpreter(model_path: Path | str, num_threads: int = 1) -> Any:
    path = Path(model_path)
    if not path.is_file():
        raise FileNotFoundError(f"model file not found: {path}")
    interpreter = interpreter_class()(model_path=str(path), num_threads=num_threads)
    interpreter.allocate_tensors()
    return interpreter
