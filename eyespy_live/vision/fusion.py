"""Per-eye evidence (CNN + eyelid geometry) and the learned fusion that weighs it.

The CNN's P(closed) and the geometry from `landmarks.py` disagree in telling ways: a smile
narrows the lids (the CNN drifts towards closed) while the iris stays visible; a closed
eye behind glasses can fool either alone. Rather than hand-set thresholds, a model trained
person-disjoint (`python -m eyespy_live.train fusion`) weighs them: a logistic regression
(shipped) or a small boosted tree ensemble. It ships as JSON and is evaluated here with numpy
only.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from eyespy_live.vision.eyecrop import crop_eye, eye_patches
from eyespy_live.vision.eyestate import EyeStateModel
from eyespy_live.vision.faces import Face
from eyespy_live.vision.landmarks import (
    EMBED_PARTS,
    IRIS_EMBED_DIM,
    FaceGeometry,
    FaceLandmarker,
)

_P_EPS = 1e-3


def logit(p: float) -> float:
    p = min(1.0 - _P_EPS, max(_P_EPS, float(p)))
    return math.log(p / (1.0 - p))


# Raw per-eye measurements kept for training and reports; the fusion picks from these.
RAW_FIELDS = (
    "cnn", "cnn_mesh", "openness", "aspect", "mesh_ear", "gaze_down", "gaze_side",
    "yaw", "pitch", "presence", "iris_px", "luma", "texture",
    "cnn_flip", "cnn_mesh_flip", "cnn_mesh_s55", "cnn_mesh_s80",
)  # fmt: skip

# Extra CNN readings of a still photo's eye (each invoke is ~35 µs): the mesh-placed crop at
# two more widths (× inter-eye distance; the shipped crop is 0.65) and mirrored copies of the
# detector's and the mesh's crops. The idea (issue 14): a squint or a lowered gaze may read
# differently at another scale or mirrored where a shut eye reads shut in every view. By
# grouped CV they helped studio-lit and ZJU faces but not clean CEW ones, so the shipped
# fusion does not use them (model card, "Issue 14: richer evidence").
MESH_VIEW_SCALES = {"cnn_mesh_s55": 0.55, "cnn_mesh_s80": 0.80}
VIEW_FIELDS = ("cnn_flip", "cnn_mesh_flip", *MESH_VIEW_SCALES)

# Richer per-eye evidence (issue 14, transfer features): both lid heights and the iris
# below the upper lid, the 16 lid points in the eye's frame (lid curvature), and the iris
# models' features (`landmarks.EMBED_PARTS`, only with an embedding
# landmarker). A fusion reads them by name, or as principal components ("pc0", …) of the
# fields its JSON "projection" names (mean and components fitted on training rows).
LID_FIELDS = ("upper_lid", "lower_lid", "iris_below_lid")
SHAPE_FIELDS = tuple(f"shape{k:02d}" for k in range(32))
EMBED_GROUPS = {part: tuple(f"{part}{k:03d}" for k in range(n))
                for part, n in EMBED_PARTS.items()}
EMBED_FIELDS = tuple(f for fields in EMBED_GROUPS.values() for f in fields)
assert len(EMBED_FIELDS) == IRIS_EMBED_DIM
EXTRA_FIELDS = (*LID_FIELDS, *SHAPE_FIELDS, *EMBED_FIELDS)


@dataclass(frozen=True)
class EyeEvidence:
    """What is known about one eye: the CNN alone, and geometry when it was measured."""

    cnn: float  # P(closed) on the detector-placed crop
    cnn_mesh: float | None = None  # P(closed) on the crop placed at the mesh's eye corners
    geometry: FaceGeometry | None = None
    side: int = 0  # 0: image-left eye, 1: image-right eye
    views: dict[str, float] = field(default_factory=dict)  # VIEW_FIELDS that were read

    def raw(self) -> dict[str, float]:
        if self.geometry is None:
            return {"cnn": self.cnn}
        eye = self.geometry.eyes[self.side]
        mesh = self.cnn if self.cnn_mesh is None else self.cnn_mesh
        # A view not read falls back to the reading it varies (old callers, old tables).
        views = {k: self.views.get(k, self.cnn if k == "cnn_flip" else mesh) for k in VIEW_FIELDS}
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
            **views,
        }

    def extra(self) -> dict[str, float]:
        """EXTRA_FIELDS that were measured (lid heights and shape with geometry; the iris
        embedding only when the landmarker read it)."""
        if self.geometry is None:
            return {}
        eye = self.geometry.eyes[self.side]
        out = {"upper_lid": eye.upper_lid, "lower_lid": eye.lower_lid,
               "iris_below_lid": eye.iris_below_lid}
        out.update(zip(SHAPE_FIELDS, eye.lid_shape().tolist(), strict=True))
        if eye.embedding is not None:
            out.update(zip(EMBED_FIELDS, eye.embedding.tolist(), strict=True))
        return out


# The CNN's readings of one eye (probabilities: fusion inputs take their logits).
CNN_FIELDS = ("cnn", "cnn_mesh", *VIEW_FIELDS)


def _transform(name: str, raw: dict[str, float]) -> float:
    """Fusion input `name` from the raw fields (logits for probabilities, clipped ratios)."""
    if name.endswith("_logit") and name[: -len("_logit")] in CNN_FIELDS:
        return logit(_reading(name[: -len("_logit")], raw))
    if name == "views_mean_logit":
        return float(np.mean([logit(_reading(k, raw)) for k in CNN_FIELDS]))
    if name.startswith("mean_logit(") and name.endswith(")"):
        # The mean logit of the named readings, e.g. "mean_logit(cnn,cnn_flip)".
        fields = name[len("mean_logit("):-1].split(",")
        if not all(f in CNN_FIELDS for f in fields):
            raise KeyError(f"unknown fusion feature {name!r}")
        return float(np.mean([logit(_reading(f, raw)) for f in fields]))
    if name == "views_spread":
        logits = [logit(_reading(k, raw)) for k in CNN_FIELDS]
        return max(logits) - min(logits)
    if name == "openness":
        return min(1.5, max(0.0, raw["openness"]))
    if name == "aspect":
        return min(0.6, max(0.0, raw["aspect"]))
    if name == "mesh_ear":
        return min(0.6, max(0.0, raw["mesh_ear"]))
    if name == "gaze_down":
        return min(0.5, max(-0.5, raw["gaze_down"]))
    if name == "abs_gaze_side":
        return min(0.5, abs(raw["gaze_side"]))
    if name == "abs_yaw":
        return min(90.0, abs(raw["yaw"])) / 90.0
    if name == "pitch":
        return min(60.0, max(-60.0, raw["pitch"])) / 60.0
    if name == "openness_x_gaze":
        return _transform("openness", raw) * _transform("gaze_down", raw)
    if name == "openness_x_cnn":
        return _transform("openness", raw) * _transform("cnn_logit", raw)
    if name == "log_iris_px":
        return math.log(max(1.0, raw["iris_px"]))
    if name in ("presence", "luma", "texture"):
        return float(raw[name])
    if name in EXTRA_FIELDS or (name.startswith("pc") and name[2:].isdigit()):
        return float(raw[name])
    raise KeyError(f"unknown fusion feature {name!r}")


def _reading(name: str, raw: dict[str, float]) -> float:
    """One CNN reading; a view a caller did not give falls back to the one it varies."""
    if name in raw:
        return raw[name]
    if name == "cnn_flip" or "cnn_mesh" not in raw:
        return raw["cnn"]
    return raw["cnn_mesh"]


def feature_vector(names: list[str] | tuple[str, ...], raw: dict[str, float]) -> np.ndarray:
    return np.array([_transform(n, raw) for n in names], np.float64)


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-40.0, min(40.0, z))))


class FusionModel:
    """The fusion read from JSON, evaluated with numpy only. Two kinds: a standardised
    logistic regression ("logistic_regression", the first shipped one) and a small
    gradient-boosted tree ensemble ("boosted_trees": node arrays, leaf values already
    multiplied by the learning rate)."""

    def __init__(self, spec: dict):
        self.spec = spec
        self.kind: str = spec.get("kind", "logistic_regression")
        self.features: tuple[str, ...] = tuple(spec["features"])
        self.projection = Projection.from_spec(spec["projection"]) if spec.get(
            "projection") else None
        if self.kind == "logistic_regression":
            self.mean = np.asarray(spec["mean"], np.float64)
            self.scale = np.asarray(spec["scale"], np.float64)
            self.coef = np.asarray(spec["coef"], np.float64)
            self.intercept = float(spec["intercept"])
            if not (len(self.features) == len(self.mean) == len(self.scale) == len(self.coef)):
                raise ValueError("fusion model: features, mean, scale and coef differ in length")
        elif self.kind == "boosted_trees":
            self.base = float(spec["base"])
            self.trees = [_Tree.from_spec(t, len(self.features)) for t in spec["trees"]]
        else:
            raise ValueError(f"fusion model: unknown kind {self.kind!r}")

    @classmethod
    def load(cls, path: Path | str) -> FusionModel:
        return cls(json.loads(Path(path).read_text()))

    @property
    def uses_views(self) -> bool:
        """Whether any input needs the extra CNN readings (VIEW_FIELDS)."""
        return any(n.startswith(("views_", "mean_logit(")) or n[: -len("_logit")] in VIEW_FIELDS
                   for n in self.features)

    def decision(self, x: np.ndarray) -> float:
        """The log-odds of closed for one feature vector (in `features` order)."""
        if self.kind == "logistic_regression":
            return float(((x - self.mean) / self.scale) @ self.coef) + self.intercept
        # The trees were fitted on float32 inputs (scikit-learn's tree dtype): compare those.
        x32 = x.astype(np.float32).astype(np.float64)
        return self.base + sum(tree.leaf_value(x32) for tree in self.trees)

    @property
    def uses_embedding(self) -> bool:
        """Whether an input needs the iris model's features (an embedding landmarker)."""
        names = set(self.features) | set(self.projection.fields if self.projection else ())
        return bool(names & set(EMBED_FIELDS))

    def inputs(self, raw: dict[str, float]) -> np.ndarray:
        """The feature vector (in `features` order) from raw (+ extra) fields."""
        if self.projection is not None:
            raw = {**raw, **self.projection.components(raw)}
        return feature_vector(self.features, raw)

    def p_closed_raw(self, raw: dict[str, float]) -> float:
        return _sigmoid(self.decision(self.inputs(raw)))

    def p_closed(self, evidence: EyeEvidence) -> float:
        if evidence.geometry is None:
            return evidence.cnn
        return self.p_closed_raw({**evidence.raw(), **evidence.extra()})


