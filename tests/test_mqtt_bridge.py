"""`eyespy mqtt` against a real Mosquitto broker: a closed-eyes shot arrives on its topic with
the same payload as on ZeroMQ, Home Assistant discovery is retained, a killed bridge leaves
its last-will, and after a broker restart nothing published later is lost."""

from __future__ import annotations

import json
import os
import shutil
import signal
import time

import needs
import pytest
from endpoints import free_tcp_endpoint
from mosquitto import Mosquitto, Watcher
from multi_procs import Proc

from eyespy_live.bus.pubsub import Publisher

PREFIX = "eyespy/folder_studio"


@pytest.mark.timeout(240)
def test_shot_discovery_last_will_and_broker_restart(tmp_path):
    photos = needs.shared_data("photos", "dryeye_pair")
    broker = Mosquitto(tmp_path)
    hot = tmp_path / "studio"
    hot.mkdir()
    endpoint = free_tcp_endpoint()
    camera = Proc(
        "live",
        "--source",
        f"folder:{hot}",
        "--watch",
        "--endpoint",
        endpoint,
        "--json",
        "--set",
        "service.status_interval_s=0.2",
    )
    bridge_args = [
        "mqtt",
        "--endpoint",
        endpoint,
        "--broker",
        broker.url,
        "--set",
        "mqtt.name=test",
        "--set",
        "mqtt.reconnect_max_s=1",
        "--set",
        "mqtt.keepalive_s=5",
    ]
    bridge = Proc(*bridge_args)
    watcher = Watcher(broker.port, "eyespy/#")
    procs = [camera, bridge]
    try:
        watcher.wait(lambda: watcher.on(f"{PREFIX}/status"), 90, "camera status over MQTT")
        shutil.copy(photos / "eyes_closed.jpg", hot / "IMG_0001.jpg")
        watcher.wait(lambda: watcher.on(f"{PREFIX}/shot"), 60, "the shot over MQTT")
        payload, _ = watcher.on(f"{PREFIX}/shot")[0]
        shot = json.loads(payload)
        assert shot["verdict"] == "retake" and shot["file"] == "IMG_0001.jpg"
        published = [e for e in camera.events if e["type"] == "shot"]
        assert shot == published[0], "the MQTT payload is the ZeroMQ event, unchanged"

        # discovery: a client that connects now still gets it (retained)
        late = Watcher(broker.port, "homeassistant/#")
        late.wait(lambda: len(late.messages) >= 2, 10, "retained discovery")
        configs = {t: (json.loads(p), r) for t, p, r in late.messages}
        late.client.publish("homeassistant/status", "online", qos=1)  # HA restarted
        late.wait(lambda: len(late.messages) >= 5, 10, "discovery sent again")
        late.close()
        retake = configs["homeassistant/binary_sensor/eyespy_folder_studio/retake/config"]
        verdict = configs["homeassistant/sensor/eyespy_folder_studio/last_verdict/config"]
        assert retake[1] and verdict[1], "discovery configs are retained"
        assert retake[0]["state_topic"] == f"{PREFIX}/shot"
        assert retake[0]["device"]["identifiers"] == verdict[0]["device"]["identifiers"]
        assert {"topic": "eyespy/bridge/test/status"} in retake[0]["availability"]
        assert watcher.on("eyespy/bridge/test/status")[-1][0] == b"online"

        # the broker restarts mid-stream
        broker.stop()
        time.sleep(1.0)
        broker.start()
        bridge.wait_for(
            lambda: any("connected again" in e for e in bridge.errors), 30, "bridge reconnect"
        )
        watcher.close()
        watcher = Watcher(broker.port, "eyespy/#")
        back_at = time.time()
        for n in range(2, 5):
            shutil.copy(
                photos / ("eyes_open.jpg" if n % 2 else "eyes_closed.jpg"), hot / f"IMG_000{n}.jpg"
            )
        watcher.wait(lambda: len(watcher.on(f"{PREFIX}/shot")) >= 3, 60, "shots after restart")
        time.sleep(1.0)
        after = [e for e in list(camera.events) if e["publish_ts"] > back_at]
        arrived = {
            json.loads(p)["seq"]
            for topic in (f"{PREFIX}/shot", f"{PREFIX}/status")
            for p, _ in watcher.on(topic)
        }
        lost = [e["seq"] for e in after if e["seq"] not in arrived]
        assert sum(e["type"] == "shot" for e in after) == 3 and len(after) > 5
        assert not lost, f"lost after the broker came back: {lost}"

        # a dead bridge: the broker publishes its last-will
        bridge.kill()
        watcher.wait(
            lambda: watcher.on("eyespy/bridge/test/status")[-1:] == [(b"offline", False)],
            20,
            "last-will",
        )
    finally:
        watcher.close()
        for proc in procs:
            proc.kill()
        broker.stop()


