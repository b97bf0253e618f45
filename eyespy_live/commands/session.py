"""`eyespy session [DIR]`: a whole shoot in one command - camera or hot folder, overlay, sound.

Picks the source (the tethered camera when one is connected, else the hot folder DIR), starts
the publisher (`eyespy service`), the web overlay and the sound alert as supervised child
processes, shows one status line, and stops everything on one Ctrl-C with a summary.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path
from typing import Any

from eyespy_live.bus.pubsub import Subscriber
from eyespy_live.commands.common import add_config_options, load_config
from eyespy_live.live.session import Child, Session, eyespy_argv
from eyespy_live.sources.base import SourceError

NAME = "session"
HELP = "a tethered shoot in one command: camera or hot folder, web overlay, sound, Ctrl-C ends"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "folder",
        nargs="?",
        metavar="DIR",
        help="hot folder your tethering software writes to (used when no camera is connected; "
        "with a camera, downloaded photos are saved here)",
    )
    parser.add_argument("--source", help="use this source instead (webcam:0, gphoto2, ...)")
    parser.add_argument("--demo", action="store_true", help="the demo clip, no camera needed")
    parser.add_argument("--endpoint", help="ZeroMQ endpoint for the events (config: bus.endpoint)")
    parser.add_argument("--port", type=int, default=None, help="overlay web port (default 8557)")
    parser.add_argument(
        "--lan", action="store_true", help="serve the overlay to the studio network (token link)"
    )
    parser.add_argument("--no-overlay", action="store_true", help="no web overlay")
    parser.add_argument("--no-sound", action="store_true", help="no sound alert")
    parser.add_argument("--sound-device", metavar="NAME", help="sound device for the alert")
    parser.add_argument(
        "--quiet", action="store_true", help="no terminal bell, no colour, no status line"
    )
    add_config_options(parser)


def pick_source(args: argparse.Namespace) -> tuple[str, str]:
    """(source spec, how it was chosen) for this shoot."""
    if args.demo:
        return "demo", "the demo clip"
    if args.source:
        return args.source, args.source
    from eyespy_live.sources.camera import list_cameras

    try:
        cameras = list_cameras()
    except Exception:  # noqa: BLE001 - no libgphoto2 or no USB access: use the folder
        cameras = []
    if cameras:
        model, port = cameras[0]
        return f"gphoto2:{model}", f"camera {model} ({port})"
    if args.folder:
        folder = Path(args.folder).expanduser()
        if not folder.is_dir():
            raise SourceError(
                f"{folder} is not a folder: create it (mkdir -p {folder}) or give the folder "
                "your tethering software writes to"
            )
        return f"folder:{folder.resolve()}", f"watching {folder}"
    raise SourceError(
        "no tethered camera found and no folder given: `eyespy session ~/shoots/today` "
        "watches the folder your tethering software writes to; or connect the camera "
        "(see `eyespy cameras`), or try `eyespy session --demo`"
    )


class Tally:
    """What the session's own subscription saw, for the status line and the summary."""

    def __init__(self) -> None:
        self.shots = self.retakes = self.blinks = 0
        self.last: tuple[str, str] | None = None
        self.status: dict[str, Any] | None = None

    def see(self, event: dict[str, Any]) -> str | None:
        kind = event["type"]
        if kind == "status":
            self.status = event
        elif kind == "blink" and event.get("blink", {}).get("kind") == "blink":
            self.blinks += 1
        elif kind == "shot":
            self.shots += 1
            verdict = str(event.get("verdict"))
            self.retakes += verdict == "retake"
            self.last = (Path(str(event.get("file") or "photo")).stem, verdict)
            return f"shot {event.get('file')}: {verdict.upper()} - {event.get('reason')}"
        return None

    def counts(self) -> tuple[int, int, int]:
        """Shots, retakes, blinks: the publisher's own counts when it has said them."""
        s = self.status or {}
        return (
            max(self.shots, int(s.get("shots") or 0)),
            max(self.retakes, int(s.get("retakes") or 0)),
            max(self.blinks, int(s.get("blinks") or 0)),
        )


