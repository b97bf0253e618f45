"""`eyespy` command line: dispatches to the subcommand modules in `eyespy_live.commands`."""

from __future__ import annotations

import os

# Native libraries print their own diagnostics to stderr; eyespy reports what matters itself.
os.environ.setdefault("OPENCV_LOG_LEVEL", "OFF")
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse  # noqa: E402
import importlib  # noqa: E402
import logging  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402

from eyespy_live import __version__
from eyespy_live.bus.commands import CommandError
from eyespy_live.bus.pubsub import EndpointError
from eyespy_live.commands import COMMAND_MODULES
from eyespy_live.config import ConfigError
from eyespy_live.files import FileRefused, printable
from eyespy_live.sources.base import SourceError
from eyespy_live.vision.faces import DetectorUnavailable
from eyespy_live.vision.tflite import InterpreterMissing, ModelInvalid

# Errors that are the user's to fix: one clear line, no traceback.
USER_ERRORS = (
    ConfigError,
    SourceError,
    EndpointError,
    CommandError,
    DetectorUnavailable,
    InterpreterMissing,
    ModelInvalid,
    FileRefused,
    FileNotFoundError,
    PermissionError,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="eyespy", description="Tells a photographer the instant someone blinks."
    )
    parser.add_argument("--version", action="version", version=f"eyespy-live {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        module = importlib.import_module(f"eyespy_live.commands.{module_name}")
        command = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(command)
        command.set_defaults(handler=module.run)
    return parser


# Commands that run for hours: their log lines carry the time (unless a journal adds it).
DAEMONS = ("service", "relay", "mqtt")


class LineFormat(logging.Formatter):
    """Log lines look like every other line eyespy prints: `eyespy live: warning: ...`.

    INFO needs no word; warnings and errors say so. Long-running commands add the time in
    front; --verbose adds the logger's name, for whoever is debugging.
    """

    def __init__(self, command: str, *, stamp: bool, names: bool = False):
        super().__init__()
        self.command, self.stamp, self.names = command, stamp, names

    def format(self, record: logging.LogRecord) -> str:
        level = "" if record.levelno == logging.INFO else f"{record.levelname.lower()}: "
        where = f"[{record.name}] " if self.names else ""
        text = f"eyespy {self.command}: {level}{where}{record.getMessage()}"
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        if self.stamp:
            text = f"{self.formatTime(record, '%Y-%m-%d %H:%M:%S')} {text}"
        return text


def interruptible() -> None:
    """Ctrl-C (SIGINT) stops every command cleanly, with its summary, even in a process that
    inherited SIGINT ignored: a shell without job control (a script, a CI runner, `nohup cmd
    &`) starts background jobs that way, and Python then never raises KeyboardInterrupt, so
    `kill -INT` did nothing to `eyespy tail` while `live` and `service` (own handlers) stopped."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def main(argv: list[str] | None = None) -> int:
    interruptible()
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        LineFormat(str(args.command), stamp=args.command in DAEMONS, names=args.verbose)
    )
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, handlers=[handler])
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        return int(args.handler(args) or 0)
    except USER_ERRORS as exc:
        text = "\n".join(printable(line) for line in str(exc).split("\n"))
        print(f"eyespy {args.command}: error: {text}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`eyespy cull … | head`): stop quietly, as `cat` would; the
        # exit status is the one a shell gives a process ended by SIGPIPE.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
