"""ZeroMQ CURVE keys and authentication for remote subscribers.

Binding to the network is opt-in ([bus] allow_remote) and then needs CURVE: the traffic is
encrypted, and a ZAP authenticator admits only the client public keys found in the
authorised-keys folder, so a subscriber without a listed key receives nothing.

Key files use the ZeroMQ certificate format: NAME.key holds the public key (safe to copy to
the other machine), NAME.key_secret holds both keys and is readable by its owner only.
"""

from __future__ import annotations

import argparse
import logging
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import zmq
import zmq.auth
from zmq.auth.thread import ThreadAuthenticator

from eyespy_live.bus.commands import command_endpoint
from eyespy_live.bus.pubsub import EndpointError, Publisher, is_local_endpoint
from eyespy_live.config import BusConfig, ConfigError
from eyespy_live.files import read_regular, symlink_problem, write_atomic

log = logging.getLogger(__name__)
KEY_FILE_LIMIT = 64 * 1024  # a certificate is ~300 bytes

SocketOptions = list[tuple[int, Any]]

_TEMPLATE = """#   ZeroMQ CURVE {kind} written by `eyespy keys` for {name!r}
#   {note}
metadata
    name = "{name}"
curve
    public-key = "{public}"
"""


def write_keypair(directory: str | Path, name: str, *, force: bool = False) -> tuple[Path, Path]:
    """Create NAME.key (public, 0644) and NAME.key_secret (0600); never overwrite by accident."""
    if not name or "/" in name or name.startswith("."):
        raise ConfigError([f"key name {name!r}: use a plain name such as 'server' or 'laptop'"])
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    public_path, secret_path = folder / f"{name}.key", folder / f"{name}.key_secret"
    for path in (public_path, secret_path):
        if os.path.lexists(path) and not force:
            what = "exists"
            if path.is_symlink() and not path.exists():
                what = f"exists as a broken link (to {os.readlink(path)})"
            raise ConfigError([f"{path} {what}; keep it, or pass --force to replace it"])
    public, secret = zmq.curve_keypair()
    pub, sec = public.decode("ascii"), secret.decode("ascii")
    public_text = _TEMPLATE.format(
        kind="public key", name=name, public=pub, note="public: copy it to the other side"
    )
    secret_text = (
        _TEMPLATE.format(
            kind="secret key", name=name, public=pub, note="SECRET: never copy it anywhere"
        )
        + f'    secret-key = "{sec}"\n'
    )
    # Each through a fresh temporary file renamed into place: never written through a link
    # left at the name, never half written (a full disk leaves no key file at all).
    write_atomic(secret_path, secret_text, mode=0o600)
    try:
        write_atomic(public_path, public_text, mode=0o644)
    except OSError:
        secret_path.unlink()  # no secret without its public half
        raise
    return public_path, secret_path


def read_keys(path: str | Path, *, need_secret: bool) -> tuple[bytes, bytes | None]:
    """(public, secret) from a key file, with a clear error for a wrong or missing file."""
    file = Path(path)
    if file.is_symlink() and (problem := symlink_problem(file)):
        raise ConfigError([f"key file {file}: {problem}"])
    if not file.is_file():
        raise ConfigError([f"key file not found: {file} (create keys with `eyespy keys`)"])
    try:
        info = os.stat(file)
        read_regular(file, KEY_FILE_LIMIT)  # a regular file of key-file size, before zmq opens it
    except OSError as exc:
        raise ConfigError([f"key file {file}: {exc}"]) from None
    if need_secret and info.st_mode & 0o077:
        log.warning(
            "%s holds a secret key but other users may read it (mode %o): chmod 600 %s",
            file,
            stat.S_IMODE(info.st_mode),
            file,
        )
    try:
        public, secret = zmq.auth.load_certificate(file)
    except (ValueError, OSError) as exc:
        raise ConfigError([f"{file}: not a ZeroMQ key file ({exc})"]) from None
    if need_secret and not secret:
        raise ConfigError(
            [f"{file} holds only a public key; give the NAME.key_secret file written with it"]
        )
    for key in (public, secret):
        if key is not None and len(key) != 40:
            raise ConfigError([f"{file}: a CURVE key has 40 characters, got {len(key)}"])
    return public, secret


def server_socket_options(secret_file: str | Path) -> SocketOptions:
    public, secret = read_keys(secret_file, need_secret=True)
    return [(zmq.CURVE_SERVER, 1), (zmq.CURVE_PUBLICKEY, public), (zmq.CURVE_SECRETKEY, secret)]


