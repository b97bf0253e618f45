"""The int8 eye-state model: a 24×24 grayscale eye patch in, P(eye closed) out.

Model contract (what `eyespy_live.train` exports): input [1, 24, 24, 1] int8, quantised from
pixel/255; output [1, 1] int8, dequantising to the probability that the eye is closed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from eyespy_live.resources import default_eye_model
from eyespy_live.vision.tflite import load_interpreter


class EyeStateModel:
    def __init__(self, model_path: Path | str | None = None, num_threads: int = 1):
        self.path = Path(model_path) if model_path else default_eye_model()
        self._interpreter = load_interpreter(self.path, num_threads)
        inp = self._interpreter.get_input_details()[0]
        out = self._interpreter.get_output_details()[0]
        self._in_index, self._out_index = inp["index"], out["index"]
        self._in_dtype = inp["dtype"]
        self._in_scale, self._in_zero = _quant(inp)
        self._out_scale, self._out_zero = _quant(out)
        self.input_size = int(inp["shape"][1])
        self._lut = self._input_table()

    def _input_table(self) -> np.ndarray:
        """The model's input value for each of the 256 pixel values (one lookup per patch)."""
        x = np.arange(256, dtype=np.float32) / 255.0
        if self._in_dtype in (np.int8, np.uint8):
            info = np.iinfo(self._in_dtype)
            x = np.clip(np.round(x / self._in_scale + self._in_zero), info.min, info.max)
        return x.astype(self._in_dtype)

    def p_closed(self, patch: np.ndarray) -> float:
        """Probability that the eye in one uint8 patch (PATCH_SIZE²) is closed."""
        tensor = self._lut[patch].reshape(1, self.input_size, self.input_size, 1)
        self._interpreter.set_tensor(self._in_index, tensor)
        self._interpreter.invoke()
        raw = self._interpreter.get_tensor(self._out_index).reshape(-1)[0]
        if self._out_scale:
            return float(np.clip((float(raw) - self._out_zero) * self._out_scale, 0.0, 1.0))
        return float(np.clip(raw, 0.0, 1.0))


def _quant(details: dict) -> tuple[float, int]:
    scale, zero = details.get("quantization", (0.0, 0))
    return float(scale), int(zero)
