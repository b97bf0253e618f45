"""One place that knows which TFLite interpreter package is installed.

ai-edge-litert is the maintained runtime; tflite-runtime is its frozen predecessor and still
works on older systems, so it is the fallback.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


class InterpreterMissing(RuntimeError):
    pass


class ModelInvalid(RuntimeError):
    """The model file is not a TFLite model (a setup error: exit 2, so systemd stops
    restarting a service that can never start)."""


MODEL_LIMIT = 512 * 1024 * 1024  # eyespy's models are kilobytes to a few MB


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


@contextlib.contextmanager
def _without_native_info() -> Iterator[None]:
    """Hide the runtime's own "INFO: Created TensorFlow Lite XNNPACK delegate" line.

    TFLite's C++ logger writes it straight to file descriptor 2 on every model load (it
    breaks progress bars and mixes a second log format into ours); anything else it writes
    meanwhile (a warning, an error) is passed on.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real stderr (embedded, closed): nothing to hide
        yield
        return
    with tempfile.TemporaryFile() as caught:
        os.dup2(caught.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            caught.seek(0)
            for line in caught.read().decode(errors="replace").splitlines(keepends=True):
                if not line.startswith("INFO: "):
                    sys.stderr.write(line)


def load_interpreter(model_path: Path | str, num_threads: int = 1) -> Any:
    path = Path(model_path)
    if not path.is_file():
        raise FileNotFoundError(f"model file not found: {path}")
    if path.stat().st_size > MODEL_LIMIT:
        raise ModelInvalid(f"{path}: too large for a TFLite model ({path.stat().st_size} bytes)")
    try:
        interpreter = interpreter_class()(model_path=str(path), num_threads=num_threads)
        with _without_native_info():
            interpreter.allocate_tensors()
    except (ValueError, RuntimeError) as exc:
        if isinstance(exc, InterpreterMissing):
            raise
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelInvalid(f"{path}: not a usable TFLite model ({reason})") from None
    return interpreter
