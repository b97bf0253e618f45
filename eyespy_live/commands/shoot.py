"""`eyespy shoot`: fire the tethered camera's shutter through the running publisher."""

from __future__ import annotations

import argparse
import sys

from eyespy_live.bus.commands import command_endpoint, send_command
from eyespy_live.bus.curve import add_client_arguments, client_options_from_args
from eyespy_live.bus.pubsub import DEFAULT_ENDPOINT

NAME = "shoot"
HELP = "fire the shutter of the camera `eyespy live/service/session` is tethered to"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--endpoint",
        default=DEFAULT_ENDPOINT,
        help="the publisher's event endpoint (its command socket is beside it)",
    )
    parser.add_argument("--commands", metavar="ENDPOINT", help="the command socket itself")
    parser.add_argument(
        "--timeout", type=float, default=8.0, help="seconds to wait for the answer"
    )
    add_client_arguments(parser)


def run(args: argparse.Namespace) -> int:
    endpoint = args.commands or command_endpoint(args.endpoint)
    answer = send_command(
        endpoint,
        {"cmd": "shoot"},
        timeout_s=args.timeout,
        socket_options=client_options_from_args(args),
    )
    if answer.get("ok"):
        print(f"eyespy shoot: {answer.get('message')}")
        return 0
    print(f"eyespy shoot: refused: {answer.get('message')}", file=sys.stderr)
    return 1
