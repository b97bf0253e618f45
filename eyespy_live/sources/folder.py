"""A folder of images: read once in name order, or watched as a hot folder for new photos.

Read once (default), every image is a frame, as for a still-image sequence.

Watched (`watch=True`), the folder is where tethering software (Lightroom, Capture One,
darktable, EOS Utility) drops each photo as the camera takes it. The folder is polled (no
extra dependency, works on network shares where inotify does not), and each new JPEG / RAW
/ image becomes one `shot` frame, exactly once, as soon as it is completely written: a JPEG
the moment its bytes end with the JPEG end marker (written last; a JPEG cut short still
decodes, grey-filled, so decoding alone proves nothing), any other file once its size and
mtime have stopped changing for `settle_s`. A file changed while being read is read again.
A file that stays unfinished-looking for `max_wait_s` is tried anyway; one that cannot be
decoded is reported once (log line, `rejected`, `last_error`) and skipped, never fatal.
Photos already in the folder when watching starts are left alone (an old session is not
judged again) unless `existing=True`. Order: the order files finish arriving; files that
finish together go in the order they appeared, then by name. Names starting with "." or
"~" (temporary files) are ignored.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import cv2
import numpy as np

from eyespy_live.photo import (
    JPEG_SUFFIXES,
    PHOTO_SUFFIXES,
    PhotoError,
    decode_photo,
    looks_complete,
    photo_frame,
)
from eyespy_live.sources.base import Frame, FrameSource, SourceError, valid_image
from eyespy_live.sources.imagesize import oversized

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}


def read_image(path: Path) -> np.ndarray | None:
    """Decode an image file without trusting it: None for anything unreadable."""
    try:
        data = np.fromfile(str(path), dtype=np.uint8)
    except OSError:
        return None
    if data.size == 0 or oversized(data.data):
        return None
    try:
        image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    except cv2.error:  # e.g. dimensions beyond OpenCV's own limit
        return None
    return image if valid_image(image) else None


class FolderSource(FrameSource):
    scheme = "folder"
    description = "the images in a folder, in name order (folder:DIR)"

    def __init__(
        self,
        path: str | Path,
        watch: bool = False,
        poll_s: float = 0.05,
        settle_s: float = 0.3,
        max_wait_s: float = 3.0,
        existing: bool = False,
        **_: object,
    ):
        self.path = Path(path)
        if not self.path.is_dir():
            raise SourceError(f"folder not found: {self.path}")
        self.watch = bool(watch)
        self.poll_s, self.settle_s, self.max_wait_s = poll_s, settle_s, max_wait_s
        self.existing = existing
        self._stop = threading.Event()
        self.rejected: list[tuple[str, str]] = []
        self.state = "watching" if self.watch else "reading"
        self.last_error: str | None = None
        self.last_activity = time.monotonic()
        self.may_idle = self.watch  # a quiet hot folder is not a stalled source
        self._tracker = ArrivalTracker(settle_s, max_wait_s)
        if self.watch and not existing:
            self._tracker.ignore(e.name for e in _photo_entries(self.path))

    @property
    def id(self) -> str:
        return f"folder:{self.path.name}"

    def image_files(self) -> list[Path]:
        return sorted(
            (p for p in self.path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()),
            key=lambda p: p.name,
        )

    def frames(self) -> Iterator[Frame]:
        if self.watch:
            yield from self._watch()
            return
        for seq, path in enumerate(self.image_files()):
            if self._stop.is_set():
                return
            image = read_image(path)
            if image is None:
                self._reject(path.name, "not a readable image")
                continue
            yield Frame(
                image=image, ts=os.path.getmtime(path), source=self.id, seq=seq, name=path.name
            )

    def _reject(self, name: str, why: str) -> None:
        log.warning("skipping %s: %s", name, why)
        self.rejected.append((name, why))
        self.last_error = f"{name}: {why}"

    def _watch(self) -> Iterator[Frame]:
        tracker = self._tracker
        seq = 0
        while not self._stop.is_set():
            self.last_activity = time.monotonic()
            try:
                entries = _photo_entries(self.path)
            except OSError as exc:  # the folder went away (unmounted share): wait for it
                self.state, self.last_error = "folder missing", f"{self.path}: {exc.strerror}"
                self._stop.wait(max(self.poll_s, 1.0))
                continue
            self.state = "watching"
            for path, settled in tracker.ready(entries, time.monotonic()):
                frame = self._shot(path, settled, tracker, seq)
                if frame is not None:
                    seq += 1
                    yield frame
                if self._stop.is_set():
                    return
            self._stop.wait(self.poll_s)

    def _shot(self, path: Path, settled: bool, tracker: ArrivalTracker, seq: int) -> Frame | None:
        """The photo at `path` as a shot frame; None when it is not ready or not a photo.

        A JPEG is taken as soon as it ends with its end marker (no need to wait for it to
        settle: the marker is the last thing written); other files once settled.
        """
        if not settled and not (path.suffix.lower() in JPEG_SUFFIXES and _ends_jpeg(path)):
            return None
        try:
            before = path.stat()
            data = path.read_bytes()
            after = path.stat()
        except FileNotFoundError:
            return None  # renamed or deleted meanwhile: the tracker forgets it
        except OSError as exc:
            tracker.reject(path.name, -1, -1)
            self._reject(path.name, f"cannot read: {exc.strerror or exc}")
            return None
        key = (after.st_size, after.st_mtime_ns)
        if (before.st_size, before.st_mtime_ns) != key or len(data) != after.st_size:
            return None  # written to while we read it: wait for it to settle again
        overdue = tracker.overdue(path.name, time.monotonic())
        complete = looks_complete(data, path.name)
        if not complete and not overdue:
            return None  # still arriving; look again next poll
        try:
            photo = decode_photo(data, path.name)
        except PhotoError as exc:
            tracker.reject(path.name, *key)  # reported once; looked at again if it changes
            self._reject(path.name, str(exc).removeprefix(f"{path.name}: "))
            return None
        tracker.done(path.name)
        if not complete:
            log.warning("%s never looked finished; judged as it is", path.name)
        return photo_frame(photo, ts=after.st_mtime, source=self.id, seq=seq, name=path.name)

    def close(self) -> None:
        self._stop.set()


def _ends_jpeg(path: Path) -> bool:
    """Whether the file's last two bytes are a JPEG end marker (cheap: reads 2 bytes)."""
    try:
        with path.open("rb") as f:
            f.seek(-2, os.SEEK_END)
            return f.read(2) == b"\xff\xd9"
    except OSError:
        return False


