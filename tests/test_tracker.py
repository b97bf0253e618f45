"""Face ids stay with a face while it moves a little, and end when it leaves."""

from eyespy_live.vision.faces import Face
from eyespy_live.vision.tracker import FaceTracker


def face(x, y, w=100):
    return Face((x, y, w, w), 0.9, ((x + 30.0, y + 40.0), (x + 70.0, y + 40.0)))


def test_a_moving_face_keeps_its_id_and_a_new_face_gets_a_new_one():
    tracker = FaceTracker()
    first, _ = tracker.update([face(100, 100)])
    moved, _ = tracker.update([face(120, 105), face(400, 100)])
    assert moved[0].id == first[0].id
    assert moved[1].id != first[0].id


def test_two_faces_that_swap_order_in_the_list_keep_their_ids():
    tracker = FaceTracker()
    before, _ = tracker.update([face(100, 100), face(400, 100)])
    after, _ = tracker.update([face(402, 100), face(98, 100)])

    def id_by_side(tracks):
        return {("left" if t.face.box[0] < 250 else "right"): t.id for t in tracks}

    assert id_by_side(after) == id_by_side(before)


def test_a_face_missing_for_a_few_rounds_survives_then_ends():
    tracker = FaceTracker(max_missed=2)
    (track,), _ = tracker.update([face(100, 100)])
    assert tracker.update([]) == ([], [])
    assert tracker.update([]) == ([], [])
    current, ended = tracker.update([])
    assert current == [] and ended == [track.id]
    (again,), _ = tracker.update([face(100, 100)])
    assert again.id != track.id


def test_follow_moves_a_track_and_skips_a_frame_only_after_it_kept_still():
    import numpy as np

    from eyespy_live.vision.faces import Face
    from eyespy_live.vision.tracker import FaceTracker

    def face(x):
        return Face((x, 50, 100, 100), 0.9, ((x + 30.0, 80.0), (x + 70.0, 80.0)))

    tracker = FaceTracker()
    tracks, _ = tracker.update([face(100)])
    image = np.zeros((10, 10), np.uint8)
    calls = []

    def find(img, f):
        calls.append(f.box[0])
        return face(positions.pop(0))

    positions = [130, 160]  # moving: followed on every frame
    assert tracker.follow(image, tracks, find) == set()
    assert tracker.follow(image, tracks, find) == set()
    assert tracks[0].face.box[0] == 160 and calls == [100, 130]
    positions = [160, 999]  # kept still: the next frame is skipped, the one after followed
    tracker.follow(image, tracks, find)
    tracker.follow(image, tracks, find)
    assert calls == [100, 130, 160] and tracks[0].face.box[0] == 160
    tracker.follow(image, tracks, find)
    assert calls[-1] == 160 and tracks[0].face.box[0] == 999
    lost = tracker.follow(image, tracks, lambda img, f: None)
    assert lost == {tracks[0].id}
