"""Face thumbnails attached to shot events: who blinked travels with the verdict."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from eyespy_live import config
from eyespy_live.bus.thumbnails import crop_tile, face_strip, split_strip
from eyespy_live.live.run import LiveRun
from eyespy_live.sources.base import Frame


@pytest.fixture(scope="module")
def closed_photo(shared_data):
    return cv2.imread(str(shared_data / "photos" / "dryeye_pair" / "eyes_closed.jpg"))


def test_only_faces_that_are_not_open_get_a_tile_and_they_round_trip(closed_photo):
    h, w = closed_photo.shape[:2]
    faces = [
        {"id": 3, "box": [600, 300, 250, 300], "state": "closed"},
        {"id": 4, "box": [100, 100, 200, 200], "state": "open"},
        {"id": 5, "box": [900, 200, 200, 200], "state": "half"},
    ]
    jpeg, info = face_strip(closed_photo, faces, (w, h))
    assert info == {"ids": [3, 5], "tile": 128}
    tiles = split_strip(jpeg, info)
    assert sorted(tiles) == [3, 5]
    expected = crop_tile(closed_photo, faces[0]["box"])
    difference = np.abs(tiles[3].astype(int) - expected.astype(int)).mean()
    assert difference < 6  # the same crop, give or take JPEG


def test_boxes_in_full_photo_pixels_are_scaled_to_a_reduced_decode(closed_photo):
    h, w = closed_photo.shape[:2]
    reduced = cv2.resize(closed_photo, (w // 4, h // 4), interpolation=cv2.INTER_AREA)
    face = {"id": 1, "box": [600, 300, 250, 300], "state": "closed"}
    full = split_strip(*face_strip(closed_photo, [face], (w, h)))[1]
    small = split_strip(*face_strip(reduced, [face], (w, h)))[1]
    assert np.abs(full.astype(int) - small.astype(int)).mean() < 12


def test_a_face_at_the_edge_is_padded_not_an_error():
    image = np.full((100, 100, 3), 200, np.uint8)
    tile = crop_tile(image, (-20, 80, 40, 40))  # centred on the bottom-left corner
    assert tile.shape == (128, 128, 3)
    assert tile[32, 96].tolist() == [200, 200, 200]  # the image, top right of the tile
    assert tile[100, 20].tolist() == [0, 0, 0]  # outside the image: black padding


def test_nothing_to_attach_when_every_face_is_open_or_the_strip_is_unreadable(closed_photo):
    h, w = closed_photo.shape[:2]
    assert (
        face_strip(closed_photo, [{"id": 1, "box": [0, 0, 9, 9], "state": "open"}], (w, h)) is None
    )
    assert split_strip(b"not a jpeg", {"ids": [1], "tile": 128}) == {}
    assert split_strip(None, None) == {}


def test_a_shot_with_closed_eyes_is_published_with_its_face_tile(closed_photo):
    """End to end through the real detector and eye model (no sockets)."""
    sent = []

    def emit(event_type, body, *, source, capture_ts, attachment=None):
        sent.append((event_type, body, attachment))
        return body

    run = LiveRun(config.load(None), emit)
    frame = Frame(closed_photo, 0.0, "test", 0, kind="shot", name="eyes_closed.jpg")
    run.process(frame)
    ((event_type, body, attachment),) = sent
    assert event_type == "shot" and body["verdict"] == "retake"
    tiles = split_strip(attachment, body["thumbnails"])
    closed = [f["id"] for f in body["faces"] if f["state"] != "open"]
    assert sorted(tiles) == sorted(closed) and closed
