"""Real eyespy processes for the multi-camera tests: each one's output read in a thread."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

EYESPY = [sys.executable, "-m", "eyespy_live"]


class Proc:
    """`eyespy ARGS` in its own process; stdout JSON lines in `.events`, stderr in `.errors`."""

    def __init__(self, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None):
        self.args = list(args)
        self.events: list[dict] = []
        self.errors: list[str] = []
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [*EYESPY, *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **(env or {})},
            cwd=cwd,
        )
        self._readers = [
            threading.Thread(target=self._read, args=(self.process.stdout, True), daemon=True),
            threading.Thread(target=self._read, args=(self.process.stderr, False), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read(self, stream, is_stdout: bool) -> None:
        for line in stream:
            line = line.rstrip("\n")
            if not is_stdout:
                self.errors.append(line)
                continue
            self.lines.append(line)
            with contextlib.suppress(json.JSONDecodeError):
                self.events.append(json.loads(line))

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_for(self, test: Callable[[], bool], timeout_s: float, what: str) -> None:
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            if test():
                return
            if self.process.poll() is not None and not test():
                break
            time.sleep(0.05)
        raise AssertionError(
            f"{what}: not within {timeout_s:.0f} s (exit {self.process.poll()}); "
            f"stderr: {' | '.join(self.errors[-8:])}"
        )

    def finish(self, timeout_s: float = 60.0) -> int:
        """Wait for the process to end by itself; its exit status."""
        code = self.process.wait(timeout_s)
        for reader in self._readers:
            reader.join(5)
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(10)

    def stop(self, sig: int = signal.SIGINT, timeout_s: float = 20.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            code = self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait(5)
        for reader in self._readers:
            reader.join(5)
        return code
