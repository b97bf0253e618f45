"""`eyespy sound`: play an alert tone when a shot needs retaking (or on live blinks)."""

from __future__ import annotations

import argparse
import atexit
import os
import sys
import tempfile
import threading
from pathlib import Path

from eyespy_live.alerts import AlertError
from eyespy_live.alerts.sound import (
    ALERT_KINDS,
    DEFAULT_KINDS,
    Player,
    SoundAlerts,
    check_wav,
    find_player,
    player_command,
    write_tone,
)
from eyespy_live.bus.curve import add_client_arguments, client_options_from_args
from eyespy_live.bus.pubsub import EndpointError, check_endpoint
from eyespy_live.commands.common import add_endpoint_option, endpoints
from eyespy_live.live.stopsignals import StopSignals

NAME = "sound"
HELP = "sound alert on retake shots (and optionally live blinks) via aplay/paplay"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_endpoint_option(parser)
    parser.add_argument(
        "--on",
        action="append",
        choices=ALERT_KINDS,
        default=[],
        help="events that sound (repeatable; default: retake = a shot with closed eyes)",
    )
    parser.add_argument(
        "--blinks", action="store_true", help="also sound on live blinks (same as --on blink)"
    )
    parser.add_argument("--wav", metavar="FILE", help="your own WAV file (default: built-in tone)")
    parser.add_argument(
        "--player", metavar="PROGRAM", help="aplay, paplay or any program taking a WAV path"
    )
    parser.add_argument(
        "--device", metavar="NAME", help="sound device (aplay -D NAME / paplay --device=NAME)"
    )
    parser.add_argument(
        "--cooldown",
        type=float,
        default=2.0,
        metavar="SECONDS",
        help="after a sound, stay quiet this long: a burst of events is one sound",
    )
    parser.add_argument(
        "--test", action="store_true", help="play the sound once, report whether it worked, exit"
    )
    parser.add_argument("--write-tone", metavar="FILE", help="write the built-in tone and exit")
    parser.add_argument(
        "--timeout", type=float, default=0.0, help="exit after this many seconds (0 = never)"
    )
    add_client_arguments(parser)


def _default_tone() -> Path:
    handle, name = tempfile.mkstemp(prefix="eyespy-tone-", suffix=".wav")
    os.close(handle)
    atexit.register(lambda: Path(name).unlink(missing_ok=True))
    return write_tone(name)


def run(args: argparse.Namespace) -> int:
    try:
        if args.write_tone:
            print(write_tone(args.write_tone))
            return 0
        if args.cooldown < 0:
            raise AlertError("--cooldown must be zero or more seconds")
        # The user's own typo first: a bad endpoint is named before a missing player is.
        try:
            for each in endpoints(args):
                check_endpoint(each)
        except EndpointError as exc:
            raise AlertError(str(exc)) from None
        wav = check_wav(args.wav) if args.wav else _default_tone()
        program = find_player(args.player)
        player = Player(lambda: player_command(program, wav, args.device))
        if args.test:
            player.start()
            problems = player.wait(10.0)
            if problems or player.running:
                print(
                    f"eyespy sound: error: {'; '.join(problems) or 'player hung'}", file=sys.stderr
                )
                return 1
            print(f"eyespy sound: played {wav} with {program}", file=sys.stderr)
            return 0
        kinds = list(dict.fromkeys(args.on or list(DEFAULT_KINDS)))
        if args.blinks and "blink" not in kinds:
            kinds.append("blink")
        alerts = SoundAlerts(
            endpoints(args),
            player,
            kinds=kinds,
            cooldown_s=args.cooldown,
            socket_options=client_options_from_args(args),
        )
        # Ctrl-C or a service stop ends the loop between events, never inside one, so the
        # summary line is always written.
        stop = threading.Event()
        with StopSignals(stop):
            return alerts.run(timeout_s=args.timeout, stop=stop)
    except AlertError as exc:
        print(f"eyespy sound: error: {exc}", file=sys.stderr)
        return 2
