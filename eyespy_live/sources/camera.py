"""The camera boundary: a thin wrapper around python-gphoto2 (libgphoto2), and its errors.

`Camera` is the small interface `GphotoSource` talks to, so tests can put a double exactly
where the hardware is (or use libgphoto2's own virtual camera). libgphoto2's numeric errors
are turned into the three things a tethering loop acts on: lost (reconnect), busy (try again
soon), missing (look again) — each with a message a photographer understands.
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

from eyespy_live.sources.base import SourceError

GVFS_HINT = (
    "another program holds the camera - on a Linux desktop usually gvfs: unmount the camera "
    "in the file manager (or `gio mount -s gphoto2`), or stop gvfs-gphoto2-volume-monitor; "
    "also close any other tethering program"
)


class CameraLost(RuntimeError):
    """The camera stopped answering (unplugged, asleep, switched off): reconnect."""


class CameraMissing(SourceError):
    """No (matching) camera on the bus: cheap to look again, so looked for every 2 s."""


class CameraBusy(RuntimeError):
    """The camera is busy for a moment (writing to the card, autofocus): try again soon."""


@dataclass(frozen=True)
class CameraEvent:
    kind: str  # "file_added" | "timeout" | "other"
    folder: str = ""
    name: str = ""


class Camera(ABC):
    """What the source needs from a camera. `Gphoto2Camera` is the real one."""

    model: str = ""
    port: str = ""

    @abstractmethod
    def preview(self) -> bytes | None:
        """One live-view JPEG; None when this camera has no live view."""

    @abstractmethod
    def wait_event(self, timeout_ms: int) -> CameraEvent:
        """The camera's next event, or a "timeout" event after `timeout_ms`."""

    @abstractmethod
    def download(self, folder: str, name: str) -> bytes:
        """The bytes of one file on the card (the card keeps it)."""

    @abstractmethod
    def trigger(self) -> None:
        """Take a photo now (the result arrives as a file_added event)."""

    @abstractmethod
    def list_folder(self, folder: str) -> tuple[list[str], list[str]]:
        """(subfolders, files) of one folder on the card."""

    @abstractmethod
    def close(self) -> None:
        """Let go of the USB device so another program may use it."""


# -- the real camera (python-gphoto2) ------------------------------------------------------


def _gp():
    try:
        import gphoto2
    except ImportError as exc:  # pragma: no cover - a dependency of the package
        raise SourceError("python-gphoto2 is not installed: pip install gphoto2") from exc
    return gphoto2


def list_cameras() -> list[tuple[str, str]]:
    """(model, port) of every camera libgphoto2 can see."""
    gp = _gp()
    found = gp.Camera.autodetect()
    return [(found.get_name(i), found.get_value(i)) for i in range(found.count())]


def pick_camera(selector: str, cameras: list[tuple[str, str]]) -> tuple[str, str] | None:
    """The camera a user meant: '' = the first; else a port ('usb:001,005') or part of a model."""
    if not cameras:
        return None
    if not selector:
        return cameras[0]
    for model, port in cameras:
        if selector == port:
            return model, port
    for model, port in cameras:
        if selector.lower() in model.lower():
            return model, port
    return None


def explain(code: int, action: str) -> Exception:
    """A gphoto2 error code turned into what the source does about it."""
    gp = _gp()
    if code == gp.GP_ERROR_CAMERA_BUSY:
        return CameraBusy(f"{action}: PTP Device Busy - the camera is busy (writing, focusing)")
    if code == gp.GP_ERROR_IO_USB_CLAIM:
        return SourceError(f"{action}: could not claim the USB device: {GVFS_HINT}")
    if code in (gp.GP_ERROR_MODEL_NOT_FOUND, gp.GP_ERROR_IO_USB_FIND, gp.GP_ERROR_UNKNOWN_PORT):
        return CameraLost(f"{action}: the camera is not there any more (unplugged or off?)")
    if code in (
        gp.GP_ERROR_IO,
        gp.GP_ERROR_IO_READ,
        gp.GP_ERROR_IO_WRITE,
        gp.GP_ERROR_IO_INIT,
        gp.GP_ERROR_IO_USB_CLEAR_HALT,
        gp.GP_ERROR_TIMEOUT,
        gp.GP_ERROR_CAMERA_ERROR,
        gp.GP_ERROR_IO_LOCK,
    ):
        return CameraLost(f"{action}: the camera stopped answering (cable, sleep, battery?)")
    return CameraLost(f"{action}: gphoto2 error {code}: {gp.gp_result_as_string(code)}")


