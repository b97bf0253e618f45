"""A video file read frame by frame (every frame, in order: right for evaluation)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import cv2

from eyespy_live.photos.load import valid_image
from eyespy_live.resources import demo_video
from eyespy_live.sources.base import Frame, FrameSource, SourceSetupError


class VideoSource(FrameSource):
    scheme = "video"
    description = "a video file OpenCV can read (video:PATH); --realtime paces it like a camera"

    def __init__(self, path: str | Path, realtime: bool = False, loop: bool = False):
        self.path = Path(path)
        self.realtime = realtime
        self.loop = loop
        self._stop = threading.Event()
        if not self.path.is_file():
            raise SourceSetupError(f"video file not found: {self.path}")
        capture = cv2.VideoCapture(str(self.path))
        ok = capture.isOpened() and capture.read()[0]
        capture.release()
        if not ok:
            raise SourceSetupError(
                f"cannot read video {self.path}: not a video OpenCV can decode"
            )

    @property
    def id(self) -> str:
        return f"video:{self.path.name}"

    def frames(self) -> Iterator[Frame]:
        seq = 0
        started = time.time()
        loop_start = 0.0
        while not self._stop.is_set():
            capture = cv2.VideoCapture(str(self.path))
            fps = capture.get(cv2.CAP_PROP_FPS) or 30.0
            fps = fps if 1.0 <= fps <= 240.0 else 30.0
            position = 0
            last_offset = -1.0
            try:
                while not self._stop.is_set():
                    ok, image = capture.read()
                    if not ok:
                        break
                    position += 1
                    if not valid_image(image):
                        continue
                    # The container's own time: files with dropped (null) frames skip slots,
                    # and blink durations must be real milliseconds, not frame counts.
                    offset = capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
                    if not offset > last_offset:
                        offset = last_offset + 1.0 / fps if position > 1 else 0.0
                    last_offset = offset
                    ts = started + loop_start + offset
                    if self.realtime:
                        delay = ts - time.time()
                        if delay > 0:
                            time.sleep(delay)
                    yield Frame(image=image, ts=ts, source=self.id, seq=seq)
                    seq += 1
            finally:
                capture.release()
            if not self.loop or position == 0:
                break
            loop_start += max(0.0, last_offset) + 1.0 / fps

    def close(self) -> None:
        self._stop.set()


class DemoSource(VideoSource):
    scheme = "demo"
    description = "the short demo clip shipped with the package (2 blinks)"

    def __init__(self, argument: str = "", **options: object):
        super().__init__(demo_video(), **options)  # type: ignore[arg-type]

    @property
    def id(self) -> str:
        return "demo"


def frame_slots(path: str | Path) -> tuple[list[int], int]:
    """Each decodable frame's slot in the container, and the number of slots.

    Old AVIs hold null (dropped) frames that OpenCV skips, so the k-th frame read is not
    the k-th frame slot; label files counted in slots need this to line up.
    """
    capture = cv2.VideoCapture(str(path))
    try:
        fps = capture.get(cv2.CAP_PROP_FPS) or 30.0
        total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        slots: list[int] = []
        while capture.grab():
            slot = int(round(capture.get(cv2.CAP_PROP_POS_MSEC) * fps / 1000.0))
            slots.append(max(slot, slots[-1] + 1) if slots else max(0, slot))
    finally:
        capture.release()
    return slots, max(total, slots[-1] + 1 if slots else 0)
