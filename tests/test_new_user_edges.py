"""Rough edges a new user hits (issue 18): each is one clear message, tested as they meet it.

Every command runs as its own process, the way a user types it.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from eyespy_live.bus.pubsub import Publisher


def eyespy(*args: str, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "eyespy_live", *args],
        capture_output=True, text=True, timeout=timeout, **kwargs,
    )  # fmt: skip


def one_line(result: subprocess.CompletedProcess) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.fixture(scope="module")
def photo(shared_data) -> Path:
    return shared_data / "photos" / "dryeye_pair" / "eyes_open.jpg"


# -- subscribers ---------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["tail", "sound", "overlay"])
def test_a_nonsense_endpoint_is_one_line(command):
    result = eyespy(command, "--endpoint", "nonsense")
    assert result.returncode == 2
    assert "nonsense" in one_line(result)


def test_sound_names_a_bad_endpoint_before_a_missing_player():
    # Both are wrong; the typo the user made is what they are told about first, on any
    # machine (with or without aplay).
    result = eyespy("sound", "--endpoint", "nonsense", "--player", "no-such-player-eyespy")
    assert result.returncode == 2
    line = one_line(result)
    assert "nonsense" in line and "no-such-player" not in line


def test_tail_says_it_is_waiting_and_reports_what_it_missed_by_starting_late(endpoint):
    publisher = Publisher(endpoint)
    try:
        for _ in range(5):  # nobody listens yet: these five are gone for any late subscriber
            publisher.publish("status", {"state": "running"}, source="cam", capture_ts=0.0)
        tail = subprocess.Popen(
            [sys.executable, "-m", "eyespy_live", "tail", "--endpoint", endpoint,
             "--count", "1", "--timeout", "30"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        first = tail.stderr.readline()
        while tail.poll() is None:
            publisher.publish("status", {"state": "running"}, source="cam", capture_ts=0.0)
            time.sleep(0.1)
        out, err = tail.communicate(timeout=30)
    finally:
        publisher.close()
    assert first.startswith(f"eyespy tail: waiting for events from {endpoint}")
    assert json.loads(out.splitlines()[0])["type"] == "status"
    late = [line for line in err.splitlines() if "joined late" in line]
    assert late and int(late[0].split("joined late: ")[1].split()[0]) >= 5, err


def test_tail_stops_on_sigint_with_its_summary_even_when_started_with_sigint_ignored(endpoint):
    """A script or CI runner without job control starts background jobs with SIGINT ignored;
    `kill -INT` must still stop `eyespy tail` and print the per-camera summary."""
    publisher = Publisher(endpoint)
    tail = subprocess.Popen(
        [sys.executable, "-m", "eyespy_live", "tail", "--endpoint", endpoint],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )  # fmt: skip
    heard = threading.Event()

    def keep_publishing() -> None:  # until the tail has heard one (a SUB joins late)
        deadline = time.monotonic() + 30
        while not heard.is_set() and time.monotonic() < deadline:
            publisher.publish("status", {"state": "running"}, source="cam", capture_ts=0.0)
            time.sleep(0.1)

    sender = threading.Thread(target=keep_publishing, daemon=True)
    sender.start()
    try:
        first = tail.stdout.readline()
        heard.set()
        sender.join(5)
        tail.send_signal(signal.SIGINT)
        out, err = tail.communicate(timeout=20)
    finally:
        heard.set()
        if tail.poll() is None:
            tail.kill()
        publisher.close()
    assert json.loads(first)["type"] == "status"
    assert tail.returncode == 0, err
    assert "eyespy tail: cam: " in err and "event(s), 0 dropped" in err, err


# -- live and service ----------------------------------------------------------------------


def test_a_folder_without_watch_says_what_it_does(tmp_path, endpoint):
    result = eyespy("live", "--source", f"folder:{tmp_path}", "--endpoint", endpoint)
    assert result.returncode == 0, result.stderr
    assert "no photo verdicts" in result.stderr and "--watch" in result.stderr
    assert "eyespy cull" in result.stderr


def test_a_video_that_does_not_exist_ends_the_service_as_a_setup_error(tmp_path, endpoint):
    started = time.monotonic()
    result = eyespy(
        "service", "--set", f"source.spec=video:{tmp_path}/nope.mp4",
        "--set", f"bus.endpoint={endpoint}", timeout=60,
    )  # fmt: skip
    assert result.returncode == 2 and time.monotonic() - started < 30
    assert result.stderr.strip().splitlines()[-1] == (
        f"eyespy service: error: video file not found: {tmp_path}/nope.mp4"
    )
    assert "0 source restarts" in result.stderr and "source failed" not in result.stderr


def test_webcam_alone_means_the_first_one_and_a_missing_one_suggests_the_demo(endpoint):
    if list(Path("/dev").glob("video*")):
        pytest.skip("this machine has a webcam")  # the message is about a missing one
    result = eyespy("live", "--source", "webcam", "--endpoint", endpoint)
    line = one_line(result)
    assert result.returncode == 2 and "no webcam at 0" in line and "--demo" in line


def test_a_taken_port_suggests_another_endpoint(endpoint):
    publisher = Publisher(endpoint)
    try:
        result = eyespy("live", "--demo", "--endpoint", endpoint)
    finally:
        publisher.close()
    assert result.returncode == 2 and "--endpoint" in one_line(result)


def test_config_check_refuses_what_the_service_refuses(tmp_path):
    config = tmp_path / "remote.toml"
    config.write_text('[bus]\nendpoint = "tcp://0.0.0.0:5557"\n')
    checked = eyespy("config", "--check", str(config))
    served = eyespy("service", "--config", str(config), "--set", "source.spec=demo", timeout=60)
    assert checked.returncode == 2 and served.returncode == 2
    assert "reachable from the network" in checked.stderr
    assert "reachable from the network" in served.stderr
    assert "valid" not in checked.stdout


def test_no_tflite_info_line_on_any_command(tmp_path, photo):
    shutil.copyfile(photo, tmp_path / "a.jpg")
    result = eyespy("cull", str(tmp_path), "--progress", "none")
    assert result.returncode == 0, result.stderr
    assert "XNNPACK" not in result.stderr and "INFO:" not in result.stderr


# -- small ones ----------------------------------------------------------------------------


def test_a_wav_that_is_not_one_says_why(tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF")
    line = one_line(eyespy("sound", "--wav", str(bad), "--test"))
    assert "not a PCM WAV file (too short to hold a WAV header)" in line and "()" not in line


def test_keys_for_an_existing_name_is_not_called_a_configuration_problem(tmp_path):
    assert eyespy("keys", "laptop", "--dir", str(tmp_path)).returncode == 0
    again = eyespy("keys", "laptop", "--dir", str(tmp_path))
    line = one_line(again)
    assert again.returncode == 2 and "exists" in line and "--force" in line
    assert "configuration" not in line


def test_the_set_example_is_a_setting_that_does_not_break_blinks():
    text = eyespy("live", "--help").stdout
    assert "--set bus.preview_fps=4" in text and "t_closed=0.7" not in text


# -- cull ----------------------------------------------------------------------------------


def test_cull_on_an_empty_folder_says_nothing_was_found_and_writes_nothing(tmp_path):
    result = eyespy("cull", str(tmp_path))
    assert result.returncode == 1 and "no photos found in" in one_line(result)
    assert list(tmp_path.iterdir()) == []


def test_cull_of_photos_in_subfolders_suggests_r(tmp_path, photo):
    (tmp_path / "2026-05-02").mkdir()
    shutil.copyfile(photo, tmp_path / "2026-05-02" / "IMG_1.JPG")
    result = eyespy("cull", str(tmp_path))
    line = one_line(result)
    assert result.returncode == 1 and "add -r" in line and "2026-05-02/IMG_1.JPG" in line


def test_cull_of_a_memory_card_looks_into_dcim_by_itself(tmp_path, photo):
    folder = tmp_path / "DCIM" / "100CANON"
    folder.mkdir(parents=True)
    shutil.copyfile(photo, folder / "IMG_0001.JPG")
    result = eyespy("cull", str(tmp_path), "--progress", "none")
    assert result.returncode == 0, result.stderr
    assert "memory card" in result.stdout and "1 of 1 photos" in result.stdout


def test_cull_says_what_it_wrote_and_how_to_get_more(tmp_path, photo):
    shutil.copyfile(photo, tmp_path / "a.jpg")
    plain = eyespy("cull", str(tmp_path), "--progress", "none")
    assert "wrote only the resume file" in plain.stdout and "--xmp" in plain.stdout
    with_xmp = eyespy("cull", str(tmp_path), "--xmp", "--progress", "none")
    assert "sidecars: 1 XMP files written" in with_xmp.stdout
    assert "wrote only" not in with_xmp.stdout


def test_calibrate_without_sidecars_says_to_run_xmp_first(tmp_path, photo):
    shutil.copyfile(photo, tmp_path / "a.jpg")
    assert eyespy("cull", str(tmp_path), "--progress", "none").returncode == 0
    result = eyespy("cull", str(tmp_path), "--calibrate")
    assert result.returncode == 1
    assert "no XMP sidecars" in result.stdout and "--xmp" in result.stdout


def test_the_contact_sheet_marks_faces_links_originals_and_stays_compact(tmp_path, shared_data):
    from browser import Browser

    pair = shared_data / "photos" / "dryeye_pair"
    for number in range(20):
        for name in ("eyes_open.jpg", "eyes_closed.jpg"):
            shutil.copyfile(pair / name, tmp_path / f"{name[:-4]}_{number:02d}.jpg")
    result = eyespy("cull", str(tmp_path), "--sheet", "--progress", "none", timeout=300)
    assert result.returncode == 0, result.stderr
    sheet = tmp_path / "eyespy-cull" / "contact_sheet.html"
    browser = Browser(size=(1280, 800))
    try:
        browser.open(sheet.as_uri())
        height = browser.evaluate("document.documentElement.scrollHeight")
        marks = browser.evaluate("[...document.querySelectorAll('.box b')].map(b => b.textContent)")
        link = browser.evaluate("document.querySelector('a.photo').href")
    finally:
        browser.close()
    assert "1 closed" in marks and "1 open" in marks and len(marks) == 40
    assert link.startswith("file://") and Path(link[len("file://") :]).is_file()
    assert height < 3000, f"40 photos make a {height}-px page"


def test_live_on_a_terminal_rings_and_colours_a_retake_and_a_hot_folder_has_its_line():
    from eyespy_live.commands.live import Alert, hot_folder_line
    from eyespy_live.live.run import Stats

    retake = {"type": "shot", "verdict": "retake"}
    assert Alert(enabled=True).line(retake, "shot A: RETAKE").startswith("\a\033[1;97;41m")
    assert Alert(enabled=True).line({"type": "shot", "verdict": "keep"}, "x") == "\033[32mx\033[0m"
    assert Alert(enabled=False).line(retake, "shot A: RETAKE") == "shot A: RETAKE"  # --quiet
    stats = Stats()
    assert hot_folder_line("/shoot", stats) == "watching /shoot · 0 shots · 0 retakes"
    stats.shots, stats.retakes, stats.last_shot = 12, 2, ("IMG_0012.JPG", "keep")
    line = hot_folder_line("/shoot", stats)
    assert line == "watching /shoot · 12 shots · 2 retakes · last IMG_0012 keep"
