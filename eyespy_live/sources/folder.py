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
`settle_s`. A file changed while being read is read again. One that does not decode yet
(a writer pausing longer than `settle_s`) is tried again, silently, when it changes; a file
that stays unfinished-looking or undecodable for `max_wait_s` is tried as it is, and one
that still cannot be decoded is reported once (log line, `rejected`, `last_error`) and
skipped, never fatal; so is an entry that cannot even be looked at (a link that loops).
Photos already there when watching starts are left alone (an old session is not judged
again) unless `existing=True`; a file replaced later under a judged name is a new photo.
Order: the order files finish arriving; files that finish together go in the order they
appeared, then by name. Temporary names (`arrivals.is_temporary_name`: ".", "~", ".tmp", ".part" …)
and hidden folders are ignored: the photo is judged once, under its final name.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from eyespy_live.files import (
    FileRefused,
    describe_size,
    printable,
    read_regular,
)
from eyespy_live.photos.decode import MAX_PHOTO_BYTES
from eyespy_live.photos.imagesize import oversized
from eyespy_live.photos.load import (
    JPEG_SUFFIXES,
    RAW_SUFFIXES,
    UNDECODABLE_REASON,
    UNDECODABLE_SUFFIXES,
    PhotoError,
    decode_photo,
    looks_complete,
    valid_image,
)
from eyespy_live.sources.arrivals import ArrivalTracker, FolderLister
from eyespy_live.sources.base import Frame, FrameSource, SourceError, photo_frame

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}
def photo_kind(name: str) -> str:
    suffix = Path(name).suffix.lower()
    return "raw" if suffix in RAW_SUFFIXES else "jpeg" if suffix in JPEG_SUFFIXES else "other"


def read_image(path: Path) -> np.ndarray | None:
    """Decode an image file without trusting it: None for anything unreadable."""
    try:  # a regular file of photo size: never a FIFO, a device or 3 GB read whole
        data = np.frombuffer(read_regular(path, MAX_PHOTO_BYTES), dtype=np.uint8)
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
        # "sub/IMG_0001" → {"raw": when judged, "jpeg": ...}: a RAW+JPEG pair is one shot
        self._judged_stems: dict[str, dict[str, float]] = {}
        self._reported: set[str] = set()  # odd entries (link loops) said once
        self._lister = FolderLister(self.path, depth, on_problem=self._entry_problem)
        if self.watch and not existing:
            self._tracker.ignore(self._lister.files(time.monotonic()))

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
        log.warning("skipping %s: %s", printable(name), why)
        self.rejected.append((name, why))
        self.last_error = f"{name}: {why}"

    def _entry_problem(self, name: str, why: str) -> None:
        """An entry that cannot even be looked at (a link that loops): said once, skipped."""
        if name not in self._reported:
            self._reported.add(name)
            self._reject(name, why)

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
        try:
            before = path.stat()
        except OSError:
            return None  # renamed or deleted meanwhile: the tracker forgets it
        if self._pair_already_judged(name):  # before reading it: nothing to decode twice
            tracker.done(name, before)
            return None
        if path.suffix.lower() in UNDECODABLE_SUFFIXES:  # never decodable: said at once
            sibling = _same_shot_decodable(path)
            if sibling is not None:
                tracker.done(name, before)
                log.info("%s: a HEIF beside %s, the same shot, which is judged; skipped",
                         printable(name), printable(sibling))
            else:
                tracker.reject(name, before.st_size, before.st_mtime_ns)
                self._reject(name, UNDECODABLE_REASON)
            return None
        if before.st_size > MAX_PHOTO_BYTES:  # never read: seconds and gigabytes for nothing
            tracker.reject(name, before.st_size, before.st_mtime_ns)
            size = describe_size(before.st_size)
            self._reject(name, f"too large for a photo ({size}; the limit is 1.0 GB)")
            return None
        try:
            data = read_regular(path, MAX_PHOTO_BYTES)
            after = path.stat()
        except FileNotFoundError:
            return None
        except OSError as exc:  # e.g. no permission: reported once, until the file changes
            tracker.reject(name, before.st_size, before.st_mtime_ns)
            why = exc.message.removeprefix(f"{path}: ") if isinstance(exc, FileRefused) else None
            self._reject(name, why or f"cannot read: {exc.strerror or exc}")
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
            if not overdue:
                # Most likely still being written by a writer that pauses (a slow TIFF or
                # WebP export): look again, silently, when it changes or has been still for
                # max_wait_s. Only a file that stays unreadable is reported.
                tracker.defer(name, *key)
                return None
            tracker.reject(name, *key)  # reported once; looked at again if it changes
            self._reject(name, str(exc).removeprefix(f"{name}: "))
            return None
        tracker.done(name, after)
        self._judged_stems.setdefault(_stem(name), {})[photo_kind(name)] = time.monotonic()
        if not complete:
            log.warning("%s never looked finished; judged as it is", name)
        return photo_frame(photo, ts=after.st_mtime, source=self.id, seq=seq, name=name)

    def _pair_already_judged(self, name: str) -> bool:
        """A camera set to RAW+JPEG writes two files per press of the shutter; once one of
        them is judged, the other is the same photo and must not sound a second alert."""
        now = time.monotonic()
        for stem, kinds in list(self._judged_stems.items()):
            for kind in [k for k, t in kinds.items() if now - t > PAIR_WINDOW_S]:
                del kinds[kind]
            if not kinds:
                del self._judged_stems[stem]
        # Only a RAW and a JPEG make a pair: a PNG or TIFF beside a JPEG is another photo,
        # and a JPEG written again under a judged name is a new one.
        other = {"raw": "jpeg", "jpeg": "raw"}.get(photo_kind(name))
        if other is not None and other in self._judged_stems.get(_stem(name), {}):
            log.info(
                "%s: the other half of a RAW+JPEG pair already judged; skipped", printable(name)
            )
            return True
        return False

    def close(self) -> None:
        self._stop.set()


_DECODABLE_PAIRS = RAW_SUFFIXES | JPEG_SUFFIXES


def _same_shot_decodable(path: Path) -> str | None:
    """The RAW or JPEG of the same shot beside a HEIF (a camera set to RAW+HEIF), if any:
    looked for on disk, so it counts even while it is still being written."""
    stem = path.stem.lower()
    try:
        with os.scandir(path.parent) as entries:
            for entry in entries:
                other = Path(entry.name)
                if other.stem.lower() == stem and other.suffix.lower() in _DECODABLE_PAIRS:
                    return entry.name
    except OSError:
        pass
    return None


def _stem(name: str) -> str:
    """ "sub/IMG_0001.CR3" → "sub/IMG_0001": what the two files of a RAW+JPEG pair share."""
    return str(Path(name).with_suffix(""))


def _ends_jpeg(path: Path) -> bool:
    """Whether the file's last two bytes are a JPEG end marker (cheap: reads 2 bytes)."""
    try:
        with path.open("rb") as f:
            f.seek(-2, os.SEEK_END)
            return f.read(2) == b"\xff\xd9"
    except OSError:
        return False
