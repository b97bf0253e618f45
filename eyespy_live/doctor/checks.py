"""The checks `eyespy doctor` runs, in the order they are printed.

Each one does what the real command would do (load and run the model, bind the endpoint, play
silence on the sound device, ask libgphoto2 for cameras), so an `ok` means it will work, not
just that a file exists. Nothing here writes outside a temporary file in an output folder.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import wave
from collections import defaultdict
from importlib import metadata
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

from eyespy_live import resources
from eyespy_live.doctor import Context, Result, check

MIN_PYTHON = (3, 11)
MIN_FREE_MB = 500
UDEV_RULE = Path("/etc/udev/rules.d/70-eyespy-gvfs.rules")
# Desktop daemons that open a PTP camera as soon as it is plugged in, and then keep it.
CAMERA_GRABBERS = ("gvfs-gphoto2-vo", "gvfsd-gphoto2", "gvfs-mtp-volume", "gvfsd-mtp")

VISION_JOBS = ("demo", "live", "cull")


def _source_is(*kinds: str):
    return lambda ctx: bool(ctx.jobs & {"live", "demo"}) and ctx.source in kinds


def _version(*dists: str) -> tuple[str, str] | None:
    for dist in dists:
        with contextlib.suppress(metadata.PackageNotFoundError):
            return dist, metadata.version(dist)
    return None


# --- interpreter and packages ------------------------------------------------------------


@check("python")
def python_version(ctx: Context) -> Result:
    found = f"{sys.version.split()[0]} ({sys.executable})"
    if sys.version_info[:2] < MIN_PYTHON:
        return Result(False, found, "eyespy needs Python 3.11 or newer")
    return Result(True, found)


@check("numpy")
def numpy_package(ctx: Context) -> Result:
    return Result(True, np.__version__)


@check("opencv", VISION_JOBS)
def opencv_package(ctx: Context) -> Result:
    dist = _version("opencv-python-headless", "opencv-python", "opencv-contrib-python")
    try:
        import cv2
    except ImportError as exc:
        return Result(
            False,
            f"cannot import cv2: {exc}",
            "pip install opencv-python-headless (the GUI build needs libGL)",
        )
    gui = gui_backend(cv2)
    where = f"{dist[0]} {dist[1]}" if dist else f"cv2 {cv2.__version__}"
    return Result(True, f"{where}, {'GUI: ' + gui if gui else 'headless build (no windows)'}")


def gui_backend(cv2) -> str:
    """The window toolkit OpenCV was built with ('' for the headless build)."""
    for line in cv2.getBuildInformation().splitlines():
        key, _, value = line.strip().partition(":")
        if key == "GUI":
            value = value.strip()
            return "" if value in ("", "NONE") else value
    return ""


@check("pyzmq", ("demo", "live", "sound"))
def pyzmq_package(ctx: Context) -> Result:
    import zmq

    return Result(True, f"{zmq.__version__} (libzmq {zmq.zmq_version()})")


@check("tflite runtime", VISION_JOBS)
def tflite_package(ctx: Context) -> Result:
    from eyespy_live.vision.tflite import InterpreterMissing, interpreter_class

    try:
        cls = interpreter_class()
    except InterpreterMissing as exc:
        return Result(False, "none installed", str(exc))
    dist = _version("ai-edge-litert", "tflite-runtime")
    return Result(True, f"{dist[0]} {dist[1]}" if dist else cls.__module__)


@check("gphoto2", _source_is("gphoto2"))
def gphoto2_package(ctx: Context) -> Result:
    try:
        import gphoto2 as gp
    except ImportError as exc:
        return Result(False, f"cannot import gphoto2: {exc}", "pip install gphoto2")
    return Result(
        True, f"python-gphoto2 {gp.__version__}, libgphoto2 {gp.gp_library_version(0)[0]}"
    )


# --- models: each one loaded and run on a blank input -------------------------------------


def model_answers(path: Path) -> Result:
    """Load `path` and run it once on zeros: ok when every output is finite."""
    from eyespy_live.vision.tflite import InterpreterMissing, load_interpreter

    if not path.is_file():
        return Result(
            False,
            f"missing: {path}",
            "reinstall eyespy-live (pip install --force-reinstall eyespy-live)",
        )
    try:
        interpreter = load_interpreter(path)
        for detail in interpreter.get_input_details():
            interpreter.set_tensor(detail["index"], np.zeros(detail["shape"], detail["dtype"]))
        interpreter.invoke()
        outputs = [interpreter.get_tensor(d["index"]) for d in interpreter.get_output_details()]
    except InterpreterMissing as exc:
        return Result(False, "no TFLite interpreter to load it", str(exc))
    except (ValueError, RuntimeError) as exc:
        return Result(False, f"{path.name} does not load: {exc}", "reinstall eyespy-live")
    if not outputs or not all(np.isfinite(o.astype(np.float32)).all() for o in outputs):
        return Result(False, f"{path.name} loads but answers garbage", "reinstall eyespy-live")
    size_kb = path.stat().st_size / 1024
    shape = "x".join(str(v) for v in interpreter.get_input_details()[0]["shape"][1:])
    return Result(True, f"{path.name} ({size_kb:.0f} KB, input {shape}) answers")


@check("eye-state model", VISION_JOBS)
def eye_model(ctx: Context) -> Result:
    configured = str(ctx.config.vision.model or "")
    path = Path(configured).expanduser() if configured else resources.default_eye_model()
    result = model_answers(path)
    if configured and not result.ok:
        return Result(
            False, result.found, f"fix vision.model in the config, or set it to '' ({configured})"
        )
    return result


@check("eye fusion", VISION_JOBS)
def eye_fusion(ctx: Context) -> Result:
    """The photo stage's logistic fusion (JSON, numpy only): parses and gives a probability."""
    from eyespy_live.decision.judge import default_fusion_path
    from eyespy_live.vision.fusion import FusionModel

    path = default_fusion_path()
    if not path.is_file():
        return Result(False, f"missing: {path}", "reinstall eyespy-live")
    try:
        fusion = FusionModel.load(path)
        # every raw field at 0.5 (a probability, a ratio): the answer only has to be one
        p = fusion.p_closed_raw(defaultdict(lambda: 0.5))
    except (ValueError, KeyError, TypeError) as exc:
        return Result(False, f"{path.name} is damaged: {exc}", "reinstall eyespy-live")
    if not 0.0 <= p <= 1.0:
        return Result(False, f"{path.name} answers {p}, not a probability", "reinstall eyespy-live")
    return Result(True, f"{path.name} ({len(fusion.features)} features) answers")


