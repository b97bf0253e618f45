"""A folder of images: read once in name order, or watched as a hot folder for new photos.

Read once (default), every image is a frame, as for a still-image sequence.

Watched (`watch=True`), the folder is where tethering software (Lightroom, Capture One,
darktable, EOS Utility) drops each photo as the camera takes it, directly or in dated or
session subfolders (`depth` levels, 2 by default; names are then relative paths, like
`2026_05_02/IMG_0001.JPG`). The folder is polled (no extra dependency, works on network
shares where inotify does not), and each new JPEG / RAW / image becomes one `shot` frame,
exactly once, as soon as it is completely written: a JPEG the moment its bytes end with the
JPEG end marker (written last; a JPEG cut short still decodes, grey-filled, so decoding
alone proves nothing), any other file once its size and mtime have stopped changing for
`settle_s`. A file changed while being read is read again. A file that stays
unfinished-looking for `max_wait_s` is tried anyway; one that cannot be decoded is reported
once (log line, `rejected`, `last_error`) and skipped, never fatal. Photos already there
when watching starts are left alone (an old session is not judged again) unless
`existing=True`. Order: the order files finish arriving; files that finish together go in
the order they appeared, then by name. Names starting with "." or "~" (temporary files,
hidden folders) are ignored.
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

from eyespy_live.photos.imagesize import oversized
from eyespy_live.photos.load import (
    JPEG_SUFFIXES,
    PHOTO_SUFFIXES,
    PhotoError,
    decode_photo,
    looks_complete,
    valid_image,
)
from eyespy_live.sources.base import Frame, FrameSource, SourceError, photo_frame

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


# Two files with one name but different extensions (IMG_0001.CR3 + IMG_0001.JPG) arriving
# within this many seconds are one shot.
PAIR_WINDOW_S = 60.0


class FolderSource(FrameSource):
    scheme = "folder"
    description = "the images in a folder, in name order (folder:DIR)"

    def __init__(
        self,
        path: str | Path,
        watch: bool = False,
        poll_s: float = 0.025,
        settle_s: float = 0.3,
        max_wait_s: float = 3.0,
        existing: bool = False,
        depth: int = 2,
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
        self._judged_stems: dict[str, float] = {}  # "sub/IMG_0001" → when it was judged
        self._lister = FolderLister(self.path, depth)
        if self.watch and not existing:
            self._tracker.ignore(name for name, _ in self._lister.files(time.monotonic()))

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
                entries = self._lister.files(time.monotonic())
            except OSError as exc:  # the folder went away (unmounted share): wait for it
                self.state, self.last_error = "folder missing", f"{self.path}: {exc.strerror}"
                self._stop.wait(max(self.poll_s, 1.0))
                continue
            self.state = "watching"
            for name, path, settled in tracker.ready(entries, time.monotonic()):
                frame = self._shot(name, path, settled, tracker, seq)
                if frame is not None:
                    seq += 1
                    yield frame
                if self._stop.is_set():
                    return
            self._stop.wait(self.poll_s)

    def _shot(
        self, name: str, path: Path, settled: bool, tracker: ArrivalTracker, seq: int
    ) -> Frame | None:
        """The photo at `path` as a shot frame; None when it is not ready or not a photo.

        A JPEG is taken as soon as it ends with its end marker (no need to wait for it to
        settle: the marker is the last thing written); other files once settled.
        """
        if not settled and not (path.suffix.lower() in JPEG_SUFFIXES and _ends_jpeg(path)):
            return None
        if self._pair_already_judged(name):  # before reading it: nothing to decode twice
            tracker.done(name)
            return None
        try:
            before = path.stat()
        except OSError:
            return None  # renamed or deleted meanwhile: the tracker forgets it
        try:
            data = path.read_bytes()
            after = path.stat()
        except FileNotFoundError:
            return None
        except OSError as exc:  # e.g. no permission: reported once, until the file changes
            tracker.reject(name, before.st_size, before.st_mtime_ns)
            self._reject(name, f"cannot read: {exc.strerror or exc}")
            return None
        key = (after.st_size, after.st_mtime_ns)
        if (before.st_size, before.st_mtime_ns) != key or len(data) != after.st_size:
            return None  # written to while we read it: wait for it to settle again
        overdue = tracker.overdue(name, time.monotonic())
        complete = looks_complete(data, name)
        if not complete and not overdue:
            return None  # still arriving; look again next poll
        try:
            photo = decode_photo(data, name)
        except PhotoError as exc:
            tracker.reject(name, *key)  # reported once; looked at again if it changes
            self._reject(name, str(exc).removeprefix(f"{name}: "))
            return None
        tracker.done(name)
        self._judged_stems[_stem(name)] = time.monotonic()
        if not complete:
            log.warning("%s never looked finished; judged as it is", name)
        return photo_frame(photo, ts=after.st_mtime, source=self.id, seq=seq, name=name)

    def _pair_already_judged(self, name: str) -> bool:
        """A camera set to RAW+JPEG writes two files per press of the shutter; once one of
        them is judged, the other is the same photo and must not sound a second alert."""
        now = time.monotonic()
        for old in [s for s, t in self._judged_stems.items() if now - t > PAIR_WINDOW_S]:
            del self._judged_stems[old]
        if _stem(name) in self._judged_stems:
            log.info("%s: the other half of a RAW+JPEG pair already judged; skipped", name)
            return True
        return False

    def close(self) -> None:
        self._stop.set()


def _stem(name: str) -> str:
    """"sub/IMG_0001.CR3" → "sub/IMG_0001": what the two files of a RAW+JPEG pair share."""
    return str(Path(name).with_suffix(""))


def _ends_jpeg(path: Path) -> bool:
    """Whether the file's last two bytes are a JPEG end marker (cheap: reads 2 bytes)."""
    try:
        with path.open("rb") as f:
            f.seek(-2, os.SEEK_END)
            return f.read(2) == b"\xff\xd9"
    except OSError:
        return False


