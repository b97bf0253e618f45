"""A folder of images, read once in name order (a still-image sequence, or a session)."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from eyespy_live.sources.base import Frame, FrameSource, SourceError, valid_image

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}


def read_image(path: Path) -> np.ndarray | None:
    """Decode an image file without trusting it: None for anything unreadable."""
    try:
        data = np.fromfile(str(path), dtype=np.uint8)
    except OSError:
        return None
    if data.size == 0:
        return None
    image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    return image if valid_image(image) else None


class FolderSource(FrameSource):
    scheme = "folder"
    description = "the images in a folder, in name order (folder:DIR)"

    def __init__(self, path: str | Path, **_: object):
        self.path = Path(path)
        if not self.path.is_dir():
            raise SourceError(f"folder not found: {self.path}")
        self._stop = threading.Event()
        self.rejected: list[tuple[str, str]] = []

    @property
    def id(self) -> str:
        return f"folder:{self.path.name}"

    def image_files(self) -> list[Path]:
        return sorted(
            (p for p in self.path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()),
            key=lambda p: p.name,
        )

    def frames(self) -> Iterator[Frame]:
        for seq, path in enumerate(self.image_files()):
            if self._stop.is_set():
                return
            image = read_image(path)
            if image is None:
                log.warning("skipping %s: not a readable image", path.name)
                self.rejected.append((path.name, "not a readable image"))
                continue
            yield Frame(
                image=image, ts=os.path.getmtime(path), source=self.id, seq=seq, name=path.name
            )

    def close(self) -> None:
        self._stop.set()
