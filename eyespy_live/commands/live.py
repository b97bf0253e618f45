"""`eyespy live`: watch one source and publish blink events; a status line on a terminal."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import threading
import time
from typing import Any

from eyespy_live.bus.curve import open_publisher
from eyespy_live.commands.common import add_config_options, load_config
from eyespy_live.live.run import LiveRun, run_live
from eyespy_live.live.service import source_options
from eyespy_live.live.stopsignals import StopSignals
from eyespy_live.sources import open_source

NAME = "live"
HELP = "watch a webcam, video, folder or camera and publish blink events on ZeroMQ"

log = logging.getLogger("eyespy.live")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--source",
        help="webcam:N, video:PATH, folder:DIR, gphoto2[:MODEL|PORT] (config: source.spec)",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="use the demo clip shipped with eyespy (no camera needed)",
    )
    parser.add_argument(
        "--endpoint",
        help="ZeroMQ endpoint to bind, or a relay to connect to with bus.connect (bus.endpoint)",
    )
    parser.add_argument("--name", help="this camera's name in events (config: source.name)")
    parser.add_argument("--detector", help="face detector: blazeface or haar")
    parser.add_argument(
        "--realtime",
        action="store_true",
        default=None,
        help="pace a video file at its own frame rate",
    )
    parser.add_argument(
        "--watch",
        action="store_true",
        default=None,
        help="folder source: keep watching for new photos (hot folder)",
    )
    parser.add_argument("--json", action="store_true", help="also print every event to stdout")
    add_config_options(parser)


def _describe(event: dict[str, Any]) -> str:
    if event["type"] == "blink":
        b, face = event["blink"], event["face"]
        label = {"blink": "blink", "half_blink": "half blink", "eyes_closed": "eyes closed"}
        return (
            f"{label.get(b['kind'], b['kind'])}: face {face['id']} at frames "
            f"{b['first_frame']}-{b['last_frame']}, {b['duration_ms']:.0f} ms"
        )
    if event["type"] == "shot":
        return f"shot {event.get('file')}: {event['verdict'].upper()} - {event['reason']}"
    return ""


def run(args: argparse.Namespace) -> int:
    spec = "demo" if args.demo else args.source
    config = load_config(
        args,
        **{
            "source.spec": spec,
            "bus.endpoint": args.endpoint,
            "vision.detector": args.detector,
            # the demo plays at its own pace, like a camera would deliver it
            "source.realtime": True if args.demo and args.realtime is None else args.realtime,
            "source.watch": args.watch,
            "source.name": args.name,
        },
    )
    options = source_options(config)
    source = open_source(config.source.spec, **options)
    # Binds with CURVE + ZAP when [bus] has keys (remote subscribers are opt-in).
    publisher, close_publisher = open_publisher(config.bus)
    stop = threading.Event()
    tty = sys.stderr.isatty()
    last_line = [0.0]
    run_ref: list[LiveRun] = []

    def on_event(event: dict[str, Any]) -> None:
        if args.json:
            print(json.dumps(event), flush=True)
        elif event["type"] in ("blink", "shot"):
            if tty:
                sys.stderr.write("\r\033[K")
            print(_describe(event), flush=True)

    def on_status(run: LiveRun) -> None:
        run_ref[:] = [run]

    def on_frame() -> None:
        now = time.monotonic()
        if tty and run_ref and now - last_line[0] > 0.5:
            last_line[0] = now
            s = run_ref[0].stats
            sys.stderr.write(
                f"\r\033[K{source.id}  {s.fps:5.1f} fps  faces {s.faces}  blinks {s.blinks}"
                f"  shots {s.shots}  frames {s.frames}"
            )
            sys.stderr.flush()

    log.info("watching %s; publishing on %s", source.id, config.bus.endpoint)
    # SIGTERM, SIGINT (Ctrl-C) and SIGHUP: a clean stop, a "stopped" status and the summary.
    with StopSignals(stop):
        try:
            result = run_live(
                config,
                source,
                publisher,
                on_event=on_event,
                on_status=on_status,
                stop=stop,
                on_frame=on_frame,
                idle_status=True,
            )
        except KeyboardInterrupt:
            result = run_ref[0] if run_ref else None
            source.close()
        finally:
            close_publisher()
    if tty:
        sys.stderr.write("\r\033[K")
    if result is not None:
        s = result.stats
        print(
            f"summary: {s.frames} frames, {s.blinks} blinks, {s.half_blinks} half blinks, "
            f"{s.shots} shots ({s.retakes} to retake), {s.bad_frames} bad frames",
            file=sys.stderr,
        )
    return 0
