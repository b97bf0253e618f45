"""One face's eyes judged: the cheap CNN first, eyelid geometry only where it is needed.

The cascade: both eye patches go through the int8 CNN (~70 µs a face). When both read
clearly open (P(closed) below `clear_open`, true of ~92 % of open eyes) that is the answer,
so an open-eyed live frame costs what it did before. Otherwise — a possible blink, a
squint, sunglasses, a turned head — the face mesh and iris models run (~2 ms a face), the
geometry can veto the judgement ("can't tell", with a reason), and the learned fusion
replaces each eye's P(closed). Still photos always take the second stage (`thorough`):
there is time for it, and a squint is only flagged when it was measured.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from eyespy_live.decision.facestate import (
    DEFAULT_LIMITS,
    REASON_DARK,
    REASON_DISAGREE,
    REASON_GLARE,
    REASON_HALF_MEASURED,
    REASON_HIDDEN,
    StateLimits,
    geometry_reason,
)
from eyespy_live.vision.eyecrop import eye_patches
from eyespy_live.vision.eyestate import EyeStateModel
from eyespy_live.vision.faces import Face
from eyespy_live.vision.fusion import FusionModel, measure_eyes
from eyespy_live.vision.landmarks import FaceGeometry, FaceLandmarker
from eyespy_live.vision.reflections import without_reflections

# Below this P(closed) on both eyes the CNN alone decides (no landmark stage). On CEW test
# faces 92 % of open eyes and 1.1 % of closed ones read below it; in the focus_webcam video
# 4.7 % of frames reach it (at 0.05: 13 %, for the same closed eyes caught).
CLEAR_OPEN = 0.1

# A still photo's eye patch darker than this (mean grey) is scaled to the CEW eye patches'
# median mean (126) before the CNN reads it: the CNN learnt exposures down to ~¼ of its
# training patches (¼ of their 5th percentile, 69, is 17), and no darker. Measured on
# side-lit studio portraits of people no model was fitted on for this (`train.portraits`
# styles on ZJU training people and CEW training faces; CNN alone at P ≥ 0.5): patches under
# 20 read right 88.3 → 96.3 % (511 patches), 20–35 93.9 → 96.7 %, 35–50 95.6 → 98.3 %, and
# 50–70 lost (91.9 → 90.3 %). Through the whole photo path (the fusion was fitted on raw
# readings) scaling under 20 made 3 of 2086 proxy, studio and real photos better on balance and
# false "closed" 14 → 12; under 35 or 50 it added false "closed" (measured before the face
# state's wink rule of this change: +9 −8 and +10 −10 photos, false closed 12 → 14 / 15).
# Also tried and left out: dividing a patch by its left-right brightness ramp where a shadow
# edge crosses it (ramp ≥ 0.6 of the mean: 95.9 → 96.8 % per patch on the same eyes) made
# the verdicts worse (+8 −6 photos against scaling alone's +9 −2, false closed 12 → 14).
DARK_PATCH_MEAN = 20.0
# A live eye patch darker than this is scaled the same way, after a slight blur (σ in patch
# pixels), since the gain amplifies the sensor noise of a dim room as much as the eye. Live
# frames take the CNN's own reading (no fusion fitted on raw readings to upset). Measured
# live on the 48 ZJU clips darkened (patch means ~25–50 against 73–130 as filmed; open eyes
# read 0.6–0.85, so blinks no longer stood out), blink F1 at ±2 frames, as filmed → this
# (false blinks in brackets): ×0.35 with noise σ 4 0.910 (0) → 0.977 (1), and 0.961 (3)
# without the blur; ×0.25, σ 3 0.841 (2) → 0.944 (1); ×0.35 without noise 0.918 (1) →
# 0.984 (0); ×0.45, σ 6 (patches ~50) 0.929 (0) → 0.944 (3). Gaining up to 45 or 50 found
# more of that last row's blinks (0.958, 0.953) for more false ones (5, 8): a false alert
# costs more than a miss, so 40. A gain ramped in over means 30–50 instead of a step did no
# better. The clips as filmed are unchanged (0.984); of the shared footage only
# hamilton_clip's stage is this dark (still no event).
LIVE_DARK_PATCH_MEAN = 40.0
LIVE_DARK_BLUR = 0.7
# An eye the iris model lost still has the CNN's reading of its own patch (placed by the
# detector). Below this — the CNN's t_open (models/eye_state_int8.json), which lets at most
# 1 % of closed validation eyes through — it reads open, and a face whose other eye reads
# shut is can't tell, not closed: judged by that eye alone, an open-eyed sideways glance
# (web_misc/test_image6.jpg) was "eyes closed" at P 1.00.
LOST_EYE_OPEN = 0.14
TYPICAL_PATCH_MEAN = 126.0
# A dark patch with less spread than this (grey levels) holds nothing but quantisation: no
# gain makes it readable. Every dark patch of the measurement above had more (down to mean 6,
# read 87–100 % right after the gain).
MIN_DARK_PATCH_STD = 1.5
# A still photo's face that can't be told for reflections on glasses is read again with the
# reflections painted out (`vision.reflections`), and is open when both eyes then read below
# this P(closed). Measured on CEW validation people's portraits behind clear lenses with a
# streak of light across each eye (`train.lenses.put_on_lenses`, highlight 0.6 and 0.9; 111
# open and 107 closed faces each): of 81 open faces that were can't tell, 55 become open; of
# 87 closed ones, 1. With a round highlight over each eye instead: 12 of 63 and 1 of 68. The
# painted-out eye is not the eye itself, so the bar is far below the CNN's t_open (0.14):
# there a first version let 3 closed faces through, at 0.05 2.
GLARE_CLEAR_OPEN = 0.02
# A live eye whose lid gap is at least this (over the iris diameter) is open, whatever its
# patch reads: 0.2-0.4 % of closed eyes measure so wide (CEW portraits: 3 of 1,288 training
# eyes, 2 of 552 validation eyes), about a fifth of open ones (304 of 1,372; 124 of 698).
# Live, such an eye reads open. A still photo keeps its readings, except that an eye reading
# shut with its lids this wide, its partner reading open, is a misread (`_read`).
LIDS_WIDE_OPEN = 0.8
# … and reads what an open eye usually reads (`BlinkSettings.open_level`).
LIDS_OPEN_READING = 0.02


def exposed(patch: np.ndarray, below: float = DARK_PATCH_MEAN, blur: float = 0.0) -> np.ndarray:
    """A dark eye patch (mean under `below`: the shadow side of a face lit from one side, a
    dim room) at the CNN's usual exposure, blurred by `blur` first; others as they are."""
    mean = float(patch.mean())
    if mean >= below:
        return patch
    if blur > 0:
        patch = cv2.GaussianBlur(patch, (0, 0), blur)
    gain = TYPICAL_PATCH_MEAN / max(mean, 1.0)
    return np.clip(patch.astype(np.float32) * gain, 0, 255).astype(np.uint8)