@dataclass(frozen=True)
class Projection:
    """Principal components of some raw fields ("pc0", "pc1", …): standardise, centre,
    project. Fitted on training rows only (`train.fusion.fit_projection`)."""

    fields: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    axes: np.ndarray  # [k, len(fields)]

    @classmethod
    def from_spec(cls, spec: dict) -> Projection:
        out = cls(tuple(spec["fields"]), np.asarray(spec["mean"], np.float64),
                  np.asarray(spec["scale"], np.float64),
                  np.asarray(spec["axes"], np.float64).reshape(-1, len(spec["fields"])))
        if not (len(out.fields) == len(out.mean) == len(out.scale) == out.axes.shape[1]):
            raise ValueError("fusion model: projection arrays differ in length")
        return out

    def components(self, raw: dict[str, float]) -> dict[str, float]:
        x = np.array([raw[f] for f in self.fields], np.float64)
        return {f"pc{k}": float(v) for k, v in enumerate(self.project(x[None])[0])}

    def project(self, x: np.ndarray) -> np.ndarray:
        """[N, len(fields)] → [N, k] components."""
        return ((x - self.mean) / self.scale) @ self.axes.T


@dataclass(frozen=True)
class _Tree:
    """One regression tree as node arrays (scikit-learn's layout: left / right child
    index, -1 at a leaf; go left when x[feature] <= threshold)."""

    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray

    @classmethod
    def from_spec(cls, spec: dict, n_features: int) -> _Tree:
        tree = cls(*(np.asarray(spec[k], np.float64 if k in ("threshold", "value") else np.int64)
                     for k in ("feature", "threshold", "left", "right", "value")))
        n = len(tree.value)
        if not all(len(a) == n for a in (tree.feature, tree.threshold, tree.left, tree.right)):
            raise ValueError("fusion model: tree arrays differ in length")
        inner = tree.left >= 0
        if (tree.feature[inner] >= n_features).any() or (tree.left[inner] >= n).any() or (
                tree.right[inner] >= n).any():
            raise ValueError("fusion model: tree refers to a missing feature or node")
        return tree

    def leaf_value(self, x: np.ndarray) -> float:
        node = 0
        for _ in range(len(self.value)):
            left = int(self.left[node])
            if left < 0:
                return float(self.value[node])
            node = left if x[int(self.feature[node])] <= self.threshold[node] else int(
                self.right[node])
        raise ValueError("fusion model: tree has a cycle")


