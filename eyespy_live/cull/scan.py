"""Which files in a session folder are photos, and which can't even be opened (and why).

Name order, optionally recursive; hidden folders and cull output folders (they hold copies
of the photos) are skipped, so a second run never culls its own output. Each photo gets
the fingerprint the resume file keys on: path relative to the session, size, mtime.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from eyespy_live.cull.state import STATE_NAME
from eyespy_live.photos.decode import PHOTO_SUFFIXES, is_photo_file, unreadable_reason


@dataclass(frozen=True)
class Candidate:
    relpath: str  # POSIX path relative to the session folder
    path: Path
    size: int
    mtime_ns: int
    problem: str | None = None  # why it can't be read at all; None for a photo to analyse

    @property
    def key(self) -> tuple[str, int, int]:
        return (self.relpath, self.size, self.mtime_ns)


def scan(root: Path, recursive: bool = False, exclude: tuple[Path, ...] = ()) -> list[Candidate]:
    root = root.resolve()
    skip = {p.resolve() for p in exclude}
    found: list[Candidate] = []
    _walk(root, root, recursive, skip, found)
    return sorted(found, key=lambda c: c.relpath)


def _walk(root: Path, folder: Path, recursive: bool, skip: set[Path], found: list) -> None:
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return
    for entry in entries:
        path = Path(entry.path)
        if entry.name.startswith(".") or path in skip:
            continue
        is_photo_name = path.suffix.lower() in PHOTO_SUFFIXES
        if entry.is_dir(follow_symlinks=False) and not is_photo_name:
            if recursive and not (path / STATE_NAME).exists():
                _walk(root, path, recursive, skip, found)
            continue
        if not is_photo_file(path):  # by suffix, else by its first bytes
            continue
        relpath = path.relative_to(root).as_posix()
        problem = unreadable_reason(path)
        try:
            info = path.stat() if problem is None else path.lstat()
            size, mtime_ns = info.st_size, info.st_mtime_ns
        except OSError:
            size, mtime_ns = 0, 0
        found.append(Candidate(relpath, path, size, mtime_ns, problem))
