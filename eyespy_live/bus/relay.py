"""`eyespy relay`: one address where many cameras and many listeners meet.

ZeroMQ's own XSUB/XPUB proxy does the forwarding (in C, in its own thread, with the GIL
released): publishers connect to the frontend (`bus.connect = true`) or the relay connects
to publishers that bind as usual (`upstreams`); subscribers connect to the backend.
Subscriptions travel upstream, so a publisher still filters at the source.

The proxy is steerable: a control socket stops it cleanly and answers STATISTICS, and a
capture socket copies every message to a monitor thread that counts what was relayed and
tracks each publisher's seq (gaps between a camera and the relay are drops the relay saw).
The capture is a PUB socket, so a monitor that falls behind loses copies, never slows the
proxy. The relay's own status heartbeat is an ordinary event from its own publisher, which
joins the frontend over inproc and so reaches every subscriber like any camera's.

Drops *after* the relay (a slow subscriber at the backend's high-water mark) are invisible
here; each subscriber sees them as seq gaps in its own stream tracker.
"""

from __future__ import annotations

import logging
import re
import struct
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import zmq
import zmq.auth
from zmq.auth.thread import ThreadAuthenticator

from eyespy_live import events
from eyespy_live.bus.curve import read_keys, server_socket_options
from eyespy_live.bus.pubsub import EndpointError, Publisher, is_local_endpoint
from eyespy_live.bus.streams import StreamTracker
from eyespy_live.config import ConfigError, RelayConfig

log = logging.getLogger("eyespy.relay")

# A seq and publisher near the start of an event, as events.encode writes them.
_HEAD = re.compile(rb'"seq":(\d+),"publisher":"([^"]*)","source":"((?:[^"\\]|\\.)*)"')


@dataclass
class RelayCounters:
    """What the monitor thread has seen; read under the relay's lock."""

    relayed: int = 0  # event messages forwarded from publishers to subscribers
    relayed_bytes: int = 0
    invalid: int = 0  # messages that are not eyespy events (forwarded all the same)
    subscription_changes: int = 0
    tracker: StreamTracker = field(default_factory=StreamTracker)


def _peek(parts: list[bytes]) -> dict[str, Any] | None:
    """publisher, seq, source and type of an event message, without a full JSON parse."""
    if len(parts) < 2:
        return None
    head = _HEAD.search(parts[1], 0, 400)
    if head is not None:
        return {
            "type": parts[0].decode(errors="replace"),
            "seq": int(head.group(1)),
            "publisher": head.group(2).decode(errors="replace"),
            "source": head.group(3).decode(errors="replace"),
        }
    try:  # a publisher that orders its keys differently
        event, _ = events.decode(parts)
    except events.EventError:
        return None
    return event


