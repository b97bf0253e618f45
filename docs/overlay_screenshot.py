"""Regenerate docs/overlay.png: the real overlay page in headless Chromium, fed by the real
pipeline.

    python docs/overlay_screenshot.py [../shared/data/photos/dryeye_pair]

A live frame (eyes open) goes out as a preview with its face boxes, then a shot (eyes closed)
goes through LiveRun — real detector, real eye model — which publishes the shot event with
its face thumbnail; `eyespy overlay` serves the page, and the screenshot is taken once the
page has drawn the RETAKE banner.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from browser import Browser  # noqa: E402
from endpoints import free_tcp_endpoint  # noqa: E402

from eyespy_live import config  # noqa: E402
from eyespy_live.bus.pubsub import Publisher  # noqa: E402
from eyespy_live.live.run import LiveRun  # noqa: E402
from eyespy_live.sources.base import Frame  # noqa: E402

SIZE = (768, 432)  # docs/overlay.png stays under 200 KB


def main() -> int:
    folder = Path(
        sys.argv[1] if len(sys.argv) > 1 else REPO.parent / "shared/data/photos/dryeye_pair"
    )
    opened = cv2.imread(str(folder / "eyes_open.jpg"))
    closed = cv2.imread(str(folder / "eyes_closed.jpg"))
    live = cv2.resize(opened, (640, 427), interpolation=cv2.INTER_AREA)
    endpoint = free_tcp_endpoint()
    publisher = Publisher(endpoint)
    run = LiveRun(config.load(None), publisher.publish)
    overlay = subprocess.Popen(
        [sys.executable, "-m", "eyespy_live", "overlay", "--endpoint", endpoint, "--port", "0",
         "--banner-seconds", "60"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    url = overlay.stdout.readline().split("open ", 1)[1].strip()
    browser = Browser(size=SIZE)
    try:
        browser.open(url)
        browser.wait_for("window.eyespy.connects >= 1")
        for seq in range(60):
            run.process(Frame(live, time.time(), "webcam:0", seq))
            status = {**run.status_body("running"), "source": "webcam:0", "fps": 24.8}
            status["source_kind"] = "webcam"
            publisher.publish("status", status, source="webcam:0", capture_ts=0)
            faces = [r.report(run.settings).to_json() for r in run.last_readings]
            body = {"frame": seq, "width": 640, "height": 427, "faces": faces}
            jpeg = cv2.imencode(".jpg", live, [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes()
            publisher.publish("preview", body, source="webcam:0", capture_ts=0, attachment=jpeg)
            if seq == 10:
                run.process(
                    Frame(closed, time.time(), "folder:shots", seq, "shot", "IMG_0042.JPG")
                )
            time.sleep(0.2)
            if seq > 12 and browser.evaluate("window.eyespy.drawn.length > 0"):
                break
        else:
            raise SystemExit("the page never drew the banner")
        time.sleep(0.5)
        png = browser.screenshot()
    finally:
        browser.close()
        overlay.terminate()
        overlay.wait(timeout=20)
        publisher.close()
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    out = REPO / "docs" / "overlay.png"
    cv2.imwrite(str(out), image, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    print(f"{out}: {out.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
