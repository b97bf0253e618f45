"""Wires one source → vision → blink decisions → the ZeroMQ publisher.

`LiveRun` owns the per-face state machines and the counters; it is driven frame by frame
(`process`) so tests and `evaluate` can use it without sockets, and `run` adds the loop,
the heartbeat and a clean stop.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import cv2

from eyespy_live.bus.pubsub import Publisher
from eyespy_live.bus.thumbnails import face_strip
from eyespy_live.config import Config
from eyespy_live.decision.analyzer import FaceReading, LiveAnalyzer
from eyespy_live.decision.blink import BlinkEvent, BlinkStateMachine, Observation
from eyespy_live.decision.configured import blink_settings, build_detector, build_model
from eyespy_live.decision.shot import analyze_loaded_photo, analyze_photo
from eyespy_live.photos.load import valid_image
from eyespy_live.sources.base import Frame, FrameSource
from eyespy_live.vision.smear import SmearWatch

log = logging.getLogger(__name__)

EventSink = Callable[[dict[str, Any]], None]


@dataclass
class Stats:
    started: float = field(default_factory=time.monotonic)
    frames: int = 0
    bad_frames: int = 0
    faces: int = 0
    blinks: int = 0
    half_blinks: int = 0
    shots: int = 0
    retakes: int = 0
    last_event: str | None = None
    last_shot: tuple[str, str] | None = None  # file name, verdict
    _window: list[float] = field(default_factory=list)

    def tick(self) -> None:
        now = time.monotonic()
        self.frames += 1
        self._window.append(now)
        while self._window and now - self._window[0] > 2.0:
            self._window.pop(0)

    @property
    def fps(self) -> float:
        if len(self._window) < 2:
            return 0.0
        return (len(self._window) - 1) / max(1e-6, self._window[-1] - self._window[0])


class LiveRun:
    """Frame-by-frame processing with per-face blink state; publishes through `emit`."""

    def __init__(
        self,
        config: Config,
        emit: Callable[..., dict[str, Any] | None],
        analyzer: LiveAnalyzer | None = None,
    ):
        self.config = config
        self.emit = emit
        if analyzer is None:
            model = build_model(config)
            analyzer = LiveAnalyzer(
                build_detector(config),
                model,
                detect_every=config.vision.detect_every,
                min_face_score=config.vision.min_face_score,
                smear=SmearWatch() if config.vision.smear_check else None,
            )
        self.analyzer = analyzer
        self.settings = blink_settings(config)
        self.machines: dict[int, BlinkStateMachine] = {}
        self.stats = Stats()
        self.last_readings: list[FaceReading] = []

    def process(self, frame: Frame) -> list[dict[str, Any]]:
        if not valid_image(frame.image):
            self.stats.bad_frames += 1
            log.warning("frame %d from %s is not a usable image; skipped", frame.seq, frame.source)
            return []
        self.stats.tick()
        if frame.kind == "shot":
            return [self._shot(frame)]
        published = []
        for reading, blink in self.blink_events(frame):
            event = self._blink(frame, reading, blink)
            if event is not None:
                published.append(event)
        return published

    def blink_events(self, frame: Frame) -> list[tuple[FaceReading, BlinkEvent]]:
        """One live frame through the analyzer and each face's blink state machine: the
        state machines' events as they come, before they are published."""
        readings, ended = self.analyzer.analyze(frame.image)
        self.last_readings = readings
        self.stats.faces = len(readings)
        for track_id in ended:
            machine = self.machines.pop(track_id, None)
            if machine:
                machine.finish()
        events = []
        for reading in readings:
            machine = self.machines.setdefault(reading.track_id, BlinkStateMachine(self.settings))
            obs = Observation(frame.seq, frame.ts, reading.blink_p_closed(self.settings),
                              reading.pitch)
            events += [(reading, blink) for blink in machine.update(obs)]
        return events

    def _blink(self, frame: Frame, reading: FaceReading, blink: BlinkEvent) -> dict | None:
        if blink.kind == "half_blink":
            if not self.config.blink.half_blinks:
                return None
            self.stats.half_blinks += 1
        elif blink.kind == "blink":
            self.stats.blinks += 1
        body = {
            "frame": frame.seq,
            "face": reading.report(self.settings).to_json(),
            "blink": {
                "kind": blink.kind,
                "duration_ms": round(blink.duration_ms, 1),
                "first_frame": blink.first_frame,
                "last_frame": blink.last_frame,
                "start_ts": blink.start_ts,
                "end_ts": blink.end_ts,
                "peak_p_closed": round(blink.peak_p_closed, 4),
            },
        }
        self.stats.last_event = f"{blink.kind} face {reading.track_id}"
        return self.emit("blink", body, source=frame.source, capture_ts=frame.ts)

    def _shot(self, frame: Frame) -> dict | None:
        photo = getattr(frame, "photo", None)  # a PhotoFrame: reduced decode + finer eyes
        if photo is not None:
            verdict = analyze_loaded_photo(
                photo,
                self.analyzer.detector,
                self.analyzer.model,
                self.settings,
                self.config.vision.min_face_score,
            )
            width, height = photo.scale.full_size
        else:
            verdict = analyze_photo(
                frame.image,
                self.analyzer.detector,
                self.analyzer.model,
                self.settings,
                self.config.vision.min_face_score,
            )
            width, height = frame.image.shape[1], frame.image.shape[0]
        self.stats.shots += 1
        if verdict.verdict == "retake":
            self.stats.retakes += 1
        self.stats.last_event = f"shot {frame.name}: {verdict.verdict}"
        self.stats.last_shot = (str(frame.name), verdict.verdict)
        body = {
            "frame": frame.seq,
            "file": frame.name,
            "verdict": verdict.verdict,
            "reason": verdict.reason,
            "width": int(width),
            "height": int(height),
            "faces": [f.to_json() for f in verdict.faces],
            **frame.meta,
        }
        attachment = None
        try:  # thumbnails of the faces that are not open, so subscribers can show who blinked
            image = getattr(photo, "image", frame.image)  # boxes are in full-photo pixels
            strip = face_strip(image, body["faces"], (body["width"], body["height"]))
            if strip is not None:
                attachment, body["thumbnails"] = strip
        except Exception:  # noqa: BLE001 - a thumbnail must never cost the shot event
            log.exception("face thumbnails for %s failed; publishing without them", frame.name)
        return self.emit(
            "shot", body, source=frame.source, capture_ts=frame.ts, attachment=attachment
        )

    def status_body(self, state: str, source: FrameSource | None = None) -> dict[str, Any]:
        body = {
            "state": state,
            "uptime_s": round(time.monotonic() - self.stats.started, 1),
            "fps": round(self.stats.fps, 1),
            "frames": self.stats.frames,
            "bad_frames": self.stats.bad_frames,
            "dropped_frames": int(getattr(source, "skipped", 0)),
            "faces": self.stats.faces,
            "blinks": self.stats.blinks,
            "shots": self.stats.shots,
            "retakes": self.stats.retakes,
            "last_event": self.stats.last_event,
            "source_connected": bool(getattr(source, "connected", True)),
            # what kind of source, so a subscriber says "watching DIR", not "0.0 fps"
            "source_kind": getattr(source, "scheme", None),
            "can_trigger": callable(getattr(source, "trigger", None)),
            "watching": bool(getattr(source, "watch", False)),
        }
        if hasattr(source, "state"):  # sources that watch a device say what it is doing
            body["device_state"] = getattr(source, "state", None)
            body["device_error"] = getattr(source, "last_error", None)
        return body


