"""From an image to per-face eye readings: detector → tracker → eye crops → eye model.

`LiveAnalyzer` is for streams: it detects faces every `detect_every` frames and follows
them in between (blinks last 100–400 ms, so the cheap eye model runs on every frame while
the costly detector does not). Single shots are judged in `decision.shot`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from eyespy_live.decision.blink import BlinkSettings, combined_closed
from eyespy_live.decision.facestate import DEFAULT_LIMITS, face_state, laughing_squint
from eyespy_live.decision.judge import CLEAR_OPEN, EyeJudge, EyeJudgement
from eyespy_live.events import FaceReport
from eyespy_live.vision.eyecrop import standard_channels, to_gray
from eyespy_live.vision.eyestate import EyeStateModel
from eyespy_live.vision.faces import Face, FaceDetector
from eyespy_live.vision.landmarks import FaceGeometry
from eyespy_live.vision.smear import REASON_SMEARED, SmearWatch, gradient_energy
from eyespy_live.vision.tracker import FaceTracker


@dataclass(frozen=True)
class FaceReading:
    track_id: int
    face: Face
    p_closed: tuple[float, float] | None  # None when the eyes can't be judged
    reason: str | None  # why not
    geometry: FaceGeometry | None = None  # when the eyelid-geometry stage ran
    pitch: float | None = None  # head pitch, degrees (− = down): from the geometry, or a
    # mesh-only look taken now and then on open frames (`POSE_EVERY`)

    def blink_p_closed(self, settings: BlinkSettings) -> tuple[float, float] | None:
        """What the blink state machine is fed: the eyes' P(closed), or None ("can't tell")
        when the measured geometry shows a laughing squint (a wide, raised mouth under
        raised upper lids with the iris showing): narrowed-but-open eyes that the CNN may
        read as shut. A blink brings the upper lid down, so its frames are never one."""
        if self.p_closed is None or self.geometry is None:
            return self.p_closed
        combined = combined_closed(self.p_closed, settings.both_eyes)
        if laughing_squint(self.geometry, combined, DEFAULT_LIMITS):
            return None
        return self.p_closed

    def report(self, settings: BlinkSettings, photo: bool = False) -> FaceReport:
        closed_at, half_at = (
            (settings.photo_t_closed, settings.photo_t_half) if photo
            else (settings.t_closed, settings.t_half)
        )
        state, why = face_state(self.p_closed, closed_at, half_at, self.geometry,
                                DEFAULT_LIMITS, settings.both_eyes, photo=photo,
                                second_look=self.face.second_look)
        openness = None
        if self.geometry is not None:
            openness = tuple(round(e.openness, 3) for e in self.geometry.eyes)
        return FaceReport(
            id=self.track_id,
            box=self.face.box,
            p_closed=self.p_closed,
            state=state,
            reason=self.reason or why,
            openness=openness,  # type: ignore[arg-type]
        )


def _as_judge(model: EyeStateModel | EyeJudge) -> EyeJudge:
    return model if isinstance(model, EyeJudge) else EyeJudge(model)


def judge_eyes(
    gray: np.ndarray, face: Face, model: EyeStateModel | EyeJudge, thorough: bool = False
) -> EyeJudgement:
    """One face's eyes: the CNN, and the geometry stage where the judge has one and the CNN
    is not sure (`thorough`: always, for still photos)."""
    return _as_judge(model).read(gray, face, thorough)


def read_eyes(
    gray: np.ndarray, face: Face, model: EyeStateModel | EyeJudge, thorough: bool = False
) -> tuple[tuple[float, float] | None, str | None]:
    judgement = judge_eyes(gray, face, model, thorough)
    return judgement.p_closed, judgement.reason


FOLLOW_MAX_FACES = 2
# A live face gets a mesh-only look at its head pose after this many frames without any
# (open frames skip the geometry stage; ~1 ms; 4 a second at 30 fps), so the blink machine knows
# where the head was before a closure (a glance down tilts it; a blink does not).
POSE_EVERY = 6


@dataclass
class LiveAnalyzer:
    detector: FaceDetector
    model: EyeStateModel | EyeJudge
    detect_every: int = 3
    min_face_score: float = 0.0
    tracker: FaceTracker = field(default_factory=FaceTracker)
    _frames_seen: int = 0
    _since_pose: dict[int, int] = field(default_factory=dict)  # per track: frames since a pose
    smear: SmearWatch | None = field(default_factory=SmearWatch)

    def analyze(self, image: np.ndarray) -> tuple[list[FaceReading], list[int]]:
        """Readings for the faces in this frame, and the ids of faces that just left."""
        ended: list[int] = []
        image = standard_channels(image)
        following = [t for t in self.tracker.tracks.values() if t.missed == 0]
        # Following costs one short-range pass per face; beyond a few faces one full
        # detection of the frame is cheaper and just as fresh.
        detected = (
            self._frames_seen % max(1, self.detect_every) == 0
            or len(following) > FOLLOW_MAX_FACES
        )
        if detected:
            faces = [f for f in self.detector.detect(image) if f.score >= self.min_face_score]
            tracks, ended = self.tracker.update(faces)
            lost: set[int] = set()
        else:
            tracks = following
            lost = self.tracker.follow(image, tracks, self.detector.follow)
        self._frames_seen += 1
        gray = to_gray(image)
        readings = []
        for track in tracks:
            if track.id in lost:  # not found near its last place: never read a stale crop
                readings.append(FaceReading(track.id, track.face, None, "face lost"))
                continue
            smeared = self.smear is not None and self.smear.smeared(
                track.id, gradient_energy(gray, track.face), detected)
            j = judge_eyes(gray, track.face, self.model)
            if smeared and not (j.p_closed is not None and max(j.p_closed) < CLEAR_OPEN):
                # A smeared eye reads shut; one that still reads clearly open is open.
                readings.append(FaceReading(track.id, track.face, None, REASON_SMEARED))
                continue
            readings.append(FaceReading(track.id, track.face, j.p_closed, j.reason, j.geometry,
                                        self._pitch(gray, track.id, track.face, j)))
        for track_id in ended:
            self._since_pose.pop(track_id, None)
            if self.smear is not None:
                self.smear.forget(track_id)
        return readings, ended

    def _pitch(self, gray: np.ndarray, track_id: int, face: Face, j: EyeJudgement
               ) -> float | None:
        """This frame's head pitch: the geometry stage's when it ran, else a mesh-only look
        once the face has gone POSE_EVERY frames without one (None in between)."""
        if j.geometry is not None:
            self._since_pose[track_id] = 0
            return j.geometry.pitch
        since = self._since_pose.get(track_id, POSE_EVERY)
        if since < POSE_EVERY or j.p_closed is None or not isinstance(self.model, EyeJudge):
            self._since_pose[track_id] = since + 1
            return None
        self._since_pose[track_id] = 0
        return self.model.head_pitch(gray, face)
