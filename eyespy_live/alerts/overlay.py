"""The on-screen alert: a window a photographer notices from the corner of an eye.

Three parts, kept apart so the drawing is testable without a display:
- `OverlayState.apply` folds received events into plain state;
- `render(state, now, size)` is a pure function from that state to a BGR image;
- `OverlayWindow` owns the subscriber and the OpenCV HighGUI window (Qt backend in the
  opencv-python wheel), and redraws a few times a second.
A RETAKE banner with the closed-eyed faces' thumbnails dominates everything else because it
is the one thing that must not be missed; live blinks only flash the border.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from eyespy_live.alerts import AlertError
from eyespy_live.bus.pubsub import Subscriber
from eyespy_live.bus.streams import note
from eyespy_live.bus.thumbnails import split_strip
from eyespy_live.events import TOPICS

# BGR colours. The banner colour is reserved for the banner so it can be found on screen.
BACKGROUND = (32, 32, 32)
BANNER_RETAKE = (36, 28, 214)
BANNER_CHECK = (0, 150, 230)
KEEP_BADGE = (70, 150, 60)
FLASH = (0, 215, 255)
TEXT = (245, 245, 245)
QUIET = (170, 170, 170)
STATE_COLOURS = {
    "open": (90, 200, 90),
    "half": (0, 180, 255),
    "closed": (60, 60, 255),
    "unknown": (150, 150, 150),
}
STATUS_BAR = 30  # pixels at the bottom for the status line
FONT = cv2.FONT_HERSHEY_SIMPLEX


@dataclass(frozen=True)
class Timing:
    """How long each alert stays up, in seconds; `stale` marks the publisher as gone."""

    banner: float = 6.0
    keep: float = 1.5
    flash: float = 0.8
    stale: float = 12.0


@dataclass
class ShotAlert:
    verdict: str  # keep | retake | check
    file: str
    faces: list[dict[str, Any]]  # the faces that are not clearly open
    thumbs: dict[int, np.ndarray]
    at: float
    camera: str = ""  # the event's source: which camera took it


@dataclass
class BlinkFlash:
    face_id: int
    kind: str
    duration_ms: float
    at: float


@dataclass
class OverlayState:
    """Everything the window shows, built only from received events."""

    endpoint: str
    last_message_at: float | None = None
    status: dict[str, Any] | None = None
    last_event: str | None = None
    last_event_at: float | None = None
    dropped: int = 0
    restarts: int = 0
    preview: np.ndarray | None = None
    preview_faces: list[dict[str, Any]] = field(default_factory=list)
    preview_size: tuple[int, int] | None = None  # the frame size the preview boxes refer to
    preview_at: float | None = None
    shot: ShotAlert | None = None  # the latest shot of any camera
    shots: dict[str, ShotAlert] = field(default_factory=dict)  # the latest shot per camera
    statuses: dict[str, dict[str, Any]] = field(default_factory=dict)  # per camera
    flash: BlinkFlash | None = None

    def apply(self, event: dict[str, Any], attachment: bytes | None, now: float) -> None:
        """Fold one received event into the state (`now` is time.monotonic())."""
        self.last_message_at = now
        kind = event.get("type")
        camera = str(event.get("source") or "")
        if kind == "status":
            if event.get("role") == "relay":
                return  # a relay's heartbeat is not a camera
            self.status = event
            self.statuses[camera] = event
        elif kind == "preview":
            image = None
            if attachment:
                image = cv2.imdecode(np.frombuffer(attachment, np.uint8), cv2.IMREAD_COLOR)
            if image is not None:
                self.preview = image
                self.preview_faces = list(event.get("faces") or [])
                self.preview_size = (
                    int(event.get("width") or image.shape[1]),
                    int(event.get("height") or image.shape[0]),
                )
                self.preview_at = now
        elif kind == "blink":
            face = event.get("face") or {}
            blink = event.get("blink") or {}
            self.flash = BlinkFlash(
                face_id=int(face.get("id", -1)),
                kind=str(blink.get("kind", "blink")),
                duration_ms=float(blink.get("duration_ms") or 0.0),
                at=now,
            )
            self._event(f"{self.flash.kind} face {self.flash.face_id}", now)
        elif kind == "shot":
            faces = [f for f in event.get("faces") or [] if f.get("state") != "open"]
            self.shot = ShotAlert(
                verdict=str(event.get("verdict", "check")),
                file=str(event.get("file") or "photo"),
                faces=faces,
                thumbs=split_strip(attachment, event.get("thumbnails")),
                at=now,
                camera=camera,
            )
            self.shots[camera] = self.shot
            self._event(f"shot {self.shot.file}: {self.shot.verdict}", now)

    def _event(self, text: str, now: float) -> None:
        self.last_event, self.last_event_at = text, now

    def cameras(self) -> set[str]:
        return set(self.statuses) | set(self.shots)

    def banners(self, now: float, timing: Timing) -> list[ShotAlert]:
        """The RETAKE/CHECK banners still up: one per camera, the latest first."""
        up = [
            shot
            for shot in self.shots.values()
            if shot.verdict in ("retake", "check") and now - shot.at < timing.banner
        ]
        return sorted(up, key=lambda shot: shot.at, reverse=True)

    def connected(self, now: float, timing: Timing) -> bool:
        return self.last_message_at is not None and now - self.last_message_at < timing.stale


# ---------------------------------------------------------------- drawing (pure) ---------


def _text(image, text, org, scale, colour, thickness=1) -> None:
    cv2.putText(image, text, org, FONT, scale, colour, thickness, cv2.LINE_AA)


def _fit_scale(text: str, max_w: float, max_h: float, thickness: int) -> float:
    """The largest font scale at which `text` fits in max_w × max_h."""
    (w, h), _ = cv2.getTextSize(text, FONT, 1.0, thickness)
    return max(0.3, min(max_w / max(w, 1), max_h / max(h, 1)))


def _draw_preview(canvas: np.ndarray, state: OverlayState, area: tuple[int, int]) -> None:
    image = state.preview
    aw, ah = area
    ph, pw = image.shape[:2]
    scale = min(aw / pw, ah / ph)
    w, h = max(1, int(pw * scale)), max(1, int(ph * scale))
    x0, y0 = (aw - w) // 2, (ah - h) // 2
    canvas[y0 : y0 + h, x0 : x0 + w] = cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)
    fw, fh = state.preview_size or (pw, ph)
    sx, sy = w / max(1, fw), h / max(1, fh)
    for face in state.preview_faces:
        x, y, bw, bh = face.get("box", (0, 0, 0, 0))
        colour = STATE_COLOURS.get(face.get("state"), STATE_COLOURS["unknown"])
        p1 = (x0 + int(x * sx), y0 + int(y * sy))
        p2 = (x0 + int((x + bw) * sx), y0 + int((y + bh) * sy))
        cv2.rectangle(canvas, p1, p2, colour, 3)
        label = f"{face.get('id', '?')} {face.get('state', '')}"
        _text(canvas, label, (p1[0], max(16, p1[1] - 8)), 0.6, colour, 2)


def _draw_centered(canvas: np.ndarray, text: str, y: int, scale: float, colour) -> None:
    (w, _), _ = cv2.getTextSize(text, FONT, scale, 1)
    _text(canvas, text, ((canvas.shape[1] - w) // 2, y), scale, colour)


def _draw_flash(canvas: np.ndarray, flash: BlinkFlash, area: tuple[int, int]) -> None:
    aw, ah = area
    cv2.rectangle(canvas, (6, 6), (aw - 7, ah - 7), FLASH, 12)
    label = f"{flash.kind.replace('_', ' ').upper()}  face {flash.face_id}"
    if flash.duration_ms:
        label += f"  {flash.duration_ms:.0f} ms"
    scale = _fit_scale(label, aw * 0.5, ah * 0.06, 2)
    (tw, th), _ = cv2.getTextSize(label, FONT, scale, 2)
    cv2.rectangle(canvas, (18, 18), (36 + tw, 36 + th + 8), (20, 20, 20), -1)
    _text(canvas, label, (27, 27 + th), scale, FLASH, 2)


def _draw_banners(
    canvas: np.ndarray, shots: list[ShotAlert], area: tuple[int, int], label: bool
) -> None:
    """One band per camera, stacked from the top, the latest first; a single banner keeps
    the big middle band. `label` names the camera (when more than one is heard)."""
    aw, ah = area
    if len(shots) == 1:
        _draw_banner(canvas, shots[0], area, (int(ah * 0.18), int(ah * 0.82)), label)
        return
    gap = 6
    band = (ah - 20 - gap * (len(shots) - 1)) // len(shots)
    for i, shot in enumerate(shots):
        top = 10 + i * (band + gap)
        _draw_banner(canvas, shot, area, (top, top + band), True)


def _draw_banner(
    canvas: np.ndarray,
    shot: ShotAlert,
    area: tuple[int, int],
    box: tuple[int, int] | None = None,
    label: bool = False,
) -> None:
    aw, ah = area
    colour = BANNER_RETAKE if shot.verdict == "retake" else BANNER_CHECK
    top, bottom = box or (int(ah * 0.18), int(ah * 0.82))
    cv2.rectangle(canvas, (0, top), (aw - 1, bottom), colour, -1)
    band = bottom - top
    word = "RETAKE" if shot.verdict == "retake" else "CHECK"
    if label and shot.camera:
        word = f"{word} {shot.camera}"
    thumbs = [shot.thumbs[f["id"]] for f in shot.faces if f.get("id") in shot.thumbs]
    text_w = aw * (0.55 if thumbs else 0.9)
    scale = _fit_scale(word, text_w - 40, band * 0.45, 8)
    (tw, th), _ = cv2.getTextSize(word, FONT, scale, 8)
    tx = int((text_w - tw) / 2)
    _text(canvas, word, (tx, top + int(band * 0.12) + th), scale, TEXT, 8)
    closed = [f for f in shot.faces if f.get("state") in ("closed", "half")]
    who = ", ".join(f"face {f.get('id')}" for f in (closed or shot.faces)) or "no face"
    what = "eyes closed" if shot.verdict == "retake" else "can't tell"
    for i, line in enumerate((f"{what}: {who}", shot.file)):
        small = _fit_scale(line, text_w - 40, band * 0.09, 2)
        (lw, lh), _ = cv2.getTextSize(line, FONT, small, 2)
        y = top + int(band * (0.72 + 0.15 * i))
        _text(canvas, line, (int((text_w - lw) / 2), y), small, TEXT, 2)
    if thumbs:
        _draw_thumbs(canvas, shot, (int(text_w), top, aw - 20, bottom))


def _draw_thumbs(canvas: np.ndarray, shot: ShotAlert, box: tuple[int, int, int, int]) -> None:
    """Face crops in a grid inside `box`, framed in white (the banner is red) and labelled."""
    x0, y0, x1, y1 = box
    faces = [f for f in shot.faces if f.get("id") in shot.thumbs]
    n = len(faces)
    cols = 1 if n == 1 else 2 if n <= 4 else 3
    rows = -(-n // cols)
    gap = 10
    side = int(min((x1 - x0 - gap * (cols + 1)) / cols, (y1 - y0 - gap * (rows + 1)) / rows))
    side -= 22  # room for the label
    if side < 24:
        return
    for i, face in enumerate(faces):
        r, c = divmod(i, cols)
        x = x0 + gap + c * (side + gap)
        y = y0 + gap + r * (side + 22 + gap)
        tile = cv2.resize(shot.thumbs[face["id"]], (side, side), interpolation=cv2.INTER_LINEAR)
        canvas[y : y + side, x : x + side] = tile
        cv2.rectangle(canvas, (x - 3, y - 3), (x + side + 2, y + side + 2), TEXT, 3)
        _text(canvas, f"face {face['id']} {face.get('state')}", (x, y + side + 18), 0.55, TEXT)


def _draw_keep(canvas: np.ndarray, shot: ShotAlert, area: tuple[int, int]) -> None:
    aw, _ = area
    label = f"KEEP  {shot.file}"
    (tw, th), _ = cv2.getTextSize(label, FONT, 0.8, 2)
    cv2.rectangle(canvas, (aw - tw - 40, 16), (aw - 16, 40 + th), KEEP_BADGE, -1)
    _text(canvas, label, (aw - tw - 28, 28 + th), 0.8, TEXT, 2)


def status_line(state: OverlayState, now: float, timing: Timing = Timing()) -> str:
    """The quiet one-line summary at the bottom of the window."""
    if not state.connected(now, timing):
        since = (
            "nothing received yet"
            if state.last_message_at is None
            else f"silent for {now - state.last_message_at:.0f} s"
        )
        parts = [f"waiting for the publisher at {state.endpoint} ({since})"]
    else:
        status = state.status or {}
        camera = (
            "camera ?"
            if not status
            else (
                "camera connected"
                if status.get("source_connected", True)
                else "CAMERA DISCONNECTED"
            )
        )
        parts = ["connected"]
        if len(state.statuses) > 1:  # several cameras: a short word for each
            for name, each in sorted(state.statuses.items()):
                ok = each.get("source_connected", True) and each.get("state") != "stopped"
                word = f"{float(each.get('fps') or 0):.0f} fps" if ok else "DISCONNECTED"
                parts.append(f"{name} {word}")
        else:
            parts.append(camera)
            if status:
                parts.append(f"{float(status.get('fps') or 0):.1f} fps")
    if state.last_event:
        ago = now - (state.last_event_at or now)
        parts.append(f"last: {state.last_event} ({ago:.0f} s ago)")
    parts.append(f"dropped {state.dropped}")
    if state.restarts:
        parts.append(f"publisher restarts {state.restarts}")
    return "  |  ".join(parts)


def render(
    state: OverlayState,
    now: float,
    size: tuple[int, int] = (1280, 720),
    timing: Timing = Timing(),
) -> np.ndarray:
    """The window's image for `state` at time `now` (monotonic); no side effects."""
    width, height = size
    canvas = np.full((height, width, 3), BACKGROUND, np.uint8)
    area = (width, height - STATUS_BAR)
    view = canvas[: area[1]]
    connected = state.connected(now, timing)
    if state.preview is not None:
        _draw_preview(view, state, area)
        if not connected:
            view[:] = (view * 0.35).astype(np.uint8)
    elif connected:
        _draw_centered(view, "connected - no preview frames", area[1] // 2 - 10, 0.9, QUIET)
        hint = "(the publisher sends them when bus.preview_fps > 0)"
        _draw_centered(view, hint, area[1] // 2 + 24, 0.6, QUIET)
    else:
        _draw_centered(view, "waiting for the publisher", area[1] // 2, 1.0, QUIET)
    if state.flash is not None and now - state.flash.at < timing.flash:
        _draw_flash(view, state.flash, area)
    banners = state.banners(now, timing)
    if banners:
        _draw_banners(view, banners, area, label=len(state.cameras()) > 1)
    shot = state.shot
    if shot is not None and not banners and shot.verdict == "keep" and now - shot.at < timing.keep:
        _draw_keep(view, shot, area)
    cv2.rectangle(canvas, (0, area[1]), (width - 1, height - 1), (18, 18, 18), -1)
    line = status_line(state, now, timing)
    scale = min(0.5, _fit_scale(line, width - 16, STATUS_BAR * 0.5, 1))
    colour = QUIET if connected else (80, 160, 230)
    _text(canvas, line, (8, height - STATUS_BAR // 2 + 6), scale, colour)
    return canvas


# ---------------------------------------------------------------- the window -------------


def have_display() -> bool:
    if sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


@dataclass
class WindowOptions:
    size: tuple[int, int] = (1280, 720)
    fullscreen: bool = False
    on_top: bool = False
    position: tuple[int, int] = (0, 0)  # a second monitor starts at its x offset
    redraw_fps: float = 15.0
    title: str = "eyespy"


class OverlayWindow:
    """Subscribes to every topic (so seq gaps are real drops) and redraws the window."""

    def __init__(
        self,
        endpoint: str | Sequence[str],
        options: WindowOptions,
        *,
        timing: Timing = Timing(),
        socket_options=(),
        log=None,
    ):
        if not have_display():
            raise AlertError(
                "no display: DISPLAY is not set (run it on the desktop, or `ssh -X`, "
                "or under Xvfb for tests)"
            )
        self.options = options
        self.timing = timing
        self.subscriber = Subscriber(endpoint, TOPICS, socket_options=socket_options)
        self.state = OverlayState(self.subscriber.endpoint)
        self.log = log or (
            lambda text: print(f"eyespy overlay: {text}", file=sys.stderr, flush=True)
        )

    def _open(self) -> None:
        o, title = self.options, self.options.title
        cv2.namedWindow(title, cv2.WINDOW_NORMAL | cv2.WINDOW_KEEPRATIO | cv2.WINDOW_GUI_NORMAL)
        cv2.resizeWindow(title, *o.size)
        cv2.moveWindow(title, *o.position)
        cv2.imshow(title, render(self.state, time.monotonic(), o.size, self.timing))
        cv2.waitKey(1)
        if o.fullscreen:
            cv2.setWindowProperty(title, cv2.WND_PROP_FULLSCREEN, cv2.WINDOW_FULLSCREEN)
        if o.on_top:
            cv2.setWindowProperty(title, cv2.WND_PROP_TOPMOST, 1)

    def _drain(self, until: float) -> None:
        """Apply every event that arrives before `until`; the window never waits longer."""
        for _ in range(500):
            remaining = until - time.monotonic()
            got = self.subscriber.receive(timeout_s=max(0.0, remaining))
            if got is None:
                return
            event, attachment = got
            line = note(self.subscriber.last, event) if self.subscriber.last else None
            if line:
                self.log(line)
            self.state.apply(event, attachment, time.monotonic())
            if event.get("type") == "shot" and event.get("verdict") != "keep":
                faces = ", ".join(str(f.get("id")) for f in self.state.shot.faces)
                self.log(
                    f"{event['verdict'].upper()} {event.get('file')} (faces: {faces}) "
                    f"from {event.get('source')}"
                )

    def run(self, *, timeout_s: float = 0.0) -> int:
        """Show the window until q/Esc, the window is closed, or `timeout_s` (0 = never)."""
        self._open()
        title, period = self.options.title, 1.0 / max(1.0, self.options.redraw_fps)
        end = time.monotonic() + timeout_s if timeout_s > 0 else None
        self.log(f"listening on {self.state.endpoint}")
        try:
            while end is None or time.monotonic() < end:
                self._drain(time.monotonic() + period)
                seq = self.subscriber.seq
                self.state.dropped, self.state.restarts = seq.dropped, seq.restarts
                image = render(self.state, time.monotonic(), self.options.size, self.timing)
                cv2.imshow(title, image)
                key = cv2.waitKey(1) & 0xFF
                if key in (ord("q"), 27):
                    break
                if cv2.getWindowProperty(title, cv2.WND_PROP_VISIBLE) < 1:
                    break  # the user closed the window
        except KeyboardInterrupt:
            pass
        finally:
            for line in self.subscriber.seq.summary_lines():
                self.log(line)
            self.subscriber.close()
            cv2.destroyAllWindows()
            cv2.waitKey(1)
        return 0
