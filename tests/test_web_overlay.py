"""The web overlay in a real headless Chromium, fed by a real `eyespy live` on a hot folder.

Every process is real: the publisher judges real photos with the real models, `eyespy
overlay` serves the page, Chromium renders it; the test reads the page's DOM and its
screenshot, and restarts the publisher and the overlay server under the open page.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
import zmq
from browser import Browser

from eyespy_live.bus.pubsub import Subscriber


def start_overlay(endpoint: str, *extra: str, port: int = 0) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "eyespy_live", "overlay", "--endpoint", endpoint,
         "--port", str(port), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    line = process.stdout.readline()
    assert line.startswith("eyespy overlay: open "), line + process.stderr.read()
    return process, line.split("open ", 1)[1].strip()


def start_live(folder: Path, endpoint: str) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "eyespy_live", "live", "--source", f"folder:{folder}",
         "--watch", "--endpoint", endpoint],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    for line in process.stderr:
        if "watching folder:" in line:
            return process
    raise AssertionError(f"eyespy live did not start: {process.wait(30)}")


def stop(process: subprocess.Popen) -> str:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=30)
    return err


def drop(folder: Path, name: str, data: bytes) -> None:
    part = folder / f".{name}.part"
    part.write_bytes(data)
    part.rename(folder / name)


@pytest.fixture(scope="module")
def photos(shared_data):
    pair = shared_data / "photos" / "dryeye_pair"
    return {
        "closed": (pair / "eyes_closed.jpg").read_bytes(),
        "open": (pair / "eyes_open.jpg").read_bytes(),
    }


@pytest.fixture
def browser():
    b = Browser()
    yield b
    b.close()


def shoot_until_seen(browser: Browser, folder: Path, photo: bytes, prefix: str) -> dict:
    """Drop photos until the page has drawn one (the first may beat the subscription)."""
    before = browser.evaluate("window.eyespy.drawn.length")
    for attempt in range(6):
        drop(folder, f"{prefix}_{attempt:04d}.JPG", photo)
        try:
            browser.wait_for(f"window.eyespy.drawn.length > {before}", timeout=8)
            return browser.evaluate("window.eyespy.drawn[window.eyespy.drawn.length - 1]")
        except TimeoutError:
            continue
    raise AssertionError("the page never drew a shot")


def test_a_retake_shows_the_banner_with_the_face_thumbnail_and_survives_restarts(
    tmp_path, endpoint, photos, browser
):
    folder = tmp_path / "hot"
    folder.mkdir()
    live = start_live(folder, endpoint)
    overlay, url = start_overlay(endpoint)
    port = url.rsplit(":", 1)[1].split("/")[0]
    try:
        browser.open(url)
        browser.wait_for("window.eyespy.connects >= 1")
        strips = Subscriber(endpoint, topics=("shot",))
        drawn = shoot_until_seen(browser, folder, photos["closed"], "IMG")
        assert drawn["verdict"] == "retake"
        text = "document.querySelector('.banner .%s').textContent"
        assert browser.evaluate(text % "word") == "RETAKE"
        assert browser.evaluate(text % "file") == drawn["file"]
        box = browser.evaluate(
            "(() => { const r = document.querySelector('.thumbs canvas')"
            ".getBoundingClientRect(); return [r.x, r.y, r.width, r.height]; })()"
        )
        shot = None
        while shot is None or shot[0]["file"] != drawn["file"]:
            shot = strips.receive(timeout_s=10)
            assert shot is not None, "the direct subscriber missed the shot"
        strips.close()
        png = browser.screenshot()
        footer = browser.evaluate("document.getElementById('status').textContent")
        # The publisher restarts: the page follows the new one and says so.
        stop(live)
        live = start_live(folder, endpoint)
        kept = shoot_until_seen(browser, folder, photos["open"], "NEXT")
        assert kept["verdict"] == "keep" and kept["publisher"] != drawn["publisher"]
        assert browser.evaluate("!document.getElementById('keep').hidden")
        browser.wait_for("document.getElementById('status').textContent.includes('restarts 1')")
        # The overlay server restarts: the page reconnects by itself and gets shots again.
        stop(overlay)
        browser.wait_for("document.getElementById('status').textContent.includes('unreachable')")
        overlay, _ = start_overlay(endpoint, port=int(port))
        browser.wait_for("window.eyespy.connects >= 2", timeout=20)
        again = shoot_until_seen(browser, folder, photos["closed"], "LAST")
        assert again["verdict"] == "retake"
    finally:
        live_err = stop(live)
        overlay_err = stop(overlay)
    assert "Traceback" not in live_err + overlay_err, live_err + overlay_err
    assert "connected" in footer and "folder" not in footer.split("|")[0]
    assert "watching" in footer and "fps" not in footer and "camera" not in footer

    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    height, width = image.shape[:2]
    band = image[int(height * 0.25) : int(height * 0.7)]
    red = (band[..., 2] > 180) & (band[..., 1] < 60) & (band[..., 0] < 60)
    assert red.mean() > 0.4, f"the RETAKE banner covers only {red.mean():.0%} of the middle"
    # The thumbnail on screen is the face crop the publisher attached (not red, not blank).
    x, y, w, h = (int(round(v)) for v in box)
    shown = cv2.resize(image[y + 6 : y + h - 6, x + 6 : x + w - 6], (96, 96))
    tile = cv2.imdecode(np.frombuffer(shot[1], np.uint8), cv2.IMREAD_COLOR)[:, :128]
    expected = cv2.resize(tile[5:-5, 5:-5], (96, 96))
    difference = np.abs(shown.astype(int) - expected.astype(int)).mean()
    banner_colour = np.abs(shown.astype(int) - np.array([36, 28, 214])).mean()
    assert difference < 25 and banner_colour > 60, (difference, banner_colour)


def test_space_asks_for_the_shutter_and_a_hot_folder_refuses_in_words(
    tmp_path, endpoint, browser
):
    live = start_live(tmp_path, endpoint)
    overlay, url = start_overlay(endpoint)
    try:
        browser.open(url)
        browser.wait_for("window.eyespy.connects >= 1")
        browser.press("Space")
        text = browser.wait_for(
            "!document.getElementById('toast').hidden && "
            "document.getElementById('toast').textContent"
        )
    finally:
        stop(live)
        stop(overlay)
    assert "no shutter" in text and "gphoto2" in text, text


def test_on_the_network_the_page_needs_its_token_and_other_sites_cannot_connect(endpoint):
    import aiohttp

    overlay, url = start_overlay(endpoint, "--lan", "--host", "127.0.0.1", "--token", "s3cret")
    base = url.split("?")[0]

    async def probe() -> dict:
        async with aiohttp.ClientSession() as http:
            results = {}
            for name, target in (("none", base), ("wrong", base + "?token=x"), ("right", url)):
                async with http.get(target) as r:
                    results[name] = r.status
            ws_url = base.replace("http", "ws") + "ws?token=s3cret"
            try:
                await http.ws_connect(ws_url, headers={"Origin": "http://evil.example"})
                results["foreign"] = 101
            except aiohttp.WSServerHandshakeError as exc:
                results["foreign"] = exc.status
            async with http.ws_connect(ws_url, headers={"Origin": base.rstrip("/")}) as ws:
                results["hello"] = json.loads((await ws.receive()).data)["t"]
            return results

    try:
        results = asyncio.run(probe())
    finally:
        stop(overlay)
    assert "token=s3cret" in url
    assert results == {"none": 403, "wrong": 403, "right": 200, "foreign": 403, "hello": "bus"}


def test_a_bad_endpoint_or_a_taken_port_is_one_line(endpoint):
    bad = subprocess.run(
        [sys.executable, "-m", "eyespy_live", "overlay", "--endpoint", "nonsense"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "nonsense" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
    first, url = start_overlay(endpoint)
    port = url.rsplit(":", 1)[1].split("/")[0]
    try:
        taken = subprocess.run(
            [sys.executable, "-m", "eyespy_live", "overlay", "--endpoint", endpoint,
             "--port", port], capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    finally:
        stop(first)
    assert taken.returncode == 2 and "--port" in taken.stderr, taken.stderr
    assert len(taken.stderr.strip().splitlines()) == 1


def test_a_page_opened_late_gets_the_latest_status_at_once(endpoint, browser):
    from endpoints import rebind

    publisher = rebind(endpoint)
    overlay, url = start_overlay(endpoint)
    try:
        time.sleep(0.5)
        body = {"state": "running", "source_kind": "demo", "source": "demo", "shots": 3,
                "retakes": 1, "blinks": 7, "fps": 0.0}  # fmt: skip
        for _ in range(20):  # until the overlay's subscription is through
            publisher.publish("status", body, source="demo", capture_ts=time.time())
            time.sleep(0.1)
        browser.open(url)
        text = browser.wait_for(
            "document.getElementById('status').textContent.includes('7 blinks') && "
            "document.getElementById('status').textContent"
        )
    finally:
        stop(overlay)
        publisher.close()
    assert "demo clip" in text and "3 shots · 1 retakes" in text and "fps" not in text


def test_events_lost_while_the_overlay_was_stalled_show_on_the_page(endpoint, browser):
    from endpoints import flood_while_paused, rebind

    publisher = rebind(endpoint)
    publisher._socket.setsockopt(zmq.SNDHWM, 10)  # a small queue: a stalled reader drops
    overlay, url = start_overlay(endpoint)
    status = {"state": "running", "source_kind": "webcam", "source": "webcam:0", "fps": 12.0}
    try:
        browser.open(url)
        browser.wait_for("window.eyespy.connects >= 1")
        for _ in range(100):  # until the overlay's subscription is through
            publisher.publish("status", status, source="webcam:0", capture_ts=time.time())
            if browser.evaluate("window.eyespy.received > 0"):
                break
            time.sleep(0.1)
        flood_while_paused(publisher, overlay.pid)
        end = time.monotonic() + 30
        text = ""
        while time.monotonic() < end:
            publisher.publish("status", status, source="webcam:0", capture_ts=time.time())
            text = browser.evaluate("document.getElementById('status').textContent")
            if "dropped 0" not in text and "dropped" in text:
                break
            time.sleep(0.2)
        assert overlay.poll() is None, "the overlay keeps running"
    finally:
        stop(overlay)
        publisher.close()
    dropped = int(text.split("dropped ", 1)[1].split()[0])
    assert dropped > 0, text


def test_the_studio_link_comes_with_a_qr_code_for_the_tablet():
    import needs

    needs.module("segno", "pip install segno (the [qr] extra)")
    from eyespy_live.alerts.web import qr_text

    code = qr_text("http://192.168.1.20:8557/?token=abc")
    assert code is not None and len(code.splitlines()) > 10


def test_several_cameras_get_one_banner_each_latest_on_top_and_named(endpoint, browser):
    """Two cameras through one stream (a relay): each its own banner, status word, keep."""
    from endpoints import rebind

    publisher = rebind(endpoint)
    overlay, url = start_overlay(endpoint)
    closed = {"id": 2, "box": [40, 30, 40, 40], "state": "closed", "p_closed": [0.9, 0.9]}

    def send(kind: str, camera: str, **body) -> None:
        publisher.publish(kind, body, source=camera, capture_ts=time.time())

    banners = "[...document.querySelectorAll('.banner')].map(b => b.dataset.camera)"
    try:
        browser.open(url)
        browser.wait_for("window.eyespy.connects >= 1")
        for _ in range(100):
            send("status", "left", state="running", source="left", source_kind="webcam",
                 fps=30.0)  # fmt: skip
            if browser.evaluate("window.eyespy.received > 0"):
                break
            time.sleep(0.1)
        send("status", "right", state="running", source="right", source_kind="webcam",
             fps=0.0, source_connected=False)  # fmt: skip
        send("status", "relay", state="running", role="relay")
        send("shot", "left", verdict="retake", file="L_1.JPG", faces=[closed])
        browser.wait_for("window.eyespy.drawn.length >= 1")
        send("shot", "right", verdict="check", file="R_1.JPG", faces=[closed])
        browser.wait_for("window.eyespy.drawn.length >= 2")
        two = browser.evaluate(banners)
        words = browser.evaluate(
            "[...document.querySelectorAll('.banner .word')].map(w => w.textContent)"
        )
        send("shot", "left", verdict="retake", file="L_2.JPG", faces=[closed])
        browser.wait_for("window.eyespy.drawn.length >= 3")
        moved = browser.evaluate(banners)
        send("shot", "right", verdict="keep", file="R_2.JPG", faces=[])
        browser.wait_for("window.eyespy.drawn.length >= 4")
        kept = browser.evaluate(banners)
        footer = browser.evaluate("document.getElementById('status').textContent")
    finally:
        stop(overlay)
        publisher.close()
    assert two == ["right", "left"] and words == ["CHECK right", "RETAKE left"]
    assert moved == ["left", "right"]
    assert kept == ["left"]  # a good shot clears its own camera's banner only
    assert "webcam left · 30.0 fps" in footer and "WEBCAM right DISCONNECTED" in footer
    assert "relay" not in footer


def test_the_live_view_shows_with_face_boxes_and_blinks_flash(endpoint, browser):
    """The demo clip at its own pace: previews with the tracked face boxed, and its blinks."""
    live = subprocess.Popen(
        [sys.executable, "-m", "eyespy_live", "live", "--demo", "--endpoint", endpoint,
         "--set", "bus.preview_fps=5", "--set", "source.loop=true", "--quiet"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    overlay, url = start_overlay(endpoint)
    # Counts canvas pixels in a face-state colour (the boxes), read back from the page.
    boxed = """(() => { const c = document.getElementById('preview');
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) {
        const [r, g, b] = [d[i], d[i + 1], d[i + 2]];
        if ((Math.abs(r - 90) < 8 && Math.abs(g - 200) < 8 && Math.abs(b - 90) < 8) ||
            (Math.abs(r - 255) < 8 && Math.abs(g - 60) < 8 && Math.abs(b - 60) < 8)) n++;
      }
      return n; })()"""
    try:
        browser.open(url)
        browser.wait_for("!document.getElementById('preview').hidden", timeout=60)
        size = browser.evaluate("[document.getElementById('preview').width,"
                                " document.getElementById('preview').height]")  # fmt: skip
        pixels = browser.wait_for(boxed, timeout=30)
        flash = browser.wait_for(
            "!document.getElementById('flash').hidden && "
            "document.getElementById('flash-text').textContent",
            timeout=60,
        )
        footer = browser.wait_for(  # the next status heartbeat names the source
            "document.getElementById('status').textContent.includes('demo clip') && "
            "document.getElementById('status').textContent",
            timeout=20,
        )
    finally:
        stop(overlay)
        stop(live)
    assert size[0] > 0 and size[1] > 0
    assert pixels > 50, "no face box drawn on the preview"
    assert "BLINK" in flash and "face" in flash
    assert "demo clip" in footer
