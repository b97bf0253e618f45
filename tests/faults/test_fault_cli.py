"""Bad setups a new user's machine has: each gives one clear line and the right exit status.

Every case runs the real `eyespy` command in a process: a read-only session folder, a model
file that is not a model, odd files handed to `config --check`, endpoints ZeroMQ would
misread, a dangling link where a key goes, a reader that closes the pipe, file names with
terminal escape sequences, and more.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from small_disk import small_filesystem

pytestmark = pytest.mark.timeout(180)

EYESPY = [sys.executable, "-m", "eyespy_live"]


def eyespy(*args: str, timeout: float = 90, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*EYESPY, *args], capture_output=True, text=True, timeout=timeout, **kwargs
    )


def one_line_error(done: subprocess.CompletedProcess, code: int = 2) -> str:
    """The error message (a config error's problems follow it, one per indented line);
    fails unless the command ended with `code` and said one thing, without a traceback."""
    assert done.returncode == code, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.splitlines()
    errors = [i for i, line in enumerate(lines) if ": error: " in line]
    assert len(errors) == 1, done.stderr
    return " ".join(lines[errors[0] :])


@pytest.fixture(scope="module")
def small_jpeg(shared_data) -> bytes:
    image = cv2.imread(str(shared_data / "photos" / "dryeye_pair" / "eyes_closed.jpg"))
    image = cv2.resize(image, (480, 320), interpolation=cv2.INTER_AREA)
    return cv2.imencode(".jpg", image)[1].tobytes()


def test_a_read_only_session_folder_says_so_and_suggests_out(tmp_path, small_jpeg):
    with small_filesystem(2048) as disk:
        (disk / "IMG_1.jpg").write_bytes(small_jpeg)
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        line = one_line_error(eyespy("cull", str(disk), "--progress", "none"), code=1)
        assert "Read-only file system" in line and "--out" in line, line
        done = eyespy("cull", str(disk), "--out", str(tmp_path / "out"), "--progress", "none")
        assert done.returncode == 0, done.stderr  # reading a read-only card works


def test_a_model_file_that_is_not_a_model_is_a_setup_error(tmp_path):
    model = tmp_path / "eyes.tflite"
    model.write_bytes(os.urandom(4000))
    config = tmp_path / "eyespy.toml"
    config.write_text(
        f'[source]\nspec = "demo"\n[vision]\nmodel = "{model}"\n'
        f'[bus]\nendpoint = "ipc://{tmp_path}/bus"\n'
    )
    line = one_line_error(eyespy("service", "--config", str(config)))  # 2: systemd gives up
    assert "not a usable TFLite model" in line and str(model) in line
    session = tmp_path / "s"
    session.mkdir()
    (session / "a.jpg").write_bytes(b"\xff\xd8garbage")
    line = one_line_error(eyespy("cull", str(session), "--config", str(config), "-j", "2"))
    assert "not a usable TFLite model" in line


def test_config_check_refuses_what_is_not_a_config_file(tmp_path):
    deep = tmp_path / "deep.toml"
    deep.write_text("a = " + "[" * 3000 + "]" * 3000 + "\n")
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    for target, words in (
        (deep, "nested too deeply"),
        (tmp_path, "a folder"),
        (Path("/dev/zero"), "a device"),
        (fifo, "named pipe"),
    ):
        started = time.monotonic()
        line = one_line_error(eyespy("config", "--check", str(target), timeout=30))
        assert words in line, line
        assert time.monotonic() - started < 30


def test_config_check_names_missing_model_video_and_key_files(tmp_path):
    config = tmp_path / "eyespy.toml"
    config.write_text(
        '[source]\nspec = "video:/nowhere/clip.mp4"\n[vision]\nmodel = "/nowhere/m.tflite"\n'
        '[bus]\ncurve_secret_key_file = "/nowhere/server.key_secret"\n'
        'curve_authorized_keys_dir = "/nowhere/clients"\n'
    )
    done = eyespy("config", "--check", str(config))
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    for key in ("source.spec", "vision.model", "curve_secret_key_file", "authorized_keys_dir"):
        assert key in done.stderr, done.stderr


@pytest.mark.parametrize(
    ("endpoint", "words"),
    [("tcp://[127.0.0.1]:5557", "brackets"), ("tcp://127.0.0.1:99999", "1 to 65535")],
)
def test_endpoints_zeromq_would_misread_are_refused(endpoint, words):
    line = one_line_error(eyespy("live", "--demo", "--endpoint", endpoint, timeout=60))
    assert words in line, line


def test_a_dangling_link_where_a_key_goes(tmp_path):
    (tmp_path / "server.key_secret").symlink_to(tmp_path / "gone")
    line = one_line_error(eyespy("keys", "server", "--dir", str(tmp_path)))
    assert "broken link" in line, line
    config = tmp_path / "eyespy.toml"
    clients = tmp_path / "clients"
    clients.mkdir()
    config.write_text(
        f'[bus]\ncurve_secret_key_file = "{tmp_path / "server.key_secret"}"\n'
        f'curve_authorized_keys_dir = "{clients}"\n'
    )
    line = one_line_error(eyespy("config", "--check", str(config)))
    assert "server.key_secret" in line and ("broken link" in line or "not found" in line), line


def test_a_world_readable_secret_key_warns(tmp_path, caplog):
    from eyespy_live.bus.curve import read_keys, write_keypair

    _, secret = write_keypair(tmp_path, "server")
    with caplog.at_level(logging.WARNING):
        read_keys(secret, need_secret=True)
    assert not caplog.records
    secret.chmod(0o644)
    with caplog.at_level(logging.WARNING):
        read_keys(secret, need_secret=True)
    assert any("other users may read it" in r.getMessage() for r in caplog.records)


def test_cull_into_a_closed_pipe_ends_quietly(tmp_path, small_jpeg):
    session = tmp_path / "s"
    session.mkdir()
    for i in range(3):
        (session / f"bad{i}.jpg").write_bytes(b"\xff\xd8 not a jpeg")
    read, write = os.pipe()
    os.close(read)  # the reader (`head`) has already gone when the summary is printed
    process = subprocess.run(
        [*EYESPY, "cull", str(session), "--progress", "none"],
        stdout=write,
        stderr=subprocess.PIPE,
        text=True,
        timeout=90,
    )
    os.close(write)
    assert "Traceback" not in process.stderr and "BrokenPipe" not in process.stderr
    assert process.returncode == 141, process.stderr


def test_escape_sequences_in_file_names_are_shown_not_obeyed(tmp_path):
    session = tmp_path / "s"
    session.mkdir()
    name = "evil\x1b]0;pwned\x07\x1b[2J.jpg"
    (session / name).write_bytes(b"\xff\xd8 not a jpeg")
    done = eyespy("cull", str(session), "--progress", "none")
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stdout and "\x07" not in done.stdout
    assert "evil\\x1b]0;pwned\\x07\\x1b[2J.jpg" in done.stdout


def test_odd_photos_are_called_what_they_are(tmp_path):
    session = tmp_path / "s"
    session.mkdir()
    cv2.imwrite(str(session / "tiny.jpg"), np.zeros((1, 1, 3), np.uint8))
    (session / "loop.jpg").symlink_to("loop.jpg")
    (session / "gone.jpg").symlink_to(tmp_path / "nothing.jpg")
    done = eyespy("cull", str(session), "--progress", "none")
    assert done.returncode == 0, done.stderr
    said = [line for line in done.stdout.splitlines() if ":" in line]
    lines = {line.split(":")[0].split()[-1]: line for line in said}
    assert "too small to be a photo (1×1 pixels)" in lines["tiny.jpg"], done.stdout
    assert "loops" in lines["loop.jpg"], done.stdout
    assert "broken link" in lines["gone.jpg"], done.stdout


def test_sort_hardlink_across_file_systems_says_it_copied(tmp_path, small_jpeg):
    session = tmp_path / "s"
    session.mkdir()
    (session / "a.jpg").write_bytes(small_jpeg)
    with small_filesystem(4096) as disk:
        done = eyespy(
            "cull", str(session), "--out", str(disk / "out"), "--sort", "hardlink",
            "--progress", "none",
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert "cannot cross file systems" in done.stdout, done.stdout
        assert (disk / "out" / "closed" / "a.jpg").read_bytes() == small_jpeg


def test_tail_that_received_nothing_says_so_and_fails(tmp_path):
    done = eyespy("tail", "--endpoint", f"ipc://{tmp_path}/nobody", "--timeout", "1")
    assert done.returncode == 1, done.stderr
    assert "no events received" in done.stderr and "Traceback" not in done.stderr
