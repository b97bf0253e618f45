"""One cull at a time per output folder, and the second one says who holds it.

Two culls writing one output folder would do every photo twice and interleave the resume
file's lines. The first takes an exclusive `flock` on OUT/.eyespy-cull.lock and writes its
process id, host and start time into it; the kernel drops the lock when that process ends
in any way (a crash or SIGKILL leaves no stale lock to clean up by hand). A second cull finds
the lock taken and stops at once, naming the holder.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import socket
import time
from pathlib import Path

LOCK_NAME = ".eyespy-cull.lock"


class CullLocked(Exception):
    """Another cull is working on this output folder; the message names it."""


class CullLock:
    def __init__(self, out_dir: Path):
        self.path = out_dir / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
        fd = os.open(self.path, flags, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = _describe(os.pread(fd, 4096, 0))
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EACCES):
                raise CullLocked(
                    f"another cull ({holder}) is working on {self.path.parent}; wait for it "
                    "to finish, or give this one another --out"
                ) from None
            raise
        me = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}
        os.ftruncate(fd, 0)
        with contextlib.suppress(OSError):  # the holder's note is a courtesy; the lock is not
            os.pwrite(fd, json.dumps(me).encode() + b"\n", 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)  # closing drops the flock

    def __enter__(self) -> CullLock:
        self.acquire()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()


def _describe(data: bytes) -> str:
    try:
        holder = json.loads(data.decode())
        since = time.strftime("%H:%M:%S", time.localtime(float(holder["since"])))
        return f"process {int(holder['pid'])} on {holder['host']}, started {since}"
    except (ValueError, KeyError, TypeError):
        return "a process that has not said who it is yet"
