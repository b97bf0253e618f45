"""`eyespy overlay`: the alert as a web page - RETAKE, blinks, the live view, on any screen."""

from __future__ import annotations

import argparse
import sys

from eyespy_live.bus.commands import command_endpoint
from eyespy_live.bus.curve import add_client_arguments, client_options_from_args
from eyespy_live.bus.pubsub import EndpointError
from eyespy_live.commands.common import add_endpoint_option, endpoints

NAME = "overlay"
HELP = "serve the alert page (RETAKE banner, blinks, live view, shutter key) to a browser"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from eyespy_live.alerts.web import DEFAULT_PORT

    add_endpoint_option(parser)
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"web port (default {DEFAULT_PORT})"
    )
    parser.add_argument(
        "--lan",
        action="store_true",
        help="serve to the studio network (a tablet, a second laptop): needs the printed link "
        "with its token",
    )
    parser.add_argument("--host", help="address to serve on (default 127.0.0.1; --lan: 0.0.0.0)")
    parser.add_argument("--token", help="the link's token on the network (default: random)")
    parser.add_argument(
        "--qr",
        action="store_true",
        help="with --lan, print the link's QR code even when stdout is not a terminal",
    )
    parser.add_argument(
        "--commands",
        metavar="ENDPOINT",
        help="the publisher's command socket for the shutter key (default: beside the first "
        "--endpoint)",
    )
    parser.add_argument(
        "--banner-seconds", type=float, default=6.0, help="how long RETAKE stays up"
    )
    parser.add_argument(
        "--timeout", type=float, default=0.0, help="stop after this many seconds (0 = never)"
    )
    add_client_arguments(parser)


def _announce(url: str, lan: bool, banner_s: float, qr: bool = False) -> None:
    from eyespy_live.alerts.web import network_addresses, qr_text

    if banner_s != 6.0:
        url += ("&" if "?" in url else "?") + f"banner={banner_s:g}"
    if not lan:
        print(f"eyespy overlay: open {url}", flush=True)
        return
    hosts = network_addresses() or ["127.0.0.1"]
    port_and_rest = url.split("://", 1)[1].split(":", 1)[1]
    links = [f"http://{host}:{port_and_rest}" for host in hosts]
    for link in links:
        print(f"eyespy overlay: open {link}", flush=True)
    code = qr_text(links[0])
    if code is None:
        print("eyespy overlay: (pip install segno to get a QR code for the tablet here)")
    elif qr or sys.stdout.isatty():
        print(code, flush=True)


def run(args: argparse.Namespace) -> int:
    from eyespy_live.alerts.web import WebOverlay, WebOverlayError

    if not 0 <= args.port <= 65535:
        print(f"eyespy overlay: error: --port {args.port} is not a port number", file=sys.stderr)
        return 2
    host = args.host or ("0.0.0.0" if args.lan else "127.0.0.1")
    try:
        commands = args.commands or command_endpoint(endpoints(args)[0])
    except EndpointError:
        commands = None  # the subscriber says what is wrong with the endpoint
    overlay = WebOverlay(
        endpoints(args),
        host=host,
        port=args.port,
        token=args.token,
        command_endpoint=commands,
        socket_options=client_options_from_args(args),
    )
    try:
        return overlay.run(
            timeout_s=args.timeout,
            ready=lambda url: _announce(url, not overlay.local, args.banner_seconds, args.qr),
        )
    except WebOverlayError as exc:
        print(f"eyespy overlay: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
