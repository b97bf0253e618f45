"""`eyespy doctor`: one line per check of this installation, with what to do when one fails."""

from __future__ import annotations

import argparse

from eyespy_live.commands.common import add_config_options, load_config
from eyespy_live.doctor import JOBS, Context, expand, run_checks

NAME = "doctor"
HELP = "check this machine for what eyespy needs (models, camera, sound, endpoint, disk)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--job",
        action="append",
        choices=sorted(JOBS),
        default=[],
        help="what you will run (repeatable; default: live with the config's source). "
        + "; ".join(f"{k}: {v}" for k, v in JOBS.items()),
    )
    parser.add_argument(
        "--out", action="append", default=[], metavar="DIR", help="an output folder to check"
    )
    parser.add_argument("--player", metavar="PROGRAM", help="sound player to check (sound job)")
    parser.add_argument("--device", metavar="NAME", help="sound device to check (sound job)")
    add_config_options(parser)


def run(args: argparse.Namespace) -> int:
    config = load_config(args)
    asked = args.job or ["live"]
    jobs = expand(asked)
    ctx = Context(jobs, config, args.out, args.player, args.device)
    lines = run_checks(ctx)
    for line in lines:
        print(line.text(), flush=True)
    failed = [line.name for line in lines if line.status == "FAIL"]
    what = ", ".join(dict.fromkeys(asked))
    if "live" in jobs and "demo" not in jobs:
        what += f" (source {config.source.spec})"
    if failed:
        print(f"doctor: NOT ready for {what}: fix {', '.join(dict.fromkeys(failed))} (FAIL lines)")
        return 1
    print(f"doctor: ready for {what}")
    return 0
