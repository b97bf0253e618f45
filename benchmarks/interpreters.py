"""TFLite runtimes side by side: the eye model and BlazeFace in each interpreter that loads.

- ai-edge-litert (what eyespy uses; the baseline of the ratios);
- tflite-runtime, its frozen predecessor (needs numpy<2, so it runs in its own virtual
  environment: pass its Python with --tflite-runtime-python; the script says when that
  environment is missing or tflite-runtime does not install on this Python);
- OpenCV's own TFLite importer, cv2.dnn.readNetFromTFLite (channels-first input).

Each row is µs per inference (set input, invoke, read output) on one thread, the median of
several blocks, and how far its (dequantised) outputs are from ai-edge-litert's on the same
16 random inputs.

    python benchmarks/interpreters.py [--tflite-runtime-python /tmp/tfrt-venv/bin/python]

To make that environment: python3 -m venv /tmp/tfrt-venv &&
/tmp/tfrt-venv/bin/pip install "numpy<2" tflite-runtime
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
BLOCKS, BLOCK_S = 7, 0.15  # median of 7 blocks of ~0.15 s each


def sample_inputs(shape: list[int], dtype: str, count: int = 16) -> list[np.ndarray]:
    rng = np.random.default_rng(7)
    if dtype in ("int8", "uint8"):
        info = np.iinfo(dtype)
        return [rng.integers(info.min, info.max + 1, shape).astype(dtype) for _ in range(count)]
    return [rng.uniform(-1, 1, shape).astype(dtype) for _ in range(count)]


def time_interpreter(module: str, model: str) -> dict:
    """µs per inference and the outputs for the sample inputs, with tflite `module`."""
    Interpreter = __import__(module, fromlist=["Interpreter"]).Interpreter  # noqa: N806
    interpreter = Interpreter(model_path=model, num_threads=1)
    interpreter.allocate_tensors()
    inp = interpreter.get_input_details()[0]
    outs = interpreter.get_output_details()
    inputs = sample_inputs(list(inp["shape"]), np.dtype(inp["dtype"]).name)

    def once(x: np.ndarray) -> list[np.ndarray]:
        interpreter.set_tensor(inp["index"], x)
        interpreter.invoke()
        return [interpreter.get_tensor(o["index"]) for o in outs]

    def dequantized(x: np.ndarray) -> list[np.ndarray]:
        values = []
        for o, raw in zip(outs, once(x), strict=True):
            scale, zero = o.get("quantization", (0.0, 0))
            values.append((raw.astype(np.float64) - zero) * scale if scale else raw)
        return values

    return {"us": median_us(once, inputs), "outputs": [flat(dequantized(x)) for x in inputs]}


def flat(outputs: list[np.ndarray]) -> list[float]:
    """All outputs as one list, largest tensor first (runtimes order outputs differently)."""
    ordered = sorted(outputs, key=lambda o: -o.size)
    return np.concatenate([o.reshape(-1) for o in ordered]).astype(float).tolist()


def median_us(once, inputs: list[np.ndarray]) -> float:
    """Median µs per call over BLOCKS blocks of about BLOCK_S seconds each."""
    started, calls = time.perf_counter(), 0
    while time.perf_counter() - started < 0.05 or calls < 3:  # warm-up and a first estimate
        once(inputs[calls % len(inputs)])
        calls += 1
    runs = max(3, int(BLOCK_S * calls / (time.perf_counter() - started)))
    blocks = []
    for _ in range(BLOCKS):
        started = time.perf_counter()
        for i in range(runs):
            once(inputs[i % len(inputs)])
        blocks.append((time.perf_counter() - started) / runs * 1e6)
    return float(np.median(blocks))


def time_cv2_dnn(model: str, reference: dict) -> dict:
    """The same model through OpenCV's TFLite importer (NCHW input), or why it won't load."""
    import cv2

    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    try:
        net = cv2.dnn.readNetFromTFLite(model)
    except cv2.error as exc:
        return {"error": short_error(exc)}
    from ai_edge_litert.interpreter import Interpreter

    details = Interpreter(model_path=model).get_input_details()[0]
    inputs = sample_inputs(list(details["shape"]), np.dtype(details["dtype"]).name)
    try:
        net.setNumThreads(1) if hasattr(net, "setNumThreads") else cv2.setNumThreads(1)

        def once(x: np.ndarray) -> list[np.ndarray]:
            net.setInput(np.ascontiguousarray(x.transpose(0, 3, 1, 2)).astype(np.float32))
            return list(net.forward(net.getUnconnectedOutLayersNames()))

        outputs = [flat(once(x)) for x in inputs]
    except cv2.error as exc:
        return {"error": short_error(exc)}
    return {"us": median_us(once, inputs), "outputs": outputs}


def short_error(exc: Exception) -> str:
    """OpenCV's message without its source path: '(-213:...) Lookup table for RELU …'."""
    text = str(exc).strip().splitlines()[-1]
    return text[text.find("error: ") + 7 :][:100] if "error: " in text else text[:100]


