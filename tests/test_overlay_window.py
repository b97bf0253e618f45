"""`eyespy overlay` in a real window on a real X server (Xvfb), fed over a real socket.

The test starts its own Xvfb, runs the overlay as its own process, publishes events from
here, and reads the screen back with `xwd` to look for the RETAKE banner's colour.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from endpoints import flood_while_paused, rebind
from xscreen import screenshot, start_window, xvfb

from eyespy_live.alerts.overlay import BACKGROUND, BANNER_RETAKE
from eyespy_live.bus.pubsub import Publisher
from eyespy_live.bus.thumbnails import face_strip

WINDOW = (800, 450)


@pytest.fixture
def display():
    with xvfb() as name:
        yield name


def share_of(image: np.ndarray, colour: tuple[int, int, int], tolerance: int = 14) -> float:
    """Fraction of the overlay window's area showing `colour`."""
    close = np.all(np.abs(image.astype(int) - np.array(colour)) <= tolerance, axis=2)
    return close.sum() / (WINDOW[0] * WINDOW[1])


def wait_screen(display, predicate, what, poke=None, timeout_s=40.0, log=None) -> np.ndarray:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        image = screenshot(display)
        if predicate(image):
            return image
        if poke is not None:
            poke()
        time.sleep(0.25)
    detail = f"; overlay said: {log.read_text()!r}" if log is not None else ""
    raise AssertionError(f"timed out waiting for {what}{detail}")


@pytest.fixture
def retake_shot(shared_data):
    """A shot event body and its real face-thumbnail strip (the publisher's attachment)."""
    photo = cv2.imread(str(shared_data / "photos" / "dryeye_pair" / "eyes_closed.jpg"))
    faces = [{"id": 1, "box": [560, 260, 330, 400], "p_closed": [0.97, 0.95], "state": "closed"}]
    jpeg, info = face_strip(photo, faces, (photo.shape[1], photo.shape[0]))
    body = {
        "file": "IMG_0042.JPG",
        "verdict": "retake",
        "reason": "eyes closed: face 1",
        "width": photo.shape[1],
        "height": photo.shape[0],
        "faces": faces,
        "thumbnails": info,
    }
    return body, jpeg


