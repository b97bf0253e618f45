"""`eyespy overlay`: a window that shows RETAKE, blinks and the live view as events arrive."""

from __future__ import annotations

import argparse
import sys

from eyespy_live.alerts import AlertError
from eyespy_live.bus.curve import add_client_arguments, client_options_from_args
from eyespy_live.commands.common import add_endpoint_option, endpoints

NAME = "overlay"
HELP = "on-screen alert window: RETAKE banner, blink flash, live preview, status line"


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected WIDTHxHEIGHT, e.g. 1280x720: {text!r}"
        ) from None
    if not (160 <= width <= 8192 and 120 <= height <= 8192):
        raise argparse.ArgumentTypeError(f"window size {text} is out of range")
    return width, height


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_endpoint_option(parser)
    parser.add_argument("--size", type=_size, default=(1280, 720), help="WIDTHxHEIGHT to draw")
    parser.add_argument("--fullscreen", action="store_true", help="fill the screen")
    parser.add_argument("--on-top", action="store_true", help="stay above other windows")
    parser.add_argument(
        "--screen-x",
        type=int,
        default=0,
        metavar="N",
        help="place the window at this x (e.g. 1920 for a monitor right of a 1920-wide one)",
    )
    parser.add_argument("--screen-y", type=int, default=0, metavar="N", help="window y position")
    parser.add_argument(
        "--banner-seconds", type=float, default=6.0, help="how long RETAKE stays up"
    )
    parser.add_argument(
        "--timeout", type=float, default=0.0, help="close after this many seconds (0 = never)"
    )
    add_client_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from eyespy_live.alerts.overlay import OverlayWindow, Timing, WindowOptions

    options = WindowOptions(
        size=args.size,
        fullscreen=args.fullscreen,
        on_top=args.on_top,
        position=(args.screen_x, args.screen_y),
    )
    try:
        window = OverlayWindow(
            endpoints(args),
            options,
            timing=Timing(banner=args.banner_seconds),
            socket_options=client_options_from_args(args),
        )
        return window.run(timeout_s=args.timeout)
    except AlertError as exc:
        print(f"eyespy overlay: error: {exc}", file=sys.stderr)
        return 2