def tflite_runtime_worker(python: str | None, model: str) -> dict:
    if python is None:
        if importlib.util.find_spec("tflite_runtime") is None:
            return {"error": "not installed here; pass --tflite-runtime-python"}
        return time_interpreter("tflite_runtime.interpreter", model)
    if not Path(python).is_file():
        return {"error": f"{python} not found (see the docstring to create it)"}
    done = subprocess.run(
        [python, __file__, "--worker", "tflite_runtime.interpreter", model],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1][:120]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def max_difference(result: dict, reference: dict) -> str:
    if "outputs" not in result:
        return "-"
    a, b = result["outputs"], reference["outputs"]
    if len(a[0]) != len(b[0]):
        return "output sizes differ"
    return f"{max(float(np.max(np.abs(np.subtract(x, y)))) for x, y in zip(a, b, strict=True)):.3g}"


def models() -> dict[str, str]:
    found = {"eye state (int8, 24×24)": str(REPO / "models" / "eye_state_int8.tflite")}
    data = REPO / "models" / "mediapipe"  # shipped with eyespy-live
    found["BlazeFace short (float, 128²)"] = str(data / "face_detection_short_range.tflite")
    found["BlazeFace full (float, 192²)"] = str(data / "face_detection_full_range.tflite")
    return found


def versions(python: str | None) -> str:
    from importlib.metadata import version

    import cv2

    parts = [f"ai-edge-litert {version('ai-edge-litert')}", f"opencv-python {cv2.__version__}"]
    if python and Path(python).is_file():
        done = subprocess.run(
            [python, "-c", "import sys, numpy, tflite_runtime as t; "
             "print(t.__version__, numpy.__version__, sys.version.split()[0])"],
            capture_output=True, text=True,
        )  # fmt: skip
        if done.returncode == 0:
            tfrt, numpy_version, py = done.stdout.split()
            parts.append(f"tflite-runtime {tfrt} (Python {py}, numpy {numpy_version})")
        else:
            parts.append("tflite-runtime: not importable in " + python)
    return "; ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tflite-runtime-python", default="/tmp/tfrt-venv/bin/python")
    args = parser.parse_args()
    python = args.tflite_runtime_python or None

    print(f"one thread, median of {BLOCKS} blocks of ~{BLOCK_S} s; {versions(python)}\n")
    print("| model | runtime | µs / inference | vs ai-edge-litert | max output difference |")
    print("|---|---|---|---|---|")
    for label, model in models().items():
        baseline = time_interpreter("ai_edge_litert.interpreter", model)
        rows = [
            ("ai-edge-litert (baseline)", baseline),
            ("tflite-runtime", tflite_runtime_worker(python, model)),
            ("cv2.dnn.readNetFromTFLite", time_cv2_dnn(model, baseline)),
        ]
        for runtime, result in rows:
            if "error" in result:
                print(f"| {label} | {runtime} | n/a: {result['error']} | | |")
                continue
            ratio = result["us"] / baseline["us"]
            print(f"| {label} | {runtime} | {result['us']:.1f} | {ratio:.2f}× | "
                  f"{max_difference(result, baseline)} |")  # fmt: skip


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        print(json.dumps(time_interpreter(sys.argv[2], sys.argv[3])))
    else:
        main()
