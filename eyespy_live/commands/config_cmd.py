"""`eyespy config`: print every config key with its default and meaning, or check a file."""

from __future__ import annotations

import argparse

from eyespy_live import config
from eyespy_live.bus.curve import bus_problems

NAME = "config"
HELP = "print the default config file (every key explained), or --check FILE"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--check", metavar="FILE", help="validate FILE and report every problem")


def run(args: argparse.Namespace) -> int:
    if args.check:
        loaded = config.load(args.check)
        problems = bus_problems(loaded.bus)  # what the service would refuse at start
        # Valid syntax naming a model, video or key file that is not there is not valid.
        problems += config.file_problems(loaded)
        if problems:
            raise config.ConfigError(problems)
        print(f"{args.check}: valid")
        return 0
    print(config.describe(), end="")
    return 0
