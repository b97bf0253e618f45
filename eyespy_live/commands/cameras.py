"""`eyespy cameras`: which cameras eyespy can use, with the `--source` spec for each."""

from __future__ import annotations

import argparse
import glob
import json
import os
from pathlib import Path

NAME = "cameras"
HELP = "list USB cameras (gphoto2) and webcams, with the --source to use for each"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def webcams(dev: str = "/dev") -> list[dict[str, str]]:
    """Video capture devices: /dev/video* with their driver's name where sysfs has it."""
    found = []
    for path in sorted(glob.glob(os.path.join(dev, "video*")), key=_device_number):
        name_file = Path("/sys/class/video4linux") / Path(path).name / "name"
        try:
            name = name_file.read_text().strip()
        except OSError:
            name = ""
        found.append({"device": path, "name": name, "source": f"webcam:{path}"})
    return found


def _device_number(path: str) -> int:
    digits = Path(path).name.removeprefix("video")
    return int(digits) if digits.isdigit() else 1 << 30


def gphoto2_cameras() -> tuple[list[dict[str, str]], str | None]:
    """(cameras, problem): the cameras libgphoto2 sees, or why it could not look."""
    try:
        from eyespy_live.sources.base import SourceError
        from eyespy_live.sources.camera import list_cameras

        try:
            cameras = list_cameras()
        except SourceError as exc:
            return [], str(exc)
    except Exception as exc:  # noqa: BLE001 - listing webcams must still work
        return [], f"gphoto2 unavailable: {exc}"
    return [{"model": m, "port": p, "source": f"gphoto2:{m}"} for m, p in cameras], None


def run(args: argparse.Namespace) -> int:
    cameras, problem = gphoto2_cameras()
    cams = webcams()
    if args.json:
        print(json.dumps({"gphoto2": cameras, "gphoto2_error": problem, "webcams": cams}))
        return 0
    print("USB cameras (gphoto2):")
    if problem:
        print(f"  ({problem})")
    for camera in cameras:
        print(f"  {camera['model']}  port {camera['port']}  --source '{camera['source']}'")
    if not cameras and not problem:
        print(
            "  none found: connect by USB, switch the camera on, use PTP/PC mode; on a desktop "
            "unmount it in the file manager (gvfs holds it otherwise)"
        )
    print("Webcams:")
    for cam in cams:
        label = f" ({cam['name']})" if cam["name"] else ""
        print(f"  {cam['device']}{label}  --source {cam['source']}")
    if not cams:
        print("  none found (/dev/video*)")
    return 0