def client_socket_options(
    server_key_file: str | Path, client_key_file: str | Path
) -> SocketOptions:
    """Subscriber options: the server's public key and this client's own key pair."""
    server_public, _ = read_keys(server_key_file, need_secret=False)
    public, secret = read_keys(client_key_file, need_secret=True)
    return [
        (zmq.CURVE_SERVERKEY, server_public),
        (zmq.CURVE_PUBLICKEY, public),
        (zmq.CURVE_SECRETKEY, secret),
    ]


def add_client_arguments(parser: argparse.ArgumentParser) -> None:
    """--server-key / --client-key for any subscriber command."""
    parser.add_argument(
        "--server-key",
        metavar="FILE",
        help="the publisher's public key file (server.key) for an encrypted remote connection",
    )
    parser.add_argument(
        "--client-key",
        metavar="FILE",
        help="this machine's secret key file (NAME.key_secret, from `eyespy keys NAME`)",
    )


def client_options_from_args(args: argparse.Namespace) -> SocketOptions:
    server, client = getattr(args, "server_key", None), getattr(args, "client_key", None)
    if not server and not client:
        return []
    if not (server and client):
        raise ConfigError(["CURVE needs both --server-key and --client-key"])
    return client_socket_options(server, client)


def bus_problems(bus: BusConfig) -> list[str]:
    """What `open_publisher` would refuse in a [bus] section that parsed fine; `eyespy config
    --check` asks the same question, so a file it calls valid is one the service accepts."""
    problems = []
    try:
        if not bus.allow_remote and not is_local_endpoint(bus.endpoint):
            problems.append(
                f"bus.endpoint = {bus.endpoint!r} is reachable from the network: bind "
                "tcp://127.0.0.1:PORT or ipc://, or set bus.allow_remote = true with CURVE keys"
            )
        commands = command_endpoint(bus.endpoint, bus.command_endpoint)
        if (
            bus.command_endpoint != "off"
            and not bus.curve_secret_key_file
            and not is_local_endpoint(commands)
        ):
            problems.append(
                f"bus.command_endpoint {commands!r} is reachable from the network: the shutter "
                "socket binds to localhost unless CURVE keys are configured"
            )
    except EndpointError as exc:
        problems.append(f"bus: {exc}")
    for key in ("curve_secret_key_file", "curve_authorized_keys_dir"):
        path = getattr(bus, key)
        if path and not Path(path).exists():
            problems.append(f"bus.{key} = {path!r}: not found (create keys with `eyespy keys`)")
    return problems


def open_publisher(
    bus: BusConfig, context: zmq.Context | None = None
) -> tuple[Publisher, Callable[[], None]]:
    """The publisher the [bus] config asks for, with CURVE + ZAP when keys are configured.

    Returns the publisher and a function that closes it and stops the authenticator.
    """
    problems = bus_problems(bus)
    if problems:
        raise ConfigError(problems)
    context = context or zmq.Context.instance()

    def publisher_with(options: list) -> Publisher:
        return Publisher(
            bus.endpoint,
            allow_remote=bus.allow_remote,
            high_water_mark=bus.high_water_mark,
            context=context,
            socket_options=options,
            connect=bus.connect,
        )

    if not bus.curve_secret_key_file or bus.connect:
        # connecting to a relay: a CURVE client (its own keys + the relay's), no ZAP here
        options = (
            client_socket_options(bus.curve_relay_key_file, bus.curve_secret_key_file)
            if bus.curve_secret_key_file
            else []
        )
        publisher = publisher_with(options)
        return publisher, publisher.close
    options = server_socket_options(bus.curve_secret_key_file)
    authorized = Path(bus.curve_authorized_keys_dir)
    if not authorized.is_dir():
        raise ConfigError([f"bus.curve_authorized_keys_dir: folder not found: {authorized}"])
    if not zmq.auth.load_certificates(authorized):
        raise ConfigError(
            [f"bus.curve_authorized_keys_dir: no client public keys (*.key) in {authorized}"]
        )
    # The authenticator must run before the bind: with CURVE and no ZAP handler,
    # libzmq would accept any client key.
    auth = ThreadAuthenticator(context)
    auth.start()
    auth.configure_curve(domain="*", location=str(authorized))
    try:
        publisher = publisher_with(options)
    except Exception:
        auth.stop()
        raise

    def close() -> None:
        publisher.close()
        auth.stop()

    return publisher, close