def test_a_retake_shows_a_banner_and_a_restarted_publisher_is_followed(
    display, endpoint, retake_shot, tmp_path
):
    body, strip = retake_shot
    keep = {**body, "verdict": "keep", "faces": [], "file": "IMG_0043.JPG"}
    keep.pop("thumbnails")
    log_path = tmp_path / "overlay.stderr"
    log = log_path.open("wb")
    first = Publisher(endpoint)
    overlay, idle, _ = start_window(
        [sys.executable, "-m", "eyespy_live", "overlay", "--endpoint", endpoint]
        + ["--size", f"{WINDOW[0]}x{WINDOW[1]}", "--on-top", "--banner-seconds", "60"],
        display,
        lambda img: share_of(img, BACKGROUND, 2) > 0.5,
        stderr=log,
    )
    try:
        assert share_of(idle, BANNER_RETAKE) < 0.01, "no banner before any event"

        def publish_retake(publisher):
            return lambda: publisher.publish(
                "shot", body, source="test", capture_ts=time.time(), attachment=strip
            )

        banner = wait_screen(
            display,
            lambda img: share_of(img, BANNER_RETAKE) > 0.3,
            "the RETAKE banner",
            poke=publish_retake(first),
        )
        # The face thumbnail sits inside the banner: its rows are not all banner colour.
        rows = np.all(np.abs(banner.astype(int) - np.array(BANNER_RETAKE)) <= 14, axis=2)
        banner_rows = np.where(rows.sum(axis=1) > WINDOW[0] * 0.3)[0]
        middle = banner[banner_rows[len(banner_rows) // 2]]
        assert 0.3 < share_of(middle[None], BANNER_RETAKE) * WINDOW[1] < 0.9
        assert "RETAKE IMG_0042.JPG (faces: 1)" in log_path.read_text()

        first.close()  # the publisher goes away and a new one (new instance id) takes over
        second = rebind(endpoint)
        try:
            wait_screen(
                display,
                lambda img: share_of(img, BANNER_RETAKE) < 0.01,
                "a keep shot from the new publisher to clear the banner",
                poke=lambda: second.publish("shot", keep, source="test", capture_ts=time.time()),
            )
            wait_screen(
                display,
                lambda img: share_of(img, BANNER_RETAKE) > 0.3,
                "the banner for a retake from the new publisher",
                poke=publish_retake(second),
            )
        finally:
            second.close()
    finally:
        first.close()
        overlay.terminate()
        overlay.wait(timeout=20)
        log.close()
    assert "publisher restarted" in log_path.read_text()


def test_without_a_display_the_overlay_says_so_in_one_line(endpoint):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    result = subprocess.run(
        [sys.executable, "-m", "eyespy_live", "overlay", "--endpoint", endpoint],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "eyespy overlay: error: no display: DISPLAY is not set (run it on the desktop, "
        "or `ssh -X`, or under Xvfb for tests)"
    )


def test_screenshot_reader_sees_what_is_drawn(display):
    """The screen reader itself must be able to fail: a plain window of a known colour."""
    script = (
        "import cv2, numpy as np, time\n"
        "cv2.namedWindow('probe', cv2.WINDOW_AUTOSIZE)\n"
        f"cv2.imshow('probe', np.full(({WINDOW[1]}, {WINDOW[0]}, 3), (200, 10, 10), np.uint8))\n"
        "end = time.time() + 30\n"
        "while time.time() < end: cv2.waitKey(50)\n"
    )
    probe, image, _ = start_window(
        [sys.executable, "-c", script], display, lambda img: share_of(img, (200, 10, 10), 2) > 0.9
    )
    probe.terminate()
    probe.wait(timeout=20)
    assert share_of(image, BANNER_RETAKE) == 0


def test_the_readme_screenshot_is_small(tmp_path):
    path = Path(__file__).resolve().parents[1] / "docs" / "overlay.png"
    assert path.is_file() and path.stat().st_size < 200_000


def background_box(image: np.ndarray) -> tuple[int, int, int, int]:
    """x0, y0, x1, y1 of the overlay's background colour on screen."""
    ys, xs = np.where(np.all(image == BACKGROUND, axis=2))
    return int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())


@pytest.mark.parametrize(
    ("options", "box"),
    [
        # Fullscreen fills the 1280×720 screen (the bottom 30 rows are the status bar).
        (["--fullscreen"], (0, 0, 1279, 689)),
        # --screen-x/--screen-y place it, e.g. on a second monitor to the right.
        (["--screen-x", "400", "--screen-y", "100", "--size", "640x360"], (400, 100, 1039, 429)),
    ],
)
def test_the_window_can_fill_the_screen_or_sit_where_it_is_told(display, endpoint, options, box):
    overlay, _, _ = start_window(
        [sys.executable, "-m", "eyespy_live", "overlay", "--endpoint", endpoint, *options],
        display,
        lambda img: np.all(img == BACKGROUND, axis=2).sum() > 50_000,
    )
    try:
        wait_screen(display, lambda img: background_box(img) == box, f"the window at {box}")
    finally:
        overlay.terminate()
        overlay.wait(timeout=20)


def test_events_lost_while_the_overlay_was_stalled_are_reported(display, endpoint, tmp_path):
    log_path = tmp_path / "overlay.stderr"
    publisher = Publisher(endpoint, high_water_mark=10)
    with log_path.open("wb") as log:
        overlay, _, _ = start_window(
            [sys.executable, "-m", "eyespy_live", "overlay", "--endpoint", endpoint],
            display,
            lambda img: share_of(img, BACKGROUND, 2) > 0.5,
            stderr=log,
        )
    try:
        status = {"state": "running", "fps": 12.0, "source_connected": True}
        wait_screen(  # connected: a status heartbeat reached it
            display,
            lambda img: "receiving from publisher" in log_path.read_text(),
            "the overlay to connect",
            poke=lambda: publisher.publish("status", status, source="t", capture_ts=0.0),
        )
        flood_while_paused(publisher, overlay.pid)
        end = time.monotonic() + 30
        while "dropped (seq gap)" not in log_path.read_text() and time.monotonic() < end:
            publisher.publish("status", status, source="t", capture_ts=0.0)
            time.sleep(0.2)
        assert "dropped (seq gap)" in log_path.read_text()
        assert overlay.poll() is None, "the overlay keeps running"
    finally:
        publisher.close()
        overlay.terminate()
        overlay.wait(timeout=20)
