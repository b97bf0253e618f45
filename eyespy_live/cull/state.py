"""The resume file: which photos are finished, so an interrupted run picks up where it was.

An append-only JSON-lines file in the output folder. Line 1 is a header naming the settings
that produced the verdicts; each further line is one finished photo's record, keyed by its
path relative to the session folder, its size and its modification time (a photo edited or
replaced since is done again). Each record is flushed as soon as it is written (and synced to
disk every few seconds), so a killed run loses at most the line being written, and a torn
last line is ignored on reading. Settings that differ from the header's mean the old
verdicts no longer apply: start over.

A record that cannot be written whole (a full disk) is cut off again, so the file never
holds half a line that a later append would glue onto; the error goes to the caller, and
the next run (after space was freed) does that photo again, exactly once. The file is
appended to without following a symlink planted in its place.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import time
from pathlib import Path
from typing import Any

from eyespy_live.files import FileRefused, read_regular, write_atomic

log = logging.getLogger(__name__)

STATE_NAME = ".eyespy-cull-state.jsonl"
STATE_VERSION = 1
SYNC_EVERY_S = 2.0
STATE_LIMIT = 1024 * 1024 * 1024  # ~2 million photos' records

Key = tuple[str, int, int]


def record_key(record: dict[str, Any]) -> Key:
    return (record["path"], int(record["size"]), int(record["mtime_ns"]))


class CullState:
    def __init__(self, out_dir: Path, settings: dict[str, Any]):
        self.path = out_dir / STATE_NAME
        self.settings = settings
        self.records: dict[Key, dict[str, Any]] = {}
        self.restarted_because: str | None = None
        self._fd: int | None = None
        self._synced = time.monotonic()

    def load(self) -> None:
        """Read earlier finished photos, unless they were made with other settings."""
        if not os.path.lexists(self.path):
            return
        try:
            data = read_regular(self.path, STATE_LIMIT, follow_links=False)
        except FileRefused as exc:
            self.restarted_because = f"the resume file was not read ({exc})"
            return
        lines = data.decode("utf-8", errors="replace").splitlines()
        header = _parse(lines[0]) if lines else None
        if not header or header.get("version") != STATE_VERSION:
            self.restarted_because = "the resume file is from another version"
            return
        if header.get("settings") != self.settings:
            self.restarted_because = "the settings changed since the last run"
            return
        for line in lines[1:]:
            record = _parse(line)
            if record and "path" in record and not _output_error(record):
                self.records[record_key(record)] = record  # a later line wins

    def open(self) -> None:
        """Start appending (a fresh file with a header when there was nothing to resume)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fresh = not self.records
        if fresh:
            header = json.dumps({"version": STATE_VERSION, "settings": self.settings}) + "\n"
            write_atomic(self.path, header, sync=True)
        flags = os.O_RDWR | os.O_APPEND | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
        try:
            self._fd = os.open(self.path, flags)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise FileRefused(f"{self.path}: a symbolic link; not written through it") from None
            raise
        if not fresh:
            self._drop_torn_tail()

    def _drop_torn_tail(self) -> None:
        """A run killed mid-write can leave half a line; cut it so the next one starts clean."""
        assert self._fd is not None
        data = os.pread(self._fd, os.fstat(self._fd).st_size, 0)
        if data and not data.endswith(b"\n"):
            os.ftruncate(self._fd, data.rfind(b"\n") + 1)

    def done(self, key: Key) -> dict[str, Any] | None:
        return self.records.get(key)

    def add(self, record: dict[str, Any]) -> None:
        key = record_key(record)
        assert self._fd is not None, "open() first"
        line = (json.dumps(record, separators=(",", ":")) + "\n").encode("utf-8")
        start = os.fstat(self._fd).st_size
        try:
            view = memoryview(line)
            while view:  # unbuffered: in the kernel's hands as soon as this returns
                view = view[os.write(self._fd, view) :]
            now = time.monotonic()
            if now - self._synced >= SYNC_EVERY_S:  # for power loss
                os.fsync(self._fd)
                self._synced = now
        except OSError:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, start)  # no half line left behind
            raise
        self.records[key] = record

    def close(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


# What earlier versions recorded as "unreadable" when the *output* failed (a thumbnail on a
# full disk): not a verdict on the photo, so such a photo is done again.
_OUTPUT_ERRORS = ("[Errno 28]", "No space left on device", "[Errno 30]", "Read-only file system")


def _output_error(record: dict[str, Any]) -> bool:
    reason = str(record.get("reason", ""))
    return record.get("verdict") == "unreadable" and any(e in reason for e in _OUTPUT_ERRORS)


def _parse(line: str) -> dict[str, Any] | None:
    try:
        value = json.loads(line)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None