def run(args: argparse.Namespace) -> int:
    overrides: dict[str, Any] = {"bus.endpoint": args.endpoint}
    config = load_config(args, **overrides)
    spec, chosen = pick_source(args)
    live_view = not spec.startswith("folder:")
    sets = [f"source.spec={spec}", f"bus.endpoint={config.bus.endpoint}"]
    if spec.startswith("folder:"):
        sets.append("source.watch=true")
    if spec == "demo":
        sets += ["source.loop=true", "source.realtime=true"]
    if spec.startswith("gphoto2") and args.folder:
        sets.append(f"source.save_dir={Path(args.folder).expanduser().resolve()}")
    if live_view and config.bus.preview_fps == 0:
        sets.append("bus.preview_fps=4")
    publisher_argv = eyespy_argv("service", *(["--config", args.config] if args.config else []))
    for item in [*args.set, *sets]:
        publisher_argv += ["--set", item]

    tty = sys.stdout.isatty() and not args.quiet
    urls: list[str] = []
    shown = ""  # the status line as last drawn

    def say(text: str) -> None:
        nonlocal shown
        if tty:
            sys.stdout.write("\r\033[K")
            shown = ""  # the status line goes below this one again
        print(f"eyespy session: {text}", flush=True)

    def overlay_line(line: str) -> None:
        if line.startswith("eyespy overlay: open "):
            urls.append(line.split("open ", 1)[1])
            say(f"overlay {urls[-1]}")
        elif not line.startswith("eyespy overlay: "):
            print(line, flush=True)  # the QR code for the tablet

    children = [Child("publisher", publisher_argv, essential=True)]
    if not args.no_overlay:
        overlay = ["overlay", "--endpoint", config.bus.endpoint]
        if args.port is not None:
            overlay += ["--port", str(args.port)]
        if args.lan:
            overlay.append("--lan")
            if tty:
                overlay.append("--qr")  # the child's stdout is a pipe; the QR is for this one
        children.append(Child("overlay", eyespy_argv(*overlay), on_stdout=overlay_line))
    if not args.no_sound:
        sound = ["sound", "--endpoint", config.bus.endpoint]
        if args.sound_device:
            sound += ["--device", args.sound_device]
        children.append(Child("sound", eyespy_argv(*sound)))

    stop = {"asked": False}

    def ask_stop(*_: object) -> None:
        stop["asked"] = True  # only a flag: the loop below does the work

    previous = {s: signal.signal(s, ask_stop) for s in (signal.SIGINT, signal.SIGTERM)}
    with_hup = hasattr(signal, "SIGHUP")
    if with_hup:
        previous[signal.SIGHUP] = signal.signal(signal.SIGHUP, ask_stop)
    say(f"starting: {chosen}; events on {config.bus.endpoint}")
    session = Session(children, say=say)
    tally = Tally()
    subscriber = Subscriber(config.bus.endpoint)
    started = time.monotonic()
    try:
        session.start()
        while not stop["asked"] and session.fatal is None:
            got = subscriber.receive(timeout_s=0.2)
            if got is not None:
                if tally.status is None and got[0]["type"] == "status":
                    say(f"ready: {chosen}; Ctrl-C ends the session")
                line = tally.see(got[0])
                if line:
                    if tty and got[0].get("verdict") == "retake":
                        line = f"\a\033[1;97;41m{line}\033[0m"
                    say(line)
            session.poll()
            line = status_line(chosen, tally, session, urls)
            if tty and line != shown:  # redrawn in place when something changed
                shown = line
                sys.stdout.write("\r\033[K" + line)
                sys.stdout.flush()
    finally:
        codes = session.stop()
        # The publisher's final status (its own counts) went out as it stopped.
        while (got := subscriber.receive(timeout_s=0.05)) is not None:
            tally.see(got[0])
        subscriber.close()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if tty:
        sys.stdout.write("\r\033[K")
    shots, retakes, blinks = tally.counts()
    minutes = (time.monotonic() - started) / 60
    print(
        f"eyespy session: ended after {minutes:.1f} min: {shots} shots, {retakes} retakes, "
        f"{blinks} blinks; stopped {', '.join(codes)}",
        flush=True,
    )
    if session.fatal is not None:
        print(f"eyespy session: error: {session.fatal}", file=sys.stderr)
        return 2
    return 0


def status_line(chosen: str, tally: Tally, session: Session, urls: list[str]) -> str:
    shots, retakes, blinks = tally.counts()
    parts = [chosen, f"{shots} shots", f"{retakes} retakes", f"{blinks} blinks"]
    if tally.last is not None:
        parts.append(f"last {tally.last[0]} {tally.last[1]}")
    s = tally.status or {}
    if s and s.get("source_connected") is False:
        parts.append("SOURCE DOWN")
    for child in session.children[1:]:
        if child.gave_up:
            parts.append(f"{child.name} off")
        elif not child.running:
            parts.append(f"{child.name} restarting")
    if urls:
        parts.append(urls[-1])
    return " · ".join(parts)
