"""User mistakes get one clear line on stderr and exit code 2, never a traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest


def eyespy(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "eyespy_live", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["live", "--source", "webcam:9"], "no webcam at 9"),
        (["live", "--source", "video:/no/such/clip.mp4"], "video file not found"),
        (["live", "--source", "folder:/no/such/dir"], "folder not found"),
        (["live", "--demo", "--endpoint", "tcp://0.0.0.0:5999"], "reachable from the network"),
        (["live", "--demo", "--endpoint", "udp://x"], "endpoint must start with"),
        (["live", "--demo", "--set", "vision.detector=yolo"], "allowed values are"),
        (["live", "--demo", "--set", "blink.t_closd=0.5"], "blink.t_closd: unknown key"),
        (["live", "--demo", "--config", "/no/such.toml"], "config file not found"),
        (["evaluate", "/no/such.avi"], "video file not found"),
    ],
)
def test_user_errors_are_one_clear_line(args, message):
    result = eyespy(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_file_that_is_not_a_video_is_named(tmp_path):
    bad = tmp_path / "clip.mp4"
    bad.write_bytes(b"\x00\x01 this is not a video" * 100)
    result = eyespy("live", "--source", f"video:{bad}")
    assert result.returncode == 2 and "cannot read video" in result.stderr
    assert "Traceback" not in result.stderr


def test_config_prints_a_valid_commented_file(tmp_path):
    result = eyespy("config")
    assert result.returncode == 0 and "[blink]" in result.stdout and "# " in result.stdout
    path = tmp_path / "c.toml"
    path.write_text(result.stdout)
    assert eyespy("config", "--check", str(path)).returncode == 0
