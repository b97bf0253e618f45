"""`eyespy keys`: create ZeroMQ CURVE key pairs for remote subscribers."""

from __future__ import annotations

import argparse
import sys

from eyespy_live.bus.curve import write_keypair
from eyespy_live.config import ConfigError

NAME = "keys"
HELP = "create a CURVE key pair (NAME.key public, NAME.key_secret private) for remote use"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="whose keys: 'server' on the Pi, e.g. 'laptop' for a client")
    parser.add_argument("--dir", default=".", help="folder to write the two files into")
    parser.add_argument("--force", action="store_true", help="replace existing key files")


def run(args: argparse.Namespace) -> int:
    try:
        public, secret = write_keypair(args.dir, args.name, force=args.force)
    except ConfigError as exc:  # an existing key or a bad name: not a configuration file
        print(f"eyespy keys: error: {'; '.join(exc.problems)}", file=sys.stderr)
        return 2
    except OSError as exc:
        if isinstance(exc, (FileNotFoundError, PermissionError)):
            raise
        where = exc.filename or args.dir
        print(f"eyespy keys: error: cannot write keys in {where}: {exc.strerror}", file=sys.stderr)
        return 1
    print(f"public key: {public}  (copy this one to the other machine)")
    print(f"secret key: {secret}  (mode 0600; keep it on this machine)")
    return 0
