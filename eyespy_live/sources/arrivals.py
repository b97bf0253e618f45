"""Which files in a hot folder are photos that have finished arriving.

`FolderLister` lists the photo files of a folder and its subfolders cheaply enough to poll
every fraction of a second on a Raspberry Pi; `ArrivalTracker` decides, from size and mtime
over time, when each is completely written, and hands every photo out once (per file, not
per name). `sources.folder.FolderSource` turns what they hand out into `shot` frames.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from pathlib import Path

from eyespy_live.files import printable, symlink_problem
from eyespy_live.photos.load import PHOTO_SUFFIXES

log = logging.getLogger(__name__)

# Tethering and copying programs write a photo under a temporary name, then rename it:
# IMG_6.tmp.jpg (gphoto2 --filename "%f.tmp.%C"), IMG_6.jpg.part, ~IMG_6.jpg, and rsync's
# .IMG_6.jpg.Xa8b2Q. Only the final name is a photo; the temporary one is never judged.
TEMP_MARKERS = frozenset(
    {".tmp", ".temp", ".part", ".partial", ".crdownload", ".download", ".filepart", ".inprogress"}
)


def is_temporary_name(name: str) -> bool:
    """A name a writer uses before renaming the file to its final name."""
    base = name.rsplit("/", 1)[-1]
    if base.startswith((".", "~")):
        return True
    suffixes = [s.lower() for s in Path(base).suffixes]
    return any(s in TEMP_MARKERS for s in suffixes)


Entry = tuple[str, Path, bool]  # (relative name, path, whether its folder was just listed)
Identity = tuple[int, int, int, int]  # (device, inode, size, mtime_ns) of a judged file


class FolderLister:
    """The photo files in a folder and its subfolders (to `depth` levels: tethering programs
    often file shots by date or session), named by their path relative to the folder.

    Polling must stay cheap on a Raspberry Pi with thousands of photos in the session: a
    folder is listed again only when its mtime changed (adding, removing or renaming a file
    changes it), plus a full listing every `full_every_s` for filesystems with coarse or
    cached folder times (network shares, FAT cards). Temporary names (`is_temporary_name`)
    are left out; an entry that cannot be looked at (a symlink that loops) is handed to
    `on_problem` and skipped, never taken for the whole folder being gone.
    """

    def __init__(
        self,
        root: Path,
        depth: int = 2,
        full_every_s: float = 2.0,
        on_problem: Callable[[str, str], None] | None = None,
    ):
        self.root, self.depth, self.full_every_s = root, depth, full_every_s
        self.on_problem = on_problem
        # relative folder -> (mtime_ns, its photo files as (relative name, path), subfolders)
        self._dirs: dict[str, tuple[int, list[tuple[str, Path]], list[str]]] = {}
        self._next_full = 0.0

    def files(self, now: float) -> list[Entry]:
        """Every photo file; OSError only when the watched folder itself is gone."""
        full = now >= self._next_full
        if full:
            self._next_full = now + self.full_every_s
        found: list[Entry] = []
        visited: set[str] = set()
        self._walk("", 0, full, found, visited)
        for rel in [r for r in self._dirs if r not in visited]:
            del self._dirs[rel]
        return found

    def _walk(self, rel: str, level: int, full: bool, found: list, visited: set[str]) -> None:
        path = self.root / rel if rel else self.root
        mtime = os.stat(path).st_mtime_ns
        cached = self._dirs.get(rel)
        fresh = full or cached is None or cached[0] != mtime
        if fresh:
            files, dirs = [], []
            for entry in os.scandir(path):
                if is_temporary_name(entry.name):
                    continue  # temporary files, hidden folders
                try:
                    if entry.is_dir(follow_symlinks=False):
                        dirs.append(entry.name)
                    elif Path(entry.name).suffix.lower() in PHOTO_SUFFIXES and entry.is_file():
                        files.append(entry.name)
                except OSError as exc:  # e.g. self.jpg -> self.jpg
                    name = f"{rel}/{entry.name}" if rel else entry.name
                    why = symlink_problem(path / entry.name) or f"cannot be read: {exc.strerror}"
                    if self.on_problem is not None:
                        self.on_problem(name, why)
            named = [(f"{rel}/{n}" if rel else n, path / n) for n in files]
            cached = (mtime, named, dirs)
            self._dirs[rel] = cached
        visited.add(rel)
        found.extend((name, file, fresh) for name, file in cached[1])
        if level < self.depth:
            for name in cached[2]:
                try:
                    self._walk(f"{rel}/{name}" if rel else name, level + 1, full, found, visited)
                except OSError:
                    continue  # removed meanwhile


def _identity(info: os.stat_result) -> Identity:
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)


class ArrivalTracker:
    """Which files in a hot folder have finished arriving; each photo is handed out once.

    "Once" is per file, not per name: a judged name whose file is replaced (deleted and
    written again, renamed over, its folder re-created) is a new photo and handed out again.
    Judged files are checked for that only when their folder was just listed again, so a
    session of thousands of photos costs no stat calls while nothing changes.
    """

    def __init__(self, settle_s: float, max_wait_s: float):
        self.settle_s, self.max_wait_s = settle_s, max_wait_s
        # name -> (size, mtime_ns, since when unchanged, when the name first appeared)
        self._seen: dict[str, tuple[int, int, float, float]] = {}
        self._done: dict[str, Identity | None] = {}
        self._rejected: dict[str, tuple[int, int]] = {}  # skipped until size/mtime change
        self._deferred: dict[str, tuple[int, int]] = {}  # failed to decode while arriving

    def ignore(self, entries: Iterable[Entry]) -> None:
        """Files already there: not handed out (unless they are replaced later)."""
        for name, path, _ in entries:
            try:
                self._done[name] = _identity(os.stat(path))
            except OSError:
                continue

    def done(self, name: str, info: os.stat_result | None = None) -> None:
        self._done[name] = _identity(info) if info is not None else None
        self._seen.pop(name, None)
        self._rejected.pop(name, None)
        self._deferred.pop(name, None)

    def reject(self, name: str, size: int, mtime_ns: int) -> None:
        self._rejected[name] = (size, mtime_ns)
        self._deferred.pop(name, None)

    def defer(self, name: str, size: int, mtime_ns: int) -> None:
        """Not readable yet: look again when it changes, or once it has been still too long."""
        self._deferred[name] = (size, mtime_ns)

    def overdue(self, name: str, now: float) -> bool:
        seen = self._seen.get(name)
        return seen is not None and now - seen[2] >= self.max_wait_s

    def _replaced(self, name: str, path: Path) -> bool:
        """Whether the judged file behind `name` is another one now."""
        try:
            now = _identity(os.stat(path))
        except OSError:
            return False
        if self._done.get(name) == now:
            return False
        log.info("%s was replaced by a new file; judging it again", printable(name))
        del self._done[name]
        return True

    def ready(self, entries: list[Entry], now: float) -> list[tuple[str, Path, bool]]:
        """Candidate files not handed out yet, in order of appearance then name, each with
        whether it has settled (size and mtime unchanged for settle_s).

        An empty file is only a candidate once it has stayed empty for max_wait_s
        (tethering programs often create the file first and fill it a moment later).
        """
        present = set()
        ready = []
        for name, path, fresh in entries:
            present.add(name)
            if name in self._done and not (fresh and self._replaced(name, path)):
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
            if self._deferred.get(name) == key and steady < self.max_wait_s:
                continue  # could not be decoded as it is; wait for a change or for max_wait_s
            if stat.st_size > 0:
                ready.append((seen[3], name, path, steady >= self.settle_s))
            elif steady >= self.max_wait_s:
                ready.append((seen[3], name, path, True))
        for name in [n for n in self._seen if n not in present]:
            del self._seen[name]  # gone before it settled (a temporary file renamed away)
        for table in (self._rejected, self._deferred):
            for name in [n for n in table if n not in present]:
                del table[name]
        # Judged names stay: a listing that briefly comes back empty (a network share) must
        # not make every photo new; a file written again under a name has another identity.
        return [(name, path, settled) for _, name, path, settled in sorted(ready)]
