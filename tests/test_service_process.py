"""`eyespy service` as systemd runs it: a real process, a real notify socket, real signals.

The test binds the unix datagram socket systemd would (NOTIFY_SOCKET) and reads what the
service sends: READY=1 once it is set up, WATCHDOG=1 while the capture loop makes progress,
STOPPING=1 on SIGTERM. Sources that fail are real sources in a real process
(tests/flaky_sources.py, or a video file that disappears).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from eyespy_live.bus.pubsub import Subscriber
from eyespy_live.resources import demo_video

TESTS = Path(__file__).resolve().parent
# Runs the real CLI with the test-only source plugins registered.
LAUNCH = (
    "import sys; sys.path.insert(0, sys.argv.pop(1)); import flaky_sources; "
    "from eyespy_live.commands.main import main; sys.exit(main(sys.argv[1:]))"
)


class NotifySocket:
    """What systemd listens on: every datagram the service sends, as a list of fields."""

    def __init__(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="sdn", dir="/tmp")  # short: AF_UNIX path limit
        self.path = os.path.join(self.dir, "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.messages: list[tuple[float, list[str]]] = []

    def poll(self, timeout_s: float) -> None:
        self.sock.settimeout(timeout_s)
        try:
            data = self.sock.recv(4096)
        except TimeoutError:
            return
        self.messages.append((time.monotonic(), data.decode().split("\n")))

    def wait_for(self, field: str, timeout_s: float, count: int = 1) -> list[float]:
        """Times at which `field` arrived; waits until `count` of them did."""
        deadline = time.monotonic() + timeout_s
        while len(self.times(field)) < count and time.monotonic() < deadline:
            self.poll(0.1)
        return self.times(field)

    def times(self, field: str) -> list[float]:
        return [t for t, fields in self.messages if field in fields]

    def close(self) -> None:
        self.sock.close()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def notify():
    listener = NotifySocket()
    yield listener
    listener.close()


def write_config(path: Path, endpoint: str, spec: str, **extra: str) -> Path:
    lines = [
        "[source]",
        f'spec = "{spec}"',
        extra.pop("source", ""),
        "[vision]",
        "detect_every = 3",
        "[bus]",
        f'endpoint = "{endpoint}"',
        "[service]",
        "status_interval_s = 0.5",
        extra.pop("service", ""),
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


class Service:
    def __init__(self, config: Path, notify: NotifySocket | None, watchdog_usec: int, log: Path):
        env = {k: v for k, v in os.environ.items() if k not in ("NOTIFY_SOCKET", "WATCHDOG_USEC")}
        if notify is not None:
            env["NOTIFY_SOCKET"] = notify.path
            env["WATCHDOG_USEC"] = str(watchdog_usec)
        self.log = log
        self._log_file = open(log, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-c", LAUNCH, str(TESTS), "service", "--config", str(config)],
            env=env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )

    def terminate(self) -> tuple[int, float]:
        """SIGTERM; the exit code and how long the process took to exit."""
        sent = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=10)
        finally:
            self.kill()
        return code, time.monotonic() - sent

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._log_file.close()

    def output(self) -> str:
        return self.log.read_text()


def wait_until(check: Callable[[], object], timeout_s: float, what: str) -> object:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


def status_events(endpoint: str, until: Callable[[dict], bool], timeout_s: float) -> list[dict]:
    """Status heartbeats from the service until one satisfies `until`."""
    sub = Subscriber(endpoint, ["status"])
    seen: list[dict] = []
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            got = sub.receive(timeout_s=0.5)
            if got is None:
                continue
            seen.append(got[0])
            if until(got[0]):
                return seen
    finally:
        sub.close()
    raise AssertionError(f"no matching status within {timeout_s} s; last: {seen[-1:]}")


def test_ready_then_watchdog_pings_then_clean_stop_on_sigterm(tmp_path, endpoint, notify):
    config = write_config(
        tmp_path / "config.toml", endpoint, "demo", source="loop = true\nrealtime = true"
    )
    service = Service(config, notify, watchdog_usec=600_000, log=tmp_path / "log")
    try:
        ready = notify.wait_for("READY=1", timeout_s=60)
        assert ready, f"no READY=1; service said:\n{service.output()}"
        pings = notify.wait_for("WATCHDOG=1", timeout_s=15, count=4)
        assert len(pings) >= 4, f"{len(pings)} watchdog pings; service said:\n{service.output()}"
        assert pings[0] >= ready[0], "the watchdog is petted only once the service is ready"
        # Petted at about half the interval (0.3 s), not flooding the socket.
        assert pings[-1] - pings[0] >= 0.2 * (len(pings) - 1)
        # Heartbeats carry the service's state.
        status = status_events(endpoint, lambda e: e["frames"] > 0, timeout_s=15)[-1]
        assert status["source_state"] == "running" and status["restarts"] == 0
        for key in ("uptime_s", "fps", "last_event", "dropped_frames", "source_connected"):
            assert key in status
        assert any(f.startswith("STATUS=") for _, fields in notify.messages for f in fields)
        code, took = service.terminate()
    finally:
        service.kill()
    notify.wait_for("STOPPING=1", timeout_s=2)
    assert code == 0, service.output()
    assert took < 2.0, f"SIGTERM took {took:.2f} s"
    assert notify.times("STOPPING=1"), "STOPPING=1 tells systemd the stop is deliberate"
    assert "Traceback" not in service.output()
    assert "stopped after" in service.output()


def test_a_source_that_raises_is_restarted_with_growing_backoff(tmp_path, endpoint, notify):
    state = tmp_path / "camera"
    state.mkdir()
    (state / "fail_times").write_text("2")
    config = write_config(tmp_path / "config.toml", endpoint, f"flaky:{state}")
    service = Service(config, notify, watchdog_usec=2_000_000, log=tmp_path / "log")
    try:
        assert notify.wait_for("READY=1", timeout_s=60), service.output()
        recovered = status_events(
            endpoint,
            lambda e: e["restarts"] == 2 and e["source_state"] == "running" and e["frames"] > 20,
            timeout_s=40,
        )[-1]
        assert "camera unplugged (opening 2)" in recovered["last_error"]
        assert service.proc.poll() is None, "a failing source never ends the service"
        code, took = service.terminate()
    finally:
        service.kill()
    log = service.output()
    assert code == 0 and took < 2.0
    assert "CameraUnplugged: camera unplugged (opening 1); restart 1 in 1 s" in log
    assert "CameraUnplugged: camera unplugged (opening 2); restart 2 in 2 s" in log
    assert (state / "openings").read_text() == "3"


def test_a_video_that_disappears_is_waited_for_and_reopened(tmp_path, endpoint):
    clip = tmp_path / "clip.mp4"
    shutil.copy(demo_video(), clip)
    config = write_config(
        tmp_path / "config.toml", endpoint, f"video:{clip}", source="loop = true\nrealtime = true"
    )
    service = Service(config, None, 0, log=tmp_path / "log")
    try:
        status_events(endpoint, lambda e: e["frames"] > 0, timeout_s=60)
        clip.unlink()  # e.g. a USB stick pulled out
        # At its end the looping clip cannot be reopened: "ended unexpectedly", then every
        # retry finds no file, and the service keeps waiting rather than exiting.
        down = status_events(
            endpoint,
            lambda e: e["source_state"] == "waiting" and "not found" in (e["last_error"] or ""),
            timeout_s=30,
        )[-1]
        assert not down["source_connected"]
        assert f"video file not found: {clip}" in down["last_error"]
        assert service.proc.poll() is None
        shutil.copy(demo_video(), clip)
        frames_before = down["frames"]
        back = status_events(
            endpoint,
            lambda e: e["source_state"] == "running" and e["frames"] > frames_before + 10,
            timeout_s=40,
        )[-1]
        assert back["restarts"] >= 1
        code, _ = service.terminate()
    finally:
        service.kill()
    assert code == 0, service.output()


def test_a_hung_camera_call_stops_the_watchdog_pings_and_sigterm_still_stops(
    tmp_path, endpoint, notify
):
    state = tmp_path / "camera"
    state.mkdir()
    (state / "fail_times").write_text("0")
    config = write_config(
        tmp_path / "config.toml", endpoint, f"hang:{state}", service="source_stall_s = 1.0"
    )
    service = Service(config, notify, watchdog_usec=1_000_000, log=tmp_path / "log")
    try:
        assert notify.wait_for("READY=1", timeout_s=60), service.output()
        wait_until(lambda: (state / "hung").exists(), 30, "the source to hang")
        hung_at = time.monotonic()
        # Stall limit 1 s + watchdog 1 s: pings stop after about 2 s; give it 6 s.
        end = hung_at + 6.0
        while time.monotonic() < end:
            notify.poll(0.1)
        late = [t for t in notify.times("WATCHDOG=1") if t > hung_at + 3.0]
        assert not late, f"{len(late)} pings while the camera call hung; systemd would not restart"
        assert notify.times("WATCHDOG=1"), "pinged while frames were flowing"
        assert "no frame for 1 s; reopening the source" in service.output()
        code, took = service.terminate()
    finally:
        service.kill()
    assert code == 0 and took < 2.0, (code, took, service.output())


@pytest.mark.parametrize(
    ("bus", "message"),
    [
        ('endpoint = "tcp://0.0.0.0:5557"', "reachable from the network"),
        ('endpoint = "tcp://0.0.0.0:5557"\nallow_remote = true', "needs CURVE keys"),
        ("bogus = 1", "bus.bogus: unknown key"),
    ],
)
def test_a_configuration_error_exits_2_with_one_clear_line(tmp_path, bus, message):
    config = tmp_path / "config.toml"
    config.write_text(f'[source]\nspec = "demo"\n[bus]\n{bus}\n')
    done = subprocess.run(
        [sys.executable, "-m", "eyespy_live", "service", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_a_quiet_tethered_camera_is_not_a_stall_but_its_polls_feed_the_watchdog(
    tmp_path, endpoint, notify, shared_data, monkeypatch
):
    """libgphoto2's virtual camera has no live view: no frames for a long time is normal for
    a camera waiting for the shutter, and its event polls keep the watchdog petted."""
    card = tmp_path / "card"
    card.mkdir()
    shutil.copy(shared_data / "photos" / "dryeye_pair" / "eyes_open.jpg", card / "a.jpg")
    config = write_config(
        tmp_path / "config.toml", endpoint, "gphoto2", service="source_stall_s = 1.0"
    )
    monkeypatch.setenv("VCAMERADIR", str(card))  # read by the service process's libgphoto2
    service = Service(config, notify, watchdog_usec=1_000_000, log=tmp_path / "log")
    try:
        ready = notify.wait_for("READY=1", timeout_s=60)
        assert ready, service.output()
        status_events(endpoint, lambda e: e["source_state"] == "running", timeout_s=30)
        quiet_from = time.monotonic()
        pings = notify.wait_for(
            "WATCHDOG=1", timeout_s=20, count=len(notify.times("WATCHDOG=1")) + 8
        )
        assert [t for t in pings if t > quiet_from + 3.0], "pings go on while the camera is quiet"
        last = status_events(endpoint, lambda e: e["uptime_s"] > 4, timeout_s=20)[-1]
        assert last["restarts"] == 0 and last["source_connected"], last
        assert "reopening" not in service.output()
        code, took = service.terminate()
    finally:
        service.kill()
    assert code == 0 and took < 2.0, service.output()
