"""A watching hot folder run in a thread, for tests: what it yields goes into a queue."""

from __future__ import annotations

import queue
import threading
import time
from pathlib import Path

from eyespy_live.sources import open_source


class Watcher:
    """Runs a watching FolderSource in a thread and collects what it yields."""

    def __init__(self, folder: Path, **options):
        self.source = open_source(f"folder:{folder}", watch=True, **options)
        self.frames: queue.Queue = queue.Queue()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        for frame in self.source.frames():
            self.frames.put(frame)

    def next(self, timeout: float = 15.0):
        return self.frames.get(timeout=timeout)

    def frames_within(self, seconds: float, count: int | None = None) -> list:
        """What is yielded within `seconds`, or until `count` frames came."""
        found, end = [], time.monotonic() + seconds
        while (count is None or len(found) < count) and (left := end - time.monotonic()) > 0:
            try:
                found.append(self.frames.get(timeout=left))
            except queue.Empty:
                break
        return found

    def names_within(self, seconds: float, stop_after: int | None = None) -> list[str]:
        """File names yielded within `seconds` (used to show that nothing more comes)."""
        return [frame.name for frame in self.frames_within(seconds, stop_after)]

    def stop(self) -> None:
        self.source.close()
        self.thread.join(timeout=5)
        assert not self.thread.is_alive()


def dryeye_photos(shared_data: Path) -> dict[str, bytes]:
    """The same man with eyes open and closed (1440×960 JPEGs)."""
    pair = shared_data / "photos" / "dryeye_pair"
    return {
        "open": (pair / "eyes_open.jpg").read_bytes(),
        "closed": (pair / "eyes_closed.jpg").read_bytes(),
    }