class Gphoto2Camera(Camera):
    """One camera opened with libgphoto2; every call turns gphoto2 errors into ours."""

    def __init__(self, model: str, port: str):
        gp = _gp()
        self.model, self.port = model, port
        self._gp = gp
        camera = gp.Camera()
        try:
            ports = gp.PortInfoList()
            ports.load()
            camera.set_port_info(ports[ports.lookup_path(port)])
            abilities = gp.CameraAbilitiesList()
            abilities.load()
            camera.set_abilities(abilities[abilities.lookup_model(model)])
            camera.init()
        except gp.GPhoto2Error as exc:
            problem = explain(exc.code, f"opening {model} on {port}")
            if isinstance(problem, CameraBusy):
                problem = SourceError(f"{problem}; if it stays busy: {GVFS_HINT}")
            raise problem from exc
        self._camera = camera
        self._has_preview = True

    @classmethod
    def open(cls, selector: str = "") -> Gphoto2Camera:
        cameras = list_cameras()
        chosen = pick_camera(selector, cameras)
        if chosen is None:
            seen = ", ".join(f"{m} ({p})" for m, p in cameras) or "none"
            wanted = f" matching {selector!r}" if selector else ""
            raise CameraMissing(
                f"no camera{wanted} found (cameras seen: {seen}): connect it by USB, switch it "
                "on, set it to PTP/PC mode (not mass storage), and check `eyespy cameras`"
            )
        return cls(*chosen)

    def _call(self, action: str, fn: Callable, *args):
        try:
            return fn(*args)
        except self._gp.GPhoto2Error as exc:
            raise explain(exc.code, action) from exc

    def preview(self) -> bytes | None:
        if not self._has_preview:
            return None
        try:
            file = self._camera.capture_preview()
        except self._gp.GPhoto2Error as exc:
            if exc.code == self._gp.GP_ERROR_NOT_SUPPORTED:
                self._has_preview = False
                return None
            raise explain(exc.code, "live view") from exc
        return bytes(memoryview(file.get_data_and_size()))

    def wait_event(self, timeout_ms: int) -> CameraEvent:
        kind, data = self._call("waiting for events", self._camera.wait_for_event, timeout_ms)
        if kind == self._gp.GP_EVENT_FILE_ADDED:
            return CameraEvent("file_added", data.folder, data.name)
        if kind == self._gp.GP_EVENT_TIMEOUT:
            return CameraEvent("timeout")
        return CameraEvent("other")

    def download(self, folder: str, name: str) -> bytes:
        file = self._call(
            f"downloading {name}",
            self._camera.file_get,
            folder,
            name,
            self._gp.GP_FILE_TYPE_NORMAL,
        )
        return bytes(memoryview(file.get_data_and_size()))

    def trigger(self) -> None:
        self._call("triggering the shutter", self._camera.trigger_capture)

    def list_folder(self, folder: str) -> tuple[list[str], list[str]]:
        subfolders = self._call("reading the card", self._camera.folder_list_folders, folder)
        files = self._call("reading the card", self._camera.folder_list_files, folder)
        return (
            [subfolders.get_name(i) for i in range(subfolders.count())],
            [files.get_name(i) for i in range(files.count())],
        )

    def close(self) -> None:
        with contextlib.suppress(self._gp.GPhoto2Error):  # already gone
            self._camera.exit()


# -- the source ----------------------------------------------------------------------------
