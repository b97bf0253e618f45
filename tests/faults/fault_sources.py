"""Frame sources that misbehave on purpose: the hardware boundary, played by test doubles."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import numpy as np

from eyespy_live.sources.base import Frame, FrameSource


class ListSource(FrameSource):
    """Yields the given images (anything at all, valid or not) as live frames, then ends."""

    scheme = ""  # not registered: only tests build it

    def __init__(self, images: list[object], name: str = "list"):
        self.images = images
        self.name = name
        self.closed = threading.Event()

    @property
    def id(self) -> str:
        return f"test:{self.name}"

    def frames(self) -> Iterator[Frame]:
        for seq, image in enumerate(self.images):
            if self.closed.is_set():
                return
            yield Frame(image=image, ts=time.time(), source=self.id, seq=seq)  # type: ignore[arg-type]

    def close(self) -> None:
        self.closed.set()


class RaisingSource(ListSource):
    """Yields its images, then fails the way a driver does when the device goes away."""

    def frames(self) -> Iterator[Frame]:
        yield from super().frames()
        raise OSError("camera unplugged")


class HangingSource(ListSource):
    """Yields its images, then blocks in a read that only `close()` interrupts (a stuck USB)."""

    def frames(self) -> Iterator[Frame]:
        yield from super().frames()
        self.closed.wait()


def garbage_frames() -> dict[str, object]:
    """Things a broken driver or plugin might hand over instead of an image."""
    return {
        "None": None,
        "a list": [[0, 0, 0]],
        "a string": "frame",
        "empty": np.zeros((0, 0, 3), np.uint8),
        "one dimension": np.zeros(640, np.uint8),
        "two channels": np.zeros((480, 640, 2), np.uint8),
        "five channels": np.zeros((480, 640, 5), np.uint8),
        "four dimensions": np.zeros((1, 480, 640, 3), np.uint8),
        "float32": np.zeros((480, 640, 3), np.float32),
        "uint16": np.zeros((480, 640, 3), np.uint16),
        "bool": np.zeros((480, 640, 3), bool),
        "too small": np.zeros((4, 4, 3), np.uint8),
    }


def odd_but_valid_frames(image: np.ndarray) -> dict[str, np.ndarray]:
    """Unusual layouts of a real image that are still images and must be processed."""
    import cv2

    read_only = image.copy()
    read_only.setflags(write=False)
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    return {
        "grayscale": gray,
        "grayscale with a channel axis": gray[..., None],
        "BGRA": cv2.cvtColor(image, cv2.COLOR_BGR2BGRA),
        "upside down view": image[::-1],
        "every second column": image[:, ::2],
        "Fortran order": np.asfortranarray(image),
        "read-only": read_only,
        "8 pixels high": image[:8],
    }
