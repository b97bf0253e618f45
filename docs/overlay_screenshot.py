"""Regenerate docs/overlay.png: the real overlay window under Xvfb, fed by the real pipeline.

    python docs/overlay_screenshot.py [../shared/data/photos/dryeye_pair]

A live frame (eyes open) goes out as a preview with its face boxes, then a shot (eyes
closed) goes through LiveRun — real detector, real eye model — which publishes the shot
event with its face thumbnail; the screen is read back once the RETAKE banner is up.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from xscreen import screenshot, start_window, xvfb  # noqa: E402

from eyespy_live import config  # noqa: E402
from eyespy_live.alerts.overlay import BANNER_RETAKE  # noqa: E402
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
    endpoint = "ipc:///tmp/eyespy-screenshot.sock"
    publisher = Publisher(endpoint)
    run = LiveRun(config.load(None), publisher.publish)
    with xvfb() as display:
        overlay, _, _ = start_window(
            [sys.executable, "-m", "eyespy_live", "overlay", "--endpoint", endpoint]
            + ["--size", f"{SIZE[0]}x{SIZE[1]}", "--banner-seconds", "60"],
            display,
            lambda screen: np.all(screen[: SIZE[1], : SIZE[0]] == 32, axis=2).mean() > 0.5,
        )
        try:
            for seq in range(60):
                run.process(Frame(live, time.time(), "webcam:0", seq))
                status = run.status_body("running")
                publisher.publish(
                    "status", {**status, "fps": 24.8}, source="webcam:0", capture_ts=0
                )
                faces = [r.report(run.settings).to_json() for r in run.last_readings]
                body = {"frame": seq, "width": 640, "height": 427, "faces": faces}
                jpeg = cv2.imencode(".jpg", live, [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes()
                publisher.publish("preview", body, source="webcam:0", capture_ts=0, attachment=jpeg)
                if seq > 20:
                    run.process(
                        Frame(closed, time.time(), "folder:shots", seq, "shot", "IMG_0042.JPG")
                    )
                time.sleep(0.2)
                screen = screenshot(display)[: SIZE[1], : SIZE[0]]
                red = np.all(np.abs(screen.astype(int) - BANNER_RETAKE) <= 3, axis=2).mean()
                if seq > 25 and red > 0.2:
                    break
            else:
                cv2.imwrite("/tmp/overlay-failed.png", screenshot(display))
                raise SystemExit("the banner never appeared (screen: /tmp/overlay-failed.png)")
        finally:
            overlay.terminate()
            overlay.wait(timeout=20)
            publisher.close()
    out = REPO / "docs" / "overlay.png"
    cv2.imwrite(str(out), screen, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    print(f"{out}: {out.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
