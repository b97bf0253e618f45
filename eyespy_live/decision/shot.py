"""The verdict on one finished photo: every face, each face's eyes at the resolution they need.

One code path for every way a photo arrives (tethered download, hot folder, `eyespy cull`), so
the same file always gets the same answer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from eyespy_live.decision.analyzer import FaceReading, judge_eyes
from eyespy_live.decision.blink import BlinkSettings
from eyespy_live.decision.facestate import FaceState
from eyespy_live.decision.judge import EyeJudge
from eyespy_live.events import FaceReport
from eyespy_live.photos.load import FACTORS, LoadedPhoto, load_photo_file
from eyespy_live.vision.eyecrop import (
    EYE_CROP_SCALE,
    PATCH_SIZE,
    REASON_TOO_SMALL,
    standard_channels,
    to_gray,
)
from eyespy_live.vision.eyestate import EyeStateModel
from eyespy_live.vision.faces import Face, FaceDetector

# An eye crop narrower than this (in decoded pixels) is read again from a finer decode.
# A third above the patch side: the patch is still area-averaged (CEW's own eye patches,
# which the model learnt from, are cut at about this resolution), and a 24 MP headshot's
# eyes are read from the 1/8 decode that found the face instead of a second, 1/4 decode.
MIN_CROP_PX = PATCH_SIZE + PATCH_SIZE // 3


@dataclass(frozen=True)
class PhotoVerdict:
    verdict: str  # "keep" | "retake" | "check"
    faces: list[FaceReport]
    reason: str  # one line a person can read
    attention: list[int] = field(default_factory=list)  # ids of the faces to look at


# A face narrower than this in the photo itself is "can't tell", whatever the model said.
MIN_FACE_PX = 40
# One eye this sure open and the other this sure closed: a wink or a misread, never "keep".
DISAGREE_OPEN, DISAGREE_CLOSED = 0.25, 0.75


def judgeable(face: FaceReport) -> FaceReport:
    """A face this small in the photo itself is "can't tell", whatever the model said.

    Below ~40 px the eyes are a few pixels each; the model's readings there are mostly
    half-closed noise (seen on crowd photos), and a wrong "eyes closed" costs a keeper.
    """
    width = face.box[2]
    if width >= MIN_FACE_PX or face.state == FaceState.UNKNOWN:
        return face
    reason = f"{REASON_TOO_SMALL} ({width} px wide)"
    return replace(face, p_closed=None, state=FaceState.UNKNOWN, reason=reason)


def disagreeing_eyes(face: FaceReport) -> bool:
    if face.p_closed is None:
        return False
    low, high = sorted(face.p_closed)
    return low <= DISAGREE_OPEN and high >= DISAGREE_CLOSED


def photo_verdict(faces: list[FaceReport], wink: str = "retake") -> PhotoVerdict:
    """The one verdict on a photo, whichever way it arrived (tether, hot folder, cull).

    Retake when any face is closed or half closed, or winks (`wink`: "retake", "check" or
    "keep"); check when any face can't be told (too small, turned, hidden), winks under
    "check", or has one eye clearly open and the other clearly shut (a wink or a misread);
    keep otherwise (a squint is open, and named). Faces too small to judge become can't-tell.
    """
    faces = [judgeable(f) for f in faces]
    if not faces:
        return PhotoVerdict("check", faces, "no face found")
    shut_states = (FaceState.CLOSED, FaceState.HALF) + (
        (FaceState.WINK,) if wink == "retake" else ()
    )
    shut = [f for f in faces if f.state in shut_states]
    if shut:
        names = ", ".join(
            f"face {f.id}"
            + {FaceState.HALF: " half closed", FaceState.WINK: " (wink)"}.get(f.state, "")
            for f in shut
        )
        reason = f"eyes closed: {names} of {len(faces)}"
        return PhotoVerdict("retake", faces, reason, [f.id for f in shut])
    unknown = [f for f in faces if f.state == FaceState.UNKNOWN]
    winks = [f for f in faces if f.state == FaceState.WINK and wink == "check"]
    odd = [f for f in faces if f.state == FaceState.OPEN and disagreeing_eyes(f)]
    if unknown or odd or winks:
        why = [(f.id, f.reason or "unreadable eyes") for f in unknown]
        why += [(f.id, "wink") for f in winks]
        why += [(f.id, "one eye open, one closed (wink or misread)") for f in odd]
        ids = [f.id for f in unknown + winks + odd]
        return PhotoVerdict("check", faces, "can't tell: " + _grouped(why), ids)
    squints = [f.id for f in faces if f.state == FaceState.SQUINT]
    reason = "all eyes open" if len(faces) > 1 else "eyes open"
    if squints:
        reason += " (squinting: " + ", ".join(f"face {i}" for i in squints) + ")"
    return PhotoVerdict("keep", faces, reason, squints)


def _grouped(why: list[tuple[int, str]]) -> str:
    """"faces 1, 2, 5: head turned; face 3: eye hidden": one line for a crowd of small faces,
    not one clause per face. Details in brackets (a face's width) stay in its own report."""
    by_reason: dict[str, list[int]] = {}
    for face_id, reason in why:
        key = REASON_TOO_SMALL if reason.startswith(REASON_TOO_SMALL) else reason
        by_reason.setdefault(key, []).append(face_id)
    return "; ".join(
        f"face {ids[0]}: {reason}" if len(ids) == 1
        else f"faces {', '.join(map(str, ids))}: {reason}"
        for reason, ids in by_reason.items()
    )


def _wink_policy(model: EyeStateModel | EyeJudge) -> str:
    return model.wink if isinstance(model, EyeJudge) else "retake"


def analyze_photo(
    image: np.ndarray,
    detector: FaceDetector,
    model: EyeStateModel | EyeJudge,
    settings: BlinkSettings,
    min_face_score: float = 0.0,
) -> PhotoVerdict:
    image = standard_channels(image)
    gray = to_gray(image)
    faces = sorted(
        (f for f in detector.detect_photo(image) if f.score >= min_face_score),
        key=lambda f: (f.box[0], f.box[1]),
    )
    reports = []
    for number, face in enumerate(faces, start=1):
        j = judge_eyes(gray, face, model, thorough=True)
        reading = FaceReading(number, face, j.p_closed, j.reason, j.geometry)
        reports.append(reading.report(settings, photo=True))
    return photo_verdict(reports, _wink_policy(model))


def model_thresholds(model_path: Path) -> dict[str, float]:
    """Thresholds the training run recommends for this model (a JSON beside it), if any."""
    sidecar = model_path.with_suffix(".json")
    if not sidecar.is_file():
        return {}
    data = json.loads(sidecar.read_text())
    return {k: float(data[k]) for k in ("t_open", "t_closed", "t_half") if k in data}


def _scaled_face(face: Face, sx: float, sy: float) -> Face:
    x, y, w, h = face.box
    box = (round(x * sx), round(y * sy), round(w * sx), round(h * sy))
    eyes = tuple((ex * sx, ey * sy) for ex, ey in face.eyes)
    return Face(box, face.score, eyes, face.second_look)  # type: ignore[arg-type]


def eye_factor(face_full: Face, coarsest: int) -> int:
    """The coarsest decode (≤ `coarsest`) at which this face's eye crop is ≥ MIN_CROP_PX wide."""
    crop_full = EYE_CROP_SCALE * face_full.inter_eye_distance
    for factor in FACTORS:
        if factor <= coarsest and crop_full / factor >= MIN_CROP_PX:
            return factor
    return 1


def analyze_loaded_photo(
    photo: LoadedPhoto,
    detector: FaceDetector,
    model: EyeStateModel | EyeJudge,
    settings: BlinkSettings,
    min_face_score: float = 0.0,
) -> PhotoVerdict:
    """Faces on the reduced image; each face's eyes at the resolution they need.

    Boxes in the verdict are in the photo's own (oriented, full-resolution) pixels.
    """
    sx, sy = photo.scale.to_full(photo.image.shape)
    faces = sorted(
        (f for f in detector.detect_photo(photo.image) if f.score >= min_face_score),
        key=lambda f: (f.box[0], f.box[1]),
    )
    reports = []
    for number, face in enumerate(faces, start=1):
        full = _scaled_face(face, sx, sy)
        factor = eye_factor(full, photo.scale.factor) if photo.data is not None else 1
        gray = photo.gray(factor if photo.data is not None else photo.scale.factor)
        gx, gy = photo.scale.full_size[0] / gray.shape[1], photo.scale.full_size[1] / gray.shape[0]
        local = _scaled_face(full, 1.0 / gx, 1.0 / gy)
        j = judge_eyes(gray, local, model, thorough=True)
        reading = FaceReading(number, full, j.p_closed, j.reason, j.geometry)
        reports.append(reading.report(settings, photo=True))
    return photo_verdict(reports, _wink_policy(model))


def analyze_photo_file(
    path: str | Path,
    detector: FaceDetector,
    model: EyeStateModel | EyeJudge,
    settings: BlinkSettings,
    min_face_score: float = 0.0,
) -> PhotoVerdict:
    """The keep / retake / check verdict for one photo file (PhotoError if unreadable)."""
    return analyze_loaded_photo(load_photo_file(path), detector, model, settings, min_face_score)
