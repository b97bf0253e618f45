"""`eyespy relay`: one address for many cameras and many listeners (ZeroMQ XSUB/XPUB proxy)."""

from __future__ import annotations

import argparse
import sys
import threading

from eyespy_live.bus.relay import Relay
from eyespy_live.commands.common import add_config_options, load_config
from eyespy_live.live.sdnotify import Notifier
from eyespy_live.live.stopsignals import StopSignals

NAME = "relay"
HELP = "forward events from several cameras to any number of subscribers (ZeroMQ proxy)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--frontend", help="bind here for publishers (bus.connect = true) (config: relay.frontend)"
    )
    parser.add_argument("--backend", help="bind here for subscribers (config: relay.backend)")
    parser.add_argument(
        "--upstream",
        action="append",
        default=[],
        metavar="ENDPOINT",
        help="also connect to a publisher that binds as usual (repeatable)",
    )
    parser.add_argument("--name", default="relay", help="source name of the relay's heartbeat")
    parser.add_argument(
        "--timeout", type=float, default=0.0, help="exit after this many seconds (0 = never)"
    )
    add_config_options(parser)


def run(args: argparse.Namespace) -> int:
    config = load_config(args, **{"relay.frontend": args.frontend, "relay.backend": args.backend})
    relay = Relay(config.relay, upstreams=args.upstream, name=args.name)
    stop = threading.Event()
    if args.timeout > 0:
        threading.Timer(args.timeout, stop.set).start()
    notifier = Notifier()
    sides = [f"publishers -> {config.relay.frontend}"] if config.relay.frontend else []
    sides += [f"upstream {u}" for u in args.upstream]
    secure = " (CURVE)" if config.relay.curve_secret_key_file else ""
    print(
        f"eyespy relay: {', '.join(sides) or 'no publishers side'}; "
        f"subscribers -> {config.relay.backend}{secure}",
        file=sys.stderr,
        flush=True,
    )

    def on_tick(body: dict | None) -> None:
        notifier.watchdog()
        if body is not None:
            notifier.status(
                f"{body['publishers_seen']} publisher(s), {body['relayed']} relayed, "
                f"{body['dropped']} dropped upstream"
            )

    try:
        notifier.ready(f"relaying to {config.relay.backend}")
        with StopSignals(stop):  # handlers only set a flag: bursts of signals cannot deadlock
            relay.run(stop, on_tick=on_tick)
        body = relay.status_body("stopped")
        print(
            f"eyespy relay: stopped: {body['publishers_seen']} publisher(s), "
            f"{body['relayed']} event(s) relayed, {body['dropped']} dropped upstream",
            file=sys.stderr,
        )
    finally:
        notifier.stopping()
        relay.close()
        notifier.close()
    return 0
