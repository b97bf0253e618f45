"""A subscriber that never reads must not slow the capture loop down.

The same live loop (real 640×480 webcam frames, BlazeFace, the eye model, previews and
heartbeats published) runs with no subscriber and with a stuck one whose queue is already
full. Runs alternate and the best of each is compared, so a busy machine cannot fake a
slowdown; a publisher that blocked would stall the loop outright (and the test time out).
"""

from __future__ import annotations

import time

import cv2
import pytest
from endpoints import free_tcp_endpoint
from fault_sources import ListSource

from eyespy_live.bus.pubsub import Publisher
from eyespy_live.config import Config
from eyespy_live.live.run import run_live

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def frames(shared_data):
    capture = cv2.VideoCapture(str(shared_data / "video/focus_webcam/mahie_test_1.avi"))
    frames = [capture.read()[1] for _ in range(60)]
    capture.release()
    return frames


def loop_fps(publisher: Publisher, frames: list) -> float:
    config = Config()
    config.bus.preview_fps = 30.0
    config.service.status_interval_s = 0.1
    started = time.perf_counter()
    run = run_live(config, ListSource(frames), publisher)
    assert run.stats.frames == len(frames)
    return len(frames) / (time.perf_counter() - started)


def test_a_stuck_subscriber_does_not_slow_the_live_loop(frames, endpoint, peers):
    alone = Publisher(free_tcp_endpoint())  # same transport, nobody connected
    watched = Publisher(endpoint, high_water_mark=10)
    try:
        stuck = peers("stuck", endpoint)
        while stuck.next_line(timeout_s=0.02) is None:
            watched.publish("status", {"state": "probe"}, source="test", capture_ts=0.0)
        for number in range(3000):  # fill its queue and the socket buffers first
            watched.publish("preview", {"frame": number}, source="t", capture_ts=0.0,
                            attachment=bytes(4096))  # fmt: skip

        fps_alone, fps_stuck = [], []
        for _ in range(3):
            fps_alone.append(loop_fps(alone, frames))
            fps_stuck.append(loop_fps(watched, frames))

        stuck.tell("read now")
        summary = None
        while summary is None:
            watched.publish("status", {"state": "end"}, source="test", capture_ts=0.0)
            summary = stuck.next_line(timeout_s=0.05)
    finally:
        alone.close()
        watched.close()

    print(f"live loop fps alone {max(fps_alone):.1f}, with a stuck subscriber {max(fps_stuck):.1f}")
    assert max(fps_stuck) >= 0.5 * max(fps_alone), (fps_alone, fps_stuck)
    assert summary["dropped"] > 0, "what the stuck subscriber missed shows as seq gaps"
