"""A private X server (Xvfb) and screen capture (xwd), for tests that need a real window."""

from __future__ import annotations

import contextlib
import os
import shutil
import struct
import subprocess
import time
from collections.abc import Callable, Iterator

import numpy as np


@contextlib.contextmanager
def xvfb(screen: str = "1280x720x24") -> Iterator[str]:
    """Start Xvfb on a display number it picks itself (-displayfd); yields ":N"."""
    for tool in ("Xvfb", "xwd"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"{tool} is missing: apt-get install xvfb x11-apps")
    # -noreset: by default the server resets when its last client leaves, and a client
    # connecting during that reset (the window, or the next screenshot) is refused.
    read_fd, write_fd = os.pipe()
    server = subprocess.Popen(
        [
            "Xvfb",
            "-displayfd",
            str(write_fd),
            "-screen",
            "0",
            screen,
            "-nolisten",
            "tcp",
            "-noreset",
        ],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    try:
        with os.fdopen(read_fd) as pipe:
            number = pipe.readline().strip()
        if not number:
            raise RuntimeError("Xvfb did not report a display number")
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def screenshot(display: str, attempts: int = 5) -> np.ndarray:
    """The whole screen as a BGR array, read with `xwd -root` (retried: a busy X server can
    refuse a connection now and then)."""
    for attempt in range(attempts):
        result = subprocess.run(
            ["xwd", "-root", "-silent", "-display", display], capture_output=True
        )
        if result.returncode == 0:
            break
        time.sleep(0.2 * (attempt + 1))
    else:
        raise RuntimeError(f"xwd failed on {display}: {result.stderr.decode(errors='replace')}")
    data = result.stdout
    header = struct.unpack(">25I", data[:100])
    header_size, width, height, byte_order = header[0], header[4], header[5], header[7]
    bits_per_pixel, bytes_per_line, colours = header[11], header[12], header[19]
    step = bits_per_pixel // 8  # xwd packs Xvfb's 24-bit TrueColor 3 bytes a pixel
    if step not in (3, 4) or byte_order != 0:
        raise RuntimeError(f"unexpected xwd layout {header[:13]}")
    offset = header_size + colours * 12
    rows = np.frombuffer(data, np.uint8, bytes_per_line * height, offset).reshape(height, -1)
    return rows[:, : width * step].reshape(height, width, step)[..., :3].copy()  # B, G, R


def start_window(
    argv: list[str],
    display: str,
    painted: Callable[[np.ndarray], bool],
    *,
    stderr=subprocess.DEVNULL,
    attempts: int = 3,
    timeout_s: float = 15.0,
) -> tuple[subprocess.Popen, np.ndarray, int]:
    """Start a GUI process and wait until `painted(screen)`; returns (process, screen, tries).

    Retried because of a race in Qt 5.15's xcb backend on an X server without a window
    manager: now and then (about 1 start in 5 on a loaded 2-core machine, with a bare
    OpenCV window too) the window is mapped and viewable but Qt never processes its
    MapNotify, so it never counts as exposed and is never painted. A new process paints.
    """
    for attempt in range(1, attempts + 1):
        process = subprocess.Popen(
            argv, env={**os.environ, "DISPLAY": display}, stdout=subprocess.DEVNULL, stderr=stderr
        )
        end = time.monotonic() + timeout_s
        while time.monotonic() < end and process.poll() is None:
            screen = screenshot(display)
            if painted(screen):
                return process, screen, attempt
            time.sleep(0.25)
        process.terminate()
        process.wait(timeout=20)
    raise AssertionError(f"{argv} never painted its window in {attempts} starts")