def preview_jpeg(frame: Frame, readings: list[FaceReading], max_width: int = 640) -> bytes:
    image = frame.image
    if image.shape[1] > max_width:
        scale = max_width / image.shape[1]
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 70])
    return data.tobytes() if ok else b""


def run_live(
    config: Config,
    source: FrameSource,
    publisher: Publisher,
    *,
    on_event: EventSink | None = None,
    on_status: Callable[[LiveRun], None] | None = None,
    stop: threading.Event | None = None,
    on_frame: Callable[[], None] | None = None,
    live_run: LiveRun | None = None,
    status_extra: Callable[[], dict[str, Any]] | None = None,
    idle_status: bool = False,
) -> LiveRun:
    """Process `source` until it ends or `stop` is set; publishes events and heartbeats.

    `live_run` carries state and counters across runs (the service restarts sources);
    `status_extra` adds fields to every status heartbeat. With `idle_status`, heartbeats
    also go out while the source delivers nothing (a camera reconnecting, a quiet hot
    folder); leave it off when the caller sends its own heartbeats then (the service).
    """
    stop = stop or threading.Event()
    publish_lock = threading.RLock()  # the idle heartbeat comes from another thread

    def emit(
        event_type: str,
        body: dict,
        *,
        source: str,
        capture_ts: float,
        attachment: bytes | None = None,
    ) -> dict:
        with publish_lock:  # source.name, when set, is the camera's name for every listener
            event = publisher.publish(
                event_type,
                body,
                source=config.source.name or source,
                capture_ts=capture_ts,
                attachment=attachment,
            )
        if on_event is not None and event_type != "preview":
            on_event(event)
        return event

    if live_run is None:
        run = LiveRun(config, emit)
    else:
        run, live_run.emit = live_run, emit

    def status(state: str) -> dict[str, Any]:
        body = run.status_body(state, source)
        return {**body, **status_extra()} if status_extra is not None else body

    interval = config.service.status_interval_s
    next_status = time.monotonic()
    last_beat = [time.monotonic()]  # when the frame loop last sent a heartbeat
    preview_every = 1.0 / config.bus.preview_fps if config.bus.preview_fps > 0 else None
    next_preview = time.monotonic()
    emit("status", status("starting"), source=source.id, capture_ts=time.time())
    # A quiet source (a hot folder, a camera without live view) may wait in frames() for a
    # long time: closing it is what ends that wait when `stop` is set.
    finished = threading.Event()

    def watch_quiet_source() -> None:
        while not finished.wait(0.2):
            if stop.is_set():
                source.close()
                return
            now = time.monotonic()
            if idle_status and now - last_beat[0] >= interval:
                with publish_lock:  # never after the final "stopped"
                    if finished.is_set():
                        return
                    last_beat[0] = now
                    emit("status", status("running"), source=source.id, capture_ts=time.time())

    threading.Thread(target=watch_quiet_source, name="quiet-source", daemon=True).start()
    try:
        for frame in source.frames():
            if stop.is_set():
                break
            try:
                run.process(frame)
            except Exception:  # noqa: BLE001 - one bad frame must not end a session
                run.stats.bad_frames += 1
                log.exception("frame %d could not be processed; continuing", frame.seq)
            now = time.monotonic()
            if on_frame is not None:
                on_frame()
            if (
                preview_every is not None
                and now >= next_preview
                and frame.kind == "live"
                and valid_image(frame.image)  # a skipped bad frame has no picture to show
            ):
                next_preview = now + preview_every
                body = {
                    "frame": frame.seq,
                    "width": int(frame.image.shape[1]),
                    "height": int(frame.image.shape[0]),
                    "faces": [r.report(run.settings).to_json() for r in run.last_readings],
                }
                emit(
                    "preview",
                    body,
                    source=frame.source,
                    capture_ts=frame.ts,
                    attachment=preview_jpeg(frame, run.last_readings),
                )
            if now >= next_status:
                next_status = now + interval
                last_beat[0] = now
                emit("status", status("running"), source=source.id, capture_ts=time.time())
                if on_status is not None:
                    on_status(run)
    finally:
        finished.set()
        source.close()
        emit("status", status("stopped"), source=source.id, capture_ts=time.time())
    return run
