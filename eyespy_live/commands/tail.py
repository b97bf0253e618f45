"""`eyespy tail`: subscribe and print every event as one JSON line."""

from __future__ import annotations

import argparse
import json
import sys
import time

from eyespy_live.bus.curve import add_client_arguments, client_options_from_args
from eyespy_live.bus.pubsub import Subscriber
from eyespy_live.bus.streams import note
from eyespy_live.commands.common import add_endpoint_option, endpoints
from eyespy_live.events import TOPICS

NAME = "tail"
HELP = "print the event stream as JSON lines (filter with --topic)"
WAIT_HINT_S = 10.0  # how long a silent stream goes before tail says what may be wrong


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_endpoint_option(parser)
    parser.add_argument(
        "--topic",
        action="append",
        choices=TOPICS,
        default=[],
        help="only these topics (repeatable; default: all but preview)",
    )
    parser.add_argument("--count", type=int, default=0, help="exit after N events (0 = never)")
    parser.add_argument(
        "--timeout", type=float, default=0.0, help="exit after this many seconds (0 = never)"
    )
    add_client_arguments(parser)


def run(args: argparse.Namespace) -> int:
    topics = args.topic or [t for t in TOPICS if t != "preview"]
    # Take every topic and filter here: seq runs across all topics, so a topic filter on the
    # socket would make the events we skip look like drops.
    subscriber = Subscriber(endpoints(args), socket_options=client_options_from_args(args))
    received = heard = 0
    started = time.monotonic()
    deadline = started + args.timeout if args.timeout > 0 else None
    say = lambda text: print(f"eyespy tail: {text}", file=sys.stderr, flush=True)  # noqa: E731
    say(f"waiting for events from {subscriber.endpoint} (Ctrl-C stops)")
    next_hint = started + WAIT_HINT_S
    try:
        while args.count <= 0 or received < args.count:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                break
            got = subscriber.receive(timeout_s=min(remaining, 1.0) if remaining else 1.0)
            if got is None:
                if not heard and time.monotonic() >= next_hint:
                    next_hint += WAIT_HINT_S
                    say(
                        f"nothing from {subscriber.endpoint} for "
                        f"{time.monotonic() - started:.0f} s: is `eyespy live` (or service, "
                        "session) running, publishing on this --endpoint?"
                    )
                continue
            heard += 1
            event, attachment = got
            seen = subscriber.last
            line = seen and note(seen, event)
            if line:
                say(line)
            if seen is not None and seen.new_publisher and not seen.restart and event["seq"] > 1:
                say(
                    f"joined late: {event['seq'] - 1} earlier event(s) from "
                    f"{seen.stream.source} went out before this tail was connected"
                )
            if event["type"] not in topics:
                continue
            if attachment is not None:
                event = {**event, "attachment_bytes": len(attachment)}
            print(json.dumps(event), flush=True)
            received += 1
    except KeyboardInterrupt:
        pass
    finally:
        if subscriber.seq.dropped:
            print(
                f"eyespy tail: {subscriber.seq.dropped} event(s) dropped (seq gaps)",
                file=sys.stderr,
            )
        for line in subscriber.seq.summary_lines():  # one line per camera
            print(f"eyespy tail: {line}", file=sys.stderr, flush=True)
        subscriber.close()
    if received == 0:  # silence must not look like success to a script
        what = "no events" if heard == 0 else f"no {'/'.join(topics)} events ({heard} others)"
        print(
            f"eyespy tail: {what} received from {subscriber.endpoint} (is `eyespy live` or "
            "`eyespy service` publishing there?)",
            file=sys.stderr,
        )
        return 1
    return 0
