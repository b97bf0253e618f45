"""The overlay as a web page: any screen with a browser shows RETAKE, blinks and the live view.

One process subscribes to the public event stream (like any other subscriber) and serves one
static page (`overlay.html`) plus a WebSocket over which every event goes to every open page
at once. A page opened late gets the latest status, preview and shot first. Pages never
queue stale preview frames: each client keeps only the newest one pending. The page's space
key asks the publisher's command socket to fire the shutter.

localhost only by default. On the studio network (`host` not loopback) every request needs
the random token from the URL; WebSocket upgrades from another origin are refused always, so
a web site open in the same browser cannot fire the camera.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import ipaddress
import json
import logging
import secrets
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from eyespy_live.bus.commands import CommandError, send_command
from eyespy_live.bus.pubsub import EndpointError, Subscriber
from eyespy_live.bus.streams import note
from eyespy_live.events import TOPICS

log = logging.getLogger(__name__)

DEFAULT_PORT = 8557
MAX_PENDING = 200  # messages queued for one slow page before the oldest are dropped
BUS_EVERY_S = 1.0


class WebOverlayError(RuntimeError):
    """Something the user must fix before the page can be served (port taken, no aiohttp)."""


def is_loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def page_html() -> bytes:
    return resources.files("eyespy_live.alerts").joinpath("overlay.html").read_bytes()


@dataclass(eq=False)  # hashed by identity: kept in a set of open pages
class Client:
    """One open page: its socket and what is still to be sent to it."""

    ws: Any
    pending: deque = field(default_factory=deque)
    preview: str | None = None  # only the newest preview waits
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    dropped: int = 0

    def push(self, text: str, *, is_preview: bool = False) -> None:
        if is_preview:
            self.preview = text
        else:
            if len(self.pending) >= MAX_PENDING:
                self.pending.popleft()
                self.dropped += 1
            self.pending.append(text)
        self.wake.set()


@dataclass
class Snapshot:
    """The latest of each kind, for a page that connects later."""

    status: dict[str, str] = field(default_factory=dict)  # by camera (source)
    preview: str | None = None
    shot: dict[str, tuple[dict[str, Any], str | None, float]] = field(
        default_factory=dict
    )  # by camera: event, image, time.monotonic() when it came


class WebOverlay:
    """Serves the page and fans the event stream out to every open page."""

    def __init__(
        self,
        endpoint: str | Sequence[str],
        *,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        token: str | None = None,
        command_endpoint: str | None = None,
        socket_options: Iterable[tuple[int, Any]] = (),
        stale_s: float = 12.0,
    ):
        self.endpoint = endpoint
        self.host, self.port = host, port
        self.local = is_loopback_host(host)
        # On the network a token is required; on localhost only when one is given.
        self.token = token if token or self.local else secrets.token_urlsafe(12)
        self.command_endpoint = command_endpoint
        self.socket_options = list(socket_options)
        self.stale_s = stale_s
        self.clients: set[Client] = set()
        self.snapshot = Snapshot()
        self.last_message: float | None = None
        self.seq = None  # the subscriber's per-camera accounts (bus.streams.StreamTracker)
        self.endpoint_text = endpoint if isinstance(endpoint, str) else ", ".join(endpoint)
        self._stop_thread = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.url = ""

    # -- the subscriber thread -------------------------------------------------------------

    def _subscribe(self, subscriber: Subscriber) -> None:
        try:
            while not self._stop_thread.is_set():
                got = subscriber.receive(timeout_s=0.2)
                if got is not None and self._loop is not None:
                    self._loop.call_soon_threadsafe(self._dispatch, *got, subscriber.last)
        finally:
            subscriber.close()

    def _dispatch(self, event: dict[str, Any], attachment: bytes | None, seen=None) -> None:
        self.last_message = time.monotonic()
        line = note(seen, event) if seen is not None else None
        if line:
            log.info("%s", line)
        image = base64.b64encode(attachment).decode("ascii") if attachment else None
        text = json.dumps({"t": "event", "event": event, "image": image})
        kind = event["type"]
        camera = str(event.get("source") or "")
        if kind == "status":
            self.snapshot.status[camera] = text
        elif kind == "preview":
            self.snapshot.preview = text
        elif kind == "shot":
            self.snapshot.shot[camera] = (event, image, time.monotonic())
            if event.get("verdict") != "keep":
                log.info("%s %s", str(event.get("verdict")).upper(), event.get("file"))
        for client in self.clients:
            client.push(text, is_preview=kind == "preview")

    # -- the web side ----------------------------------------------------------------------

    def bus_message(self) -> str:
        age = None if self.last_message is None else time.monotonic() - self.last_message
        seq = self.seq
        return json.dumps(
            {
                "t": "bus",
                "endpoint": self.endpoint_text,
                "publisher_connected": age is not None and age < self.stale_s,
                "last_message_age_s": None if age is None else round(age, 1),
                "dropped": 0 if seq is None else seq.dropped,
                "restarts": 0 if seq is None else seq.restarts,
                "pages": len(self.clients),
            }
        )

    def _allowed(self, request) -> bool:
        if self.token is None:
            return True
        given = request.query.get("token", "")
        return hmac.compare_digest(given.encode(), self.token.encode())

    def _same_origin(self, request) -> bool:
        origin = request.headers.get("Origin")
        if origin is None:
            return True  # not a browser (or a browser's same-origin fetch without it)
        return urlsplit(origin).netloc == request.host

    async def _page(self, request):
        from aiohttp import web

        if not self._allowed(request):
            return web.Response(
                status=403,
                text="eyespy overlay: this page needs its token: open the link (or scan the "
                "QR code) that `eyespy overlay` printed\n",
            )
        return web.Response(
            body=self._html,
            content_type="text/html",
            headers={
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "no-referrer",
                "Content-Security-Policy": "default-src 'none'; img-src data:; "
                "style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'",
            },
        )

    async def _socket(self, request):
        from aiohttp import WSMsgType, web

        if not self._allowed(request) or not self._same_origin(request):
            return web.Response(status=403, text="forbidden\n")
        ws = web.WebSocketResponse(heartbeat=10.0, max_msg_size=4096)
        await ws.prepare(request)
        client = Client(ws)
        self._hello(client)
        self.clients.add(client)
        sender = asyncio.ensure_future(self._send_loop(client))
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    await self._command(client, message.data)
        finally:
            self.clients.discard(client)
            sender.cancel()
        return ws

    def _hello(self, client: Client) -> None:
        client.push(self.bus_message())
        snap = self.snapshot
        for text in snap.status.values():
            client.push(text)
        if snap.preview:
            client.push(snap.preview, is_preview=True)
        for event, image, at in sorted(snap.shot.values(), key=lambda shot: shot[2]):
            age = round(time.monotonic() - at, 2)
            client.push(json.dumps({"t": "event", "event": event, "image": image, "age_s": age}))

    async def _send_loop(self, client: Client) -> None:
        try:
            while not client.ws.closed:
                await client.wake.wait()
                client.wake.clear()
                while client.pending:
                    await client.ws.send_str(client.pending.popleft())
                if client.preview is not None:
                    text, client.preview = client.preview, None
                    await client.ws.send_str(text)
        except (ConnectionError, RuntimeError):
            pass  # the page went away; its handler cleans up

    async def _command(self, client: Client, data: str) -> None:
        try:
            request = json.loads(data)
        except json.JSONDecodeError:
            return
        if not isinstance(request, dict) or request.get("cmd") != "shoot":
            return
        answer = await asyncio.get_running_loop().run_in_executor(None, self.shoot)
        client.push(json.dumps({"t": "reply", **answer}))

    def shoot(self) -> dict[str, Any]:
        """Ask the publisher to fire the shutter (blocking: run it off the event loop)."""
        if not self.command_endpoint:
            return {"ok": False, "message": "no command socket known for this publisher"}
        try:
            return send_command(
                self.command_endpoint, {"cmd": "shoot"}, socket_options=self.socket_options
            )
        except (CommandError, EndpointError) as exc:
            return {"ok": False, "message": str(exc)}

    async def _bus_ticker(self) -> None:
        while True:
            await asyncio.sleep(BUS_EVERY_S)
            text = self.bus_message()
            for client in self.clients:
                client.push(text)

    # -- running ---------------------------------------------------------------------------

    async def serve(self, stop: asyncio.Event, ready: Callable[[str], None] | None = None) -> None:
        try:
            from aiohttp import web
        except ImportError as exc:  # pragma: no cover - a core dependency
            raise WebOverlayError("the web overlay needs aiohttp: pip install aiohttp") from exc
        self._html = page_html()
        self._loop = asyncio.get_running_loop()
        # Made here, not in its thread, so a bad endpoint is the caller's one-line error.
        subscriber = Subscriber(self.endpoint, TOPICS, socket_options=self.socket_options)
        self.seq = subscriber.seq
        self.endpoint_text = subscriber.endpoint
        app = web.Application()
        app.router.add_get("/", self._page)
        app.router.add_get("/ws", self._socket)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port, reuse_address=True)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            subscriber.close()
            raise WebOverlayError(
                f"cannot serve on {self.host}:{self.port}: {exc.strerror or exc}; "
                "choose another with --port"
            ) from None
        port = site._server.sockets[0].getsockname()[1]  # the real one when port 0 was asked
        self.port = port
        shown = self.host if self.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
        query = f"?token={self.token}" if self.token else ""
        self.url = f"http://{'[' + shown + ']' if ':' in shown else shown}:{port}/{query}"
        thread = threading.Thread(
            target=self._subscribe, args=(subscriber,), name="eyespy-web-sub", daemon=True
        )
        thread.start()
        ticker = asyncio.ensure_future(self._bus_ticker())
        if ready is not None:
            ready(self.url)
        try:
            await stop.wait()
        finally:
            ticker.cancel()
            for client in list(self.clients):
                await client.ws.close()
            await runner.cleanup()
            self._stop_thread.set()
            thread.join(2.0)

    def run(self, *, timeout_s: float = 0.0, ready: Callable[[str], None] | None = None) -> int:
        """Serve until SIGINT/SIGTERM or `timeout_s` (0 = never); the exit status."""

        async def main() -> None:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                loop.add_signal_handler(signum, stop.set)
            if timeout_s > 0:
                loop.call_later(timeout_s, stop.set)
            await self.serve(stop, ready)

        asyncio.run(main())
        return 0


def network_addresses() -> list[str]:
    """This machine's IPv4 addresses another device on the network could reach."""
    import socket

    found: list[str] = []
    try:  # the address of the interface that routes outwards (no packet is sent)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))
            found.append(s.getsockname()[0])
    except OSError:
        pass
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            address = str(info[4][0])
            if address not in found and not address.startswith("127."):
                found.append(address)
    except OSError:
        pass
    return found


def qr_text(url: str) -> str | None:
    """The URL as a QR code for the terminal, or None when `segno` is not installed."""
    try:
        import segno
    except ImportError:
        return None
    import io

    out = io.StringIO()
    segno.make(url, error="l").terminal(out=out, compact=True, border=2)
    return out.getvalue()
