"""ZeroMQ PUB/SUB helpers: the publisher that numbers events, and a reconnecting subscriber.

PUB never blocks: when a subscriber falls behind, messages beyond the high-water mark are
dropped and the seq numbers show the gap. Subscribers live in their own processes.
"""

from __future__ import annotations

import ipaddress
import os
import time
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import zmq

from eyespy_live import events
from eyespy_live.bus.streams import Seen, StreamTracker

DEFAULT_ENDPOINT = "tcp://127.0.0.1:5557"


class EndpointError(ValueError):
    pass


def check_endpoint(endpoint: str) -> None:
    """EndpointError for an endpoint ZeroMQ would misread: a port outside 1..65535 (libzmq
    takes 99999 modulo 65536 and binds another port), brackets around an IPv4 address."""
    if endpoint.startswith(("ipc://", "inproc://")):
        return
    if not endpoint.startswith("tcp://"):
        raise EndpointError(f"endpoint must start with tcp://, ipc:// or inproc://: {endpoint}")
    host, sep, port = endpoint[len("tcp://") :].rpartition(":")
    if not sep or not host:
        raise EndpointError(f"{endpoint}: expected tcp://HOST:PORT, e.g. tcp://127.0.0.1:5557")
    if port != "*" and not (port.isdigit() and 1 <= int(port) <= 65535):
        raise EndpointError(f"{endpoint}: the port must be a number from 1 to 65535 (or *)")
    if host.startswith("[") or host.endswith("]"):
        try:
            ipaddress.IPv6Address(host.removeprefix("[").removesuffix("]"))
        except ValueError:
            raise EndpointError(
                f"{endpoint}: brackets are only for IPv6 addresses; write "
                f"tcp://{host.strip('[]')}:{port}"
            ) from None


def is_local_endpoint(endpoint: str) -> bool:
    """True when binding `endpoint` cannot be reached from another machine."""
    check_endpoint(endpoint)
    if endpoint.startswith(("ipc://", "inproc://")):
        return True
    host = endpoint[len("tcp://") :].rpartition(":")[0].removeprefix("[").removesuffix("]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # "*", an interface name or a host name: reachable from outside


class Publisher:
    def __init__(
        self,
        endpoint: str = DEFAULT_ENDPOINT,
        *,
        allow_remote: bool = False,
        high_water_mark: int = 1000,
        context: zmq.Context | None = None,
        socket_options: Iterable[tuple[int, Any]] = (),
        connect: bool = False,
    ):
        """Binds `endpoint`, or with `connect` dials it (an `eyespy relay` frontend): then
        ZeroMQ reconnects by itself and the relay may come and go."""
        if not allow_remote and not is_local_endpoint(endpoint):
            where = "reach" if connect else "bind to"
            raise EndpointError(
                f"{endpoint} is reachable from the network; {where} 127.0.0.1 or ipc://, "
                "or set allow_remote = true in the [bus] config (see docs/security.md)"
            )
        self.endpoint = endpoint
        self.instance = uuid.uuid4().hex[:12]
        self._seq = 0
        self._context = context or zmq.Context.instance()
        self._socket = self._context.socket(zmq.PUB)
        self._socket.setsockopt(zmq.SNDHWM, high_water_mark)
        self._socket.setsockopt(zmq.LINGER, 200)
        for option, value in socket_options:
            self._socket.setsockopt(option, value)
        if endpoint.startswith("ipc://") and not connect:
            os.makedirs(os.path.dirname(endpoint[len("ipc://") :]) or ".", exist_ok=True)
        try:
            if connect:
                self._socket.setsockopt(zmq.RECONNECT_IVL, 100)
                self._socket.setsockopt(zmq.RECONNECT_IVL_MAX, 2000)
                self._socket.connect(endpoint)
            else:
                self._socket.bind(endpoint)
        except zmq.ZMQError as exc:
            self._socket.close(0)
            hint = ""
            if exc.errno == zmq.EADDRINUSE and not connect:
                hint = (
                    " (another eyespy is publishing there? stop it, or choose another "
                    "endpoint with --endpoint or bus.endpoint)"
                )
            raise EndpointError(
                f"cannot {'connect to' if connect else 'bind'} {endpoint}: {exc}{hint}"
            ) from exc
        self.dropped = 0

    def publish(
        self,
        event_type: str,
        body: dict[str, Any],
        *,
        source: str,
        capture_ts: float,
        attachment: bytes | None = None,
    ) -> dict[str, Any]:
        self._seq += 1
        event = events.make_event(
            event_type,
            seq=self._seq,
            publisher=self.instance,
            source=source,
            capture_ts=capture_ts,
            body=body,
        )
        parts = events.encode(event)
        if attachment is not None:
            parts.append(attachment)
        try:
            self._socket.send_multipart(parts, flags=zmq.NOBLOCK)
        except zmq.Again:
            self.dropped += 1
        return event

    def close(self) -> None:
        self._socket.close()


class Subscriber:
    """Receives decoded events from one or several endpoints (cameras, or a relay).

    ZeroMQ reconnects by itself when a publisher restarts; `seq` keeps one account per camera
    (gaps, restarts: `streams.StreamTracker`) and `last` says how the latest event fitted.
    """

    def __init__(
        self,
        endpoint: str | Sequence[str] = DEFAULT_ENDPOINT,
        topics: Iterable[str] = (),
        *,
        context: zmq.Context | None = None,
        socket_options: Iterable[tuple[int, Any]] = (),
        high_water_mark: int = 1000,
    ):
        self.endpoints = [endpoint] if isinstance(endpoint, str) else list(endpoint)
        if not self.endpoints:
            raise EndpointError("no endpoint to subscribe to")
        for each in self.endpoints:
            check_endpoint(each)
        self.endpoint = ", ".join(self.endpoints)
        self._context = context or zmq.Context.instance()
        self._socket = self._context.socket(zmq.SUB)
        self._socket.setsockopt(zmq.RCVHWM, high_water_mark)
        self._socket.setsockopt(zmq.RECONNECT_IVL, 100)
        self._socket.setsockopt(zmq.RECONNECT_IVL_MAX, 2000)
        self._socket.setsockopt(zmq.LINGER, 0)
        for option, value in socket_options:
            self._socket.setsockopt(option, value)
        wanted = list(topics) or [""]
        for topic in wanted:
            self._socket.setsockopt(zmq.SUBSCRIBE, topic.encode())
        for one in self.endpoints:
            try:
                is_local_endpoint(one)  # checks the scheme
                self._socket.connect(one)
            except (zmq.ZMQError, EndpointError) as exc:
                self._socket.close(0)
                if isinstance(exc, EndpointError):
                    raise
                raise EndpointError(f"cannot connect to {one}: {exc}") from exc
        self.seq = StreamTracker()
        self.last: Seen | None = None
        self.invalid = 0

    def receive(self, timeout_s: float | None = None) -> tuple[dict[str, Any], bytes | None] | None:
        """The next valid event, or None when `timeout_s` passes first."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            timeout_ms = None if remaining is None else int(remaining * 1000)
            if not self._socket.poll(timeout_ms):
                return None
            parts = self._socket.recv_multipart()
            try:
                event, attachment = events.decode(parts)
            except events.EventError:
                self.invalid += 1
                continue
            self.last = self.seq.see(event)
            return event, attachment

    def close(self) -> None:
        self._socket.close(0)
