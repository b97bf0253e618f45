"""A non-editable install carries the model and the demo clip: the product needs no repo."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_the_wheel_ships_model_demo_and_notice_and_runs_the_demo(tmp_path):
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
            str(tmp_path),
            str(REPO),
        ],
        check=True,
        timeout=300,
    )
    wheel = next(tmp_path.glob("eyespy_live-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for needed in (
        "eyespy_live/models/eye_state_int8.tflite",
        "eyespy_live/data/demo_blinks.mp4",
        "eyespy_live/data/NOTICE",
    ):
        assert needed in names, needed

    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        timeout=300,
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "eyespy_live",
            "live",
            "--demo",
            "--json",
            "--endpoint",
            f"ipc://{tmp_path}/demo.sock",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    where = subprocess.run(
        [sys.executable, "-c", "import eyespy_live.resources as r; print(r.default_eye_model())"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert where.startswith(str(target)), where
    events = [json.loads(x) for x in result.stdout.splitlines() if x.startswith("{")]
    assert any(e["type"] == "blink" for e in events)
