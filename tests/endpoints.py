"""Free ZeroMQ endpoints for tests (a module of its own: `conftest` names are ambiguous)."""

from __future__ import annotations

import socket


def free_tcp_endpoint() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"tcp://127.0.0.1:{s.getsockname()[1]}"


def rebind(endpoint: str, timeout_s: float = 20.0):
    """A new publisher on an endpoint whose previous owner is still letting go of it."""
    import time

    from eyespy_live.bus.pubsub import EndpointError, Publisher

    end = time.monotonic() + timeout_s
    while True:
        try:
            return Publisher(endpoint)
        except EndpointError:
            if time.monotonic() > end:
                raise
            time.sleep(0.1)


def flood_while_paused(publisher, pid: int, messages: int = 5000) -> None:
    """Publish ~20 MB of previews while subscriber process `pid` is stopped (SIGSTOP): far
    beyond the socket buffers and the high-water mark, so it must drop and say so."""
    import os
    import signal

    os.kill(pid, signal.SIGSTOP)  # a subscriber that cannot keep up
    try:
        blob = bytes(4096)
        for number in range(messages):
            publisher.publish(
                "preview", {"frame": number}, source="t", capture_ts=0.0, attachment=blob
            )
    finally:
        os.kill(pid, signal.SIGCONT)
