"""Repeatable ways of making a picture worse (or merely different): darker and noisier,
turned, shifted, smaller, blurred, mirrored, lit from one side, recompressed.

Each takes the image and a seed (a video's frame number; any number for a photo) and returns
a new image; noise is drawn from that seed, so two runs agree. Used by the live robustness
sweep (`train.live_robustness`) and by the photo proxy's `--alter` (`train.portraits`).
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

Alter = Callable[[np.ndarray, int], np.ndarray]


def dimmed(gain: float, noise: float) -> Alter:
    """Underexposed to `gain` of the light, with sensor noise of s.d. `noise` grey levels."""
    def alter(image: np.ndarray, seq: int) -> np.ndarray:
        rng = np.random.default_rng(seq)
        dark = image.astype(np.float32) * gain
        dark += rng.normal(0.0, noise, image.shape)
        return np.clip(dark, 0, 255).astype(np.uint8)
    return alter


def rolled(degrees: float) -> Alter:
    """The head tilted sideways (the whole frame turned about its centre)."""
    def alter(image: np.ndarray, seq: int) -> np.ndarray:
        h, w = image.shape[:2]
        turn = cv2.getRotationMatrix2D((w / 2.0, h / 2.0), degrees, 1.0)
        return cv2.warpAffine(image, turn, (w, h), borderMode=cv2.BORDER_REPLICATE)
    return alter


def shaken(image: np.ndarray, seq: int) -> np.ndarray:
    """A head (or a hand-held camera) moving: the frame shifted up to ±18 / ±10 px."""
    h, w = image.shape[:2]
    shift = np.float32([[1, 0, 18 * np.sin(seq / 3.0)], [0, 1, 10 * np.cos(seq / 2.3)]])
    return cv2.warpAffine(image, shift, (w, h), borderMode=cv2.BORDER_REPLICATE)


def low_resolution(image: np.ndarray, seq: int) -> np.ndarray:
    h, w = image.shape[:2]
    small = cv2.resize(image, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def farther(image: np.ndarray, seq: int) -> np.ndarray:
    """The picture at 0.8 × on a larger grey 640×480 frame: a smaller face in more frame."""
    h, w = image.shape[:2]
    canvas = np.full((480, 640, 3), 110, np.uint8)
    small = cv2.resize(image, (int(w * 0.8), int(h * 0.8)), interpolation=cv2.INTER_AREA)
    canvas[100 : 100 + small.shape[0], 200 : 200 + small.shape[1]] = small[:380, :440]
    return canvas


def motion_blurred(length: int, every: int = 1, burst: int = 1, across: bool = False) -> Alter:
    """Motion blur `length` px long, up and down (a nod) or `across` (a shake of the head),
    on `burst` frames of every `every`."""
    kernel = np.full((length, 1), 1.0 / length, np.float32)
    if across:
        kernel = np.ascontiguousarray(kernel.T)

    def alter(image: np.ndarray, seq: int) -> np.ndarray:
        if seq % every >= burst:
            return image
        return cv2.filter2D(image, -1, kernel, borderType=cv2.BORDER_REPLICATE)
    return alter


def mirrored(image: np.ndarray, seq: int) -> np.ndarray:
    return np.ascontiguousarray(image[:, ::-1])


def side_lit(image: np.ndarray, seq: int) -> np.ndarray:
    """Light falling from 1.3 to 0.2 across the frame."""
    ramp = np.linspace(0.2, 1.3, image.shape[1], dtype=np.float32)[None, :, None]
    return np.clip(image.astype(np.float32) * ramp, 0, 255).astype(np.uint8)


def scaled(factor: float) -> Alter:
    """The whole picture resized (area-averaged down, cubic up)."""
    method = cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC

    def alter(image: np.ndarray, seq: int) -> np.ndarray:
        return cv2.resize(image, None, fx=factor, fy=factor, interpolation=method)
    return alter


def recompressed(quality: int) -> Alter:
    """Saved as a JPEG of this quality and read back."""
    def alter(image: np.ndarray, seq: int) -> np.ndarray:
        _, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
        return cv2.imdecode(data, cv2.IMREAD_COLOR)
    return alter


def soft_focus(sigma: float) -> Alter:
    return lambda image, seq: cv2.GaussianBlur(image, (0, 0), sigma)