def _mediapipe(filename: str):
    def run(ctx: Context) -> Result:
        try:
            path = resources.mediapipe_model(filename)
        except FileNotFoundError as exc:
            return Result(False, str(exc), "reinstall eyespy-live")
        return model_answers(path)

    return run


for _label, _file in (
    ("face detector", "face_detection_full_range.tflite"),
    ("face detector", "face_detection_short_range.tflite"),
    ("face landmarks", "face_landmark.tflite"),
    ("iris landmarks", "iris_landmark.tflite"),
):
    check(_label, VISION_JOBS)(_mediapipe(_file))


# --- camera access ------------------------------------------------------------------------


@check("USB camera", _source_is("gphoto2"))
def gphoto2_camera(ctx: Context) -> Result:
    from eyespy_live.sources.base import SourceError
    from eyespy_live.sources.camera import list_cameras

    try:
        cameras = list_cameras()
    except SourceError as exc:
        return Result(False, str(exc), "pip install gphoto2")
    if not cameras:
        return Result(
            False,
            "libgphoto2 sees no camera",
            "connect it by USB, switch it on, set USB mode to PTP/PC; `eyespy cameras` lists it",
        )
    return Result(True, ", ".join(f"{model} on {port}" for model, port in cameras))


def running_programs(proc: str = "/proc") -> set[str]:
    names = set()
    for entry in Path(proc).iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                names.add((entry / "comm").read_text().strip())
    return names


@check("camera grabbers", _source_is("gphoto2"))
def camera_grabbers(ctx: Context) -> Result:
    grabbing = sorted(name for name in running_programs() if name.startswith(CAMERA_GRABBERS))
    if not grabbing:
        return Result(True, "no gvfs/MTP monitor running that could claim the camera")
    if UDEV_RULE.is_file():
        return Result(True, f"{', '.join(grabbing)} running; the udev rule tells it to keep off")
    return Result(
        False,
        f'{", ".join(grabbing)} running: the desktop may claim the camera ("PTP Device Busy")',
        "install the udev rule (next line), or unmount the camera in the file manager",
    )


