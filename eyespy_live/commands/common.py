"""Options shared by the subcommands that read the config file."""

from __future__ import annotations

import argparse
import tomllib
from typing import Any

from eyespy_live import config


def add_config_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="TOML config file (see `eyespy config`)")
    parser.add_argument(
        "--set",
        metavar="SECTION.KEY=VALUE",
        action="append",
        default=[],
        help="override one config key, e.g. --set blink.t_closed=0.7 (repeatable)",
    )


def parse_override(text: str) -> tuple[str, Any]:
    key, sep, raw = text.partition("=")
    if not sep or "." not in key:
        raise config.ConfigError([f"--set {text!r}: expected SECTION.KEY=VALUE"])
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw  # a bare word is a string
    return key.strip(), value


def load_config(args: argparse.Namespace, **flag_overrides: Any) -> config.Config:
    overrides = dict(parse_override(item) for item in args.set)
    overrides.update({k: v for k, v in flag_overrides.items() if v is not None})
    return config.load(args.config, overrides)
