"""Free ZeroMQ endpoints for tests (a module of its own: `conftest` names are ambiguous)."""

from __future__ import annotations

import random
import socket

# Below Linux's ephemeral range (32768-60999): an outgoing connection elsewhere in the run
# cannot take the port, or the one above it, between the test choosing it and binding it.
PORTS = range(20000, 32000, 2)
_handed_out: set[int] = set()


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_tcp_endpoint() -> str:
    """A free port whose neighbour is free too: a publisher's command socket binds at port + 1
    (bus/commands.py), and a taken neighbour would silently cost the test its shutter."""
    for _ in range(500):
        port = random.choice(PORTS)
        if port in _handed_out or not (_bindable(port) and _bindable(port + 1)):
            continue
        _handed_out.add(port)
        return f"tcp://127.0.0.1:{port}"
    raise RuntimeError(f"no two free neighbouring ports in {PORTS.start}-{PORTS.stop}")


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
