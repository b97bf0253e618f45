"""Answers the command socket for a running source: fire the shutter, say who is there.

Only a source with a shutter (`trigger`, the tethered gphoto2 camera) can take a photo; every
other source refuses in words a photographer understands. The photo a trigger takes comes
back like any other: the camera reports the new file, and it gets its shot verdict.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from eyespy_live.bus.commands import CommandServer, Reply, Request, command_endpoint, reply
from eyespy_live.bus.curve import server_socket_options
from eyespy_live.bus.pubsub import EndpointError
from eyespy_live.config import BusConfig
from eyespy_live.sources.base import FrameSource

log = logging.getLogger(__name__)

TRIGGER_WAIT_S = 5.0


def can_trigger(source: FrameSource | None) -> bool:
    return callable(getattr(source, "trigger", None))


def shoot(source: FrameSource | None) -> Reply:
    if source is None:
        return reply(False, "no source is open right now (reconnecting?); try again in a moment")
    if not can_trigger(source):
        return reply(
            False,
            f"{source.id} has no shutter to fire: only a tethered camera (gphoto2) can be "
            "triggered; press the camera's own shutter",
        )
    error = source.trigger(wait_s=TRIGGER_WAIT_S)  # type: ignore[attr-defined]
    if error:
        return reply(False, f"the shutter did not fire: {error}")
    return reply(True, f"shutter fired on {source.id}; the verdict follows as a shot event")


def handler(current_source: Callable[[], FrameSource | None]) -> Callable[[Request], Reply]:
    """A command handler for whichever source is open when a request arrives."""

    def handle(request: Request) -> Reply:
        source = current_source()
        if request["cmd"] == "shoot":
            return shoot(source)
        return reply(
            True,
            "eyespy is running",
            source=None if source is None else source.id,
            can_trigger=can_trigger(source),
        )

    return handle


def open_command_server(
    bus: BusConfig, current_source: Callable[[], FrameSource | None], context=None
) -> CommandServer | None:
    """The command socket the [bus] config asks for (None when switched off).

    A socket placed automatically beside the event endpoint that cannot bind (the port is
    taken) only costs the remote shutter, so it is a warning; one configured explicitly
    must work, so it is an error.
    """
    if bus.command_endpoint == "off":
        return None
    endpoint = command_endpoint(bus.endpoint, bus.command_endpoint)
    options = server_socket_options(bus.curve_secret_key_file) if bus.curve_secret_key_file else []
    try:
        server = CommandServer(
            endpoint,
            handler(current_source),
            context=context,
            socket_options=options,
            curve=bool(options),
        )
    except EndpointError as exc:
        if bus.command_endpoint:
            raise
        log.warning("%s; the shutter cannot be fired remotely (set bus.command_endpoint)", exc)
        return None
    log.info("commands (shutter) on %s", endpoint)
    return server.start()
