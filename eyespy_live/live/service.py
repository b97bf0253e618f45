"""The headless service: one configured source, the vision pipeline and the publisher, all day.

The source runs in a supervised worker thread (`supervisor.SourceSupervisor`); the main
thread watches it: it pets the systemd watchdog while the capture loop makes progress,
reopens a source that stopped delivering frames, fills in status heartbeats while the source
is down, and stops everything within a second or two when asked. Setup problems (bad config,
endpoint, keys, model) are raised before READY, so they end the process with a clear error;
everything after READY is retried instead.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from eyespy_live.bus.curve import open_publisher
from eyespy_live.bus.pubsub import Publisher
from eyespy_live.config import Config
from eyespy_live.files import printable
from eyespy_live.live.control import open_command_server
from eyespy_live.live.run import LiveRun, run_live
from eyespy_live.live.sdnotify import Notifier
from eyespy_live.live.supervisor import RUNNING, WAITING, Backoff, SourceSupervisor
from eyespy_live.sources import available_sources, open_source
from eyespy_live.sources.base import FrameSource, SourceSetupError

log = logging.getLogger("eyespy.service")


def source_kind(spec: str) -> str:
    """The source scheme a spec names, as `open_source` resolves it (bare path = video)."""
    scheme = spec.partition(":")[0]
    if scheme in available_sources():
        return scheme
    return "webcam" if spec.isdigit() else "video"


def source_options(config: Config) -> dict[str, Any]:
    """The [source] keys that apply to the configured kind of source."""
    kind = source_kind(config.source.spec)
    if kind in ("video", "demo"):
        return {"realtime": config.source.realtime, "loop": config.source.loop}
    if kind == "folder":
        return {"watch": config.source.watch}
    if kind == "gphoto2":
        return {"save_dir": config.source.save_dir or None}
    return {}


def end_is_expected(config: Config) -> bool:
    """A video without loop and a folder read once end by design; a camera never should."""
    kind = source_kind(config.source.spec)
    if kind in ("video", "demo"):
        return not config.source.loop
    if kind == "folder":
        return not config.source.watch
    return False


class LockedPublisher:
    """The publisher shared by the source worker and the main thread (ZeroMQ sockets are not
    thread-safe); remembers when the last status went out."""

    def __init__(self, publisher: Publisher):
        self._publisher = publisher
        self._lock = threading.Lock()
        self.last_status = 0.0

    @property
    def dropped(self) -> int:
        return self._publisher.dropped

    def publish(self, event_type: str, body: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        with self._lock:
            if event_type == "status":
                self.last_status = time.monotonic()
            return self._publisher.publish(event_type, body, **kwargs)


def describe(event: dict[str, Any]) -> str | None:
    """One plain journal line for an event worth logging."""
    if event["type"] == "blink":
        b = event["blink"]
        face, ms = event["face"]["id"], b["duration_ms"]
        return f"{b['kind']}: face {face}, {ms:.0f} ms ({event['source']})"
    if event["type"] == "shot":
        name = printable(str(event.get("file")))  # a file name may hold escape sequences
        return f"shot {name}: {event['verdict']} - {printable(event['reason'])}"
    return None


class HeadlessService:
    """Everything `eyespy service` runs; `run(stop)` returns the exit code."""

    def __init__(
        self,
        config: Config,
        *,
        notifier: Notifier | None = None,
        backoff: Backoff | None = None,
        on_frame: Callable[[LiveRun], None] | None = None,
        tick_s: float = 0.1,
    ):
        self.config = config
        self.notifier = notifier or Notifier()
        self.backoff = backoff or Backoff()
        self.on_frame = on_frame
        self.tick_s = tick_s
        self.live_run: LiveRun | None = None
        self.supervisor: SourceSupervisor | None = None
        self.publisher: LockedPublisher | None = None
        self.hung = False

    # -- pieces the worker uses -------------------------------------------------------------

    def _open(self) -> FrameSource:
        return open_source(self.config.source.spec, **source_options(self.config))

    def _run_source(self, source: FrameSource, stop: threading.Event) -> None:
        assert self.live_run is not None and self.publisher is not None
        run = self.live_run
        for machine in run.machines.values():
            machine.finish()
        run.machines.clear()  # a reopened source starts a new frame sequence
        run.analyzer._frames_seen = 0  # detect faces on the first frame again
        log.info("source %s is open", source.id)
        self.notifier.status(f"running {source.id}")
        run_live(
            self.config,
            source,
            self.publisher,  # type: ignore[arg-type]
            stop=stop,
            on_event=self._log_event,
            on_frame=self._frame_done,
            live_run=run,
            status_extra=self._status_extra,
        )

    def _frame_done(self) -> None:
        assert self.supervisor is not None and self.live_run is not None
        self.supervisor.beat()
        if self.on_frame is not None:
            self.on_frame(self.live_run)

    def _log_event(self, event: dict[str, Any]) -> None:
        line = describe(event)
        if line:
            log.info("%s", line)

    def _status_extra(self) -> dict[str, Any]:
        sup = self.supervisor
        assert sup is not None and self.publisher is not None
        source = sup.source
        connected = sup.state == RUNNING and bool(getattr(source, "connected", True))
        extra: dict[str, Any] = {
            "source": self.config.source.spec,
            "source_kind": source_kind(self.config.source.spec),
            "source_state": sup.state,
            "source_connected": connected,
            "restarts": sup.restarts,
            "last_error": sup.last_error,
            "dropped_events": self.publisher.dropped,
        }
        if sup.state == WAITING and sup.retry_at is not None:
            extra["retry_in_s"] = round(max(0.0, sup.retry_at - time.monotonic()), 1)
        return extra

    # -- the main thread -------------------------------------------------------------------

    def _idle_ok(self) -> bool:
        source = self.supervisor.source if self.supervisor else None
        return self.config.source.watch or bool(getattr(source, "may_idle", False))

    def _progress(self) -> float:
        """When the capture loop last showed it is alive (frame, state change, device poll)."""
        assert self.supervisor is not None
        activity = getattr(self.supervisor.source, "last_activity", None)
        beat = self.supervisor.last_beat
        return max(beat, activity) if isinstance(activity, float) else beat

    def _healthy(self, now: float) -> bool:
        """Whether to pet the systemd watchdog: the capture loop is not stuck."""
        assert self.supervisor is not None and self.notifier.watchdog_s is not None
        reports = isinstance(getattr(self.supervisor.source, "last_activity", None), float)
        if self.supervisor.state == RUNNING and self._idle_ok() and not reports:
            return True  # may be quiet for hours and cannot tell us it is alive
        # A source that polls its device (`last_activity`) may be quiet for a while between
        # polls (gphoto2 reconnects every 20 s at most): source_stall_s covers that.
        hang_limit = self.config.service.source_stall_s + self.notifier.watchdog_s
        return now - self._progress() < hang_limit

    def _status_line(self) -> str:
        sup, run = self.supervisor, self.live_run
        assert sup is not None and run is not None
        s = run.stats
        if sup.state == WAITING:
            return f"source down ({sup.last_error}); restart {sup.restarts} pending"
        return (
            f"{sup.state} {self.config.source.spec}: {s.fps:.1f} fps, {s.frames} frames, "
            f"{s.blinks} blinks, {s.shots} shots, {sup.restarts} restarts"
        )

    def _publish_status(self, state: str) -> None:
        assert self.live_run is not None and self.publisher is not None
        source = self.supervisor.source if self.supervisor is not None else None
        # The source's own device state too (a camera "reconnecting", a folder's last error).
        body = {**self.live_run.status_body(state, source), **self._status_extra()}
        try:
            self.publisher.publish(
                "status",
                body,
                source=self.config.source.name or self.config.source.spec,
                capture_ts=time.time(),
            )
        except Exception:  # noqa: BLE001 - a heartbeat must never end the service
            log.exception("could not publish the status heartbeat")

    def run(self, stop: threading.Event) -> int:
        config = self.config
        publisher, close_publisher = open_publisher(config.bus)
        commands = None
        try:
            # The shutter: requests go to whichever source the supervisor has open.
            commands = open_command_server(
                config.bus, lambda: self.supervisor.source if self.supervisor else None
            )
            self.publisher = LockedPublisher(publisher)
            self.live_run = LiveRun(config, emit=self.publisher.publish)
            self.supervisor = SourceSupervisor(
                self._open,
                self._run_source,
                backoff=self.backoff,
                expected_end=end_is_expected(config),
            )
            self.supervisor.start()
            log.info(
                "ready: source %s, publishing on %s%s",
                config.source.spec,
                config.bus.endpoint,
                " with CURVE" if config.bus.curve_secret_key_file else "",
            )
            self.notifier.ready(f"starting {config.source.spec}")
            self._watch(stop)
        finally:
            if commands is not None:
                commands.close()
            self._shutdown(close_publisher)
        if self.supervisor is not None and self.supervisor.setup_error:
            raise SourceSetupError(self.supervisor.setup_error)  # exit 2, one line
        return 0

    def _watch(self, stop: threading.Event) -> None:
        sup = self.supervisor
        assert sup is not None
        watchdog_s = self.notifier.watchdog_s
        next_pet = 0.0
        next_line = 0.0
        stall_s = self.config.service.source_stall_s
        interval = self.config.service.status_interval_s
        stalled_at: float | None = None  # the progress mark a stall restart was asked for
        while not stop.wait(self.tick_s):
            now = time.monotonic()
            if sup.finished:
                if sup.setup_error is None:
                    log.info("the source has ended; the service stops")
                return
            if watchdog_s is not None and now >= next_pet and self._healthy(now):
                self.notifier.watchdog()
                next_pet = now + watchdog_s / 2
            progress = self._progress()
            if (
                stall_s > 0
                and sup.state == RUNNING
                and not self._idle_ok()
                and now - progress > stall_s
                and stalled_at != progress
            ):
                # Asked once per stall: if closing does not free the worker, the watchdog
                # pets stop (see _healthy) and systemd restarts the whole service.
                stalled_at = progress
                log.warning("no frame for %.0f s; reopening the source", stall_s)
                sup.restart_stalled(f"no frame for {stall_s:.0f} s")
            assert self.publisher is not None
            if now - self.publisher.last_status > interval * 1.5:
                self._publish_status(sup.state)  # the capture loop is not sending any
            if now >= next_line:
                next_line = now + interval
                self.notifier.status(self._status_line())

    def _shutdown(self, close_publisher: Callable[[], None]) -> None:
        self.notifier.stopping("stopping")
        if self.supervisor is not None:
            if not self.supervisor.stop(timeout_s=1.2):
                self.hung = True
                log.error("the source did not stop within 1.2 s (a hung camera call?)")
            if self.publisher is not None and self.live_run is not None:
                self._publish_status("stopped")
            s = self.live_run.stats if self.live_run else None
            if s is not None:
                log.info(
                    "stopped after %.0f s: %d frames, %d blinks, %d shots, %d source restarts",
                    time.monotonic() - s.started,
                    s.frames,
                    s.blinks,
                    s.shots,
                    self.supervisor.restarts,
                )
        close_publisher()
