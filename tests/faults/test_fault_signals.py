"""Bursts of stop signals: `eyespy service` and `eyespy live` always stop cleanly.

A real process on the looping demo video; a real subscriber watches its status events. For
1.5 s the test sends the signal as fast as it can (thousands of them, some landing while an
earlier one is being handled: the old handlers called Event.set() and could deadlock on its
lock). Each run must end within a few seconds, exit 0, and publish a final "stopped" status;
SIGHUP (a closed terminal) stops the same way instead of killing the process.

EYESPY_FAULT_TRIALS=N repeats each case N times (the fault matrix in docs/reliability.md).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from eyespy_live.bus.pubsub import Subscriber

TRIALS = int(os.environ.get("EYESPY_FAULT_TRIALS", "1"))
CASES = [
    ("service", signal.SIGTERM),
    ("service", signal.SIGINT),
    ("service", signal.SIGHUP),
    ("live", signal.SIGTERM),
    ("live", signal.SIGINT),
    ("live", signal.SIGHUP),
]

pytestmark = pytest.mark.timeout(60 + 40 * TRIALS)


def start(command: str, folder: Path) -> tuple[subprocess.Popen, str]:
    endpoint = f"ipc://{folder}/bus"
    config = folder / "eyespy.toml"
    config.write_text(
        '[source]\nspec = "demo"\nloop = true\nrealtime = true\n'
        f'[bus]\nendpoint = "{endpoint}"\n[service]\nstatus_interval_s = 0.2\n'
    )
    args = [sys.executable, "-m", "eyespy_live", command, "--config", str(config)]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return process, endpoint


def wait_for_status(subscriber: Subscriber, state: str, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        got = subscriber.receive(timeout_s=0.2)
        if got is not None and got[0]["type"] == "status" and got[0].get("state") == state:
            return True
    return False


def burst(pid: int, signum: int, seconds: float) -> int:
    sent = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            break
        sent += 1
    return sent


@pytest.mark.parametrize("trial", range(TRIALS))
@pytest.mark.parametrize(("command", "signum"), CASES, ids=lambda v: getattr(v, "name", v))
def test_a_burst_of_stop_signals_stops_cleanly(tmp_path, command, signum, trial):
    process, endpoint = start(command, tmp_path)
    subscriber = Subscriber(endpoint)
    try:
        if not wait_for_status(subscriber, "running", 60):
            process.kill()
            pytest.fail(f"the run never started: {process.communicate()[1][-2000:]}")
        sent = burst(process.pid, signum, 1.5)
        assert sent > 0
        try:
            _, err = process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{command} hung after a burst of {sent} {signal.Signals(signum).name}")
        assert process.returncode == 0, err[-2000:]
        assert "Traceback" not in err, err[-2000:]
        assert wait_for_status(subscriber, "stopped", 2), f"no final stopped status: {err[-2000:]}"
    finally:
        subscriber.close()
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.mark.parametrize("trial", range(TRIALS))
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
def test_a_burst_of_stop_signals_stops_the_relay_cleanly(tmp_path, signum, trial):
    args = ["--frontend", f"ipc://{tmp_path}/f", "--backend", f"ipc://{tmp_path}/b"]
    process = subprocess.Popen(
        [sys.executable, "-m", "eyespy_live", "relay", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        assert "subscribers ->" in process.stderr.readline()  # bound and running
        time.sleep(0.3)
        sent = burst(process.pid, signum, 1.5)
        try:
            _, err = process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the relay hung after a burst of {sent} {signal.Signals(signum).name}")
        assert process.returncode == 0, err
        assert "eyespy relay: stopped" in err and "Traceback" not in err
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
