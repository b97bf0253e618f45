"""Reading and writing files in folders other people can write to, without trusting the path.

A session folder, a hot folder or an output folder may hold anything: a FIFO named like a
sidecar (opening it for reading blocks forever), a link to /dev/zero (reading it never ends),
a 3 GB file named `.jpg`, or a symlink planted where eyespy writes its temporary file (a
plain `open(path, "w")` follows it and overwrites whatever it points at). So:

- reading opens without blocking, checks on the open descriptor that it is a regular file
  and not larger than a cap, and reads at most that much (`read_regular`);
- writing goes to a fresh temporary file created exclusively in the target folder
  (`tempfile.mkstemp`: O_CREAT|O_EXCL|O_NOFOLLOW, a random name) and is renamed over the
  target (`write_atomic`): a reader sees the old file or the new one, never half of one; a
  symlink at the target is replaced, never followed; a failure (a full disk) removes the
  temporary file, so nothing truncated or zero-byte is left behind.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

MB = 1024 * 1024
TEXT_LIMIT = 16 * MB  # config files, sidecars: far above any real one


class FileRefused(OSError):
    """A file eyespy will not read (not a regular file, too large, a link it must not follow).

    An OSError, so code that already reports unreadable files reports these the same way.
    """

    def __init__(self, message: str, code: int = errno.EINVAL):
        super().__init__(code, message)
        self.message = message

    def __str__(self) -> str:
        return self.message


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _umask()  # read once, at import: os.umask can only be read by setting it


def describe_size(size: int) -> str:
    if size >= 1024 * MB:
        return f"{size / (1024 * MB):.1f} GB"
    if size >= MB:
        return f"{size / MB:.1f} MB"
    return f"{size} bytes"


def kind_of(mode: int) -> str:
    """What a non-regular file is, in words."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    return "not a regular file"


def symlink_problem(path: Path) -> str | None:
    """Why a symlink at `path` cannot be followed (loop, dangling), or None when it can."""
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "a symbolic link that loops (points back to itself)"
        if exc.errno == errno.ENOENT:
            return "broken link: its target does not exist"
        return f"cannot be read: {exc.strerror or exc}"
    return None


@contextlib.contextmanager
def open_regular(path: str | Path, limit: int, *, follow_links: bool = True) -> Iterator[IO[bytes]]:
    """A binary handle on `path`, which must be a regular file of at most `limit` bytes.

    O_NONBLOCK: a FIFO is refused instead of blocking the open; O_NOFOLLOW when links are
    not to be followed (a sidecar pointing outside the session).
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    if not follow_links:
        flags |= os.O_NOFOLLOW
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            if not follow_links and os.path.islink(path):
                raise FileRefused(f"{path}: a symbolic link (not followed)") from None
            raise FileRefused(
                f"{path}: a symbolic link that loops (points back to itself)", errno.ELOOP
            ) from None
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise FileRefused(f"{path}: {kind_of(info.st_mode)}, not a regular file")
        if info.st_size > limit:
            raise FileRefused(
                f"{path}: too large ({describe_size(info.st_size)}; the limit is "
                f"{describe_size(limit)})",
                errno.EFBIG,
            )
        os.set_blocking(fd, True)
        handle = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with handle:
        yield handle


def read_regular(path: str | Path, limit: int, *, follow_links: bool = True) -> bytes:
    """The bytes of a regular file of at most `limit` bytes (FileRefused otherwise)."""
    with open_regular(path, limit, follow_links=follow_links) as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:  # grew while being read
        raise FileRefused(f"{path}: too large (over {describe_size(limit)})", errno.EFBIG)
    return data


def read_text(path: str | Path, limit: int = TEXT_LIMIT, *, follow_links: bool = True) -> str:
    """A UTF-8 text file (a leading BOM is dropped); UnicodeDecodeError when it is not text."""
    return read_regular(path, limit, follow_links=follow_links).decode("utf-8-sig")


def write_atomic(
    path: str | Path, data: bytes | str, *, mode: int | None = None, sync: bool = False
) -> None:
    """Replace `path` with `data` through a temporary file in the same folder.

    The file gets `mode` (default: the existing file's permissions, else 0o666 less the
    umask). On any error the temporary file is removed and the error raised.
    """
    target = Path(path)
    if isinstance(data, str):
        data = data.encode("utf-8")
    if mode is None:
        try:
            info = os.lstat(target)
            mode = stat.S_IMODE(info.st_mode) if stat.S_ISREG(info.st_mode) else None
        except OSError:
            mode = None
    if mode is None:
        mode = 0o666 & ~_UMASK
    fd, tmp = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name[:80]}.", suffix=".eyespy-tmp"
    )
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if sync:
                os.fsync(handle.fileno())
            os.fchmod(handle.fileno(), mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def printable(text: str) -> str:
    """`text` safe to print on a terminal: control characters (escape sequences that could
    move the cursor, retitle the window or hide output) shown as \\xNN / \\uNNNN."""
    if text.isprintable():
        return text
    out = []
    for char in text:
        if char.isprintable():
            out.append(char)
        else:
            code = ord(char)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
    return "".join(out)