class Relay:
    """Binds the sockets on creation (errors are the user's to fix); `run` forwards."""

    def __init__(
        self,
        config: RelayConfig,
        *,
        upstreams: list[str] | tuple[str, ...] = (),
        name: str = "relay",
        context: zmq.Context | None = None,
    ):
        self.config = config
        self.name = name
        self.upstreams = list(upstreams)
        self.context = context or zmq.Context.instance()
        self.counters = RelayCounters()
        self._lock = threading.Lock()
        self._started = time.monotonic()
        self._auth: ThreadAuthenticator | None = None
        self._sockets: list[zmq.Socket] = []
        tag = uuid.uuid4().hex[:8]
        self._inproc_front = f"inproc://eyespy-relay-front-{tag}"
        self._inproc_capture = f"inproc://eyespy-relay-capture-{tag}"
        self._inproc_control = f"inproc://eyespy-relay-control-{tag}"
        try:
            self._open()
        except Exception:
            self.close()
            raise
        self._proxy = threading.Thread(target=self._run_proxy, name="relay-proxy", daemon=True)
        self._monitor = threading.Thread(
            target=self._run_monitor, name="relay-monitor", daemon=True
        )
        self._stop_monitor = threading.Event()

    # ----------------------------------------------------------------- setup ---------
    def _socket(self, kind: int) -> zmq.Socket:
        sock = self.context.socket(kind)
        sock.setsockopt(zmq.LINGER, 0)
        self._sockets.append(sock)
        return sock

    def _bind(self, sock: zmq.Socket, endpoint: str, what: str) -> None:
        if not self.config.allow_remote and not is_local_endpoint(endpoint):
            raise EndpointError(
                f"relay {what} {endpoint} is reachable from the network; bind to 127.0.0.1 "
                "or ipc://, or set allow_remote = true in [relay] (with CURVE keys)"
            )
        if endpoint.startswith("ipc://"):
            Path(endpoint[len("ipc://") :]).parent.mkdir(parents=True, exist_ok=True)
        try:
            sock.bind(endpoint)
        except zmq.ZMQError as exc:
            raise EndpointError(f"relay {what}: cannot bind {endpoint}: {exc}") from exc

    def _open(self) -> None:
        cfg = self.config
        server_options: list[tuple[int, Any]] = []
        if cfg.curve_secret_key_file:
            server_options = server_socket_options(cfg.curve_secret_key_file)
            authorized = Path(cfg.curve_authorized_keys_dir)
            if not authorized.is_dir() or not zmq.auth.load_certificates(authorized):
                raise ConfigError(
                    [f"relay.curve_authorized_keys_dir: no public keys (*.key) in {authorized}"]
                )
            # before any bind: with CURVE and no ZAP handler libzmq admits every key
            self._auth = ThreadAuthenticator(self.context)
            self._auth.start()
            self._auth.configure_curve(domain="*", location=str(authorized))
        hwm = cfg.high_water_mark
        self.frontend = self._socket(zmq.XSUB)
        self.frontend.setsockopt(zmq.RCVHWM, hwm)
        for option, value in server_options:
            self.frontend.setsockopt(option, value)
        if cfg.frontend:
            self._bind(self.frontend, cfg.frontend, "frontend")
        self.frontend.bind(self._inproc_front)  # the relay's own heartbeat joins here
        if self.upstreams:
            if cfg.upstream_server_key_file:
                # connect as a CURVE client: options set now apply to the connects below
                upstream_key, _ = read_keys(cfg.upstream_server_key_file, need_secret=False)
                public, secret = read_keys(cfg.curve_secret_key_file, need_secret=True)
                self.frontend.setsockopt(zmq.CURVE_SERVERKEY, upstream_key)
                self.frontend.setsockopt(zmq.CURVE_PUBLICKEY, public)
                self.frontend.setsockopt(zmq.CURVE_SECRETKEY, secret)
            for endpoint in self.upstreams:
                try:
                    is_local_endpoint(endpoint)  # checks the scheme
                    self.frontend.connect(endpoint)
                except zmq.ZMQError as exc:
                    raise EndpointError(f"relay upstream {endpoint}: {exc}") from exc
        self.backend = self._socket(zmq.XPUB)
        self.backend.setsockopt(zmq.SNDHWM, hwm)
        for option, value in server_options:
            self.backend.setsockopt(option, value)
        self._bind(self.backend, cfg.backend, "backend")
        self._capture = self._socket(zmq.PUB)
        self._capture.setsockopt(zmq.SNDHWM, 100_000)
        self._capture.bind(self._inproc_capture)
        self._capture_in = self._socket(zmq.SUB)
        self._capture_in.setsockopt(zmq.RCVHWM, 100_000)
        self._capture_in.setsockopt(zmq.SUBSCRIBE, b"")
        self._capture_in.connect(self._inproc_capture)
        self._control = self._socket(zmq.REP)
        self._control.bind(self._inproc_control)
        self._steer = self._socket(zmq.REQ)
        self._steer.setsockopt(zmq.RCVTIMEO, 2000)
        self._steer.connect(self._inproc_control)
        self.status_publisher = Publisher(self._inproc_front, connect=True, context=self.context)

    # ----------------------------------------------------------------- threads -------
    def _run_proxy(self) -> None:
        try:
            zmq.proxy_steerable(self.frontend, self.backend, self._capture, self._control)
        except zmq.ContextTerminated:
            pass
        except zmq.ZMQError as exc:  # pragma: no cover - libzmq failure
            log.error("relay proxy stopped: %s", exc)

    def _run_monitor(self) -> None:
        own = self.status_publisher.instance
        poller = zmq.Poller()
        poller.register(self._capture_in, zmq.POLLIN)
        while not self._stop_monitor.is_set():
            if not poller.poll(200):
                continue
            while True:
                try:
                    parts = self._capture_in.recv_multipart(zmq.NOBLOCK)
                except zmq.Again:
                    break
                self._count(parts, own)

    def _count(self, parts: list[bytes], own: str) -> None:
        if len(parts) == 1 and parts[0][:1] in (b"\x00", b"\x01"):
            with self._lock:
                self.counters.subscription_changes += 1
            return
        head = _peek(parts)
        with self._lock:
            c = self.counters
            if head is None:
                c.invalid += 1
                return
            if head["publisher"] == own:
                return
            c.relayed += 1
            c.relayed_bytes += sum(len(p) for p in parts)
            seen = c.tracker.see(head)
        if seen.gap:
            log.warning("%d event(s) from %s lost before the relay", seen.gap, seen.stream.source)
        elif seen.restart:
            log.info("%s restarted (publisher %s)", seen.stream.source, head["publisher"])
        elif seen.new_publisher:
            log.info("new publisher %s: %s", head["publisher"], seen.stream.source)

    # ----------------------------------------------------------------- public --------
    def start(self) -> None:
        self._monitor.start()
        self._proxy.start()

    def proxy_statistics(self) -> dict[str, int]:
        """libzmq's own counters (message *frames* and bytes), from the control socket."""
        try:
            self._steer.send(b"STATISTICS")
            parts = self._steer.recv_multipart()
        except zmq.ZMQError:
            return {}
        names = (
            "frontend_frames_in",
            "frontend_bytes_in",
            "frontend_frames_out",
            "frontend_bytes_out",
            "backend_frames_in",
            "backend_bytes_in",
            "backend_frames_out",
            "backend_bytes_out",
        )
        return {n: struct.unpack("<Q", p)[0] for n, p in zip(names, parts, strict=False)}

    def status_body(self, state: str = "running") -> dict[str, Any]:
        now = time.monotonic()
        with self._lock:
            c = self.counters
            streams = [
                {
                    "source": s.source,
                    "publisher": s.publisher,
                    "received": s.received,
                    "dropped": s.dropped,
                    "restarts": s.restarts,
                    "last_seen_s": round(now - s.last_seen, 1),
                }
                for s in sorted(c.tracker.streams.values(), key=lambda s: s.source)
            ]
            body = {
                "state": state,
                "role": "relay",
                "uptime_s": round(now - self._started, 1),
                "publishers_seen": c.tracker.publishers,
                "sources": streams,
                "relayed": c.relayed,
                "relayed_bytes": c.relayed_bytes,
                "dropped": c.tracker.dropped,
                "invalid": c.invalid,
            }
        stats = self.proxy_statistics() if state == "running" else {}
        if stats:
            body["proxy_frames_in"] = stats["frontend_frames_in"]
            body["proxy_frames_out"] = stats["backend_frames_out"]
        return body

    def heartbeat(self, state: str = "running") -> dict[str, Any]:
        return self.status_publisher.publish(
            "status", self.status_body(state), source=self.name, capture_ts=time.time()
        )

    def run(self, stop: threading.Event, on_tick=None) -> None:
        """Forward until `stop` is set, with a status heartbeat every status_interval_s.

        `on_tick(body)` is called at least once a second (body: the heartbeat just sent, or
        None), while the proxy thread is alive: the systemd watchdog is petted there.
        """
        self.start()
        interval = self.config.status_interval_s
        self.heartbeat("starting")
        next_beat = time.monotonic() + interval
        while not stop.wait(min(interval, 1.0)):
            if not self._proxy.is_alive():
                raise RuntimeError("the relay's proxy thread stopped")
            body = None
            if time.monotonic() >= next_beat:
                next_beat += interval
                body = self.status_body()
                self.status_publisher.publish(
                    "status", body, source=self.name, capture_ts=time.time()
                )
            if on_tick is not None:
                on_tick(body)
        self.heartbeat("stopped")
        time.sleep(0.05)  # let the last heartbeat through the proxy

    def close(self) -> None:
        if getattr(self, "_proxy", None) is not None and self._proxy.is_alive():
            try:
                self._steer.send(b"TERMINATE")
                self._steer.recv()
            except zmq.ZMQError:
                pass
            self._proxy.join(2.0)
        if getattr(self, "_monitor", None) is not None and self._monitor.is_alive():
            self._stop_monitor.set()
            self._monitor.join(2.0)
        publisher = getattr(self, "status_publisher", None)
        if publisher is not None:
            publisher.close()
        for sock in self._sockets:
            sock.close(0)
        self._sockets.clear()
        if self._auth is not None:
            self._auth.stop()
            self._auth = None
