"""`eyespy mqtt`: bridge the event stream to an MQTT broker (Home Assistant discovery)."""

from __future__ import annotations

import argparse
import os
import sys
import threading

from eyespy_live.bus.curve import add_client_arguments, client_options_from_args
from eyespy_live.bus.pubsub import DEFAULT_ENDPOINT, Subscriber
from eyespy_live.commands.common import add_config_options, load_config
from eyespy_live.events import TOPICS
from eyespy_live.live.stopsignals import StopSignals

NAME = "mqtt"
HELP = "publish blink, shot and status events to an MQTT broker (needs the [mqtt] extra)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--endpoint",
        action="append",
        default=[],
        help=f"publisher or relay to listen to (repeatable; default {DEFAULT_ENDPOINT})",
    )
    parser.add_argument(
        "--broker",
        help="mqtt://HOST[:PORT] or mqtts://HOST[:PORT] (config: mqtt.broker); user, "
        "password and TLS files come from the config file only",
    )
    parser.add_argument(
        "--timeout", type=float, default=0.0, help="exit after this many seconds (0 = never)"
    )
    add_client_arguments(parser)
    add_config_options(parser)


def run(args: argparse.Namespace) -> int:
    from eyespy_live.bus.mqtt import MqttBridge, MqttError, parse_broker

    config = load_config(args, **{"mqtt.broker": args.broker})
    if config.mqtt.password and args.config and os.stat(args.config).st_mode & 0o077:
        print(
            f"eyespy mqtt: warning: {args.config} holds the broker password and other users "
            f"can read it (chmod 600 {args.config})",
            file=sys.stderr,
        )
    try:
        broker = parse_broker(config.mqtt.broker)
        subscriber = Subscriber(
            args.endpoint or [DEFAULT_ENDPOINT],
            TOPICS,
            socket_options=client_options_from_args(args),
        )
        bridge = MqttBridge(
            config.mqtt,
            subscriber,
            broker=broker,
            log_line=lambda text: print(f"eyespy mqtt: {text}", file=sys.stderr, flush=True),
        )
    except MqttError as exc:
        print(f"eyespy mqtt: error: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    try:
        with StopSignals(stop):  # handlers only set a flag: bursts of signals cannot deadlock
            return bridge.run(stop=stop, timeout_s=args.timeout)
    finally:
        subscriber.close()
