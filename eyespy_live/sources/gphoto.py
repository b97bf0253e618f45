"""A tethered camera over USB (libgphoto2): live view frames, and every photo it takes.

Two things come out of one camera:
- live frames from `capture_preview` while framing, pulled as fast as the camera gives
  them (Canon ~10 fps, Nikon ~40), so the pipeline never queues stale frames;
- a `shot` frame for every photo the camera writes (shutter pressed on the camera, or
  `trigger()`): the file is downloaded (the JPEG, or a RAW's embedded JPEG preview; for a
  RAW+JPEG pair only the JPEG is judged) and decoded by `eyespy_live.photos.load` for the fast
  reduced-decode verdict. Optionally saved to `save_dir`; nothing is ever deleted on the card.

The camera is reached through `Camera` (`sources/camera.py`), a thin boundary around
python-gphoto2, so tests can put a double exactly where the hardware is. When the camera
goes away mid-session (cable pulled, camera asleep, battery), the source keeps running: it
reconnects with back-off (2 s doubling to 20 s) and says so in `state` / `last_error` / `connected`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np

from eyespy_live.files import write_atomic
from eyespy_live.photos.load import (
    JPEG_SUFFIXES,
    RAW_SUFFIXES,
    UNDECODABLE_SUFFIXES,
    PhotoError,
    decode_photo,
    valid_image,
)
from eyespy_live.sources.base import Frame, FrameSource, SourceError, photo_frame
from eyespy_live.sources.camera import (
    Camera,
    CameraBusy,
    CameraLost,
    CameraMissing,
    Gphoto2Camera,
)

log = logging.getLogger(__name__)

def pair_shots(names: list[str]) -> list[str]:
    """The files to judge among new files: a RAW+JPEG pair of one shot is judged once (JPEG),
    RAW+HEIF by its RAW. A HEIF alone is kept, so that its decode says why it has no verdict."""
    def stems(suffixes: frozenset[str]) -> set[str]:
        return {Path(n).stem.lower() for n in names if Path(n).suffix.lower() in suffixes}

    jpeg_stems = stems(JPEG_SUFFIXES)
    decodable_stems = jpeg_stems | stems(RAW_SUFFIXES)
    keep = []
    for name in names:
        suffix, stem = Path(name).suffix.lower(), Path(name).stem.lower()
        if (
            suffix in JPEG_SUFFIXES
            or (suffix in RAW_SUFFIXES and stem not in jpeg_stems)
            or (suffix in UNDECODABLE_SUFFIXES and stem not in decodable_stems)
        ):
            keep.append(name)
    return keep


def save_copy(folder: Path, name: str, data: bytes) -> Path:
    """Write `data` as folder/name without ever replacing an existing file."""
    folder.mkdir(parents=True, exist_ok=True)
    stem, suffix = Path(name).stem, Path(name).suffix
    target, n = folder / name, 1
    while target.exists():
        target, n = folder / f"{stem}-{n}{suffix}", n + 1
    # A fresh temporary file renamed into place: a full disk leaves nothing half written.
    write_atomic(target, data)
    return target


class GphotoSource(FrameSource):
    scheme = "gphoto2"
    description = "a USB camera via libgphoto2: live view and every photo taken (gphoto2[:MODEL])"
    may_idle = True  # no frames while the camera sleeps or has no live view: not a stall

    def __init__(
        self,
        selector: str = "",
        save_dir: str | Path | None = None,
        live_view: bool = True,
        backoff: tuple[float, float] = (2.0, 20.0),
        connect: Callable[[str], Camera] | None = None,
        event_timeout_ms: int = 200,
        catch_up_max: int = 20,
        **_: object,
    ):
        self.selector = selector
        self.save_dir = Path(save_dir) if save_dir else None
        self.live_view = live_view
        self.backoff = backoff
        self.event_timeout_ms = event_timeout_ms
        self.catch_up_max = catch_up_max
        self._connect = connect or Gphoto2Camera.open
        self._stop = threading.Event()
        self._trigger = threading.Event()
        self._trigger_lock = threading.Lock()
        self._trigger_waiters: list[tuple[threading.Event, list[str | None]]] = []
        self._running = threading.Lock()
        self.rejected: list[tuple[str, str]] = []
        self.saved: list[Path] = []
        self.reconnects = 0
        self.last_activity = time.monotonic()
        self.last_error: str | None = None
        self.connected = False
        self.state = "connecting"
        self._camera: Camera | None = self._connect(selector)  # SourceError: tell the user now
        # After a replug the USB port number changes: find the same model again.
        self._model = self._camera.model
        self._card: tuple[str, set[str]] | None = None  # newest card folder and its files
        self._missed: list[tuple[str, str]] = []  # photos to fetch without an event
        self._set_connected()
        self._catch_up(self._camera)

    @property
    def id(self) -> str:
        return f"gphoto2:{self._model or self.selector}"

    def trigger(self, wait_s: float = 0.0) -> str | None:
        """Take a photo (thread-safe: the capture loop does it on its next turn).

        With `wait_s`, waits for the camera's answer: None when the shutter fired, else why
        not. The photo itself arrives later, as a shot frame like any other.
        """
        if not self.connected:
            return f"the camera is not connected ({self.state}: {self.last_error or 'no answer'})"
        done = threading.Event()
        answer: list[str | None] = []
        with self._trigger_lock:
            self._trigger_waiters.append((done, answer))
        self._trigger.set()
        if wait_s <= 0:
            return None
        if not done.wait(wait_s):
            return f"the camera did not answer within {wait_s:.0f} s ({self.state})"
        return answer[0] if answer else None

    def _fire(self, camera: Camera) -> None:
        """Press the shutter once for every request since the last turn; tell each waiter."""
        self._trigger.clear()
        with self._trigger_lock:
            waiters, self._trigger_waiters = self._trigger_waiters, []
        error: str | None = None
        try:
            camera.trigger()
        except (CameraBusy, CameraLost) as exc:
            error = str(exc)
            raise
        finally:
            for done, answer in waiters:
                answer.append(error)
                done.set()

    def _set_connected(self) -> None:
        self.connected, self.state = True, "connected"
        self.last_activity = time.monotonic()

    def _lost(self, why: str) -> None:
        log.warning("camera %s: %s; reconnecting", self._model, why)
        self.connected, self.state, self.last_error = False, "reconnecting", why
        if self._camera is not None:
            self._camera.close()
            self._camera = None

    def _reconnect(self, delay: float) -> float:
        """One reconnection attempt after `delay` s; the next delay, or 0 when back.

        A camera that is simply not on the bus is looked for again every backoff[0] s (USB
        enumeration is cheap, and a photographer waking the camera wants it back at once);
        one that is there but fails to open waits longer each time, up to backoff[1].
        """
        if self._stop.wait(delay):
            return delay
        self.last_activity = time.monotonic()
        try:
            self._camera = self._connect(self._model)
        except CameraMissing as exc:
            self.last_error = str(exc)
            return self.backoff[0]
        except (SourceError, CameraLost, CameraBusy) as exc:
            self.last_error = str(exc)
            return min(max(delay, self.backoff[0]) * 2, self.backoff[1])
        log.info("camera %s is back", self._model)
        self.reconnects += 1
        self._set_connected()
        self._catch_up(self._camera)
        return 0.0

    # -- photos taken while the camera was away ---------------------------------------------

    def _snapshot(self, camera: Camera) -> tuple[str, set[str]] | None:
        """The newest photo folder on the card and the files in it (None: no DCIM folder)."""
        newest: str | None = None
        stores, _ = camera.list_folder("/")
        for store in stores:
            dcim = f"/{store}/DCIM"
            try:
                folders, _ = camera.list_folder(dcim)
            except CameraLost:
                continue  # a store without DCIM
            for folder in folders:
                path = f"{dcim}/{folder}"
                if newest is None or folder > newest.rsplit("/", 1)[1]:
                    newest = path
        if newest is None:
            return None
        return newest, set(camera.list_folder(newest)[1])

    def _remember(self, folder: str, name: str) -> None:
        if self._card is None or self._card[0] != folder:
            self._card = (folder, set())
        self._card[1].add(name)

    def _catch_up(self, camera: Camera) -> None:
        """Queue the photos taken while disconnected (the camera's events for them are lost)."""
        before = self._card
        try:
            now = self._snapshot(camera)
        except (CameraLost, CameraBusy) as exc:
            log.warning("could not look for photos taken while disconnected: %s", exc)
            return
        self._card = now
        if before is None or now is None:
            return
        missed = []
        if now[0] == before[0]:
            missed = [(now[0], n) for n in sorted(now[1] - before[1])]
        elif now[0] > before[0]:  # the camera started a new folder meanwhile
            try:
                old_now = set(camera.list_folder(before[0])[1])
            except (CameraLost, CameraBusy):
                old_now = before[1]  # card swapped, or folder gone
            missed = [(before[0], n) for n in sorted(old_now - before[1])]
            missed += [(now[0], n) for n in sorted(now[1])]
        if missed:
            log.info("%d photo(s) taken while disconnected; judging them now", len(missed))
        self._missed.extend(missed[-self.catch_up_max :])

    def frames(self) -> Iterator[Frame]:
        if not self._running.acquire(blocking=False):
            raise SourceError("this camera is already being read")
        seq = 0
        delay = self.backoff[0]
        busy_since: float | None = None
        try:
            while not self._stop.is_set():
                camera = self._camera
                if camera is None:
                    delay = self._reconnect(delay) or self.backoff[0]
                    continue
                try:
                    if self._trigger.is_set():
                        self._fire(camera)
                    for frame in self._new_shots(camera, seq):
                        seq += 1
                        yield frame
                    image = self._preview(camera)
                    busy_since = None
                    if image is not None:
                        yield Frame(image=image, ts=time.time(), source=self.id, seq=seq)
                        seq += 1
                except CameraBusy as exc:
                    busy_since = busy_since or time.monotonic()
                    self.state, self.last_error = "busy", str(exc)
                    if time.monotonic() - busy_since > 10.0:
                        self._lost(f"busy for over 10 s ({exc})")
                        busy_since = None
                    else:
                        self._stop.wait(0.1)
                except CameraLost as exc:
                    self._lost(str(exc))
        finally:
            if self._camera is not None:
                self._camera.close()
                self._camera = None
            self.connected, self.state = False, "closed"
            self._running.release()

    def _preview(self, camera: Camera) -> np.ndarray | None:
        if not self.live_view:
            return None
        data = camera.preview()
        if data is None:
            if self.live_view:
                log.info("camera %s has no live view; reacting to photos only", self._model)
            self.live_view = False
            return None
        self.last_activity = time.monotonic()
        self.state = "live view"
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        return image if valid_image(image) else None

    def _new_shots(self, camera: Camera, seq: int) -> Iterator[Frame]:
        """Drain the camera's events; download and decode each new photo."""
        # With live view running, only peek at events between preview frames.
        timeout = 1 if self.live_view else self.event_timeout_ms
        added, self._missed = self._missed, []
        while True:
            event = camera.wait_event(timeout)
            self.last_activity = time.monotonic()
            if event.kind == "file_added":
                added.append((event.folder, event.name))
                timeout = 1  # more may follow at once (RAW+JPEG)
            elif event.kind == "timeout":
                break
        if self.state != "live view":
            self.state = "connected"
        names = [name for _, name in added]
        judged = set(pair_shots(names))
        for folder, name in added:
            self._remember(folder, name)
            data = None
            if name in judged or self.save_dir is not None:
                data = camera.download(folder, name)
            if self.save_dir is not None and data is not None:
                try:
                    self.saved.append(save_copy(self.save_dir, name, data))
                except OSError as exc:  # a full disk: the shot is still judged
                    self.last_error = f"{name} not saved in {self.save_dir}: {exc.strerror or exc}"
                    log.warning("%s; the shot is judged anyway", self.last_error)
            if name not in judged or data is None:
                continue
            arrived = time.time()
            try:
                photo = decode_photo(data, name)
            except PhotoError as exc:
                log.warning("skipping %s", exc)
                self.rejected.append((name, str(exc)))
                self.last_error = str(exc)
                continue
            yield photo_frame(photo, ts=arrived, source=self.id, seq=seq, name=name)
            seq += 1

    def close(self) -> None:
        self._stop.set()
        # If frames() never ran (or has finished), nobody else will release the camera.
        if self._running.acquire(blocking=False):
            try:
                if self._camera is not None:
                    self._camera.close()
                    self._camera = None
                self.connected, self.state = False, "closed"
            finally:
                self._running.release()