def readable(patch: np.ndarray) -> bool:
    """False only for a patch too dark AND too flat to hold an eye: truly unreadable."""
    return float(patch.mean()) >= DARK_PATCH_MEAN or float(patch.std()) >= MIN_DARK_PATCH_STD


@dataclass(frozen=True)
class ExposedModel:
    """The CNN reading each patch at its usual exposure (patches darker than `below`)."""

    model: EyeStateModel
    below: float = DARK_PATCH_MEAN
    blur: float = 0.0

    @property
    def path(self) -> Path:
        return self.model.path

    def p_closed(self, patch: np.ndarray) -> float:
        return self.model.p_closed(exposed(patch, self.below, self.blur))


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
        # A fusion over the networks' own features needs the landmarker to read them.
        embed = fusion is not None and fusion.uses_embedding
        return cls(model, FaceLandmarker(num_threads=num_threads, embed=embed), fusion, wink=wink)

    # The CNN's own interface, so code that only needs P(closed) of a patch can take a judge.
    @property
    def path(self) -> Path:
        return self.model.path

    def p_closed(self, patch: np.ndarray) -> float:
        return self.model.p_closed(patch)

    def head_pitch(self, gray: np.ndarray, face: Face) -> float | None:
        """The head's pitch from the face mesh alone (None without the geometry stage)."""
        return None if self.landmarker is None else self.landmarker.head_pose(gray, face)[1]

    def read(self, gray: np.ndarray, face: Face, thorough: bool = False) -> EyeJudgement:
        judgement = self._read(gray, face, thorough)
        if thorough and judgement.reason == REASON_GLARE and judgement.geometry is not None:
            # A still photo's eyes behind reflections: read again with the reflections
            # painted out, and take that only where both eyes then read clearly open.
            clean = without_reflections(gray, judgement.geometry.eyes)
            again = self._read(clean, face, thorough)
            if again.p_closed is not None and max(again.p_closed) < GLARE_CLEAR_OPEN:
                return again
        return judgement

    def _read(self, gray: np.ndarray, face: Face, thorough: bool) -> EyeJudgement:
        patches = eye_patches(gray, face)
        unreadable = patches.unreadable
        # A dark eye is read at its usual exposure; in a still photo "too dark" then means an
        # eye with nothing to read (live frames keep the patch's own "too dark" limit).
        if not thorough:
            model = ExposedModel(self.model, LIVE_DARK_PATCH_MEAN, LIVE_DARK_BLUR)
        else:
            model = ExposedModel(self.model) if self.landmarker is not None else self.model
        seen = (True, True)
        if thorough and self.landmarker is not None and unreadable in (None, REASON_DARK):
            seen = (readable(patches.patches[0]), readable(patches.patches[1]))
            unreadable = None if any(seen) else REASON_DARK
        if unreadable and unreadable != REASON_DARK:
            return EyeJudgement(None, unreadable)
        cnn = (model.p_closed(patches.patches[0]), model.p_closed(patches.patches[1]))
        if self.landmarker is None:
            if unreadable:
                return EyeJudgement(None, unreadable)
            return EyeJudgement(cnn, None, cnn=cnn)
        if not thorough and not unreadable and max(cnn) < self.clear_open:
            return EyeJudgement(cnn, None, cnn=cnn)
        views = self.fusion is not None and self.fusion.uses_views and (thorough or self.fuse_live)
        evidence = measure_eyes(gray, face, model, self.landmarker, cnn,  # type: ignore[arg-type]
                                views=views)
        geometry = evidence[0].geometry
        assert geometry is not None
        reason = geometry_reason(geometry, self.limits) or unreadable
        if reason:
            return EyeJudgement(None, reason, geometry, cnn)
        if self.fusion is None or not (thorough or self.fuse_live):
            p = cnn
        else:
            p = (self.fusion.p_closed(evidence[0]), self.fusion.p_closed(evidence[1]))
        # An eye the iris model lost (its contour far narrower than the mesh's corners) has
        # guessed lids and iris, which the fusion can turn into "shut" on an open eye.
        # So has an eye behind a reflection on glasses: white over it reads as a closed lid.
        glared = tuple(e.glare >= self.limits.max_glare for e in geometry.eyes)
        found = tuple(e.contour_fit >= self.limits.min_contour_fit and not g
                      for e, g in zip(geometry.eyes, glared, strict=True))
        usable = (seen[0] and found[0], seen[1] and found[1])
        if not any(usable):  # the one eye in light is the one lost
            why = REASON_GLARE if any(g and s for g, s in zip(glared, seen, strict=True)) \
                else REASON_HIDDEN
            return EyeJudgement(None, why, geometry, cnn)
        if not all(usable):
            # One eye in deep shadow with nothing to read, or lost: the face is judged by
            # the other's reading; a lost eye's lids are guesses too, so the other's lids
            # stand for both (a dark eye's lids were measured and stay).
            k = usable.index(True)
            if seen[1 - k] and p[k] >= 0.5:
                if glared[1 - k]:
                    # "Closed" (or a wink) needs both eyes seen; the light that glares on
                    # one lens often dims the other eye behind a weaker reflection.
                    return EyeJudgement(None, REASON_GLARE, geometry, cnn)
                if cnn[1 - k] < LOST_EYE_OPEN:
                    # The lost eye's own patch (placed by the detector, not the iris model)
                    # reads open while the one left reads shut: nothing can settle it.
                    return EyeJudgement(None, REASON_HALF_MEASURED, geometry, cnn)
            p = (p[k], p[k])
            if not found[1 - k]:
                geometry = geometry.judged_by(k)
        if not thorough and all(usable):
            if self._one_eye_misread(p, geometry) and geometry.eyes[
                    0 if p[0] < p[1] else 1].openness >= LIDS_WIDE_OPEN:
                # One eye misread that way, the other reading open with its lids as far
                # apart as open eyes' ever are: the eyes are open, as the lids say. Read as
                # open eyes read, so the frames around a blink of a face glancing sideways
                # count as "seen open" (as can't tell they hid every blink of such a face).
                # (Lids merely apart, 0.65-0.8, are also where eyes reopening after a blink
                # behind glasses sit while one patch still reads part-shut: can't tell.)
                return EyeJudgement((LIDS_OPEN_READING, LIDS_OPEN_READING), None, geometry, cnn)
            # An eye whose lids are as far apart as an open eye's ever are is not closing,
            # whatever its patch reads (a crop sliding on a moving head): no blink from it.
            p = tuple(min(v, LIDS_OPEN_READING) if e.openness >= LIDS_WIDE_OPEN else v
                      for v, e in zip(p, geometry.eyes, strict=True))  # type: ignore[assignment]
        if self._one_eye_misread(p, geometry):
            misread = 0 if p[0] >= p[1] else 1
            shut, other = geometry.eyes[misread], geometry.eyes[1 - misread]
            # A still photo whose "shut" eye has its lids as far apart as its partner's, or as
            # open eyes' ever are (live frames read such an eye open, above): no wink looks like
            # that (the shut lid is the narrower), so the reading is overruled and the face
            # judged by the open eye. An eye glancing hard sideways, its iris in a corner and
            # white beside it, is misread this way. (Its partner's lids being that wide is not
            # enough: a pasted wink in a dim, noisy photo has its shut lids measured 0.66-0.67
            # apart.) A glance seen only in the irises, its "shut" lids narrower, stays can't
            # tell in a still: a blink starting during the glance looks the same.
            overruled = shut.openness >= min(other.openness, LIDS_WIDE_OPEN)
            if not thorough or not overruled:
                return EyeJudgement(None, REASON_DISAGREE, geometry, cnn)
            p = (p[1 - misread], p[1 - misread])
        return EyeJudgement(p, None, geometry, cnn)

    def _one_eye_misread(self, p: tuple[float, float], geometry: FaceGeometry) -> bool:
        """One eye reads shut while its lids are wide open (or apart, with both irises shifted the
        same way) and the other eye reads open: an eye glancing hard sideways, white beside its iris
        (the CNN's known misread), not a wink or a blink. Both eyes reading shut is left to the face
        state (a blink, or a veto)."""
        limits = self.limits
        glancing = geometry.sideways_glance >= limits.glance_side
        shut = [p[i] >= 0.5 and (e.openness >= limits.shut_max_openness
                                 or (glancing and e.openness >= limits.glance_openness))
                for i, e in enumerate(geometry.eyes)]
        return shut[0] != shut[1] and min(p) < 0.5
