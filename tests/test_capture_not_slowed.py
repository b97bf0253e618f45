"""A stalled MQTT broker behind the bridge, or a relay that is not there, never slows the
camera's frame loop: `eyespy live` on a video at full speed, frames per second compared, as a
ratio, with runs in the same test that have neither (alternated, best of two each)."""

from __future__ import annotations

import os
import signal

import needs
import pytest
from endpoints import free_tcp_endpoint
from mosquitto import Mosquitto
from multi_procs import Proc

MIN_RATIO = 0.75  # two shared cores: generous for noise, far above what blocking would give


def measure(*extra: str, endpoint: str | None = None) -> float:
    """Frames per second between the first and the last heartbeat of one video run."""
    video = needs.shared_data("video", "focus_webcam", "mahie_test_1.avi")
    camera = Proc(
        "live",
        "--source",
        f"video:{video}",
        "--json",
        "--endpoint",
        endpoint or free_tcp_endpoint(),
        "--set",
        "service.status_interval_s=0.2",
        *extra,
    )
    code = camera.process.wait(180)
    camera.stop()
    assert code == 0, camera.errors[-5:]
    beats = [e for e in camera.events if e["type"] == "status" and e["frames"] > 0]
    first, last = beats[0], beats[-1]
    return (last["frames"] - first["frames"]) / (last["uptime_s"] - first["uptime_s"])


@pytest.mark.timeout(600)
def test_a_stalled_broker_or_a_dead_relay_does_not_slow_the_frame_loop(tmp_path):
    broker = Mosquitto(tmp_path)
    endpoint = free_tcp_endpoint()
    bridge = Proc("mqtt", "--endpoint", endpoint, "--broker", broker.url, "--set", "mqtt.name=s")
    try:
        bridge.wait_for(lambda: any("connected" in e for e in bridge.errors), 60, "bridge up")
        os.kill(broker.process.pid, signal.SIGSTOP)  # the broker stops answering
        dead_relay = free_tcp_endpoint()  # nothing listens there
        runs: dict[str, list[float]] = {"plain": [], "bridge": [], "relay": []}
        for _ in range(2):
            runs["plain"].append(measure())
            runs["bridge"].append(measure(endpoint=endpoint))
            runs["relay"].append(measure("--set", "bus.connect=true", endpoint=dead_relay))
    finally:
        os.kill(broker.process.pid, signal.SIGCONT)
        bridge.stop()
        broker.stop()
    plain = max(runs["plain"])
    ratios = {k: max(v) / plain for k, v in runs.items() if k != "plain"}
    print(f"fps: { {k: [round(x) for x in v] for k, v in runs.items()} } ratios {ratios}")
    assert any("received" in line for line in bridge.errors), "the bridge really listened"
    assert received_events(bridge) > 0, "the bridge got events while the broker was stalled"
    for name, ratio in ratios.items():
        assert ratio >= MIN_RATIO, f"{name}: {ratio:.2f} of the frame rate without it"


def received_events(bridge: Proc) -> int:
    for line in bridge.errors:
        if "received " in line:
            return int(line.split("received ")[1].split(",")[0])
    return 0