class FolderLister:
    """The photo files in a folder and its subfolders (to `depth` levels: tethering programs
    often file shots by date or session), named by their path relative to the folder.

    Polling must stay cheap on a Raspberry Pi with thousands of photos in the session: a
    folder is listed again only when its mtime changed (adding, removing or renaming a file
    changes it), plus a full listing every `full_every_s` for filesystems with coarse or
    cached folder times (network shares, FAT cards).
    """

    def __init__(self, root: Path, depth: int = 2, full_every_s: float = 2.0):
        self.root, self.depth, self.full_every_s = root, depth, full_every_s
        # relative folder -> (mtime_ns, its photo files as (relative name, path), subfolders)
        self._dirs: dict[str, tuple[int, list[tuple[str, Path]], list[str]]] = {}
        self._next_full = 0.0

    def files(self, now: float) -> list[tuple[str, Path]]:
        """(relative name, path) of every photo file; OSError when the folder itself is gone."""
        full = now >= self._next_full
        if full:
            self._next_full = now + self.full_every_s
        found: list[tuple[str, Path]] = []
        visited: set[str] = set()
        self._walk("", 0, full, found, visited)
        for rel in [r for r in self._dirs if r not in visited]:
            del self._dirs[rel]
        return found

    def _walk(self, rel: str, level: int, full: bool, found: list, visited: set[str]) -> None:
        path = self.root / rel if rel else self.root
        mtime = os.stat(path).st_mtime_ns
        cached = self._dirs.get(rel)
        if full or cached is None or cached[0] != mtime:
            files, dirs = [], []
            for entry in os.scandir(path):
                if entry.name.startswith((".", "~")):
                    continue  # temporary files, hidden folders
                if entry.is_dir(follow_symlinks=False):
                    dirs.append(entry.name)
                elif Path(entry.name).suffix.lower() in PHOTO_SUFFIXES and entry.is_file():
                    files.append(entry.name)
            named = [(f"{rel}/{n}" if rel else n, path / n) for n in files]
            cached = (mtime, named, dirs)
            self._dirs[rel] = cached
        visited.add(rel)
        found.extend(cached[1])
        if level < self.depth:
            for name in cached[2]:
                try:
                    self._walk(f"{rel}/{name}" if rel else name, level + 1, full, found, visited)
                except OSError:
                    continue  # removed meanwhile


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

    def ready(self, entries: list[tuple[str, Path]], now: float) -> list[tuple[str, Path, bool]]:
        """Candidate files not handed out yet, in order of appearance then name, each with
        whether it has settled (size and mtime unchanged for settle_s).

        An empty file is only a candidate once it has stayed empty for max_wait_s
        (tethering programs often create the file first and fill it a moment later).
        """
        present = set()
        ready = []
        for name, path in entries:
            present.add(name)
            if name in self._done:
                continue
            try:
                stat = os.stat(path)
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
                ready.append((seen[3], name, path, steady >= self.settle_s))
            elif steady >= self.max_wait_s:
                ready.append((seen[3], name, path, True))
        for name in [n for n in self._seen if n not in present]:
            del self._seen[name]  # gone before it settled (a temporary file renamed away)
        return [(name, path, settled) for _, name, path, settled in sorted(ready)]
