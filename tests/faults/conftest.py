"""Fixtures for the fault suite: peer processes that talk over the real bus."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

PEER = Path(__file__).with_name("bus_peer.py")


class Peer:
    """A bus_peer.py process; its JSON stdout lines are read by a thread into a queue."""

    def __init__(self, mode: str, endpoint: str):
        self.process = subprocess.Popen(
            [sys.executable, str(PEER), mode, endpoint],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.lines: queue.Queue[dict] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(json.loads(line))

    def wait_for(self, predicate: Callable[[dict], bool], timeout_s: float = 30.0) -> dict:
        """The first line (from now on) that satisfies `predicate`; fails the test on timeout."""
        deadline = time.monotonic() + timeout_s
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                pytest.fail(f"peer {self.process.args[2]} said nothing matching in {timeout_s} s")
            try:
                line = self.lines.get(timeout=min(remaining, 0.5))
            except queue.Empty:
                if self.process.poll() is not None:
                    pytest.fail(f"peer {self.process.args[2]} exited ({self.process.returncode})")
                continue
            if predicate(line):
                return line

    def next_line(self, timeout_s: float) -> dict | None:
        """The next line, or None when none came within `timeout_s`."""
        try:
            return self.lines.get(timeout=timeout_s)
        except queue.Empty:
            return None

    def tell(self, text: str = "go") -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(text + "\n")
        self.process.stdin.flush()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)


@pytest.fixture
def peers() -> Iterator[Callable[[str, str], Peer]]:
    """Start peer processes; every one is killed when the test ends, whatever happened."""
    started: list[Peer] = []

    def start(mode: str, endpoint: str) -> Peer:
        peer = Peer(mode, endpoint)
        started.append(peer)
        return peer

    yield start
    for peer in started:
        peer.kill()