def measure_eyes(
    gray: np.ndarray, face: Face, model: EyeStateModel, landmarker: FaceLandmarker,
    cnn: tuple[float, float] | None = None, views: bool = False,
) -> tuple[EyeEvidence, EyeEvidence]:  # fmt: skip
    """Both eyes' evidence: CNN on the detector's crop (given or computed), the mesh's
    geometry, and the CNN again on a crop placed by the mesh's eye corners; with `views`,
    also the extra readings of VIEW_FIELDS (training tables, and a fusion that uses them)."""
    detector_patches = eye_patches(gray, face).patches if cnn is None or views else None
    if cnn is None:
        assert detector_patches is not None
        cnn = (model.p_closed(detector_patches[0]), model.p_closed(detector_patches[1]))
    geometry = landmarker.measure(gray, face)
    mesh_face = geometry.face(face.box, face.score)
    mesh_patches = eye_patches(gray, mesh_face).patches
    again = [model.p_closed(p) for p in mesh_patches]
    extra: list[dict[str, float]] = [{}, {}]
    if views and detector_patches is not None:
        extra = [_views(gray, mesh_face, detector_patches[k], mesh_patches[k], k, model)
                 for k in (0, 1)]
    return (
        EyeEvidence(cnn[0], again[0], geometry, 0, extra[0]),
        EyeEvidence(cnn[1], again[1], geometry, 1, extra[1]),
    )


def _views(gray: np.ndarray, mesh_face: Face, detector_patch: np.ndarray,
           mesh_patch: np.ndarray, side: int, model: EyeStateModel) -> dict[str, float]:
    """The extra CNN readings of one eye (VIEW_FIELDS)."""
    (lx, ly), (rx, ry) = mesh_face.eyes
    angle = math.atan2(ry - ly, rx - lx)
    distance = max(mesh_face.inter_eye_distance, 1.0)
    out = {"cnn_flip": model.p_closed(np.ascontiguousarray(detector_patch[:, ::-1])),
           "cnn_mesh_flip": model.p_closed(np.ascontiguousarray(mesh_patch[:, ::-1]))}
    for name, scale in MESH_VIEW_SCALES.items():
        out[name] = model.p_closed(crop_eye(gray, mesh_face.eyes[side], scale * distance, angle))
    return out
