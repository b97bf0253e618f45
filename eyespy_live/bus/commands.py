"""The command socket beside the event stream: requests such as "fire the shutter".

The event stream is one-way (PUB). Anything that asks the publisher to *do* something (the
overlay page's space key, `eyespy shoot`, any other app) sends one JSON request to a REP
socket and gets one JSON reply: `{"cmd": "shoot"}` → `{"ok": true, "message": "..."}`.
It binds beside the event endpoint (tcp port + 1, or `ipc://PATH-commands`) unless
`bus.command_endpoint` says otherwise, and only to localhost unless CURVE keys are set:
a request to fire a camera must not come from anyone on the network.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

import zmq

from eyespy_live.bus.pubsub import EndpointError, is_local_endpoint

log = logging.getLogger(__name__)

Request = dict[str, Any]
Reply = dict[str, Any]
Handler = Callable[[Request], Reply]
COMMANDS = ("shoot", "ping")
MAX_REQUEST_BYTES = 4096


class CommandError(RuntimeError):
    """No (valid) answer from the command socket."""


def command_endpoint(event_endpoint: str, configured: str = "") -> str:
    """Where the command socket of a publisher on `event_endpoint` listens."""
    if configured:
        return configured
    if event_endpoint.startswith("ipc://"):
        return f"{event_endpoint}-commands"
    if event_endpoint.startswith("tcp://"):
        parts = urlsplit(event_endpoint)
        try:
            port = parts.port
        except ValueError:
            port = None
        if port is None or port >= 65535:
            raise EndpointError(
                f"cannot place the command socket beside {event_endpoint}: "
                "set bus.command_endpoint"
            )
        host = event_endpoint[len("tcp://") : event_endpoint.rindex(":")]
        return f"tcp://{host}:{port + 1}"
    raise EndpointError(f"no command socket beside {event_endpoint}: set bus.command_endpoint")


def reply(ok: bool, message: str, **extra: Any) -> Reply:
    return {"ok": ok, "message": message, **extra}


class CommandServer:
    """A REP socket served by its own thread; `handler` answers each decoded request."""

    def __init__(
        self,
        endpoint: str,
        handler: Handler,
        *,
        context: zmq.Context | None = None,
        socket_options: Iterable[tuple[int, Any]] = (),
        curve: bool = False,
    ):
        if not curve and not is_local_endpoint(endpoint):
            raise EndpointError(
                f"command socket {endpoint} would be reachable from the network: it may fire "
                "the camera, so it binds to localhost unless CURVE keys are configured"
            )
        self.endpoint = endpoint
        self.handler = handler
        self.handled = 0
        self._stop = threading.Event()
        self._socket = (context or zmq.Context.instance()).socket(zmq.REP)
        self._socket.setsockopt(zmq.LINGER, 0)
        self._socket.setsockopt(zmq.MAXMSGSIZE, MAX_REQUEST_BYTES)
        for option, value in socket_options:
            self._socket.setsockopt(option, value)
        try:
            self._socket.bind(endpoint)
        except zmq.ZMQError as exc:
            self._socket.close(0)
            raise EndpointError(f"cannot bind the command socket {endpoint}: {exc}") from exc
        self._thread = threading.Thread(target=self._serve, name="eyespy-commands", daemon=True)

    def start(self) -> CommandServer:
        self._thread.start()
        return self

    def _serve(self) -> None:
        try:
            while not self._stop.is_set():
                if not self._socket.poll(200):
                    continue
                raw = self._socket.recv()
                answer = self._answer(raw)
                self._socket.send(json.dumps(answer).encode())
                self.handled += 1
        except zmq.ZMQError as exc:
            if not self._stop.is_set():
                log.warning("the command socket failed: %s", exc)
        finally:
            self._socket.close(0)

    def _answer(self, raw: bytes) -> Reply:
        try:
            request = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError):
            return reply(False, 'not a JSON request; send e.g. {"cmd": "shoot"}')
        if not isinstance(request, dict) or request.get("cmd") not in COMMANDS:
            return reply(False, f"unknown command; known: {', '.join(COMMANDS)}")
        try:
            return self.handler(request)
        except Exception as exc:  # noqa: BLE001 - one bad request must not end the socket
            log.exception("command %r failed", request.get("cmd"))
            return reply(False, f"{request.get('cmd')} failed: {type(exc).__name__}: {exc}")

    def close(self) -> None:
        self._stop.set()
        if self._thread.ident is not None:
            self._thread.join(2.0)
        else:
            self._socket.close(0)


def send_command(
    endpoint: str,
    request: Request,
    *,
    timeout_s: float = 8.0,
    socket_options: Iterable[tuple[int, Any]] = (),
    context: zmq.Context | None = None,
) -> Reply:
    """One request, one reply; CommandError when nobody answers within `timeout_s`."""
    sock = (context or zmq.Context.instance()).socket(zmq.REQ)
    sock.setsockopt(zmq.LINGER, 0)
    for option, value in socket_options:
        sock.setsockopt(option, value)
    try:
        try:
            sock.connect(endpoint)
        except zmq.ZMQError as exc:
            raise EndpointError(f"cannot connect to {endpoint}: {exc}") from exc
        sock.send(json.dumps(request).encode())
        if not sock.poll(int(timeout_s * 1000)):
            raise CommandError(
                f"no answer from {endpoint} within {timeout_s:.0f} s: is `eyespy live`, "
                "`eyespy service` or `eyespy session` running there?"
            )
        raw = sock.recv()
    finally:
        sock.close(0)
    try:
        answer = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CommandError(f"{endpoint} answered something that is not JSON") from exc
    if not isinstance(answer, dict) or "ok" not in answer:
        raise CommandError(f"{endpoint} answered something that is not an eyespy reply")
    return answer
