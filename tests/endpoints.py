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

    from eyespy_live.bus import EndpointError, Publisher

    end = time.monotonic() + timeout_s
    while True:
        try:
            return Publisher(endpoint)
        except EndpointError:
            if time.monotonic() > end:
                raise
            time.sleep(0.1)
