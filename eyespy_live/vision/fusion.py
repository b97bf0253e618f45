"""Per-eye evidence (CNN + eyelid geometry) and the learned fusion that weighs it.

The CNN's P(closed) and the geometry from `landmarks.py` disagree in telling ways: a smile
narrows the lids (the CNN drifts towards closed) while the iris stays visible; a closed
eye behind glasses can fool either alone. Rather than hand-set thresholds, a logistic
regression trained person-disjoint (`python -m eyespy_live.train fusion`) weighs them. It
ships as a few numbers in JSON and is evaluated here with numpy only.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from eyespy_live.vision.eyecrop import eye_patches
from eyespy_live.vision.eyestate import EyeStateModel
from eyespy_live.vision.faces import Face
from eyespy_live.vision.landmarks import FaceGeometry, FaceLandmarker

_P_EPS = 1e-3


def logit(p: float) -> float:
    p = min(1.0 - _P_EPS, max(_P_EPS, float(p)))
    return math.log(p / (1.0 - p))


# Raw per-eye measurements kept for training and reports; the fusion picks from these.
RAW_FIELDS = (
    "cnn", "cnn_mesh", "openness", "aspect", "mesh_ear", "gaze_down", "gaze_side",
    "yaw", "pitch", "presence", "iris_px", "luma", "texture",
)  # fmt: skip


@dataclass(frozen=True)
class EyeEvidence:
    """What is known about one eye: the CNN alone, and geometry when it was measured."""

    cnn: float  # P(closed) on the detector-placed crop
    cnn_mesh: float | None = None  # P(closed) on the crop placed at the mesh's eye corners
    geometry: FaceGeometry | None = None
    side: int = 0  # 0: image-left eye, 1: image-right eye

    def raw(self) -> dict[str, float]:
        if self.geometry is None:
            return {"cnn": self.cnn}
        eye = self.geometry.eyes[self.side]
        return {
            "cnn": self.cnn,
            "cnn_mesh": self.cnn if self.cnn_mesh is None else self.cnn_mesh,
            "openness": eye.openness,
            "aspect": eye.aspect,
            "mesh_ear": eye.mesh_ear,
            "gaze_down": eye.gaze_down,
            "gaze_side": eye.gaze_side,
            "yaw": self.geometry.yaw,
            "pitch": self.geometry.pitch,
            "presence": self.geometry.presence,
            "iris_px": eye.iris_diameter,
            "luma": eye.luma,
            "texture": eye.texture,
        }


def _transform(name: str, raw: dict[str, float]) -> float:
    """Fusion input `name` from the raw fields (logits for probabilities, clipped ratios)."""
    if name == "cnn_logit":
        return logit(raw["cnn"])
    if name == "cnn_mesh_logit":
        return logit(raw["cnn_mesh"])
    if name == "openness":
        return min(1.5, max(0.0, raw["openness"]))
    if name == "aspect":
        return min(0.6, max(0.0, raw["aspect"]))
    if name == "mesh_ear":
        return min(0.6, max(0.0, raw["mesh_ear"]))
    if name == "gaze_down":
        return min(0.5, max(-0.5, raw["gaze_down"]))
    if name == "abs_yaw":
        return min(90.0, abs(raw["yaw"])) / 90.0
    if name == "pitch":
        return min(60.0, max(-60.0, raw["pitch"])) / 60.0
    if name == "openness_x_gaze":
        return _transform("openness", raw) * _transform("gaze_down", raw)
    raise KeyError(f"unknown fusion feature {name!r}")


def feature_vector(names: list[str] | tuple[str, ...], raw: dict[str, float]) -> np.ndarray:
    return np.array([_transform(n, raw) for n in names], np.float64)


class FusionModel:
    """A logistic regression over named features, read from JSON (numpy only)."""

    def __init__(self, spec: dict):
        self.spec = spec
        self.features: tuple[str, ...] = tuple(spec["features"])
        self.mean = np.asarray(spec["mean"], np.float64)
        self.scale = np.asarray(spec["scale"], np.float64)
        self.coef = np.asarray(spec["coef"], np.float64)
        self.intercept = float(spec["intercept"])
        if not (len(self.features) == len(self.mean) == len(self.scale) == len(self.coef)):
            raise ValueError("fusion model: features, mean, scale and coef differ in length")

    @classmethod
    def load(cls, path: Path | str) -> FusionModel:
        return cls(json.loads(Path(path).read_text()))

    def p_closed_raw(self, raw: dict[str, float]) -> float:
        x = (feature_vector(self.features, raw) - self.mean) / self.scale
        z = float(x @ self.coef) + self.intercept
        return 1.0 / (1.0 + math.exp(-max(-40.0, min(40.0, z))))

    def p_closed(self, evidence: EyeEvidence) -> float:
        if evidence.geometry is None:
            return evidence.cnn
        return self.p_closed_raw(evidence.raw())


def measure_eyes(
    gray: np.ndarray, face: Face, model: EyeStateModel, landmarker: FaceLandmarker,
    cnn: tuple[float, float] | None = None,
) -> tuple[EyeEvidence, EyeEvidence]:  # fmt: skip
    """Both eyes' evidence: CNN on the detector's crop (given or computed), the mesh's
    geometry, and the CNN again on a crop placed by the mesh's eye corners."""
    if cnn is None:
        patches = eye_patches(gray, face).patches
        cnn = (model.p_closed(patches[0]), model.p_closed(patches[1]))
    geometry = landmarker.measure(gray, face)
    mesh_patches = eye_patches(gray, geometry.face(face.box, face.score)).patches
    again = [model.p_closed(p) for p in mesh_patches]
    return (
        EyeEvidence(cnn[0], again[0], geometry, 0),
        EyeEvidence(cnn[1], again[1], geometry, 1),
    )
