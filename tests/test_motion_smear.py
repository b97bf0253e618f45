"""A face smeared by a fast movement is "can't tell" for a frame, never a closed eye: the
smear check on the demo clip's real face (it ships with the package, so no data set needed)."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest

from eyespy_live.resources import demo_video
from eyespy_live.sources.video import VideoSource
from eyespy_live.train.alterations import motion_blurred
from eyespy_live.vision.eyecrop import to_gray
from eyespy_live.vision.faces import create_detector
from eyespy_live.vision.smear import (
    MAX_SMEARED_RUN,
    MIN_HISTORY,
    REASON_SMEARED,
    SmearWatch,
    gradient_energy,
)


@pytest.fixture(scope="module")
def demo():
    """The demo clip's gray frames and its one face, found by the real detector."""
    frames = [to_gray(f.image) for f in VideoSource(demo_video()).frames()]
    detector = create_detector("blazeface")
    faces = [detector.detect(cv2.cvtColor(g, cv2.COLOR_GRAY2BGR)) for g in frames]
    return frames, faces


def smeared_copy(gray: np.ndarray, across: bool = False) -> np.ndarray:
    """The frame smeared 7 px up and down (a nod) or across (a shake of the head)."""
    return motion_blurred(7, across=across)(gray, 0)


def watched(demo, count: int) -> tuple[SmearWatch, list[bool]]:
    """A watch that has seen the clip's first `count` frames, and what it said of each."""
    frames, faces = demo
    watch = SmearWatch()
    pairs = zip(frames[:count], faces[:count], strict=True)
    said = [watch.smeared(1, gradient_energy(g, f[0])) for g, f in pairs]
    return watch, said


def test_sharp_frames_of_a_face_are_not_smeared_blinks_included(demo):
    frames, faces = demo
    _, said = watched(demo, len(frames))
    assert all(f for f in faces)
    assert not any(said)  # frames 14-17 and 37 are its blinks


@pytest.mark.parametrize("across", [False, True])
def test_a_smeared_copy_of_a_frame_is_smeared_and_the_next_sharp_frame_is_not(demo, across):
    frames, faces = demo
    watch, _ = watched(demo, 12)
    face = faces[12][0]
    assert watch.smeared(1, gradient_energy(smeared_copy(frames[12], across), face))
    assert not watch.smeared(1, gradient_energy(frames[13], faces[13][0]))


def test_a_face_is_not_judged_before_it_has_a_baseline(demo):
    frames, faces = demo
    watch = SmearWatch()
    for g, f in zip(frames[:MIN_HISTORY], faces[:MIN_HISTORY], strict=True):
        assert not watch.smeared(1, gradient_energy(smeared_copy(g), f[0]))


def test_detected_and_followed_boxes_are_compared_each_with_their_own_kind(demo):
    frames, faces = demo
    watch, _ = watched(demo, 12)
    # Nothing seen yet of detector boxes on this face: not judged, however smeared.
    assert not watch.smeared(1, gradient_energy(smeared_copy(frames[12]), faces[12][0]),
                             detected=True)


def test_a_lasting_change_is_a_new_baseline_not_a_long_smear(demo):
    """Light turned down, a refocus, the tracker on another face: after a few frames in a
    row the face's new look is its baseline, and its frames are read again."""
    frames, faces = demo
    watch, _ = watched(demo, 12)
    soft = [smeared_copy(g) for g in frames[12:40]]
    pairs = zip(soft, faces[12:40], strict=True)
    said = [watch.smeared(1, gradient_energy(g, f[0])) for g, f in pairs]
    assert said[:MAX_SMEARED_RUN] == [True] * MAX_SMEARED_RUN
    assert not any(said[MAX_SMEARED_RUN:])


def test_a_face_too_small_or_outside_the_frame_gives_no_energy(demo):
    frames, faces = demo
    face = faces[0][0]
    assert gradient_energy(frames[0], replace(face, box=(-500, -500, 40, 40))) is None
    assert gradient_energy(frames[0], replace(face, box=(0, 0, 10, 10))) is None


def test_the_live_analyzer_reads_a_smeared_shut_looking_face_as_cant_tell(demo):
    """Through the live analyzer: a smeared frame whose eyes read shut is "can't tell"
    (`motion smear`); the same frame sharp is read as usual."""
    from eyespy_live.decision.analyzer import LiveAnalyzer
    from eyespy_live.decision.judge import EyeJudge
    from eyespy_live.vision.eyestate import EyeStateModel

    frames, _ = demo
    bgr = [cv2.cvtColor(g, cv2.COLOR_GRAY2BGR) for g in frames]
    detector = create_detector("blazeface")

    def last_reading(analyzer, images):
        for image in images:
            readings, _ = analyzer.analyze(image)
        return readings[0]

    model = EyeJudge.default(EyeStateModel())
    sharp = last_reading(LiveAnalyzer(detector, model, detect_every=1), bgr[:16])
    assert sharp.p_closed is not None and min(sharp.p_closed) > 0.5  # the demo's first blink
    smeared = cv2.cvtColor(smeared_copy(frames[15]), cv2.COLOR_GRAY2BGR)
    reading = last_reading(LiveAnalyzer(detector, model, detect_every=1), bgr[:15] + [smeared])
    assert (reading.p_closed, reading.reason) == (None, REASON_SMEARED)
    unchecked = LiveAnalyzer(detector, model, detect_every=1, smear=None)
    assert last_reading(unchecked, bgr[:15] + [smeared]).p_closed is not None