@check("udev rule", _source_is("gphoto2"))
def udev_rule(ctx: Context) -> Result:
    try:
        shipped: Path | str = resources.systemd_file("70-eyespy-gvfs.rules")
    except FileNotFoundError:
        shipped = "systemd/70-eyespy-gvfs.rules"  # from a checkout of the repository
    if not UDEV_RULE.is_file():
        return Result(
            False,
            f"{UDEV_RULE} missing: only root may open the camera, and gvfs may grab it",
            f"sudo cp {shipped} {UDEV_RULE} && sudo udevadm control --reload",
        )
    groups = {_group_name(g) for g in os.getgroups()} | {_group_name(os.getgid())}
    if os.geteuid() != 0 and "plugdev" not in groups:
        return Result(
            False,
            f"{UDEV_RULE} present, but you are not in group plugdev",
            "sudo usermod -aG plugdev $USER, then log in again",
        )
    return Result(True, f"{UDEV_RULE} present")


def _group_name(gid: int) -> str:
    try:
        import grp

        return grp.getgrgid(gid).gr_name
    except (KeyError, ImportError):
        return str(gid)


@check("webcam", _source_is("webcam"))
def webcam(ctx: Context) -> Result:
    found = sorted(glob.glob("/dev/video*"))
    if ctx.source != "webcam":
        return Result(
            True, ", ".join(found) if found else "none (/dev/video*)", applies=bool(found)
        )
    spec = (
        str(ctx.config.source.spec).split(":", 1)[1] if ":" in str(ctx.config.source.spec) else "0"
    )
    device = f"/dev/video{spec}" if spec.isdigit() else spec
    if not Path(device).exists():
        return Result(
            False,
            f"{device} does not exist (found: {', '.join(found) or 'no /dev/video*'})",
            "plug the webcam in, or pick one `eyespy cameras` lists (--set source.spec=webcam:N)",
        )
    if not os.access(device, os.R_OK | os.W_OK):
        return Result(
            False, f"{device}: permission denied", "sudo usermod -aG video $USER, then log in again"
        )
    frame = _read_one_frame(int(spec) if spec.isdigit() else device)
    if frame is None:
        return Result(False, f"{device} opens but gives no picture", "is another program using it?")
    return Result(True, f"{device} gives {frame[1]}x{frame[0]} frames")


def _read_one_frame(device: int | str, timeout_s: float = 5.0) -> tuple[int, int] | None:
    import cv2

    shape: list[tuple[int, int]] = []

    def grab() -> None:
        capture = cv2.VideoCapture(device)
        ok, image = capture.read()
        capture.release()
        if ok and image is not None:
            shape.append(image.shape[:2])

    worker = threading.Thread(target=grab, daemon=True)
    worker.start()
    worker.join(timeout_s)
    return shape[0] if shape else None


# --- sound, display -----------------------------------------------------------------------


@check("sound player", ("sound",))
def sound_player(ctx: Context) -> Result:
    from eyespy_live.alerts import AlertError
    from eyespy_live.alerts.sound import find_player

    try:
        return Result(True, find_player(ctx.player))
    except AlertError as exc:
        return Result(
            False,
            str(exc).split(":")[0],
            "sudo apt install alsa-utils (aplay), or name one with --player",
        )


