"""`eyespy doctor` names what is missing, says what to do, and fails only for what the job needs.

Real checks throughout: the shipped models are loaded and run, the endpoint is really bound,
the sound player is looked up on the real PATH and plays silence into ALSA's null device.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import needs
import pytest

from eyespy_live.commands.main import main

REPO = Path(__file__).resolve().parents[1]


def doctor(capsys, *args: str) -> tuple[int, dict[str, str], str]:
    """Exit status, {check name: its line} and the closing line."""
    status = main(["doctor", *args])
    out = capsys.readouterr().out
    lines = out.strip().splitlines()
    by_name: dict[str, str] = {}
    for line in lines[:-1]:
        by_name.setdefault(line[6:23].strip(), line)
    return status, by_name, lines[-1]


def test_demo_job_is_ready_here_and_every_model_answers(capsys):
    status, lines, last = doctor(capsys, "--job", "demo")
    assert status == 0, lines
    assert last == "doctor: ready for demo"
    for name in (
        "python",
        "opencv",
        "tflite runtime",
        "eye-state model",
        "eye fusion",
        "face detector",
        "face landmarks",
        "iris landmarks",
        "endpoint",
    ):
        assert lines[name].startswith("ok "), lines[name]
    assert "answers" in lines["iris landmarks"]


def test_missing_sound_player_fails_the_sound_job_saying_what_to_install(
    capsys, monkeypatch, tmp_path
):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no aplay, no paplay
    status, lines, last = doctor(capsys, "--job", "sound")
    assert status == 1
    assert lines["sound player"].startswith("FAIL")
    assert "no sound player found" in lines["sound player"]
    assert "apt install alsa-utils" in lines["sound player"]
    assert lines["sound device"].startswith("FAIL")
    assert last.startswith("doctor: NOT ready for sound: fix sound player")


def test_missing_sound_player_is_a_note_when_the_job_does_not_sound(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    status, lines, _ = doctor(capsys, "--job", "demo")
    assert status == 0
    assert lines["sound player"].startswith("warn")


def test_sound_device_is_played_for_real(capsys):
    needs.tool("aplay", "apt-get install alsa-utils")
    status, lines, _ = doctor(capsys, "--job", "sound", "--device", "null")
    assert status == 0, lines
    assert lines["sound device"].startswith("ok") and "null" in lines["sound device"]
    status, lines, _ = doctor(capsys, "--job", "sound", "--device", "no_such_card")
    assert status == 1
    assert lines["sound device"].startswith("FAIL") and "aplay -L" in lines["sound device"]


def test_missing_or_broken_eye_model_is_named(capsys, tmp_path):
    missing = tmp_path / "nope.tflite"
    status, lines, last = doctor(capsys, "--job", "demo", "--set", f"vision.model='{missing}'")
    assert status == 1
    assert lines["eye-state model"].startswith("FAIL")
    assert f"missing: {missing}" in lines["eye-state model"]
    assert "vision.model" in lines["eye-state model"]
    assert "eye-state model" in last

    broken = tmp_path / "broken.tflite"
    broken.write_bytes(b"not a flatbuffer" * 100)
    status, lines, _ = doctor(capsys, "--job", "cull", "--set", f"vision.model='{broken}'")
    assert status == 1
    assert "broken.tflite does not load" in lines["eye-state model"]


def test_a_shipped_model_missing_from_the_install_says_reinstall(tmp_path):
    """A copy of the package laid out as the wheel installs it, one MediaPipe file removed."""
    site = tmp_path / "site"
    shutil.copytree(
        REPO / "eyespy_live", site / "eyespy_live", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copytree(REPO / "models", site / "eyespy_live" / "models")
    (site / "eyespy_live" / "models" / "mediapipe" / "face_landmark.tflite").unlink()
    env = {**os.environ, "PYTHONPATH": str(site)}
    done = subprocess.run(
        [sys.executable, "-m", "eyespy_live", "doctor", "--job", "demo"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stdout
    line = next(x for x in done.stdout.splitlines() if "face landmarks" in x)
    assert line.startswith("FAIL") and "face_landmark.tflite" in line and "reinstall" in line
    assert "Traceback" not in done.stderr


def test_endpoint_in_use_is_reported(capsys):
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    port = holder.getsockname()[1]
    try:
        status, lines, _ = doctor(
            capsys, "--job", "demo", "--set", f"bus.endpoint='tcp://127.0.0.1:{port}'"
        )
    finally:
        holder.close()
    assert status == 1
    assert lines["endpoint"].startswith("FAIL") and "in use" in lines["endpoint"]


def test_unwritable_output_folder_fails_cull(capsys, tmp_path):
    if os.geteuid() == 0:
        target = Path("/proc/eyespy-doctor-test")  # not even root may create files here
    else:
        target = tmp_path / "locked"
        target.mkdir(mode=0o500)
    status, lines, _ = doctor(capsys, "--job", "cull", "--out", str(target))
    assert status == 1
    assert lines["output folders"].startswith("FAIL"), lines["output folders"]


@pytest.mark.parametrize("source", ["webcam:/dev/eyespy-no-such-video", "gphoto2"])
def test_a_camera_job_without_its_camera_fails_with_what_to_do(capsys, source, tmp_path):
    status, lines, _ = doctor(capsys, "--set", f"source.spec='{source}'")
    assert status == 1
    failed = [line for line in lines.values() if line.startswith("FAIL")]
    assert failed and all(" -> " in line for line in failed), failed


def test_the_session_job_checks_camera_overlay_and_sound_together(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no sound player either
    status, lines, last = doctor(capsys, "--job", "session", "--set", "source.spec='gphoto2'")
    assert status == 1
    for needed in ("USB camera", "udev rule", "sound player"):
        if not lines[needed].startswith("ok"):
            assert lines[needed].startswith("FAIL"), lines[needed]
    assert lines["sound player"].startswith("FAIL")
    assert last.startswith("doctor: NOT ready for session (source gphoto2): fix ")
