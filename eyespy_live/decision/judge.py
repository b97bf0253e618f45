"""One face's eyes judged: the cheap CNN first, eyelid geometry only where it is needed.

The cascade: both eye patches go through the int8 CNN (~70 µs a face). When both read
clearly open (P(closed) below `clear_open`, true of ~90 % of open eyes) that is the answer,
so an open-eyed live frame costs what it did before. Otherwise — a possible blink, a
squint, sunglasses, a turned head — the face mesh and iris models run (~2 ms a face), the
geometry can veto the judgement ("can't tell", with a reason), and the learned fusion
replaces each eye's P(closed). Still photos always take the second stage (`thorough`):
there is time for it, and a squint is only flagged when it was measured.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from eyespy_live.decision.facestate import DEFAULT_LIMITS, StateLimits, geometry_reason
from eyespy_live.vision.eyecrop import eye_patches
from eyespy_live.vision.eyestate import EyeStateModel
from eyespy_live.vision.faces import Face
from eyespy_live.vision.fusion import FusionModel, measure_eyes
from eyespy_live.vision.landmarks import FaceGeometry, FaceLandmarker

# Below this P(closed) on both eyes the CNN alone decides (no landmark stage). On CEW test
# faces 88.5 % of open eyes and 1.1 % of closed ones read below it.
CLEAR_OPEN = 0.05


def default_fusion_path() -> Path:
    from eyespy_live.resources import models_dir

    return models_dir() / "eye_fusion.json"


@dataclass(frozen=True)
class EyeJudgement:
    p_closed: tuple[float, float] | None  # per eye (image-left, image-right); None: can't tell
    reason: str | None  # why can't tell
    geometry: FaceGeometry | None = None  # when the landmark stage ran
    cnn: tuple[float, float] | None = None  # the CNN's own reading, for reports


@dataclass
class EyeJudge:
    """The per-face eye judgement shared by live, shot and cull."""

    model: EyeStateModel
    landmarker: FaceLandmarker | None = None  # None: CNN only (the previous behaviour)
    fusion: FusionModel | None = None
    clear_open: float = CLEAR_OPEN
    limits: StateLimits = field(default_factory=lambda: DEFAULT_LIMITS)
    wink: str = "retake"  # what a wink makes of a still photo: retake | check | keep
    # Live frames keep the CNN's P(closed) (the live blink thresholds are tuned on it; the
    # fusion reads partial closures lower and lost one of the demo clip's two blinks) and
    # take only the geometry's can't-tell vetoes; still photos take the fused value.
    fuse_live: bool = False

    @classmethod
    def default(cls, model: EyeStateModel, geometry: bool = True, wink: str = "retake",
                num_threads: int = 1) -> EyeJudge:
        if not geometry:
            return cls(model, wink=wink)
        path = default_fusion_path()
        fusion = FusionModel.load(path) if path.is_file() else None
        return cls(model, FaceLandmarker(num_threads=num_threads), fusion, wink=wink)

    # The CNN's own interface, so code that only needs P(closed) of a patch can take a judge.
    @property
    def path(self) -> Path:
        return self.model.path

    def p_closed(self, patch: np.ndarray) -> float:
        return self.model.p_closed(patch)

    def read(self, gray: np.ndarray, face: Face, thorough: bool = False) -> EyeJudgement:
        patches = eye_patches(gray, face)
        if patches.unreadable and patches.unreadable != "too dark":
            return EyeJudgement(None, patches.unreadable)
        cnn = (self.model.p_closed(patches.patches[0]), self.model.p_closed(patches.patches[1]))
        if self.landmarker is None:
            if patches.unreadable:
                return EyeJudgement(None, patches.unreadable)
            return EyeJudgement(cnn, None, cnn=cnn)
        if not thorough and not patches.unreadable and max(cnn) < self.clear_open:
            return EyeJudgement(cnn, None, cnn=cnn)
        evidence = measure_eyes(gray, face, self.model, self.landmarker, cnn)
        geometry = evidence[0].geometry
        assert geometry is not None
        reason = geometry_reason(geometry, self.limits) or patches.unreadable
        if reason:
            return EyeJudgement(None, reason, geometry, cnn)
        if self.fusion is None or not (thorough or self.fuse_live):
            return EyeJudgement(cnn, None, geometry, cnn)
        fused = (self.fusion.p_closed(evidence[0]), self.fusion.p_closed(evidence[1]))
        return EyeJudgement(fused, None, geometry, cnn)
