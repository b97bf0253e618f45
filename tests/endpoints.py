"""Free ZeroMQ endpoints for tests (a module of its own: `conftest` names are ambiguous)."""

from __future__ import annotations

import socket


def free_tcp_endpoint() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"tcp://127.0.0.1:{s.getsockname()[1]}"
