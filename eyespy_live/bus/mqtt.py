"""`eyespy mqtt`: the event stream, bridged to an MQTT broker (Home Assistant, Node-RED).

The bridge is one more subscriber process: it never shares a loop with a camera, so a slow
or absent broker can cost it messages but never the capture a frame. paho-mqtt (the
optional `[mqtt]` extra) runs the network in its own thread, reconnects with back-off, and
holds QoS 1 messages while the broker is away (up to `mqtt.queue_size`; beyond that they are
counted as undelivered). Every message is counted: handed to paho, acknowledged by the
broker (PUBACK), or undelivered (queue full, refused, or still unacknowledged at exit).

Topics, QoS and retain (see docs/multi-camera.md):
  <prefix>/<camera>/blink   QoS 1, not retained  a moment; stale blinks mean nothing
  <prefix>/<camera>/shot    QoS 1, retained      the last verdict is state (HA sensors)
  <prefix>/<camera>/status  QoS 1, retained      the camera's latest heartbeat
  <prefix>/bridge/<name>/status  online/offline, QoS 1, retained; offline is the last-will
  <prefix>/bridge/<name>/stats   the bridge's counters, QoS 1, retained
Payloads are the event JSON exactly as on the ZeroMQ stream (same schema); previews and
thumbnail bytes are not bridged.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

from eyespy_live import events
from eyespy_live.bus.homeassistant import Topics, discovery_messages
from eyespy_live.bus.pubsub import Subscriber
from eyespy_live.config import MqttConfig

log = logging.getLogger("eyespy.mqtt")

# event type -> (QoS, retain)
ROUTES: dict[str, tuple[int, bool]] = {"blink": (1, False), "shot": (1, True), "status": (1, True)}


class MqttError(ValueError):
    """A broker address or setting the user has to fix (one line, no traceback)."""


def _paho():
    try:
        import paho.mqtt.client as mqtt
    except ImportError:
        raise MqttError(
            "the MQTT bridge needs paho-mqtt: pip install 'eyespy-live[mqtt]'"
        ) from None
    return mqtt


@dataclass(frozen=True)
class Broker:
    host: str
    port: int
    tls: bool


def parse_broker(url: str) -> Broker:
    """mqtt://host[:port] or mqtts://host[:port]; credentials belong in the config file."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts"):
        raise MqttError(f"broker {url!r}: expected mqtt://HOST[:PORT] or mqtts://HOST[:PORT]")
    if parts.username or parts.password:
        raise MqttError(
            f"broker {parts.hostname}: no user or password in the URL (it would show in "
            "`ps` and shell history); set mqtt.username / mqtt.password in the config file"
        )
    if not parts.hostname or parts.path not in ("", "/") or parts.query:
        raise MqttError(f"broker {url!r}: expected mqtt://HOST[:PORT] and nothing more")
    try:
        port = parts.port or (8883 if parts.scheme == "mqtts" else 1883)
    except ValueError:
        raise MqttError(f"broker {url!r}: the port is not a number") from None
    return Broker(parts.hostname, port, parts.scheme == "mqtts")


@dataclass
class BridgeCounters:
    received: int = 0  # events from the ZeroMQ stream
    forwarded: int = 0  # handed to the MQTT client
    delivered: int = 0  # acknowledged by the broker
    undelivered: int = 0  # queue full, refused, or unacknowledged at exit
    skipped: int = 0  # previews: not bridged
    connects: int = 0
    disconnects: int = 0


