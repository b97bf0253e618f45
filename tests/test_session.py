"""`eyespy session` and `eyespy shoot` as a user runs them: real processes, real sockets.

The session's children are found through /proc (every process whose parent is the session),
so "no process left behind" is checked against the kernel, not against what the session
believes it started.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import needs
import pytest

from eyespy_live.bus.pubsub import Subscriber


def children_of(pid: int) -> dict[int, str]:
    """pid → command line of every live process whose parent is `pid`."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found[int(entry.name)] = cmdline
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


class Running:
    """A session process whose stdout lines are collected by a thread."""

    def __init__(self, *args: str, env: dict[str, str] | None = None):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "eyespy_live", "session", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )  # fmt: skip
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, text: str, timeout: float = 60) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for line in self.lines:
                if text in line:
                    return line
            if self.process.poll() is not None and not self._reader.is_alive():
                break
            time.sleep(0.05)
        raise AssertionError(f"no line with {text!r}: {self.lines} {self.stderr()}")

    def stderr(self) -> str:
        return self.process.stderr.read() if self.process.poll() is not None else ""

    def children(self, count: int, timeout: float = 30) -> dict[int, str]:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            kids = children_of(self.process.pid)
            if len(kids) >= count:
                return kids
            time.sleep(0.1)
        raise AssertionError(f"expected {count} children, found {children_of(self.process.pid)}")


def drop(folder: Path, name: str, data: bytes) -> None:
    part = folder / f".{name}.part"
    part.write_bytes(data)
    part.rename(folder / name)


@pytest.fixture(scope="module")
def closed_eyes(shared_data) -> bytes:
    return (shared_data / "photos" / "dryeye_pair" / "eyes_closed.jpg").read_bytes()


def no_camera_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "VCAMERADIR"}


def test_a_hot_folder_session_runs_three_children_and_one_ctrl_c_stops_them_all(
    tmp_path, endpoint, closed_eyes
):
    needs.tool("aplay", "apt-get install alsa-utils")
    session = Running(str(tmp_path), "--endpoint", endpoint, "--port", "0",
                      "--sound-device", "null", env=no_camera_env())  # fmt: skip
    try:
        assert f"watching {tmp_path}" in session.wait_for("ready: ")
        session.wait_for("overlay http://127.0.0.1:")
        kids = session.children(3)
        commands = " | ".join(kids.values())
        assert all(f" {name} " in commands for name in ("service", "overlay", "sound")), kids
        subscriber = Subscriber(endpoint, topics=("shot",))
        got = None
        for attempt in range(6):  # the first photo may beat the subscription
            drop(tmp_path, f"IMG_{attempt:04d}.JPG", closed_eyes)
            got = subscriber.receive(timeout_s=10)
            if got is not None:
                break
        subscriber.close()
        assert got is not None and got[0]["verdict"] == "retake"
        assert "RETAKE" in session.wait_for(f"shot {got[0]['file']}")
        refused = subprocess.run(
            [sys.executable, "-m", "eyespy_live", "shoot", "--endpoint", endpoint],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        session.process.send_signal(signal.SIGINT)  # what Ctrl-C sends
        session.process.wait(30)
    finally:
        if session.process.poll() is None:
            session.process.kill()
    assert session.process.returncode == 0, session.stderr()
    summary = session.wait_for("ended after")
    assert "1 retakes" in summary and "stopped publisher, overlay, sound" in summary
    time.sleep(0.2)
    assert not [pid for pid in kids if alive(pid)], "a child outlived the session"
    assert refused.returncode == 1 and "no shutter to fire" in refused.stderr


def test_a_session_killed_outright_takes_its_children_with_it(tmp_path, endpoint):
    session = Running(str(tmp_path), "--endpoint", endpoint, "--port", "0", "--no-sound",
                      env=no_camera_env())  # fmt: skip
    kids = session.children(2)
    session.wait_for("overlay http://")
    session.process.send_signal(signal.SIGKILL)  # no chance to clean up
    session.process.wait(10)
    end = time.monotonic() + 15
    while time.monotonic() < end and any(alive(pid) for pid in kids):
        time.sleep(0.1)
    left = [cmd for pid, cmd in kids.items() if alive(pid)]
    for pid in kids:
        if alive(pid):
            os.kill(pid, signal.SIGKILL)
    assert not left, left


def test_a_crashed_child_is_restarted_and_a_setup_error_gives_up_in_one_line(
    tmp_path, endpoint
):
    bin_dir = tmp_path / "bin"  # a PATH without any sound player
    bin_dir.mkdir()
    env = {**no_camera_env(), "PATH": str(bin_dir)}
    session = Running(str(tmp_path), "--endpoint", endpoint, "--port", "0", env=env)
    try:
        session.wait_for("overlay http://")
        off = session.wait_for("sound is off")
        overlay = next(p for p, c in session.children(2).items() if " overlay " in c)
        os.kill(overlay, signal.SIGKILL)
        assert "restarting" in session.wait_for("overlay stopped (killed by SIGKILL")
        session.wait_for("overlay http://", timeout=5)
        end = time.monotonic() + 30
        while len([line for line in session.lines if "overlay http://" in line]) < 2:
            assert time.monotonic() < end, session.lines
            time.sleep(0.1)
        session.process.send_signal(signal.SIGTERM)
        session.process.wait(30)
    finally:
        if session.process.poll() is None:
            session.process.kill()
    assert session.process.returncode == 0
    assert "aplay" in off or "player" in off, off


def test_without_camera_or_folder_it_says_what_to_do(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "eyespy_live", "session"],
        capture_output=True, text=True, timeout=60, env=no_camera_env(),
    )  # fmt: skip
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "no tethered camera found and no folder given" in result.stderr
    assert "--demo" in result.stderr


