"""What the overlay draws for a given state: the pure half of `eyespy overlay`, no window."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from eyespy_live.alerts.overlay import (
    BACKGROUND,
    BANNER_CHECK,
    BANNER_RETAKE,
    FLASH,
    KEEP_BADGE,
    STATE_COLOURS,
    OverlayState,
    Timing,
    render,
    status_line,
)
from eyespy_live.bus.thumbnails import face_strip

SIZE = (960, 540)


def share(image: np.ndarray, colour, tolerance: int = 3) -> float:
    close = np.all(np.abs(image.astype(int) - np.array(colour)) <= tolerance, axis=2)
    return float(close.mean())


def status(fps=24.0, connected=True):
    return {"type": "status", "fps": fps, "source_connected": connected, "seq": 1}


def shot(verdict, faces=(), thumbnails=None, name="IMG_7.JPG"):
    event = {"type": "shot", "verdict": verdict, "file": name, "faces": list(faces)}
    if thumbnails:
        event["thumbnails"] = thumbnails
    return event


CLOSED = {"id": 2, "box": [40, 30, 40, 40], "state": "closed", "p_closed": [0.9, 0.9]}
OPEN = {"id": 1, "box": [120, 30, 40, 40], "state": "open", "p_closed": [0.1, 0.1]}


@pytest.fixture
def frame():
    """A 200×100 'live frame' of a flat grey, so face boxes are easy to find."""
    return np.full((100, 200, 3), 128, np.uint8)


def test_before_anything_arrives_it_says_it_is_waiting():
    state = OverlayState("tcp://127.0.0.1:5557")
    image = render(state, now=100.0, size=SIZE)
    assert image.shape == (SIZE[1], SIZE[0], 3)
    assert share(image, BANNER_RETAKE) == 0 and share(image, BACKGROUND) > 0.8
    assert status_line(state, 100.0).startswith(
        "waiting for the publisher at tcp://127.0.0.1:5557 (nothing received yet)"
    )


def test_a_retake_fills_the_middle_with_the_banner_for_a_few_seconds():
    state = OverlayState("e")
    state.apply(shot("retake", [CLOSED, OPEN]), None, now=10.0)
    shown = render(state, now=10.5, size=SIZE)
    assert share(shown, BANNER_RETAKE) > 0.5
    later = render(state, now=10.0 + Timing().banner + 0.1, size=SIZE)
    assert share(later, BANNER_RETAKE) == 0
    assert "last: shot IMG_7.JPG: retake" in status_line(state, 10.5)


def test_the_banner_shows_the_closed_faces_thumbnail(frame):
    photo = np.zeros((300, 300, 3), np.uint8)
    photo[:] = (0, 255, 0)  # a green "face" nobody could confuse with the banner
    jpeg, info = face_strip(photo, [CLOSED], (300, 300))
    state = OverlayState("e")
    state.apply(shot("retake", [CLOSED], info), jpeg, now=1.0)
    with_thumb = render(state, now=1.1, size=SIZE)
    state.apply(shot("retake", [CLOSED]), None, now=1.2)  # the same shot without thumbnails
    without = render(state, now=1.3, size=SIZE)
    assert share(with_thumb, (0, 255, 0), 20) > 0.05
    assert share(without, (0, 255, 0), 20) == 0
    assert share(with_thumb, BANNER_RETAKE) < share(without, BANNER_RETAKE)


def test_check_is_amber_and_keep_is_a_small_green_badge_that_clears_the_banner():
    state = OverlayState("e")
    state.apply(shot("check", [{**CLOSED, "state": "unknown"}]), None, now=1.0)
    check = render(state, now=1.1, size=SIZE)
    assert share(check, BANNER_CHECK) > 0.4 and share(check, BANNER_RETAKE) == 0
    state.apply(shot("retake", [CLOSED]), None, now=2.0)
    state.apply(shot("keep", [OPEN], name="IMG_8.JPG"), None, now=3.0)
    keep = render(state, now=3.1, size=SIZE)
    assert share(keep, BANNER_RETAKE) == 0
    assert 0.002 < share(keep, KEEP_BADGE) < 0.05


def test_a_live_blink_flashes_the_border_briefly():
    state = OverlayState("e")
    state.apply({"type": "blink", "face": {"id": 4}, "blink": {"kind": "blink"}}, None, 5.0)
    flashing = render(state, now=5.2, size=SIZE)
    assert share(flashing, FLASH) > 0.04
    assert flashing[SIZE[1] // 2, 8].tolist() == list(FLASH)  # the left border
    assert share(render(state, now=5.0 + Timing().flash + 0.1, size=SIZE), FLASH) == 0
    assert "last: blink face 4" in status_line(state, 5.2)


def test_the_preview_frame_is_shown_with_boxes_coloured_by_state(frame):
    ok, jpeg = cv2.imencode(".jpg", frame)
    state = OverlayState("e")
    preview = {"type": "preview", "width": 200, "height": 100, "faces": [CLOSED, OPEN]}
    state.apply(preview, jpeg.tobytes(), now=1.0)
    image = render(state, now=1.1, size=SIZE)
    assert share(image, (128, 128, 128), 4) > 0.5  # the frame fills the window
    scale = SIZE[0] / 200  # a 2:1 frame in a 16:9 window: width-limited
    top = (SIZE[1] - 30 - int(100 * scale)) // 2
    closed_edge = image[top + int(50 * scale), int(40 * scale) : int(40 * scale) + 3]
    open_edge = image[top + int(50 * scale), int(120 * scale) : int(120 * scale) + 3]
    assert any(p == list(STATE_COLOURS["closed"]) for p in closed_edge.tolist())
    assert any(p == list(STATE_COLOURS["open"]) for p in open_edge.tolist())


def test_an_undecodable_preview_keeps_the_last_good_frame(frame):
    ok, jpeg = cv2.imencode(".jpg", frame)
    state = OverlayState("e")
    state.apply({"type": "preview", "faces": []}, jpeg.tobytes(), now=1.0)
    state.apply({"type": "preview", "faces": []}, b"garbage", now=2.0)
    assert state.preview is not None and state.preview_at == 1.0


def test_the_status_line_reports_fps_camera_drops_and_restarts():
    state = OverlayState("e")
    state.apply(status(fps=23.46), None, now=1.0)
    state.dropped, state.restarts = 7, 1
    line = status_line(state, 1.5)
    assert line.startswith("connected  |  camera connected  |  23.5 fps")
    assert "dropped 7" in line and "publisher restarts 1" in line
    state.apply(status(connected=False), None, now=2.0)
    assert "CAMERA DISCONNECTED" in status_line(state, 2.1)
    silent = status_line(state, 2.0 + Timing().stale + 1)
    assert silent.startswith("waiting for the publisher at e (silent for 13 s)")


def test_a_stale_preview_is_dimmed_when_the_publisher_goes_silent(frame):
    ok, jpeg = cv2.imencode(".jpg", frame)
    state = OverlayState("e")
    state.apply({"type": "preview", "faces": []}, jpeg.tobytes(), now=1.0)
    live = render(state, now=1.1, size=SIZE)
    gone = render(state, now=1.0 + Timing().stale + 1, size=SIZE)
    centre = (SIZE[1] // 2, SIZE[0] // 2)
    assert gone[centre].max() < live[centre].min() / 2
