"""Several cameras on one overlay: one banner per camera, the latest on top, each named."""

from __future__ import annotations

import numpy as np

from eyespy_live.alerts.overlay import (
    BANNER_CHECK,
    BANNER_RETAKE,
    OverlayState,
    Timing,
    render,
    status_line,
)

SIZE = (960, 540)
CLOSED = {"id": 2, "box": [40, 30, 40, 40], "state": "closed", "p_closed": [0.9, 0.9]}


def shot(camera: str, verdict: str = "retake", name: str = "IMG_1.JPG") -> dict:
    return {"type": "shot", "source": camera, "verdict": verdict, "file": name, "faces": [CLOSED]}


def status(camera: str, fps: float, connected: bool = True) -> dict:
    return {"type": "status", "source": camera, "fps": fps, "source_connected": connected}


def bands(image: np.ndarray, colour) -> list[tuple[int, int]]:
    """Row ranges where most of the row is `colour` (a banner)."""
    rows = np.all(np.abs(image.astype(int) - np.array(colour)) <= 3, axis=2).mean(axis=1) > 0.3
    found, start = [], None
    for y, on in enumerate(list(rows) + [False]):
        if on and start is None:
            start = y
        elif not on and start is not None:
            found.append((start, y))
            start = None
    return found


def test_two_cameras_retaking_show_two_banners_latest_on_top():
    state = OverlayState("tcp://relay:5559")
    state.apply(status("left", 30.0), None, now=0.5)
    state.apply(status("right", 25.0), None, now=0.5)
    state.apply(shot("left", "retake", "L_1.JPG"), None, now=1.0)
    state.apply(shot("right", "check", "R_1.JPG"), None, now=2.0)
    assert [s.camera for s in state.banners(2.5, Timing())] == ["right", "left"]
    image = render(state, now=2.5, size=SIZE)
    check, retake = bands(image, BANNER_CHECK), bands(image, BANNER_RETAKE)
    assert len(check) == 1 and len(retake) == 1
    assert check[0][1] <= retake[0][0], "the latest (right, CHECK) is above the older one"


def test_a_camera_retaking_again_keeps_one_banner_and_moves_to_the_top():
    state = OverlayState("e")
    state.apply(shot("left", name="L_1.JPG"), None, now=1.0)
    state.apply(shot("right", name="R_1.JPG"), None, now=2.0)
    state.apply(shot("left", name="L_2.JPG"), None, now=3.0)
    banners = state.banners(3.1, Timing())
    assert [(s.camera, s.file) for s in banners] == [("left", "L_2.JPG"), ("right", "R_1.JPG")]
    assert len(bands(render(state, now=3.1, size=SIZE), BANNER_RETAKE)) == 2


def test_a_banner_ends_on_its_own_time_and_keep_clears_that_camera_only():
    state = OverlayState("e")
    state.apply(shot("left"), None, now=1.0)
    state.apply(shot("right"), None, now=4.0)
    assert [s.camera for s in state.banners(8.0, Timing(banner=6.0))] == ["right"]
    state.apply(shot("right", "keep"), None, now=8.5)
    assert state.banners(8.6, Timing(banner=6.0)) == []


def test_one_camera_keeps_the_big_banner():
    state = OverlayState("e")
    state.apply(shot("only"), None, now=1.0)
    ((top, bottom),) = bands(render(state, now=1.2, size=SIZE), BANNER_RETAKE)
    assert bottom - top > 0.5 * SIZE[1]


def test_the_status_line_names_each_camera():
    state = OverlayState("e")
    state.apply(status("left", 30.0), None, now=1.0)
    state.apply(status("right", 0.0, connected=False), None, now=1.0)
    state.apply({"type": "status", "source": "relay", "role": "relay"}, None, now=1.0)
    line = status_line(state, 1.5)
    assert "left 30 fps" in line and "right DISCONNECTED" in line and "relay" not in line
