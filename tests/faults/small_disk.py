"""A real, tiny file system that fills up: a tmpfs mounted for one test.

A full disk is tried for real (the kernel answers ENOSPC to write and close), not by
patching `open`: a tmpfs of a few hundred KB is mounted on a temporary folder and filled
with a ballast file. Mounting needs root (or CAP_SYS_ADMIN); CI runs as root. Where it is
not possible the test is skipped with one line (a failure under EYESPY_CI=1, see needs.py).
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import needs

BALLAST = "ballast.bin"


@contextlib.contextmanager
def small_filesystem(size_kb: int = 512) -> Iterator[Path]:
    """A fresh tmpfs of `size_kb` KB, unmounted (and its folder removed) afterwards."""
    mount = shutil.which("mount")
    if mount is None:
        needs.missing("the `mount` command", "apt-get install mount")
    point = Path(tempfile.mkdtemp(prefix="eyespy-small-fs-"))
    done = subprocess.run(
        [mount, "-t", "tmpfs", "-o", f"size={size_kb}k,mode=0755", "eyespy-test", str(point)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        point.rmdir()
        needs.missing(
            "permission to mount a small tmpfs (a real full disk)",
            f"run the fault tests as root or with CAP_SYS_ADMIN ({done.stderr.strip()})",
        )
    try:
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], capture_output=True)
        with contextlib.suppress(OSError):
            point.rmdir()


def fill(folder: Path, leave_bytes: int = 0) -> Path:
    """Fill the file system holding `folder` with a ballast file, leaving ~`leave_bytes` free."""
    ballast = folder / BALLAST
    chunk = b"\0" * 4096
    with ballast.open("ab") as handle:
        try:
            while True:
                free = shutil.disk_usage(folder).free
                if free <= leave_bytes:
                    break
                handle.write(chunk[: max(1, min(len(chunk), free - leave_bytes))])
                handle.flush()
        except OSError as exc:
            if exc.errno != errno.ENOSPC:
                raise
    return ballast


def free_space(folder: Path) -> None:
    """Remove the ballast again (the user freeing space)."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(folder / BALLAST)
