"""From an image to per-face eye readings: detector → tracker → eye crops → eye model.

`LiveAnalyzer` is for streams: it detects faces every `detect_every` frames and follows
them in between (blinks last 100–400 ms, so the cheap eye model runs on every frame while
the costly detector does not). Single shots are judged in `decision.shot`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from eyespy_live.decision.blink import BlinkSettings, eye_state
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
