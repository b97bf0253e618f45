"""keep/ closed/ check/ folders in the output folder, filled with copies or links.

The original stays where it is: a copy (`shutil.copy2`, times kept), a hard link (no extra
space, same file system only; falls back to a copy) or a symbolic link (absolute). Placing
a photo is idempotent: an entry that already points at the same photo is left alone, and a
photo whose verdict changed is taken out of the folder of its old verdict (only entries in
our own output folders are ever removed, never an original).
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from pathlib import Path

from eyespy_live.cull.verdict import CHECK, CLOSED, KEEP

SORT_MODES = ("copy", "hardlink", "symlink")
FOLDERS = (KEEP, CLOSED, CHECK)


def entry_name(relpath: str) -> str:
    """A flat, unique name for a photo from a possibly nested session (a/b.jpg → a__b.jpg)."""
    return relpath.replace("/", "__")


def place(photo: Path, relpath: str, verdict: str, out_dir: Path, mode: str) -> str:
    """Put `photo` in out_dir/<verdict>/; returns what was done ("copied", "linked", ...)."""
    if mode not in SORT_MODES:
        raise ValueError(f"sort mode must be one of {SORT_MODES}")
    name = entry_name(relpath)
    for other in FOLDERS:
        if other != verdict:
            _remove_entry(out_dir / other / name)
    if verdict not in FOLDERS:
        return "not sorted"
    target = out_dir / verdict / name
    target.parent.mkdir(parents=True, exist_ok=True)
    if _same(photo, target, mode):
        return "already there"
    _remove_entry(target)
    # A fresh, unpredictable name (never a link someone planted), renamed over the target;
    # every way of creating it below fails if the name exists, so a race cannot redirect it.
    prefix = f".{target.name[:80]}."
    tmp = Path(tempfile.mktemp(prefix=prefix, suffix=".eyespy-tmp", dir=target.parent))
    try:
        if mode == "symlink":
            tmp.symlink_to(photo.resolve())
            done = "linked"
        elif mode == "hardlink":
            try:
                os.link(photo, tmp)
                done = "linked"
            except OSError as exc:  # another file system, or links not allowed: copy instead
                _copy(photo, tmp)
                done = (
                    "copied (hard links cannot cross file systems: the output folder is on "
                    "another one than the photos)"
                    if exc.errno == errno.EXDEV
                    else f"copied (hard link not possible: {exc.strerror or exc})"
                )
        else:
            _copy(photo, tmp)
            done = "copied"
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return done


def _copy(photo: Path, tmp: Path) -> None:
    """Like shutil.copy2, but the copy is created exclusively (O_EXCL|O_NOFOLLOW)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
    fd = os.open(tmp, flags, 0o644)
    with open(photo, "rb") as source, os.fdopen(fd, "wb") as copy:
        shutil.copyfileobj(source, copy, 1 << 20)
    shutil.copystat(photo, tmp)


def _same(photo: Path, target: Path, mode: str) -> bool:
    if not os.path.lexists(target):
        return False
    if mode == "symlink":
        return target.is_symlink() and Path(os.readlink(target)) == photo.resolve()
    if target.is_symlink():
        return False
    a, b = photo.stat(), target.stat()
    if mode == "hardlink" and a.st_ino == b.st_ino and a.st_dev == b.st_dev:
        return True
    return a.st_size == b.st_size and int(a.st_mtime) == int(b.st_mtime)


def _remove_entry(path: Path) -> None:
    if os.path.lexists(path) and not path.is_dir():
        path.unlink()
