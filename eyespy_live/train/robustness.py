"""How the eye model holds up when the picture gets worse: fixed, repeatable degradations.

Each condition alters every test patch the same way (no randomness, so two runs agree) and
the model is scored again; the drop from the clean figure shows where it is weak. These are
the conditions the training augmentation is meant to cover, at the hard end of its range.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from eyespy_live.train.metrics import point_metrics
from eyespy_live.vision.eyecrop import PATCH_SIZE

Degrade = Callable[[np.ndarray], np.ndarray]


def _dim(patch: np.ndarray) -> np.ndarray:
    """Underexposed by ~2 stops, with the noise a high ISO adds."""
    dark = patch.astype(np.float32) * 0.25
    noise = np.random.default_rng(int(patch.sum())).normal(0.0, 3.0, patch.shape)
    return np.clip(dark + noise, 0, 255).astype(np.uint8)


def _overexposed(patch: np.ndarray) -> np.ndarray:
    return np.clip(patch.astype(np.float32) * 1.8 + 40, 0, 255).astype(np.uint8)


def _side_light(patch: np.ndarray) -> np.ndarray:
    ramp = np.linspace(0.35, 1.35, PATCH_SIZE, dtype=np.float32)[None, :]
    return np.clip(patch.astype(np.float32) * ramp, 0, 255).astype(np.uint8)


def _defocus(patch: np.ndarray) -> np.ndarray:
    return cv2.GaussianBlur(patch, (0, 0), 1.2)


def _motion(patch: np.ndarray) -> np.ndarray:
    kernel = np.zeros((5, 5), np.float32)
    kernel[:, 2] = 1.0 / 5  # vertical: the direction eyelids move
    return cv2.filter2D(patch, -1, kernel, borderType=cv2.BORDER_REPLICATE)


def _small(patch: np.ndarray, side: int) -> np.ndarray:
    low = cv2.resize(patch, (side, side), interpolation=cv2.INTER_AREA)
    return cv2.resize(low, (PATCH_SIZE, PATCH_SIZE), interpolation=cv2.INTER_LINEAR)


def _jpeg(patch: np.ndarray) -> np.ndarray:
    ok, data = cv2.imencode(".jpg", patch, [cv2.IMWRITE_JPEG_QUALITY, 20])
    return cv2.imdecode(data, cv2.IMREAD_GRAYSCALE) if ok else patch


def _shifted(patch: np.ndarray) -> np.ndarray:
    """The crop placed 15 % of its width off (detector eye points wander by about that)."""
    shift = np.float32([[1, 0, 0.15 * PATCH_SIZE], [0, 1, 0.1 * PATCH_SIZE]])
    return cv2.warpAffine(patch, shift, (PATCH_SIZE, PATCH_SIZE), borderMode=cv2.BORDER_REPLICATE)


CONDITIONS: dict[str, Degrade] = {
    "clean": lambda p: p,
    "dim (×0.25, noise)": _dim,
    "overexposed (×1.8 + 40)": _overexposed,
    "side light (0.35 → 1.35)": _side_light,
    "defocus (Gaussian σ 1.2 px)": _defocus,
    "motion blur (5 px, vertical)": _motion,
    "small eye (12 px, upscaled)": lambda p: _small(p, 12),
    "tiny eye (8 px, upscaled)": lambda p: _small(p, 8),
    "JPEG quality 20": _jpeg,
    "crop off-centre (15 % / 10 %)": _shifted,
}


def robustness(patches: np.ndarray, labels: np.ndarray, score: Callable[[np.ndarray], np.ndarray],
               threshold: float = 0.5) -> dict[str, dict]:
    """Accuracy, recall, false-closed rate and AUC of `score` under every condition."""
    results = {}
    for name, degrade in CONDITIONS.items():
        altered = np.stack([degrade(p) for p in patches])
        m = point_metrics(labels, score(altered), threshold)
        open_total = max(1, m["confusion"]["tn"] + m["confusion"]["fp"])
        results[name] = {"accuracy": m["accuracy"], "recall": m["recall"],
                         "false_closed": m["confusion"]["fp"] / open_total,
                         "roc_auc": m["roc_auc"]}
    return results