@check("sound device", ("sound",))
def sound_device(ctx: Context) -> Result:
    from eyespy_live.alerts import AlertError
    from eyespy_live.alerts.sound import find_player, player_command

    try:
        player = find_player(ctx.player)
    except AlertError:
        return Result(
            False, "not tried: no sound player", "install a sound player first (line above)"
        )
    with tempfile.TemporaryDirectory(prefix="eyespy-doctor-") as tmp:
        silence = Path(tmp) / "silence.wav"
        with wave.open(str(silence), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(22050)
            out.writeframes(b"\0\0" * 2205)  # 0.1 s of silence: tests the device, nobody hears it
        device = ctx.device or "default"
        try:
            done = subprocess.run(
                player_command(player, silence, ctx.device),
                capture_output=True,
                text=True,
                timeout=10,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired:
            return Result(False, f"{Path(player).name} hung on device {device}", "check `aplay -l`")
    if done.returncode != 0:
        why = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        return Result(
            False,
            f"{Path(player).name} -D {device}: {why}",
            "pick a device from `aplay -L` with --device NAME",
        )
    return Result(True, f"{Path(player).name} plays on device {device}")


@check("overlay", ("overlay",))
def overlay(ctx: Context) -> Result:
    """The web overlay: aiohttp present, and its port free on this machine."""
    try:
        import aiohttp
    except ImportError:
        return Result(False, "aiohttp is missing", "pip install aiohttp (a core dependency)")
    from eyespy_live.alerts.web import DEFAULT_PORT

    probe = socket.socket()
    try:
        probe.bind(("127.0.0.1", DEFAULT_PORT))
    except OSError as exc:
        return Result(
            False,
            f"aiohttp {aiohttp.__version__}; port {DEFAULT_PORT} is taken ({exc.strerror})",
            "stop the other overlay, or choose one with `eyespy overlay --port N`",
        )
    finally:
        probe.close()
    return Result(True, f"aiohttp {aiohttp.__version__}; http://127.0.0.1:{DEFAULT_PORT}/ free")


# --- endpoint, folders, disk --------------------------------------------------------------


@check("endpoint", ("demo", "live"))
def endpoint_free(ctx: Context) -> Result:
    from eyespy_live.bus.pubsub import is_local_endpoint

    endpoint = str(ctx.config.bus.endpoint)
    if endpoint.startswith("ipc://"):
        return _ipc_free(endpoint)
    if not endpoint.startswith("tcp://"):
        return Result(True, f"{endpoint} (nothing to check)", applies=False)
    remote = "" if is_local_endpoint(endpoint) else " (reachable from the network)"
    parts = urlsplit(endpoint)
    host = "0.0.0.0" if parts.hostname in (None, "*") else parts.hostname
    probe = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    try:
        probe.bind((host, parts.port or 0))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            return Result(
                False,
                f"{endpoint} is in use (another eyespy running?)",
                "stop it, or pick another: --set bus.endpoint=tcp://127.0.0.1:5558",
            )
        return Result(False, f"cannot bind {endpoint}: {exc.strerror}", "use tcp://127.0.0.1:PORT")
    finally:
        probe.close()
    return Result(True, f"{endpoint} free{remote}")


def _ipc_free(endpoint: str) -> Result:
    path = endpoint.removeprefix("ipc://")
    if not os.path.exists(path):
        folder = os.path.dirname(os.path.abspath(path))
        if not os.access(folder, os.W_OK):
            return Result(
                False, f"{endpoint}: cannot create it in {folder}", "pick a writable folder"
            )
        return Result(True, f"{endpoint} free")
    probe = socket.socket(socket.AF_UNIX)
    try:
        probe.connect(path)
    except OSError:
        return Result(True, f"{endpoint} free (a stale socket file, replaced on start)")
    finally:
        probe.close()
    return Result(
        False, f"{endpoint} is in use (another eyespy running?)", "stop it, or pick another path"
    )


def output_dirs(ctx: Context) -> list[Path]:
    dirs = [Path(d).expanduser() for d in ctx.out_dirs]
    save_dir = str(getattr(ctx.config.source, "save_dir", "") or "")
    if save_dir and ctx.source == "gphoto2":
        dirs.append(Path(save_dir).expanduser())
    return dirs


@check("output folders", lambda ctx: bool(output_dirs(ctx)))
def output_folders(ctx: Context) -> Result:
    dirs = output_dirs(ctx)
    if not dirs:
        return Result(True, "none configured (give --out DIR to check one)", applies=False)
    problems = []
    for folder in dirs:
        existing = next((p for p in (folder, *folder.parents) if p.exists()), None)
        if existing is None or not existing.is_dir():
            problems.append(f"{folder}: not a folder")
            continue
        try:
            with tempfile.NamedTemporaryFile(dir=existing, prefix=".eyespy-doctor-"):
                pass
        except OSError as exc:
            problems.append(f"{folder}: cannot write ({exc.strerror})")
    if problems:
        return Result(False, "; ".join(problems), "pick a folder you own, or fix its permissions")
    return Result(True, "writable: " + ", ".join(str(d) for d in dirs))


@check("free disk", lambda ctx: bool(output_dirs(ctx)))
def free_disk(ctx: Context) -> Result:
    dirs = output_dirs(ctx) or [Path.cwd()]
    low = []
    shown = []
    for folder in dirs:
        existing = next((p for p in (folder, *folder.parents) if p.exists()), Path("/"))
        free_mb = shutil.disk_usage(existing).free / 2**20
        shown.append(f"{free_mb / 1024:.1f} GB free at {existing}")
        if free_mb < MIN_FREE_MB:
            low.append(str(existing))
    if low:
        return Result(
            False, "; ".join(shown), f"free at least {MIN_FREE_MB} MB in {', '.join(low)}"
        )
    return Result(True, "; ".join(shown))
