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
        help="override one config key, e.g. --set bus.preview_fps=4 (repeatable)",
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


def add_endpoint_option(parser: argparse.ArgumentParser, what: str = "publisher") -> None:
    """--endpoint, repeatable: a subscriber listens to several cameras or to a relay."""
    from eyespy_live.bus.pubsub import DEFAULT_ENDPOINT

    parser.add_argument(
        "--endpoint",
        action="append",
        default=[],
        metavar="ENDPOINT",
        help=f"{what} to connect to; repeat for several cameras, or give a relay's "
        f"(default {DEFAULT_ENDPOINT})",
    )


def endpoints(args: argparse.Namespace) -> list[str]:
    from eyespy_live.bus.pubsub import DEFAULT_ENDPOINT

    return list(dict.fromkeys(args.endpoint)) or [DEFAULT_ENDPOINT]
