"""From an image to per-face eye readings: detector → tracker → eye crops → eye model.

`LiveAnalyzer` is for streams: it detects faces every `detect_every` frames and follows
them in between (blinks last 100–400 ms, so the cheap eye model runs on every frame while
the costly detector does not). `analyze_photo` is for single shots: every face, every time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from eyespy_live.blink import BlinkSettings, EyeState, eye_state
from eyespy_live.events import FaceReport
from eyespy_live.vision.eyecrop import eye_patches, standard_channels, to_gray
from eyespy_live.vision.eyestate import EyeStateModel
from eyespy_live.vision.faces import Face, FaceDetector
from eyespy_live.vision.tracker import FaceTracker


@dataclass(frozen=True)
class FaceReading:
    track_id: int
    face: Face
    p_closed: tuple[float, float] | None  # None when the eyes can't be judged
    reason: str | None  # why not

    def report(self, settings: BlinkSettings, photo: bool = False) -> FaceReport:
        return FaceReport(
            id=self.track_id,
            box=self.face.box,
            p_closed=self.p_closed,
            state=eye_state(self.p_closed, settings, photo).value,
            reason=self.reason,
        )


def read_eyes(
    gray: np.ndarray, face: Face, model: EyeStateModel
) -> tuple[tuple[float, float] | None, str | None]:
    patches = eye_patches(gray, face)
    if patches.unreadable:
        return None, patches.unreadable
    left, right = (model.p_closed(p) for p in patches.patches)
    return (left, right), None


@dataclass
class LiveAnalyzer:
    detector: FaceDetector
    model: EyeStateModel
    detect_every: int = 3
    min_face_score: float = 0.0
    tracker: FaceTracker = field(default_factory=FaceTracker)
    _frames_seen: int = 0

    def analyze(self, image: np.ndarray) -> tuple[list[FaceReading], list[int]]:
        """Readings for the faces in this frame, and the ids of faces that just left."""
        ended: list[int] = []
        image = standard_channels(image)
        if self._frames_seen % max(1, self.detect_every) == 0:
            faces = [f for f in self.detector.detect(image) if f.score >= self.min_face_score]
            tracks, ended = self.tracker.update(faces)
        else:
            tracks = [t for t in self.tracker.tracks.values() if t.missed == 0]
        self._frames_seen += 1
        gray = to_gray(image)
        readings = []
        for track in tracks:
            p, reason = read_eyes(gray, track.face, self.model)
            readings.append(FaceReading(track.id, track.face, p, reason))
        return readings, ended


@dataclass(frozen=True)
class PhotoVerdict:
    verdict: str  # "keep" | "retake" | "check"
    faces: list[FaceReport]
    reason: str  # one line a person can read


def photo_verdict(faces: list[FaceReport]) -> PhotoVerdict:
    """Keep when every face has open eyes; retake when any is closed or half closed."""
    if not faces:
        return PhotoVerdict("check", faces, "no face found")
    closed = [f for f in faces if f.state in (EyeState.CLOSED.value, EyeState.HALF.value)]
    if closed:
        ids = ", ".join(f"face {f.id} ({f.state})" for f in closed)
        return PhotoVerdict("retake", faces, f"eyes closed: {ids}")
    unknown = [f for f in faces if f.state == EyeState.UNKNOWN.value]
    if unknown:
        why = ", ".join(f"face {f.id}: {f.reason}" for f in unknown)
        return PhotoVerdict("check", faces, f"can't tell: {why}")
    return PhotoVerdict("keep", faces, "all eyes open")


def analyze_photo(
    image: np.ndarray,
    detector: FaceDetector,
    model: EyeStateModel,
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
        p, reason = read_eyes(gray, face, model)
        reports.append(FaceReading(number, face, p, reason).report(settings, photo=True))
    return photo_verdict(reports)


def model_thresholds(model_path: Path) -> dict[str, float]:
    """Thresholds the training run recommends for this model (a JSON beside it), if any."""
    sidecar = model_path.with_suffix(".json")
    if not sidecar.is_file():
        return {}
    data = json.loads(sidecar.read_text())
    return {k: float(data[k]) for k in ("t_open", "t_closed", "t_half") if k in data}
