"""Real photos through detector + eye model: verdicts, and faces that can't be judged."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from dlib_landmarks import labelled_faces

from eyespy_live.decision.analyzer import LiveAnalyzer
from eyespy_live.decision.blink import BlinkSettings
from eyespy_live.decision.shot import analyze_photo, photo_verdict
from eyespy_live.events import FaceReport
from eyespy_live.vision.eyestate import EyeStateModel
from eyespy_live.vision.faces import create_detector


@pytest.fixture(scope="module")
def detector():
    return create_detector("blazeface")


@pytest.fixture(scope="module")
def model():
    return EyeStateModel()


@pytest.fixture(scope="module")
def pair(shared_data):
    folder = shared_data / "photos" / "dryeye_pair"
    return cv2.imread(str(folder / "eyes_open.jpg")), cv2.imread(str(folder / "eyes_closed.jpg"))


def test_open_eyes_are_kept_and_closed_eyes_are_a_retake(pair, detector, model):
    opened, closed = pair
    keep = analyze_photo(opened, detector, model, BlinkSettings(), 0.6)
    retake = analyze_photo(closed, detector, model, BlinkSettings(), 0.6)
    assert keep.verdict == "keep", keep
    assert retake.verdict == "retake", retake
    assert "eyes closed: face 1 of 1" in retake.reason


def test_a_photo_without_a_face_needs_checking(shared_data, detector, model):
    image = cv2.imread(str(shared_data / "photos" / "dlib_groups" / "dogs.jpg"))
    assert analyze_photo(image, detector, model, BlinkSettings(), 0.6).verdict == "check"


def test_a_face_cut_by_the_frame_edge_is_cant_tell_not_a_guess(pair, detector, model):
    opened, _ = pair
    analyzer = LiveAnalyzer(detector, model, detect_every=1)
    (full,), _ = analyzer.analyze(opened)
    # Cut the image through the middle of the face's image-left eye.
    cut = np.ascontiguousarray(opened[:, int(full.face.eyes[0][0]) :])
    readings, _ = LiveAnalyzer(detector, model, detect_every=1).analyze(cut)
    assert readings, "the detector still finds the half face"
    assert all(r.p_closed is None and r.reason == "eye outside the frame" for r in readings)


def test_a_tiny_face_is_too_small_to_judge(pair, detector, model):
    opened, _ = pair
    small = cv2.resize(opened, None, fx=0.07, fy=0.07, interpolation=cv2.INTER_AREA)
    (reading,), _ = LiveAnalyzer(detector, model, detect_every=1).analyze(small)
    assert reading.face.inter_eye_distance < 14
    assert reading.p_closed is None and reading.reason == "face too small to judge"


def test_the_photo_verdict_rules():
    def face(state, width=100):
        reason = "turned" if state == "unknown" else None
        return FaceReport(1, (0, 0, width, width), None, state, reason)

    assert photo_verdict([]).verdict == "check"
    # A face a few pixels wide is can't tell, whatever it read (one rule for shot and cull).
    tiny = photo_verdict([face("open"), face("closed", width=20)])
    assert tiny.verdict == "check" and "too small" in tiny.reason
    assert photo_verdict([face("open"), face("half")]).verdict == "retake"
    assert photo_verdict([face("open"), face("unknown")]).verdict == "check"
    assert photo_verdict([face("open"), face("open")]).verdict == "keep"


def test_a_crowd_of_small_faces_is_one_clause_not_one_per_face():
    def face(number, width, reason=None):
        state = "unknown" if reason else "open"
        return FaceReport(number, (0, 0, width, width), None, state, reason)

    crowd = [face(1, 100), face(2, 30), face(3, 34), face(4, 120, "head turned"),
             face(5, 36), face(6, 90, "face too small to judge")]
    verdict = photo_verdict(crowd)
    assert verdict.verdict == "check" and verdict.attention == [2, 3, 4, 5, 6]
    assert verdict.reason == ("can't tell: faces 2, 3, 5, 6: face too small to judge; "
                              "face 4: head turned")
    # Each face keeps its own detail.
    assert verdict.faces[1].reason == "face too small to judge (30 px wide)"


def test_photo_detection_finds_small_faces_one_pass_misses(shared_data, detector):
    group = cv2.imread(str(shared_data / "photos" / "dlib_groups" / "2008_002470.jpg"))
    height, width = group.shape[:2]
    # The same 6-person photo as a small part of a large frame: a back row, in effect.
    canvas = cv2.copyMakeBorder(
        group, height, height, width, width, cv2.BORDER_CONSTANT, value=(128, 128, 128)
    )
    one_pass = detector.detect(canvas)
    thorough = detector.detect_photo(canvas)
    assert len(thorough) >= len(one_pass) + 3
    boxes = [f.box for f in thorough]
    assert len(set(boxes)) == len(boxes), "tiles overlap, but each face is reported once"


def test_a_team_photo_finds_everyone_and_the_one_who_blinked(shared_data, tmp_path):
    """A big group shot: 144 real faces, each 1/54 of the photo's width (a real 24-person
    photo repeated 3 × 2), and below them one person with eyes shut. A whole-photo pass and
    2×2 tiles of its reduced decode see those faces at 4–6 px of the detector's input and
    find a handful; the finer grids of tiles find them all, and the shut eyes make the shot
    a retake."""
    from eyespy_live.config import load
    from eyespy_live.decision.configured import blink_settings, build_detector, build_model
    from eyespy_live.decision.shot import analyze_photo_file

    config = load(None)
    detector, model = build_detector(config), build_model(config)
    group = cv2.imread(str(shared_data / "photos" / "dlib_groups" / "bald_guys.jpg"))
    closed = cv2.imread(str(shared_data / "photos" / "dryeye_pair" / "eyes_closed.jpg"))
    (shut_face,) = detector.detect_photo(closed)
    team = np.vstack([np.hstack([group] * 3)] * 2)
    height, width = team.shape[:2]
    band = np.full((height // 3, width, 3), 128, np.uint8)
    scale = 120 / shut_face.box[2]  # the same face size as the team's
    small = cv2.resize(closed, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    band[50 : 50 + small.shape[0], width // 2 : width // 2 + small.shape[1]] = small
    path = tmp_path / "team.jpg"
    cv2.imwrite(str(path), np.vstack([team, band]), [cv2.IMWRITE_JPEG_QUALITY, 92])

    verdict = analyze_photo_file(path, detector, model, blink_settings(config),
                                 config.vision.min_face_score)

    assert len(verdict.faces) >= 140, f"{len(verdict.faces)} of 145 faces found"
    boxes = [f.box for f in verdict.faces]
    assert len(set(boxes)) == len(boxes), "tiles overlap, but each face is reported once"
    assert verdict.verdict == "retake", verdict.reason
    (blinked,) = [f for f in verdict.faces if f.state == "closed"]
    assert blinked.box[1] > height, "the one with eyes shut is the one below the team"


def test_photo_eye_points_land_on_the_eyes_in_group_photos(shared_data, detector):
    """The eye crop follows the detector's eye points. In a whole-photo pass a group face is
    a few pixels of the detector's input and its points drift onto the brows (~0.1 of the
    eye distance, median); finding each face again in a region around it brings them back."""
    errors = []
    for path, truth in labelled_faces(shared_data / "photos" / "dlib_groups"):
        found = detector.detect_photo(cv2.imread(str(path)))
        for _, (left, right) in truth:
            distance = float(np.linalg.norm(right - left))
            errors.append(min(
                (np.linalg.norm(np.subtract(f.eyes[0], left))
                 + np.linalg.norm(np.subtract(f.eyes[1], right))) / 2 / distance
                for f in found))
    errors = np.array(errors)
    assert len(errors) == 43 and (errors < 1.0).all(), "every landmarked face is found"
    assert np.median(errors) < 0.08 and errors.mean() < 0.1


def test_a_live_face_has_its_head_pose_looked_at_now_and_then_on_open_frames(detector):
    """The blink state machine compares a closure's head pitch with the open frames' before
    it (a glance down tilts the head), so open frames, which skip the geometry stage, get a
    mesh-only pose every POSE_EVERY frames, and no more often."""
    from eyespy_live.decision.analyzer import POSE_EVERY
    from eyespy_live.decision.judge import EyeJudge
    from eyespy_live.resources import demo_video
    from eyespy_live.sources.video import VideoSource

    analyzer = LiveAnalyzer(detector, EyeJudge.default(EyeStateModel()))
    pitches, mesh_only = [], 0
    for frame in VideoSource(demo_video()).frames():
        (reading,), _ = analyzer.analyze(frame.image)
        pitches.append(reading.pitch)
        mesh_only += reading.geometry is None and reading.pitch is not None
    seen = [i for i, p in enumerate(pitches) if p is not None]
    assert seen[0] == 0 and len(pitches) - 1 - seen[-1] <= POSE_EVERY
    assert max(np.diff(seen)) <= POSE_EVERY + 1
    assert 0 < mesh_only <= len(pitches) / POSE_EVERY
    assert all(-60 < pitches[i] < 60 for i in seen)
