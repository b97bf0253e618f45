"""A real headless Chromium driven over the Chrome DevTools protocol, for the overlay page.

Chromium runs as its own process with a private profile; one page target is driven through
its DevTools WebSocket (aiohttp's client, so no extra package). Calls are synchronous for
the tests: the protocol runs on an event loop in a thread of its own.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import needs

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--mute-audio",
)


def chromium_path() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)  # type: ignore[return-value]
    return needs.tool("chromium", "apt-get install chromium")


class CdpError(RuntimeError):
    pass


class Browser:
    """One Chromium process and one page in it."""

    def __init__(self, size: tuple[int, int] = (1280, 720)):
        self._profile = tempfile.mkdtemp(prefix="eyespy-chromium-")
        self._process = subprocess.Popen(
            [
                chromium_path(),
                *FLAGS,
                f"--user-data-dir={self._profile}",
                f"--window-size={size[0]},{size[1]}",
                "--remote-debugging-port=0",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future] = {}
        self.console: list[str] = []
        try:
            self._call(self._connect(), timeout=30)
            self.send(  # the page's own size, whatever the window around it
                "Emulation.setDeviceMetricsOverride",
                width=size[0],
                height=size[1],
                deviceScaleFactor=1,
                mobile=False,
            )
        except Exception:
            self.close()
            raise

    # -- plumbing --------------------------------------------------------------------------

    def _call(self, coro, timeout: float = 15.0):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    async def _connect(self) -> None:
        import aiohttp

        port_file = Path(self._profile) / "DevToolsActivePort"
        end = time.monotonic() + 25
        while not port_file.exists() or not port_file.read_text().strip():
            if self._process.poll() is not None:
                raise CdpError(f"chromium exited with {self._process.returncode}")
            if time.monotonic() > end:
                raise CdpError("chromium did not open its DevTools port")
            await asyncio.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        self._http = aiohttp.ClientSession()
        async with self._http.get(f"http://127.0.0.1:{port}/json/list") as response:
            targets = await response.json(content_type=None)
        page = next(t for t in targets if t.get("type") == "page")
        self._ws = await self._http.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0)
        self._reader = asyncio.ensure_future(self._read())
        await self._send("Page.enable")
        await self._send("Runtime.enable")

    async def _read(self) -> None:
        async for message in self._ws:
            data = json.loads(message.data)
            if "id" in data and data["id"] in self._waiting:
                self._waiting.pop(data["id"]).set_result(data)
            elif data.get("method") == "Runtime.consoleAPICalled":
                args = data["params"].get("args", [])
                self.console.append(" ".join(str(a.get("value", "")) for a in args))
            elif data.get("method") == "Runtime.exceptionThrown":
                self.console.append(str(data["params"]["exceptionDetails"].get("text")))

    async def _send(self, method: str, **params: Any) -> dict[str, Any]:
        number = next(self._ids)
        future = self._loop.create_future()
        self._waiting[number] = future
        await self._ws.send_str(json.dumps({"id": number, "method": method, "params": params}))
        data = await future
        if "error" in data:
            raise CdpError(f"{method}: {data['error']}")
        return data.get("result", {})

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        return self._call(self._send(method, **params))

    # -- what tests use --------------------------------------------------------------------

    def open(self, url: str) -> None:
        self.send("Page.navigate", url=url)
        self.wait_for("document.readyState === 'complete'")

    def evaluate(self, expression: str) -> Any:
        result = self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise CdpError(f"{expression}: {result['exceptionDetails'].get('text')}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 15.0) -> Any:
        """Poll `expression` in the page until it is truthy; its value."""
        end = time.monotonic() + timeout
        while True:
            try:
                value = self.evaluate(expression)
            except CdpError:
                value = None
            if value:
                return value
            if time.monotonic() > end:
                raise TimeoutError(f"page never satisfied: {expression}")
            time.sleep(0.05)

    def screenshot(self) -> bytes:
        data = self.send("Page.captureScreenshot", format="png")["data"]
        return base64.b64decode(data)

    def press(self, code: str = "Space", key: str = " ", keycode: int = 32) -> None:
        for kind in ("keyDown", "keyUp"):
            self.send(
                "Input.dispatchKeyEvent",
                type=kind,
                code=code,
                key=key,
                windowsVirtualKeyCode=keycode,
                nativeVirtualKeyCode=keycode,
            )

    def close(self) -> None:
        async def shut() -> None:
            if getattr(self, "_ws", None) is not None:
                await self._ws.close()
            if getattr(self, "_http", None) is not None:
                await self._http.close()

        with contextlib.suppress(Exception):  # best effort: the process goes below anyway
            self._call(shut(), timeout=5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._process.terminate()
        try:
            self._process.wait(10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(5)
        shutil.rmtree(self._profile, ignore_errors=True)
