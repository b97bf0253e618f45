"""`eyespy live` in its own process, a subscriber here: real video, real model, real socket."""

from __future__ import annotations

import json
import subprocess
import sys

import cv2
import pytest

from eyespy_live.bus.pubsub import Subscriber


def write_clip(path, frames, fps=30.0):
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (width, height))
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


@pytest.fixture(scope="module")
def portrait(shared_data):
    def load(name):
        image = cv2.imread(str(shared_data / "photos" / "dryeye_pair" / name))
        return cv2.resize(image, (640, 427), interpolation=cv2.INTER_AREA)

    return load("eyes_open.jpg"), load("eyes_closed.jpg")


def run_live_and_collect(clip, endpoint, timeout=120):
    subscriber = Subscriber(endpoint)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "eyespy_live",
            "live",
            "--source",
            f"video:{clip}",
            "--realtime",
            "--endpoint",
            endpoint,
            "--json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    received = []
    try:
        while True:
            got = subscriber.receive(timeout_s=timeout)
            assert got is not None, "no event from the publisher in time"
            event, _ = got
            received.append(event)
            if event["type"] == "status" and event["state"] == "stopped":
                break
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()
        subscriber.close()
    assert process.returncode == 0, err
    return received, out


def test_closed_eyes_reach_a_subscriber_as_one_blink(tmp_path, portrait, endpoint):
    opened, closed = portrait
    clip = write_clip(tmp_path / "blink.avi", [opened] * 45 + [closed] * 6 + [opened] * 20)
    received, stdout = run_live_and_collect(clip, endpoint)
    blinks = [e for e in received if e["type"] == "blink" and e["blink"]["kind"] == "blink"]
    assert len(blinks) == 1, [e["type"] for e in received]
    blink = blinks[0]
    assert 44 <= blink["blink"]["first_frame"] <= 47 and 49 <= blink["blink"]["last_frame"] <= 51
    assert blink["face"]["id"] >= 1 and len(blink["face"]["box"]) == 4
    assert all(p >= 0.0 for p in blink["face"]["p_closed"])
    assert blink["capture_ts"] <= blink["publish_ts"]
    # --json prints the same events on stdout
    printed = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    assert any(e["type"] == "blink" and e["seq"] == blink["seq"] for e in printed)
    seqs = [e["seq"] for e in received]
    assert seqs == sorted(seqs)


def test_open_eyes_produce_no_blink(tmp_path, portrait, endpoint):
    opened, _ = portrait
    clip = write_clip(tmp_path / "open.avi", [opened] * 40)
    received, _ = run_live_and_collect(clip, endpoint)
    assert [e for e in received if e["type"] == "blink"] == []
    assert received[-1]["frames"] == 40


def test_the_demo_clip_has_its_two_blinks():
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "eyespy_live",
            "live",
            "--demo",
            "--json",
            "--endpoint",
            "ipc:///tmp/eyespy-test-demo.sock",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    blinks = [e for e in events if e["type"] == "blink" and e["blink"]["kind"] == "blink"]
    assert len(blinks) == 2, result.stderr
