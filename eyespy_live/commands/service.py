"""`eyespy service`: the headless service for systemd (or a terminal), from one config file."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading

from eyespy_live.commands.common import add_config_options, load_config
from eyespy_live.live.service import HeadlessService
from eyespy_live.live.stopsignals import StopSignals

NAME = "service"
HELP = "run the configured source, vision and publisher as a supervised headless service"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_config_options(parser)


def _journal_logging() -> None:
    """Under systemd the journal stamps each line itself: drop our own timestamp."""
    if os.environ.get("JOURNAL_STREAM") or os.environ.get("INVOCATION_ID"):
        for handler in logging.getLogger().handlers:
            if hasattr(handler.formatter, "stamp"):
                handler.formatter.stamp = False  # the same line, without our time


def run(args: argparse.Namespace) -> int:
    _journal_logging()
    config = load_config(args)
    stop = threading.Event()
    service = HeadlessService(config)
    # SIGTERM (systemd), SIGINT (Ctrl-C) and SIGHUP (a closed terminal) all stop cleanly.
    with StopSignals(stop) as signals:
        code = service.run(stop)
    if signals.name:
        logging.getLogger("eyespy.service").info("stopped by %s", signals.name)
    if service.hung:
        # A worker stuck in a device call would keep the interpreter from exiting.
        logging.shutdown()
        sys.stdout.flush()
        os._exit(code)
    return code