class MqttBridge:
    """Forwards events from `subscriber` to the broker; `run` until stopped."""

    def __init__(
        self,
        config: MqttConfig,
        subscriber: Subscriber,
        *,
        broker: Broker,
        log_line: Callable[[str], None] | None = None,
    ):
        mqtt = _paho()
        self.config = config
        self.broker = broker
        self.subscriber = subscriber
        name = config.name or socket.gethostname()
        self.topics = Topics(config.topic_prefix, config.discovery_prefix, name)
        self.counters = BridgeCounters()
        self.say = log_line or log.info
        self._lock = threading.Lock()
        self._pending: set[int] = set()
        self._acked_early: set[int] = set()
        self._sources: dict[str, dict[str, Any] | None] = {}  # source -> latest status
        self.connected = threading.Event()
        client_id = config.client_id or f"eyespy-{name}"[:64]
        self.client = mqtt.Client(
            callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=mqtt.MQTTv311,
            clean_session=True,
        )
        self.client.will_set(self.topics.availability, "offline", qos=1, retain=True)
        if config.username:
            self.client.username_pw_set(config.username, config.password or None)
        if broker.tls or config.tls_ca_file or config.tls_cert_file:
            self.client.tls_set(
                ca_certs=config.tls_ca_file or None,
                certfile=config.tls_cert_file or None,
                keyfile=config.tls_key_file or None,
            )
        self.client.max_queued_messages_set(config.queue_size)
        self.client.reconnect_delay_set(1, max(1, int(config.reconnect_max_s)))
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_publish = self._on_publish
        self.client.on_message = self._on_message

    # ------------------------------------------------------------ paho callbacks -----
    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            self.say(f"broker {self.broker.host}:{self.broker.port} refused: {reason_code}")
            return
        self.counters.connects += 1
        again = " again" if self.counters.connects > 1 else ""
        self.say(f"connected{again} to {self.broker.host}:{self.broker.port}")
        client.publish(self.topics.availability, "online", qos=1, retain=True)
        if self.config.discovery:
            client.subscribe(self.topics.homeassistant_status, qos=1)
        # a restarted broker without persistence has forgotten the retained state
        for source, status in list(self._sources.items()):
            self._announce(source)
            if status is not None:
                client.publish(
                    self.topics.event(source, "status"), _payload(status), qos=1, retain=True
                )
        self.connected.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        if self.connected.is_set():
            self.counters.disconnects += 1
            self.say(f"lost the broker ({reason_code}); reconnecting, holding messages")
        self.connected.clear()

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:
        with self._lock:
            if mid in self._pending:
                self._pending.discard(mid)
                if reason_code.is_failure:
                    self.counters.undelivered += 1
                else:
                    self.counters.delivered += 1
            else:
                self._acked_early.add(mid)

    def _on_message(self, client, userdata, message) -> None:
        if message.topic == self.topics.homeassistant_status and message.payload == b"online":
            for source in list(self._sources):
                self._announce(source)  # Home Assistant restarted: tell it again

    # ------------------------------------------------------------ forwarding ---------
    def _announce(self, source: str) -> None:
        if not self.config.discovery:
            return
        for topic, payload in discovery_messages(self.topics, source):
            self.client.publish(topic, json.dumps(payload), qos=1, retain=True)

    def handle(self, event: dict[str, Any]) -> None:
        """Forward one event; never waits for the broker."""
        self.counters.received += 1
        route = ROUTES.get(event.get("type", ""))
        if route is None:
            self.counters.skipped += 1
            return
        source = str(event.get("source") or event.get("publisher"))
        if source not in self._sources:
            self._sources[source] = None
            self._announce(source)
        if event["type"] == "status":
            self._sources[source] = event
        qos, retain = route
        info = self.client.publish(
            self.topics.event(source, event["type"]), _payload(event), qos=qos, retain=retain
        )
        self._track(info)

    def _track(self, info) -> None:
        mqtt = _paho()
        with self._lock:
            if info.rc == mqtt.MQTT_ERR_QUEUE_SIZE:
                self.counters.undelivered += 1
                return
            self.counters.forwarded += 1
            if info.mid in self._acked_early:
                self._acked_early.discard(info.mid)
                self.counters.delivered += 1
            else:
                self._pending.add(info.mid)

    def stats(self) -> dict[str, Any]:
        with self._lock:
            body = asdict(self.counters)
            body["pending"] = len(self._pending)
        body["connected"] = self.connected.is_set()
        body["stream_dropped"] = self.subscriber.seq.dropped
        body["cameras"] = sorted(self._sources)
        return body

    def run(self, *, stop: threading.Event, timeout_s: float = 0.0) -> int:
        """Forward until `stop` is set or `timeout_s` passes (0: no limit)."""
        self.client.connect_async(
            self.broker.host, self.broker.port, keepalive=int(self.config.keepalive_s)
        )
        self.client.loop_start()
        end = time.monotonic() + timeout_s if timeout_s > 0 else None
        next_stats = time.monotonic() + self.config.stats_interval_s
        self.say(
            f"bridging {self.subscriber.endpoint} to {self.broker.host}:{self.broker.port} "
            f"under {self.topics.prefix}/"
        )
        try:
            while not stop.is_set() and (end is None or time.monotonic() < end):
                got = self.subscriber.receive(timeout_s=0.2)
                if got is not None:
                    self.handle(got[0])
                if time.monotonic() >= next_stats:
                    next_stats = time.monotonic() + self.config.stats_interval_s
                    self._publish_stats()
        except KeyboardInterrupt:
            pass
        finally:
            self._finish()
        return 0

    def _publish_stats(self) -> None:
        self.client.publish(self.topics.stats, json.dumps(self.stats()), qos=1, retain=True)

    def _finish(self) -> None:
        """A clean stop says offline itself (the will is for crashes), then counts leftovers."""
        if self.connected.is_set():
            self._publish_stats()
            done = self.client.publish(self.topics.availability, "offline", qos=1, retain=True)
            end = time.monotonic() + 3.0
            while time.monotonic() < end and (self._pending or not done.is_published()):
                time.sleep(0.02)
        with self._lock:
            self.counters.undelivered += len(self._pending)
            self._pending.clear()
        self.client.disconnect()
        self.client.loop_stop()
        c = self.counters
        self.say(
            f"received {c.received}, forwarded {c.forwarded}, delivered {c.delivered}, "
            f"undelivered {c.undelivered}, previews skipped {c.skipped}, "
            f"stream dropped {self.subscriber.seq.dropped}"
        )


def _payload(event: dict[str, Any]) -> bytes:
    return events.encode(event)[1]
