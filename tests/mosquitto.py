"""A real Mosquitto broker on a free localhost port, and a small MQTT watcher for tests."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from pathlib import Path

import needs


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mosquitto:
    """`mosquitto -c FILE` listening on 127.0.0.1:port; restartable on the same port."""

    def __init__(self, folder: Path, port: int | None = None):
        needs.module("paho", "pip install 'eyespy-live[mqtt]'")
        self.binary = needs.tool("mosquitto", "apt-get install mosquitto")
        self.port = port or free_port()
        self.config = folder / "mosquitto.conf"
        self.config.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
            "log_dest stderr\n"
        )
        self.log = folder / "mosquitto.log"
        self.process: subprocess.Popen | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                [self.binary, "-c", str(self.config)], stdout=log, stderr=log
            )
        end = time.monotonic() + 10
        while time.monotonic() < end:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"mosquitto did not listen on {self.port}: {self.log.read_text()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


class Watcher:
    """An MQTT client that keeps every message it receives: (topic, payload, retain)."""

    def __init__(self, port: int, *topics: str):
        import paho.mqtt.client as mqtt

        self.messages: list[tuple[str, bytes, bool]] = []
        self.lock = threading.Lock()
        self.subscribed = threading.Event()
        self.client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2)
        self.client.on_message = self._message
        self.client.on_subscribe = lambda *a: self.subscribed.set()
        self.client.connect("127.0.0.1", port, keepalive=10)
        self.client.subscribe([(t, 1) for t in topics])
        self.client.loop_start()
        assert self.subscribed.wait(10), "the watcher could not subscribe"

    def _message(self, client, userdata, message) -> None:
        with self.lock:
            self.messages.append((message.topic, bytes(message.payload), bool(message.retain)))

    def on(self, topic: str) -> list[tuple[bytes, bool]]:
        with self.lock:
            return [(p, r) for t, p, r in self.messages if t == topic]

    def wait(self, test, timeout_s: float, what: str) -> None:
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            if test():
                return
            time.sleep(0.05)
        with self.lock:
            topics = sorted({t for t, _, _ in self.messages})
        raise AssertionError(f"{what}: not within {timeout_s:.0f} s; topics seen: {topics}")

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()