def _photo_entries(folder: Path) -> list[os.DirEntry]:
    return [
        e
        for e in os.scandir(folder)
        if not e.name.startswith((".", "~"))
        and Path(e.name).suffix.lower() in PHOTO_SUFFIXES
        and e.is_file()
    ]


class ArrivalTracker:
    """Which files in a hot folder have finished arriving; each name is handed out once."""

    def __init__(self, settle_s: float, max_wait_s: float):
        self.settle_s, self.max_wait_s = settle_s, max_wait_s
        # name -> (size, mtime_ns, since when unchanged, when the name first appeared)
        self._seen: dict[str, tuple[int, int, float, float]] = {}
        self._done: set[str] = set()
        self._rejected: dict[str, tuple[int, int]] = {}  # skipped until size/mtime change

    def ignore(self, names: Iterable[str]) -> None:
        self._done.update(names)

    def done(self, name: str) -> None:
        self._done.add(name)
        self._seen.pop(name, None)
        self._rejected.pop(name, None)

    def reject(self, name: str, size: int, mtime_ns: int) -> None:
        self._rejected[name] = (size, mtime_ns)

    def overdue(self, name: str, now: float) -> bool:
        seen = self._seen.get(name)
        return seen is not None and now - seen[2] >= self.max_wait_s

    def ready(self, entries: list[os.DirEntry], now: float) -> list[tuple[Path, bool]]:
        """Candidate files not handed out yet, in order of appearance then name, each with
        whether it has settled (size and mtime unchanged for settle_s).

        An empty file is only a candidate once it has stayed empty for max_wait_s
        (tethering programs often create the file first and fill it a moment later).
        """
        present = set()
        ready = []
        for entry in entries:
            name = entry.name
            present.add(name)
            if name in self._done:
                continue
            try:
                stat = entry.stat()
            except OSError:
                continue  # deleted or renamed between listing and stat
            key = (stat.st_size, stat.st_mtime_ns)
            if self._rejected.get(name) == key:
                continue
            seen = self._seen.get(name)
            if seen is None or (seen[0], seen[1]) != key:
                seen = (*key, now, seen[3] if seen else now)
                self._seen[name] = seen
            steady = now - seen[2]
            if stat.st_size > 0:
                ready.append((seen[3], name, Path(entry.path), steady >= self.settle_s))
            elif steady >= self.max_wait_s:
                ready.append((seen[3], name, Path(entry.path), True))
        for name in [n for n in self._seen if n not in present]:
            del self._seen[name]  # gone before it settled (a temporary file renamed away)
        return [(path, settled) for _, _, path, settled in sorted(ready)]
