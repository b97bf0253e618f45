"""Pieces of the service that need no process: back-off, the notify protocol, supervision."""

from __future__ import annotations

import os
import socket
import tempfile
import threading
import time

from eyespy_live.live.sdnotify import Notifier, socket_address, watchdog_interval
from eyespy_live.live.supervisor import ENDED, RUNNING, STOPPED, Backoff, SourceSupervisor
from eyespy_live.sources.video import DemoSource


def test_backoff_doubles_to_a_cap_and_resets_after_a_good_run():
    backoff = Backoff(initial_s=1, maximum_s=20, reset_after_s=30)
    assert [backoff.delay(ran_for_s=0.5) for _ in range(7)] == [1, 2, 4, 8, 16, 20, 20]
    assert backoff.delay(ran_for_s=45) == 1, "a run that went well starts the ladder again"
    assert backoff.delay(ran_for_s=2) == 2


def test_watchdog_interval_comes_from_watchdog_usec_for_this_process_only():
    assert watchdog_interval({"WATCHDOG_USEC": "30000000"}) == 30.0
    assert watchdog_interval({}) is None
    assert watchdog_interval({"WATCHDOG_USEC": "0"}) is None
    assert watchdog_interval({"WATCHDOG_USEC": "5000000", "WATCHDOG_PID": str(os.getpid())}) == 5.0
    assert watchdog_interval({"WATCHDOG_USEC": "5000000", "WATCHDOG_PID": "1"}, pid=42) is None


def test_notify_addresses_include_abstract_sockets():
    assert socket_address({"NOTIFY_SOCKET": "/run/systemd/notify"}) == "/run/systemd/notify"
    assert socket_address({"NOTIFY_SOCKET": "@/org/freedesktop/systemd1/notify"}).startswith("\0")
    assert socket_address({}) is None


def test_notifier_sends_datagrams_and_is_a_no_op_outside_systemd():
    folder = tempfile.mkdtemp(dir="/tmp")
    path = os.path.join(folder, "n")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as listener:
        listener.bind(path)
        listener.settimeout(5)
        notifier = Notifier({"NOTIFY_SOCKET": path})
        assert notifier.ready("warming\nup")
        assert listener.recv(1024) == b"READY=1\nSTATUS=warming\nup"
        assert notifier.status("two\nlines")
        assert listener.recv(1024) == b"STATUS=two lines"
        notifier.close()
    os.unlink(path)
    os.rmdir(folder)
    outside = Notifier({})
    assert not outside.enabled and not outside.watchdog()


def test_a_source_that_ends_by_design_is_not_restarted():
    frames: list[int] = []

    def run(source, stop):
        frames.extend(frame.seq for frame in source.frames())

    sup = SourceSupervisor(DemoSource, run, expected_end=True)
    sup.start()
    deadline = time.monotonic() + 30
    while not sup.finished and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sup.state == ENDED and sup.restarts == 0
    assert frames and frames == list(range(len(frames)))


def test_stop_closes_a_running_source_promptly():
    running = threading.Event()

    def run(source, stop):
        for _ in source.frames():
            running.set()

    sup = SourceSupervisor(lambda: DemoSource(realtime=True, loop=True), run)
    sup.start()
    assert running.wait(30)
    assert sup.state == RUNNING
    started = time.monotonic()
    assert sup.stop(timeout_s=5)
    assert time.monotonic() - started < 1.0
    assert sup.state == STOPPED and sup.restarts == 0


def test_which_sources_may_end_and_which_options_they_get():
    from eyespy_live.config import load
    from eyespy_live.live.service import end_is_expected, source_options

    def cfg(spec: str, **source: object):
        return load(None, {"source.spec": spec, **{f"source.{k}": v for k, v in source.items()}})

    assert end_is_expected(cfg("video:clip.mp4")) and end_is_expected(cfg("clip.mp4"))
    assert not end_is_expected(cfg("demo", loop=True))
    assert end_is_expected(cfg("folder:/srv/x")) and not end_is_expected(
        cfg("folder:/x", watch=True)
    )
    for camera in ("gphoto2", "gphoto2:Nikon", "webcam:0", "0"):
        assert not end_is_expected(cfg(camera)), f"{camera} ending is a failure to restart"
    assert source_options(cfg("gphoto2", save_dir="/var/lib/eyespy")) == {
        "save_dir": "/var/lib/eyespy"
    }
    assert source_options(cfg("webcam:0")) == {}
