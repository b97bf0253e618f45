"""Live frames: a laughing squint (measured by the eyelid geometry) is never fed to the blink
state machine as closed eyes, while real closed eyes are; nor is an eye whose lids are wide
apart, as in a sideways glance. Real photos (dlib_groups, dryeye) and video frames."""

from __future__ import annotations

import itertools

import cv2
import pytest

from eyespy_live.config import Config
from eyespy_live.decision.analyzer import FaceReading
from eyespy_live.decision.blink import BlinkStateMachine, Observation, combined_closed
from eyespy_live.decision.configured import blink_settings, build_detector, build_model
from eyespy_live.decision.facestate import REASON_DISAGREE
from eyespy_live.decision.judge import LIDS_OPEN_READING, LIDS_WIDE_OPEN
from eyespy_live.sources.video import VideoSource
from eyespy_live.vision.eyecrop import to_gray


@pytest.fixture(scope="module")
def tools():
    config = Config()
    return build_detector(config), build_model(config), blink_settings(config)


def live_reading(path, number, tools) -> FaceReading:
    """The face's reading as a live frame gets it (the cheap path, geometry where needed)."""
    detector, judge, _ = tools
    image = cv2.imread(str(path))
    face = sorted(detector.detect_photo(image), key=lambda f: (f.box[0], f.box[1]))[number]
    judgement = judge.read(to_gray(image), face)
    return FaceReading(1, face, judgement.p_closed, judgement.reason, judgement.geometry)


def live_frame_readings(path, number, tools):
    """Each face's live judgement on one frame of a video, left to right."""
    detector, judge, _ = tools
    frame = next(itertools.islice(VideoSource(path).frames(), number, None))
    faces = sorted(detector.detect(frame.image), key=lambda f: f.box[0])
    return [judge.read(to_gray(frame.image), face) for face in faces]


def events_of(observations, settings):
    machine, events = BlinkStateMachine(settings), []
    for i, p in enumerate(observations):
        events += machine.update(Observation(i, i / 30.0, p))
    return events


def test_a_laughing_squint_read_as_shut_gives_no_blink(shared_data, tools):
    settings = tools[2]
    laugh = live_reading(shared_data / "photos/dlib_groups/2008_001009.jpg", 1, tools)
    assert laugh.p_closed is not None and laugh.geometry is not None
    assert combined_closed(laugh.p_closed, True) >= settings.t_closed  # the CNN: "shut"
    assert laugh.blink_p_closed(settings) is None
    assert laugh.report(settings).state == "squint"
    open_eyes = (0.02, 0.02)
    # Open eyes, 200 ms of that laugh, open again: what the CNN alone would call a blink.
    as_read = [open_eyes] * 10 + [laugh.p_closed] * 6 + [open_eyes] * 10
    assert [e.kind for e in events_of(as_read, settings)] == ["blink"]
    fed = [open_eyes] * 10 + [laugh.blink_p_closed(settings)] * 6 + [open_eyes] * 10
    assert events_of(fed, settings) == []


def test_real_closed_eyes_are_fed_as_they_read(shared_data, tools):
    settings = tools[2]
    shut = live_reading(shared_data / "photos/dryeye_pair/eyes_closed.jpg", 0, tools)
    assert shut.geometry is not None
    assert shut.blink_p_closed(settings) == shut.p_closed
    assert combined_closed(shut.p_closed, True) >= settings.t_closed


def test_a_face_glancing_sideways_reads_open_when_the_other_eye_is_wide_open(shared_data, tools):
    """talking_two_faces, frame 40: the woman looks sideways, her near eye's iris sits in its
    inner corner, white sclera beside it, and its patch reads shut, while both lids are apart
    and the other eye's as wide as open eyes' ever are. Read as open eyes read, so her blinks
    have open frames around them (as "can't tell" they hid every blink she made)."""
    woman = live_frame_readings(shared_data / "video/unlabelled/talking_two_faces.mp4", 40,
                                tools)[-1]
    assert woman.cnn is not None and woman.geometry is not None
    far, near = sorted((0, 1), key=lambda i: -woman.cnn[i])
    assert woman.cnn[far] >= 0.5 > woman.cnn[near]  # the patches: one eye "shut"
    assert woman.geometry.eyes[near].openness >= LIDS_WIDE_OPEN
    assert woman.p_closed == (LIDS_OPEN_READING, LIDS_OPEN_READING) and woman.reason is None


def test_eyes_both_reading_shut_with_lids_wide_apart_are_no_closure(shared_data, tools):
    """hamilton_clip, frame 0: the moving singer's two patches read shut (the crops slide on
    his head) while the lids measure wide apart. The wider eye is not closing whatever its
    patch says, and one eye left reading shut with open lids is "can't tell": never a frame
    of closed eyes for the blink state machine."""
    singer = live_frame_readings(shared_data / "video/unlabelled/hamilton_clip.mp4", 0, tools)[0]
    assert singer.cnn is not None and singer.geometry is not None
    assert min(singer.cnn) >= 0.5
    assert max(e.openness for e in singer.geometry.eyes) >= LIDS_WIDE_OPEN
    assert singer.p_closed is None and singer.reason == REASON_DISAGREE
