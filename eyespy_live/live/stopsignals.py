"""SIGTERM, SIGINT and SIGHUP end a run cleanly, however many arrive and whenever they do.

A Python signal handler runs in the main thread between two bytecodes of whatever it was
doing. A handler that calls `threading.Event.set()` takes the event's lock; a second signal
arriving while the first handler holds it runs the handler again inside, which waits for
that same lock forever (bursts of SIGTERM hung `eyespy service`). So the handler here does
nothing but store the signal number in an attribute. The C-level handler also writes the
number to a wakeup socket (`signal.set_wakeup_fd`), and a helper thread blocked on that
socket sets the stop event outside any signal context, even while the main thread is stuck
in a C call. After the first stop signal, later ones are ignored until the process exits
(Python's finalisation would otherwise restore the default action and let a late signal kill
the process mid-shutdown, losing the "stopped" status and the exit code).
"""

from __future__ import annotations

import contextlib
import signal
import socket
import sys
import threading
from types import FrameType
from typing import Any

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


class StopSignals:
    """Context manager: while active, a stop signal sets `stop` (and `received` says which).

    Must be entered in the main thread (Python's rule for signal handlers).
    """

    def __init__(
        self,
        stop: threading.Event,
        signals: tuple[signal.Signals, ...] = STOP_SIGNALS,
        *,
        ignore_after_exit: bool = True,
    ):
        self.stop = stop
        self.signals = tuple(signals)
        self.ignore_after_exit = ignore_after_exit
        self.received: int | None = None
        self._previous: dict[int, object] = {}
        self._old_wakeup = -1
        self._reader: socket.socket | None = None
        self._writer: socket.socket | None = None
        self._thread: threading.Thread | None = None

    @property
    def name(self) -> str | None:
        """The first stop signal's name (SIGTERM, ...), or None when none came."""
        return signal.Signals(self.received).name if self.received else None

    def _handler(self, signum: int, _frame: FrameType | None) -> None:
        # Only an attribute store: no lock, no I/O, nothing that can wait on itself.
        if self.received is None:
            self.received = signum

    def _relay(self) -> None:
        assert self._reader is not None
        wanted = {int(s) for s in self.signals}
        while True:
            try:
                data = self._reader.recv(256)
            except OSError:
                return
            if not data:
                return  # the writer was closed: exit()
            if wanted.intersection(data):
                if self.received is None:
                    self.received = next(b for b in data if b in wanted)
                self.stop.set()

    def __enter__(self) -> StopSignals:
        self._reader, self._writer = socket.socketpair()
        self._writer.setblocking(False)
        self._old_wakeup = signal.set_wakeup_fd(self._writer.fileno(), warn_on_full_buffer=False)
        for signum in self.signals:
            self._previous[signum] = signal.signal(signum, self._handler)
        self._thread = threading.Thread(target=self._relay, name="stop-signals", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        stopping = self.ignore_after_exit and self.received is not None
        if stopping:
            _quiet_late_signals()
        for signum, previous in self._previous.items():
            signal.signal(signum, signal.SIG_IGN if stopping else previous)  # type: ignore[arg-type]
        # Not the default warn_on_full_buffer=True: a signal of a burst caught by another
        # thread while this runs can still see our full socket, and would then print
        # "Exception ignored when trying to write to the signal wakeup fd" (seen once in
        # ~140 runs of tests/faults/test_fault_signals.py).
        signal.set_wakeup_fd(self._old_wakeup, warn_on_full_buffer=False)
        if self._writer is not None:
            with contextlib.suppress(OSError):
                self._writer.shutdown(socket.SHUT_RDWR)
            self._writer.close()
        if self._thread is not None:
            self._thread.join(1.0)
        if self._reader is not None:
            self._reader.close()
        if self.received is not None and not self.stop.is_set():
            self.stop.set()  # the main thread handled it before the relay thread woke


def _quiet_late_signals() -> None:
    """A signal that arrived just before SIG_IGN was installed is reported by Python as
    "Signal N ignored due to race condition" (through sys.unraisablehook, with a traceback
    header): after a stop, that is exactly what we want, so say nothing."""
    previous = sys.unraisablehook
    if getattr(previous, "_eyespy_quiet", False):
        return

    def hook(unraisable: Any) -> None:
        exc = unraisable.exc_value
        if isinstance(exc, OSError) and "ignored due to race condition" in str(exc):
            return
        previous(unraisable)

    hook._eyespy_quiet = True  # type: ignore[attr-defined]
    sys.unraisablehook = hook
