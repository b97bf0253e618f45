"""A laugh narrows the eyes until the CNN reads them shut; the face mesh still sees the
smile and the upper lids where an open eye's are. Real photos: a laughing face is a squint
(kept, flagged), real closed eyes stay closed."""

from __future__ import annotations

import math

import pytest

from eyespy_live.config import Config
from eyespy_live.decision.configured import blink_settings, build_detector, build_model
from eyespy_live.decision.facestate import FaceState, laughing_squint
from eyespy_live.decision.shot import analyze_photo_file


@pytest.fixture(scope="module")
def tools():
    config = Config()
    return build_detector(config), build_model(config), blink_settings(config)


def _faces(path, tools):
    detector, judge, settings = tools
    return analyze_photo_file(path, detector, judge, settings)


def test_the_laughing_woman_in_a_group_photo_is_a_squint_not_closed(shared_data, tools):
    # 2008_001009 face 2: laughing at the bottom of the picture, eyes narrowed but open.
    verdict = _faces(shared_data / "photos/dlib_groups/2008_001009.jpg", tools)
    face = verdict.faces[1]
    assert face.state == FaceState.SQUINT, face
    assert verdict.verdict == "keep", verdict
    assert 2 in verdict.attention and "face 2" in verdict.reason, verdict


def test_a_laughing_face_among_open_eyed_photos_is_not_closed(shared_data, tools):
    # Biden laughing beside Obama (face_recognition's examples: every eye open).
    folder = shared_data / "photos/face_recognition_open/examples/knn_examples/test"
    path = folder / "obama_and_biden.jpg"
    verdict = _faces(path, tools)
    assert [f.state for f in verdict.faces].count(FaceState.CLOSED) == 0, verdict


def test_real_closed_eyes_stay_closed(shared_data, tools):
    verdict = _faces(shared_data / "photos/dryeye_pair/eyes_closed.jpg", tools)
    assert [f.state for f in verdict.faces] == [FaceState.CLOSED], verdict
    assert verdict.verdict == "retake"


def test_which_lid_moved_tells_a_laugh_from_a_blink(shared_data, tools):
    detector, judge, _ = tools
    import cv2

    from eyespy_live.vision.eyecrop import to_gray

    def geometry(rel: str, number: int):
        image = cv2.imread(str(shared_data / rel))
        faces = sorted(detector.detect_photo(image), key=lambda f: (f.box[0], f.box[1]))
        return judge.read(to_gray(image), faces[number], thorough=True).geometry

    laugh = geometry("photos/dlib_groups/2008_001009.jpg", 1)
    shut = geometry("photos/dryeye_pair/eyes_closed.jpg", 0)
    # The laugh's upper lids stay raised over a visible iris; the closed eye's come down.
    assert max(e.upper_lid for e in laugh.eyes) < -0.1 < min(e.upper_lid for e in shut.eyes) + 0.1
    assert min(e.iris_below_lid for e in laugh.eyes) > 0.15 > max(e.iris_below_lid
                                                                  for e in shut.eyes)
    assert laugh.mouth_width > shut.mouth_width
    # Evidence of a laugh never outweighs a CNN and fusion that are sure the eyes are shut.
    assert laughing_squint(laugh, 0.6) and not laughing_squint(laugh, 0.99)
    assert not laughing_squint(shut, math.sqrt(0.6 * 0.6))
