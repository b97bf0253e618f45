"""A webcam read by a background thread that keeps only the newest frame.

The vision code then never falls behind the camera: if it is slower than the camera,
older frames are skipped (counted in `skipped`) rather than queued. The reader reopens
the device when it stops delivering (unplugged, asleep), until `close()`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator

import cv2
import numpy as np

from eyespy_live.photos.load import valid_image
from eyespy_live.sources.base import Frame, FrameSource, SourceError

log = logging.getLogger(__name__)


class WebcamSource(FrameSource):
    scheme = "webcam"
    description = "a webcam by index (webcam:0) or device path (webcam:/dev/video2)"

    def __init__(
        self,
        device: str | int = 0,
        width: int | None = 640,
        height: int | None = 480,
        reconnect_s: float = 2.0,
        stall_s: float = 5.0,
    ):
        device = device if str(device) != "" else 0  # `--source webcam` is the first one
        self.device: str | int = int(device) if str(device).isdigit() else str(device)
        self.width, self.height = width, height
        self.reconnect_s, self.stall_s = reconnect_s, stall_s
        self._lock = threading.Lock()
        self._fresh = threading.Condition(self._lock)
        self._latest: tuple[np.ndarray, float] | None = None
        self._stop = threading.Event()
        self.skipped = 0
        self.connected = False
        capture = self._open()
        if capture is None:
            raise SourceError(
                f"no webcam at {self.device!r}: check the cable, `eyespy cameras`, and that "
                "your user may read /dev/video* (group 'video'); no camera at hand? "
                "`eyespy live --demo` plays the shipped clip"
            )
        self._thread = threading.Thread(target=self._read_loop, args=(capture,), daemon=True)
        self._thread.start()

    @property
    def id(self) -> str:
        return f"webcam:{self.device}"

    def _open(self) -> cv2.VideoCapture | None:
        capture = cv2.VideoCapture(self.device)
        if not capture.isOpened():
            capture.release()
            return None
        if self.width and self.height:
            capture.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
            capture.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
        self.connected = True
        return capture

    def _read_loop(self, capture: cv2.VideoCapture | None) -> None:
        last_good = time.monotonic()
        while not self._stop.is_set():
            if capture is None:
                self._stop.wait(self.reconnect_s)
                capture = self._open()
                if capture is not None:
                    log.info("webcam %s is back", self.device)
                    last_good = time.monotonic()
                continue
            ok, image = capture.read()
            now = time.time()
            if ok and valid_image(image):
                last_good = time.monotonic()
                with self._fresh:
                    if self._latest is not None:
                        self.skipped += 1
                    self._latest = (image, now)
                    self._fresh.notify_all()
            elif time.monotonic() - last_good > self.stall_s or not capture.isOpened():
                log.warning("webcam %s stopped delivering frames; reconnecting", self.device)
                capture.release()
                capture, self.connected = None, False
            else:
                time.sleep(0.01)
        if capture is not None:
            capture.release()

    def frames(self) -> Iterator[Frame]:
        seq = 0
        while not self._stop.is_set():
            with self._fresh:
                if self._latest is None:
                    self._fresh.wait(timeout=0.5)
                if self._latest is None:
                    continue
                image, ts = self._latest
                self._latest = None
            yield Frame(image=image, ts=ts, source=self.id, seq=seq)
            seq += 1

    def close(self) -> None:
        self._stop.set()
        with self._fresh:
            self._fresh.notify_all()