@pytest.mark.timeout(120)
def test_a_clean_stop_says_offline_and_counts_what_was_not_delivered(tmp_path):
    broker = Mosquitto(tmp_path)
    endpoint = free_tcp_endpoint()
    watcher = Watcher(broker.port, "eyespy/bridge/#")
    bridge = Proc("mqtt", "--endpoint", endpoint, "--broker", broker.url, "--set", "mqtt.name=b")
    try:
        watcher.wait(lambda: watcher.on("eyespy/bridge/b/status"), 60, "online")
        assert bridge.stop() == 0
        assert watcher.on("eyespy/bridge/b/status")[-1][0] == b"offline"
        assert any("undelivered 0" in line for line in bridge.errors), bridge.errors[-3:]
    finally:
        watcher.close()
        bridge.kill()
        broker.stop()


@pytest.mark.timeout(120)
def test_what_a_stalled_broker_could_not_take_is_counted_as_undelivered(tmp_path):
    broker = Mosquitto(tmp_path)
    endpoint = free_tcp_endpoint()
    publisher = Publisher(endpoint)
    bridge = Proc(
        "mqtt",
        "--endpoint",
        endpoint,
        "--broker",
        broker.url,
        "--set",
        "mqtt.name=q",
        "--set",
        "mqtt.queue_size=5",
    )
    watcher = Watcher(broker.port, "eyespy/#")
    try:
        watcher.wait(lambda: watcher.on("eyespy/bridge/q/status"), 60, "online")
        bridge.wait_for(lambda: any("connected" in e for e in bridge.errors), 10, "connected")
        heard = [0]

        def probe() -> bool:
            publisher.publish("status", {"state": "probe"}, source="cam", capture_ts=0.0)
            heard[0] = len(watcher.on("eyespy/cam/status"))
            return heard[0] > 0

        watcher.wait(probe, 30, "the bridge hears the camera")
        os.kill(broker.process.pid, signal.SIGSTOP)
        for n in range(60):
            publisher.publish("shot", {"verdict": "keep", "n": n}, source="cam", capture_ts=0.0)
            time.sleep(0.005)
        time.sleep(1.0)
        assert bridge.stop() == 0
    finally:
        os.kill(broker.process.pid, signal.SIGCONT)
        watcher.close()
        publisher.close()
        bridge.kill()
        broker.stop()
    summary = [line for line in bridge.errors if "undelivered" in line][-1]
    undelivered = int(summary.split("undelivered ")[1].split(",")[0])
    assert undelivered >= 50, summary  # at most 5 queued and a few in socket buffers


def test_credentials_on_the_command_line_are_refused():
    bridge = Proc("mqtt", "--broker", "mqtt://user:secret@127.0.0.1:1883", "--timeout", "1")
    assert bridge.finish() == 2
    assert len(bridge.errors) == 1 and "config file" in bridge.errors[0]


def test_a_password_in_a_file_others_can_read_is_pointed_out(tmp_path):
    config = tmp_path / "eyespy.toml"
    config.write_text('[mqtt]\nusername = "eyespy"\npassword = "s3cret"\n')
    config.chmod(0o644)
    bridge = Proc("mqtt", "--config", str(config), "--broker", "tcp://nowhere", "--timeout", "1")
    assert bridge.finish() == 2
    assert "chmod 600" in bridge.errors[0] and "s3cret" not in "\n".join(bridge.errors)
