"""`eyespy live`: watch one source and publish blink events; a status line on a terminal."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import threading
import time
from pathlib import Path
from typing import Any

from eyespy_live.bus.curve import open_publisher
from eyespy_live.commands.common import add_config_options, load_config
from eyespy_live.files import printable
from eyespy_live.live.control import open_command_server
from eyespy_live.live.run import LiveRun, Stats, run_live
from eyespy_live.live.service import source_kind, source_options
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
    parser.add_argument(
        "--quiet",
        action="store_true",
        help="no terminal bell and no colour on a retake, no status line",
    )
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
        name = printable(str(event.get("file")))  # a file name may hold escape sequences
        return f"shot {name}: {event['verdict'].upper()} - {printable(event['reason'])}"
    return ""


COLOURS = {"retake": "\033[1;97;41m", "check": "\033[1;30;43m", "keep": "\033[32m"}


class Alert:
    """The terminal's own alert: a bell and a coloured line for a retake (a terminal only)."""

    def __init__(self, enabled: bool):
        self.enabled = enabled

    def line(self, event: dict[str, Any], text: str) -> str:
        verdict = event.get("verdict") if event["type"] == "shot" else None
        if not self.enabled or verdict not in COLOURS:
            return text
        bell = "\a" if verdict == "retake" else ""
        return f"{bell}{COLOURS[verdict]}{text}\033[0m"


def hot_folder_line(folder: str, stats: Stats | None) -> str:
    """The hot folder's status: "watching DIR · 12 shots · 2 retakes · last IMG_0012 keep"."""
    shots = stats.shots if stats else 0
    retakes = stats.retakes if stats else 0
    parts = [f"watching {folder}", f"{shots} shots", f"{retakes} retakes"]
    if stats is not None and stats.last_shot is not None:
        name, verdict = stats.last_shot
        parts.append(f"last {Path(name).stem} {verdict}")
    return " · ".join(parts)


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
    kind = source_kind(config.source.spec)
    if kind == "folder" and not config.source.watch:
        print(
            "eyespy live: reading the folder's images once as a sequence of frames (blinks, "
            "no photo verdicts); for a verdict per photo use --watch (photos as they arrive) "
            "or `eyespy cull DIR` (photos already there)",
            file=sys.stderr,
        )
    source = open_source(config.source.spec, **options)
    # Binds with CURVE + ZAP when [bus] has keys (remote subscribers are opt-in).
    publisher, close_publisher = open_publisher(config.bus)
    commands = open_command_server(config.bus, lambda: source)
    stop = threading.Event()
    tty = sys.stderr.isatty() and not args.quiet
    alert = Alert(enabled=sys.stdout.isatty() and not args.quiet and not args.json)
    hot_folder = kind == "folder" and config.source.watch
    last_line = [0.0]
    run_ref: list[LiveRun] = []

    def status_line() -> str:
        s = run_ref[0].stats if run_ref else None
        if hot_folder:
            return hot_folder_line(str(getattr(source, "path", source.id)), s)
        if s is None:
            return f"{source.id}  starting"
        return (
            f"{source.id}  {s.fps:5.1f} fps  faces {s.faces}  blinks {s.blinks}"
            f"  shots {s.shots}  frames {s.frames}"
        )

    def show_status(force: bool = False) -> None:
        now = time.monotonic()
        if tty and (force or now - last_line[0] > 0.5):
            last_line[0] = now
            sys.stderr.write(f"\r\033[K{status_line()}")
            sys.stderr.flush()

    def on_event(event: dict[str, Any]) -> None:
        if args.json:
            print(json.dumps(event), flush=True)
        elif event["type"] in ("blink", "shot"):
            if tty:
                sys.stderr.write("\r\033[K")
            print(alert.line(event, _describe(event)), flush=True)

    def on_status(run: LiveRun) -> None:
        run_ref[:] = [run]

    def on_frame() -> None:
        show_status(force=hot_folder)

    log.info("watching %s; publishing on %s", source.id, config.bus.endpoint)
    show_status(force=True)
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
            if commands is not None:
                commands.close()
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
