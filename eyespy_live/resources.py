"""Locating files that ship with the package (models, demo clip).

A wheel carries `models/` inside the package as `eyespy_live/models`; a source checkout keeps
it at the repository top. Both layouts are looked up so tests and installs use the same code.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def models_dir() -> Path:
    for candidate in (PACKAGE_DIR / "models", PACKAGE_DIR.parent / "models"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("eyespy-live's models folder is missing; reinstall the package")


def default_eye_model() -> Path:
    return models_dir() / "eye_state_int8.tflite"


def mediapipe_model(filename: str) -> Path:
    """A MediaPipe model shipped in `models/mediapipe/` (Apache-2.0, licence beside it)."""
    path = models_dir() / "mediapipe" / filename
    if not path.is_file():
        raise FileNotFoundError(f"shipped model missing: {path}; reinstall eyespy-live")
    return path


def demo_video() -> Path:
    return PACKAGE_DIR / "data" / "demo_blinks.mp4"


def systemd_file(name: str) -> Path:
    """A unit or udev rule from `systemd/` (inside the wheel as `eyespy_live/systemd`), so a
    user with only the wheel can install the service: its path is printed by `eyespy doctor`."""
    for folder in (PACKAGE_DIR / "systemd", PACKAGE_DIR.parent / "systemd"):
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(f"{name} is missing from eyespy-live's systemd folder; reinstall it")
