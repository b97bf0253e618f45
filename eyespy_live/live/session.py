"""A shoot in one command: the publisher, the overlay and the sound alert as child processes.

Each child is an ordinary `eyespy` command (so each is still an ordinary subscriber of the
public stream, and can be run by hand the same way). The session starts them, restarts one
that crashes (with a growing delay), gives up on one that reports a setup error (exit 2:
no sound player, a port taken) and says why in one line, and stops them all on one Ctrl-C:
the publisher first (so its final status goes out), then the others, SIGKILL after a grace
period. Children run in their own process group, so the terminal's Ctrl-C reaches only the
session, which stops them in order; on Linux each child also gets SIGTERM from the kernel if
the session itself dies (PR_SET_PDEATHSIG), so no process is left behind even after a
`kill -9`.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

SETUP_ERROR = 2  # an eyespy command's exit status for "the user must fix something"
GRACE_S = 5.0


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Ask the kernel to SIGTERM this child when the session dies (Linux only)."""
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        if os.getppid() == 1:  # the session died before prctl took effect
            os._exit(1)


def eyespy_argv(*args: str) -> list[str]:
    """The command line of an eyespy subcommand run by this interpreter."""
    return [sys.executable, "-m", "eyespy_live", *args]


@dataclass
class Child:
    name: str
    argv: list[str]
    essential: bool = False  # the session cannot go on without it (the publisher)
    on_stdout: Callable[[str], None] | None = None
    process: subprocess.Popen | None = None
    restarts: int = 0
    started_at: float = 0.0
    restart_at: float | None = None
    gave_up: str | None = None  # why it is no longer run
    last_lines: deque = field(default_factory=lambda: deque(maxlen=20))

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def last_error(self) -> str:
        """The child's own last error line, as it printed it (without the log prefix)."""
        for line in reversed(self.last_lines):
            if "error" in line.lower() or "ERROR" in line:
                return line
        return self.last_lines[-1] if self.last_lines else "no output"


class Session:
    """Runs the children; `poll()` from the main loop, `stop()` at the end."""

    def __init__(
        self,
        children: list[Child],
        *,
        say: Callable[[str], None],
        backoff: tuple[float, float] = (1.0, 20.0),
    ):
        self.children = children
        self.say = say
        self.backoff = backoff
        self.fatal: str | None = None

    def start(self) -> None:
        for child in self.children:
            self._spawn(child)

    def _spawn(self, child: Child) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        child.process = subprocess.Popen(
            child.argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            env=env,
            start_new_session=True,  # the terminal's Ctrl-C is the session's to handle
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )
        child.started_at = time.monotonic()
        child.restart_at = None
        for stream, forward in (
            (child.process.stdout, child.on_stdout),
            (child.process.stderr, None),
        ):
            threading.Thread(
                target=self._read, args=(child, stream, forward), daemon=True
            ).start()

    def _read(self, child: Child, stream, forward: Callable[[str], None] | None) -> None:
        for raw in stream:
            line = raw.rstrip("\n")
            if not line:
                continue
            child.last_lines.append(line)
            if forward is not None:
                forward(line)
            elif ": warning: " in line or ": error: " in line or ": critical: " in line:
                self.say(f"{child.name}: {line.split(': ', 1)[-1]}")

    def poll(self) -> None:
        """Restart a crashed child (after its delay); give up on a setup error."""
        now = time.monotonic()
        for child in self.children:
            if child.gave_up is not None or child.process is None:
                continue
            code = child.process.poll()
            if code is None:
                continue
            if child.restart_at is None:
                time.sleep(0.1)  # let the reader threads take its last lines
                if code == SETUP_ERROR or (code == 0 and child.essential):
                    why = child.last_error() if code else "it ended"
                    child.gave_up = why
                    if child.essential:
                        self.fatal = f"{child.name}: {why}"
                    else:
                        self.say(f"{child.name} is off: {why}")
                    continue
                ran = now - child.started_at
                delay = self.backoff[0] if ran > 30 else min(
                    self.backoff[1], self.backoff[0] * 2 ** min(child.restarts, 5)
                )
                child.restart_at = now + delay
                self.say(
                    f"{child.name} stopped ({_exit_text(code)}: {child.last_error()}); "
                    f"restarting in {delay:.0f} s"
                )
            elif now >= child.restart_at:
                child.restarts += 1
                self._spawn(child)

    def pids(self) -> list[int]:
        return [c.process.pid for c in self.children if c.running and c.process]

    def stop(self, grace_s: float = GRACE_S) -> dict[str, int | None]:
        """Stop every child (the essential ones first); each one's exit status."""
        order = sorted(self.children, key=lambda c: not c.essential)
        for child in order:
            if child.running:
                with contextlib.suppress(ProcessLookupError):
                    child.process.send_signal(signal.SIGTERM)  # type: ignore[union-attr]
            if child.essential and child.process is not None:
                _wait(child.process, grace_s)  # its final status goes out before the rest stop
        codes: dict[str, int | None] = {}
        for child in order:
            if child.process is None:
                codes[child.name] = None
                continue
            if not _wait(child.process, grace_s):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.process.pid, signal.SIGKILL)
                _wait(child.process, 2.0)
            codes[child.name] = child.process.returncode
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(child.process.pid, signal.SIGKILL)  # anything it left (a player)
        return codes


def _wait(process: subprocess.Popen, timeout_s: float) -> bool:
    try:
        process.wait(timeout_s)
        return True
    except subprocess.TimeoutExpired:
        return False


def _exit_text(code: int) -> str:
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-code).name}"
    return f"exit status {code}"