def test_with_the_virtual_camera_the_session_tethers_and_eyespy_shoot_fires_it(
    tmp_path, endpoint, shared_data
):
    card = tmp_path / "card"
    card.mkdir()
    shutil.copyfile(shared_data / "photos" / "dryeye_pair" / "eyes_closed.jpg", card / "a.jpg")
    saved = tmp_path / "shoot"
    saved.mkdir()
    env = {**os.environ, "VCAMERADIR": str(card)}
    session = Running(str(saved), "--endpoint", endpoint, "--no-overlay", "--no-sound", env=env)
    try:
        assert "camera Nikon DSC D750" in session.wait_for("ready: ")
        subscriber = Subscriber(endpoint, topics=("shot",))
        shot = fired = None
        for _ in range(5):  # until the publisher is up and the subscription is through
            fired = subprocess.run(
                [sys.executable, "-m", "eyespy_live", "shoot", "--endpoint", endpoint],
                capture_output=True, text=True, timeout=60, env=env,
            )  # fmt: skip
            if fired.returncode == 0:
                got = subscriber.receive(timeout_s=15)
                if got is not None:
                    shot = got[0]
                    break
            time.sleep(1)
        subscriber.close()
        session.process.send_signal(signal.SIGINT)
        session.process.wait(30)
    finally:
        if session.process.poll() is None:
            session.process.kill()
    assert fired is not None and "shutter fired" in fired.stdout, fired.stderr
    assert shot is not None and shot["verdict"] == "retake"
    assert shot["source"] == "gphoto2:Nikon DSC D750"
    assert shot["file"] in {p.name for p in saved.iterdir()}  # saved in the session folder


def test_space_in_the_page_fires_the_tethered_camera_and_its_photo_gets_a_banner(
    tmp_path, endpoint, shared_data
):
    from browser import Browser

    card = tmp_path / "card"
    card.mkdir()
    shutil.copyfile(shared_data / "photos" / "dryeye_pair" / "eyes_closed.jpg", card / "a.jpg")
    env = {**os.environ, "VCAMERADIR": str(card)}
    session = Running("--endpoint", endpoint, "--port", "0", "--no-sound", env=env)
    browser = Browser()
    try:
        session.wait_for("ready: camera Nikon DSC D750")
        url = session.wait_for("overlay http://").split("overlay ", 1)[1]
        browser.open(url)
        browser.wait_for("document.getElementById('status').textContent.includes('space: shutter')")
        drawn = None
        for _ in range(3):  # the first shot may go out before the page's server subscribed
            browser.press("Space")
            toast = browser.wait_for(
                "!document.getElementById('toast').hidden && "
                "document.getElementById('toast').textContent"
            )
            assert "shutter fired" in toast, toast
            try:
                drawn = browser.wait_for(
                    "window.eyespy.drawn.length && window.eyespy.drawn[0]", timeout=15
                )
                break
            except TimeoutError:
                continue
        word = browser.evaluate("document.querySelector('.banner .word').textContent")
        session.process.send_signal(signal.SIGINT)
        session.process.wait(30)
    finally:
        browser.close()
        if session.process.poll() is None:
            session.process.kill()
    assert drawn is not None and drawn["verdict"] == "retake" and word == "RETAKE"
    assert drawn["camera"] == "gphoto2:Nikon DSC D750" and drawn["file"].startswith("GPH_")


def test_a_publisher_that_cannot_start_ends_the_session_with_its_own_line(tmp_path, endpoint):
    from eyespy_live.bus.pubsub import Publisher

    taken = Publisher(endpoint)
    try:
        result = subprocess.run(
            [sys.executable, "-m", "eyespy_live", "session", str(tmp_path), "--endpoint",
             endpoint, "--no-overlay", "--no-sound"],
            capture_output=True, text=True, timeout=90, env=no_camera_env(),
        )  # fmt: skip
    finally:
        taken.close()
    assert result.returncode == 2, result.stdout + result.stderr
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith("eyespy session: error: publisher: ") and "--endpoint" in error
    assert "ended after" in result.stdout and "Traceback" not in result.stderr
