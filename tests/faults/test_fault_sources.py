"""Sources that raise, hang or hand over garbage: the session goes on and counts them.

A bad frame is skipped and counted in `bad_frames` (it shows in the status heartbeat); a
source that fails ends `run_live` cleanly (source closed, a `stopped` status published) so
the supervisor can open it again; a hanging source is reopened when the supervisor is told
it stalled; and `stop` ends a running loop promptly.
"""

from __future__ import annotations

import itertools
import threading
import time

import cv2
import numpy as np
import pytest
from fault_sources import (
    HangingSource,
    ListSource,
    RaisingSource,
    garbage_frames,
    odd_but_valid_frames,
)

from eyespy_live.bus.pubsub import Publisher
from eyespy_live.config import Config
from eyespy_live.live.run import LiveRun, run_live
from eyespy_live.live.supervisor import RUNNING, Backoff, SourceSupervisor

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def webcam_frames(shared_data):
    """The first 10 frames of a real 640×480 webcam video (one face)."""
    capture = cv2.VideoCapture(str(shared_data / "video/focus_webcam/mahie_test_1.avi"))
    frames = [capture.read()[1] for _ in range(10)]
    capture.release()
    assert all(f is not None and f.shape == (480, 640, 3) for f in frames)
    return frames


@pytest.fixture
def config():
    config = Config()
    config.bus.preview_fps = 30.0  # previews read frame.image too: garbage must not reach them
    config.service.status_interval_s = 0.1
    return config


@pytest.fixture
def publisher(endpoint):
    publisher = Publisher(endpoint)
    yield publisher
    publisher.close()


def test_liverun_counts_garbage_frames_and_keeps_working(config, webcam_frames):
    run = LiveRun(config, lambda *args, **kwargs: None)
    garbage = garbage_frames()
    for seq, image in enumerate(garbage.values()):
        frame = ListSource([image]).frames().__next__()
        frame.seq = seq
        assert run.process(frame) == []
    assert run.stats.bad_frames == len(garbage)

    run.process(next(ListSource(webcam_frames[:1]).frames()))
    assert run.stats.frames == 1 and run.stats.faces == 1, "a good frame after garbage still works"


@pytest.mark.parametrize("kind", list(odd_but_valid_frames(np.zeros((480, 640, 3), np.uint8))))
def test_odd_but_valid_layouts_are_processed_not_rejected(kind, config, webcam_frames):
    image = odd_but_valid_frames(webcam_frames[0])[kind]
    run = LiveRun(config, lambda *args, **kwargs: None)
    run.process(next(ListSource([image]).frames()))
    assert run.stats.bad_frames == 0 and run.stats.frames == 1


def test_run_live_skips_garbage_between_real_frames_and_reports_it(
    config, webcam_frames, publisher
):
    garbage = list(garbage_frames().values())
    mixed = [item for pair in zip(garbage, itertools.cycle(webcam_frames)) for item in pair]
    published = []

    run = run_live(config, ListSource(mixed), publisher, on_event=published.append)

    assert run.stats.bad_frames == len(garbage)
    assert run.stats.frames == len(garbage), "every real frame was processed"
    stopped = published[-1]
    assert stopped["type"] == "status" and stopped["state"] == "stopped"
    assert stopped["bad_frames"] == len(garbage)


def test_a_source_that_raises_ends_run_live_cleanly_for_the_supervisor(
    config, webcam_frames, publisher
):
    source = RaisingSource(webcam_frames[:3])
    published = []

    with pytest.raises(OSError, match="camera unplugged"):
        run_live(config, source, publisher, on_event=published.append)

    assert source.closed.is_set()
    assert published[-1]["state"] == "stopped" and published[-1]["frames"] == 3


def test_the_supervisor_reopens_a_source_that_keeps_raising(config, webcam_frames, publisher):
    opened = []

    def open_source():
        opened.append(RaisingSource(webcam_frames[:2]))
        return opened[-1]

    supervisor = SourceSupervisor(
        open_source,
        lambda source, stop: run_live(config, source, publisher, stop=stop),
        backoff=Backoff(initial_s=0.05, maximum_s=0.1),
    )
    supervisor.start()
    try:
        deadline = time.monotonic() + 30
        while supervisor.restarts < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        assert supervisor.stop(timeout_s=10)
    assert supervisor.restarts >= 3
    assert "camera unplugged" in (supervisor.last_error or "")
    assert all(source.closed.is_set() for source in opened)


def test_the_supervisor_reopens_a_hanging_source_when_it_stalls(config, webcam_frames, publisher):
    opened = []
    frames_done = []

    def open_source():
        opened.append(HangingSource(webcam_frames[:2]))
        return opened[-1]

    def run(source, stop):
        run_live(config, source, publisher, stop=stop, on_frame=lambda: frames_done.append(1))

    supervisor = SourceSupervisor(open_source, run, backoff=Backoff(initial_s=0.05))
    supervisor.start()
    try:
        deadline = time.monotonic() + 30
        while len(frames_done) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert supervisor.state == RUNNING and len(opened) == 1, "hung after its frames"

        supervisor.restart_stalled("no frame for 5 s")
        while len(frames_done) < 4 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        assert supervisor.stop(timeout_s=10)
    assert len(opened) >= 2 and len(frames_done) >= 4, "a fresh source delivered frames again"
    assert opened[0].closed.is_set()
    assert supervisor.restarts >= 1 and "no frame" in (supervisor.last_error or "")


def test_run_live_returns_promptly_when_stopped(config, webcam_frames, publisher):
    stop = threading.Event()
    source = ListSource(itertools.cycle(webcam_frames))  # type: ignore[arg-type]
    frames = []
    worker = threading.Thread(
        target=run_live,
        args=(config, source, publisher),
        kwargs={"stop": stop, "on_frame": lambda: frames.append(1)},
        daemon=True,
    )
    worker.start()
    deadline = time.monotonic() + 30
    while len(frames) < 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    stop.set()
    asked = time.monotonic()
    worker.join(timeout=10)
    assert not worker.is_alive() and len(frames) >= 5
    assert time.monotonic() - asked < 5.0, "a stop ends the loop within a frame or two"
    assert source.closed.is_set()
