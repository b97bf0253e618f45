"""Keeps one frame source running: open → run → close in a worker thread, restarted with back-off.

A camera that is unplugged, asleep or busy must not end an all-day session: its failure is
logged, the source is closed, and it is opened again after a delay that grows (1 s, 2 s, 4 s …
up to 20 s) and starts from the beginning again once a run has gone well for a while. Only a
source whose end is expected (a video file without `loop`, a folder read once) ends the
worker for good.

The worker beats (`last_beat`) whenever it shows progress: a frame, a state change, a tick
while it waits. The service pets the systemd watchdog only while those beats keep coming,
so a camera call that hangs for good gets the whole service restarted by systemd.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from eyespy_live.sources.base import FrameSource, SourceError, SourceSetupError

log = logging.getLogger(__name__)

OPENING, RUNNING, WAITING, ENDED, STOPPED = "opening", "running", "waiting", "ended", "stopped"


@dataclass
class Backoff:
    """Restart delays: doubling from `initial_s` up to `maximum_s`, reset after a good run."""

    initial_s: float = 1.0
    maximum_s: float = 20.0
    factor: float = 2.0
    reset_after_s: float = 30.0
    _next: float = field(default=0.0, init=False, repr=False)

    def __post_init__(self) -> None:
        self._next = self.initial_s

    def delay(self, ran_for_s: float) -> float:
        """The wait before the next start, given how long the last run lasted."""
        if ran_for_s >= self.reset_after_s:
            self._next = self.initial_s
        current = self._next
        self._next = min(self.maximum_s, current * self.factor)
        return current


class SourceSupervisor:
    """Runs `run(source)` on sources from `open_source()` until stopped, restarting failures."""

    def __init__(
        self,
        open_source: Callable[[], FrameSource],
        run: Callable[[FrameSource, threading.Event], None],
        *,
        backoff: Backoff | None = None,
        expected_end: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._open_source = open_source
        self._run = run
        self.backoff = backoff or Backoff()
        self.expected_end = expected_end
        self.clock = clock
        self.stop_event = threading.Event()
        self.state = OPENING
        self.restarts = 0
        self.last_error: str | None = None
        self.setup_error: str | None = None  # a source that can never open (see SourceSetupError)
        self.opened_once = False
        self.retry_at: float | None = None
        self.last_beat = clock()
        self.source: FrameSource | None = None
        self._stalled: str | None = None
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name="eyespy-source", daemon=True)

    # -- control -------------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float = 1.5) -> bool:
        """Ask the worker to end and close the source; True when it ended within the timeout."""
        self.stop_event.set()
        self._close_current()
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    def restart_stalled(self, reason: str) -> None:
        """Close the current source so the worker opens it again (used for stalled cameras)."""
        with self._lock:
            if self.source is None or self.state != RUNNING:
                return
            self._stalled = reason
        self._close_current()

    @property
    def finished(self) -> bool:
        """The worker has ended for good (an expected end, or stop)."""
        return self._thread.ident is not None and not self._thread.is_alive()

    def beat(self) -> None:
        self.last_beat = self.clock()

    # -- worker --------------------------------------------------------------------------

    def _close_current(self) -> None:
        source = self.source
        if source is not None:
            try:
                source.close()
            except Exception:  # noqa: BLE001 - closing a broken device may fail too
                log.debug("closing the source failed", exc_info=True)

    def _set(self, state: str) -> None:
        self.state = state
        self.beat()

    def _loop(self) -> None:
        while not self.stop_event.is_set():
            self._set(OPENING)
            started = self.clock()
            error = self._run_once()
            if self.stop_event.is_set():
                break
            if error is None:
                self._set(ENDED)
                log.info("the source ended")
                return
            self.last_error = error
            self.restarts += 1
            delay = self.backoff.delay(self.clock() - started)
            self.retry_at = self.clock() + delay
            log.warning("source failed: %s; restart %d in %.0f s", error, self.restarts, delay)
            self._set(WAITING)
            while not self.stop_event.is_set() and self.clock() < self.retry_at:
                self.stop_event.wait(min(0.25, max(0.0, self.retry_at - self.clock())))
                self.beat()
            self.retry_at = None
        self._set(STOPPED)

    def _run_once(self) -> str | None:
        """One open → run → close; the failure as one line, or None for an expected end."""
        try:
            source = self._open_source()
        except SourceSetupError as exc:
            if not self.opened_once:  # never worked: waiting will not help, the service ends
                self.setup_error = str(exc)
                self.stop_event.set()
            return str(exc)  # it did work before (a USB stick pulled): wait for it
        except SourceError as exc:
            return str(exc)
        except Exception as exc:  # noqa: BLE001 - a driver error must not end the service
            log.debug("opening the source failed", exc_info=True)
            return f"cannot open the source: {type(exc).__name__}: {exc}"
        with self._lock:
            self.source = source
            self._stalled = None
            self.opened_once = True
        if self.stop_event.is_set():  # stop() came while opening: close what was opened
            source.close()
        self._set(RUNNING)
        try:
            self._run(source, self.stop_event)
        except Exception as exc:  # noqa: BLE001 - restart whatever the source raised
            log.debug("the source raised", exc_info=True)
            return f"{type(exc).__name__}: {exc}"
        finally:
            with self._lock:
                self.source = None
            try:
                source.close()
            except Exception:  # noqa: BLE001
                log.debug("closing the source failed", exc_info=True)
        if self._stalled is not None:
            return self._stalled
        if self.expected_end:
            return None
        return f"{source.id} ended unexpectedly"
