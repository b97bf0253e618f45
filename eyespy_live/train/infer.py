"""Scoring many patches with a .tflite eye-state model, and the Haar-eye baseline.

No TensorFlow: runs in the runtime environment through `eyespy_live.vision.tflite`.
"""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np

from eyespy_live.vision.tflite import load_interpreter


class TFLiteScorer:
    """P(closed) for a batch of uint8 patches with a float or int8 .tflite model."""

    def __init__(self, path: Path | str, num_threads: int = 1):
        self.path = Path(path)
        self.interpreter = load_interpreter(self.path, num_threads)
        inp = self.interpreter.get_input_details()[0]
        out = self.interpreter.get_output_details()[0]
        self.in_index, self.out_index = inp["index"], out["index"]
        self.in_dtype = inp["dtype"]
        self.in_scale, self.in_zero = (float(v) for v in inp["quantization"])
        self.out_scale, self.out_zero = (float(v) for v in out["quantization"])
        self.size = int(inp["shape"][1])

    def prepare(self, patch: np.ndarray) -> np.ndarray:
        x = patch.astype(np.float32) / 255.0
        if self.in_dtype in (np.int8, np.uint8):
            info = np.iinfo(self.in_dtype)
            x = np.clip(np.round(x / self.in_scale + self.in_zero), info.min, info.max)
        return x.astype(self.in_dtype).reshape(1, self.size, self.size, 1)

    def score(self, patches: np.ndarray) -> np.ndarray:
        out = np.empty(len(patches), np.float64)
        for i, patch in enumerate(patches):
            self.interpreter.set_tensor(self.in_index, self.prepare(patch))
            self.interpreter.invoke()
            raw = float(self.interpreter.get_tensor(self.out_index).reshape(-1)[0])
            out[i] = (raw - self.out_zero) * self.out_scale if self.out_scale else raw
        return np.clip(out, 0.0, 1.0)

    def microseconds_per_eye(self, repeats: int = 3000) -> dict:
        """Median and best of 5 runs of `invoke()` alone, plus one full `score()` call."""
        tensor = self.prepare(np.full((self.size, self.size), 128, np.uint8))
        self.interpreter.set_tensor(self.in_index, tensor)
        for _ in range(200):
            self.interpreter.invoke()
        runs = []
        for _ in range(5):
            start = time.perf_counter()
            for _ in range(repeats):
                self.interpreter.invoke()
            runs.append((time.perf_counter() - start) / repeats * 1e6)
        patch = np.full((1, self.size, self.size), 128, np.uint8)
        start = time.perf_counter()
        for _ in range(repeats // 3):
            self.score(patch)
        with_io = (time.perf_counter() - start) / (repeats // 3) * 1e6
        return {"invoke_us_median": float(np.median(runs)), "invoke_us_best": float(min(runs)),
                "with_python_io_us": float(with_io)}


class HaarEyeBaseline:
    """The classic heuristic: OpenCV's open-eye Haar cascade finds an eye → open.

    Score = 1 − (found an eye), so 1 means "closed"; applied to the same 24×24 patch the
    model sees, upscaled 3×.
    """

    def __init__(self, upscale: int = 3):
        path = Path(cv2.data.haarcascades) / "haarcascade_eye.xml"
        self.cascade = cv2.CascadeClassifier(str(path))
        if self.cascade.empty():
            raise RuntimeError(f"cannot load {path}")
        self.upscale = upscale

    def score(self, patches: np.ndarray) -> np.ndarray:
        out = np.empty(len(patches), np.float64)
        for i, patch in enumerate(patches):
            big = cv2.resize(patch, None, fx=self.upscale, fy=self.upscale,
                             interpolation=cv2.INTER_LINEAR)
            big = cv2.equalizeHist(big)
            found = self.cascade.detectMultiScale(big, scaleFactor=1.1, minNeighbors=3,
                                                  minSize=(20, 20))
            out[i] = 0.0 if len(found) else 1.0
        return out
