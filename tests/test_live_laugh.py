"""Live frames: a laughing squint (measured by the eyelid geometry) is never fed to the blink
state machine as closed eyes, while real closed eyes are. Real photos (dlib_groups, dryeye)."""

from __future__ import annotations

import cv2
import pytest

from eyespy_live.config import Config
from eyespy_live.decision.analyzer import FaceReading
from eyespy_live.decision.blink import BlinkStateMachine, Observation, combined_closed
from eyespy_live.decision.configured import blink_settings, build_detector, build_model
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
