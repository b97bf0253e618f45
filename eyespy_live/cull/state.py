"""The resume file: which photos are finished, so an interrupted run picks up where it was.

An append-only JSON-lines file in the output folder. Line 1 is a header naming the settings
that produced the verdicts; each further line is one finished photo's record, keyed by its
path relative to the session folder, its size and its modification time (a photo edited or
replaced since is done again). Each record is flushed as soon as it is written (and synced to
disk every few seconds), so a killed run loses at most the line being written, and a torn
last line is ignored on reading. Settings that differ from the header's mean the old
verdicts no longer apply: start over.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import IO, Any

log = logging.getLogger(__name__)

STATE_NAME = ".eyespy-cull-state.jsonl"
STATE_VERSION = 1
SYNC_EVERY_S = 2.0

Key = tuple[str, int, int]


def record_key(record: dict[str, Any]) -> Key:
    return (record["path"], int(record["size"]), int(record["mtime_ns"]))


class CullState:
    def __init__(self, out_dir: Path, settings: dict[str, Any]):
        self.path = out_dir / STATE_NAME
        self.settings = settings
        self.records: dict[Key, dict[str, Any]] = {}
        self.restarted_because: str | None = None
        self._handle: IO[str] | None = None
        self._synced = time.monotonic()

    def load(self) -> None:
        """Read earlier finished photos, unless they were made with other settings."""
        if not self.path.is_file():
            return
        lines = self.path.read_text(encoding="utf-8", errors="replace").splitlines()
        header = _parse(lines[0]) if lines else None
        if not header or header.get("version") != STATE_VERSION:
            self.restarted_because = "the resume file is from another version"
            return
        if header.get("settings") != self.settings:
            self.restarted_because = "the settings changed since the last run"
            return
        for line in lines[1:]:
            record = _parse(line)
            if record and "path" in record:
                self.records[record_key(record)] = record  # a later line wins

    def open(self) -> None:
        """Start appending (a fresh file with a header when there was nothing to resume)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fresh = not self.records
        if fresh:
            tmp = self.path.with_name(self.path.name + ".tmp")
            tmp.write_text(
                json.dumps({"version": STATE_VERSION, "settings": self.settings}) + "\n",
                encoding="utf-8",
            )
            tmp.replace(self.path)
        else:
            self._drop_torn_tail()
        self._handle = self.path.open("a", encoding="utf-8")

    def _drop_torn_tail(self) -> None:
        """A run killed mid-write can leave half a line; cut it so the next one starts clean."""
        with self.path.open("rb+") as handle:
            data = handle.read()
            if data and not data.endswith(b"\n"):
                handle.truncate(data.rfind(b"\n") + 1)

    def done(self, key: Key) -> dict[str, Any] | None:
        return self.records.get(key)

    def add(self, record: dict[str, Any]) -> None:
        key = record_key(record)
        self.records[key] = record
        assert self._handle is not None, "open() first"
        self._handle.write(json.dumps(record, separators=(",", ":")) + "\n")
        self._handle.flush()  # enough for a killed process; fsync below is for power loss
        now = time.monotonic()
        if now - self._synced >= SYNC_EVERY_S:
            os.fsync(self._handle.fileno())
            self._synced = now

    def close(self) -> None:
        if self._handle is not None:
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self._handle.close()
            self._handle = None


def _parse(line: str) -> dict[str, Any] | None:
    try:
        value = json.loads(line)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None
