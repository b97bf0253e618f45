"""`eyespy sound` in its own process: real socket, real aplay into ALSA's null device.

The player is a wrapper script that records each invocation and then runs
`aplay -D null` on the WAV it was given, so the test sees exactly when sounds were played
and that aplay accepted the file.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import wave
from pathlib import Path

import needs
import pytest
from endpoints import flood_while_paused, rebind

from eyespy_live.alerts import AlertError
from eyespy_live.alerts.sound import CoolDown, alert_reason, check_wav, player_command, write_tone
from eyespy_live.bus.pubsub import Publisher

WRAPPER = """#!/bin/sh
echo "play $1" >> "{log}"
aplay -q -D null "$1"
echo "aplay exit $?" >> "{log}"
"""


def shot(publisher: Publisher, verdict: str, name: str = "IMG_1.JPG") -> None:
    body = {"file": name, "verdict": verdict, "faces": [], "width": 10, "height": 10}
    publisher.publish("shot", body, source="test", capture_ts=time.time())


def blink(publisher: Publisher, face_id: int = 1, kind: str = "blink") -> None:
    body = {"face": {"id": face_id}, "blink": {"kind": kind, "duration_ms": 150.0}}
    publisher.publish("blink", body, source="test", capture_ts=time.time())


def wait_for(predicate, timeout_s: float = 30.0, poke=None, what: str = "condition"):
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        if poke is not None:
            poke()
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


class SoundProcess:
    def __init__(self, tmp_path: Path, endpoint: str, *extra: str):
        self.play_log = tmp_path / "plays.log"
        self.stderr_path = tmp_path / "sound.stderr"
        wrapper = tmp_path / "player.sh"
        wrapper.write_text(WRAPPER.format(log=self.play_log))
        wrapper.chmod(0o755)
        self._stderr = self.stderr_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "eyespy_live", "sound", "--endpoint", endpoint]
            + ["--player", str(wrapper), *extra],
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
        )

    def log(self) -> str:
        return self.stderr_path.read_text()

    def plays(self) -> list[str]:
        if not self.play_log.exists():
            return []
        return self.play_log.read_text().splitlines()

    def connect(self, publisher: Publisher) -> None:
        """Publish heartbeats until the subscriber has seen one (ZeroMQ's slow joiner)."""
        wait_for(
            lambda: "receiving from publisher" in self.log(),
            poke=lambda: publisher.publish(
                "status", {"state": "running"}, source="t", capture_ts=0
            ),
            what="the sound subscriber to connect",
        )

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._stderr.close()
        return self.log()


@pytest.fixture
def sound(tmp_path, endpoint):
    needs.tool("aplay", "apt-get install alsa-utils")
    started = []

    def start(*extra: str) -> SoundProcess:
        started.append(SoundProcess(tmp_path, endpoint, *extra))
        return started[-1]

    yield start
    for process in started:
        process.stop()


def test_a_burst_of_retakes_is_one_sound_and_only_retakes_sound_by_default(sound, endpoint):
    publisher = Publisher(endpoint)
    try:
        alerts = sound("--cooldown", "2")
        alerts.connect(publisher)
        blink(publisher)
        shot(publisher, "keep")
        for number in range(5):
            shot(publisher, "retake", f"IMG_{number}.JPG")
        wait_for(lambda: "aplay exit" in "".join(alerts.plays()), what="the first sound")
        first_played = time.monotonic()
        wait_for(lambda: alerts.log().count("quiet (cool-down)") == 4, what="4 quiet events")

        time.sleep(max(0.0, first_played + 2.3 - time.monotonic()))  # the cool-down is over
        shot(publisher, "retake", "IMG_9.JPG")
        wait_for(lambda: len(alerts.plays()) == 4, what="the second sound")
    finally:
        publisher.close()
    log = alerts.stop()

    plays = alerts.plays()
    assert [line.split()[0] for line in plays] == ["play", "aplay", "play", "aplay"]
    assert plays[1] == plays[3] == "aplay exit 0", "aplay played the WAV into the null device"
    assert plays[0].endswith(".wav") and plays[0] == plays[2]
    assert log.count("play: shot") == 2
    assert "play: shot IMG_0.JPG: retake" in log and "play: shot IMG_9.JPG: retake" in log
    assert "blink" not in log.replace("for retake", ""), "live blinks are silent by default"
    assert "played 2, failed 0, dropped 0" in log


def test_live_blinks_sound_when_asked_and_keep_shots_never_do(sound, endpoint):
    publisher = Publisher(endpoint)
    try:
        alerts = sound("--blinks", "--cooldown", "0")
        alerts.connect(publisher)
        shot(publisher, "keep")
        blink(publisher, face_id=7, kind="half_blink")  # not chosen: --blinks means full blinks
        blink(publisher, face_id=3)
        shot(publisher, "retake")
        wait_for(lambda: alerts.log().count("play:") == 2, what="two sounds")
    finally:
        publisher.close()
    log = alerts.stop()
    assert "play: blink face 3" in log and "play: shot IMG_1.JPG: retake" in log
    assert "face 7" not in log and "keep" not in log
    wait_for(lambda: alerts.plays().count("aplay exit 0") == 2, what="both players to finish")


def test_dropped_events_are_reported_when_the_subscriber_falls_behind(sound, endpoint):
    publisher = Publisher(endpoint, high_water_mark=10)
    try:
        alerts = sound()
        alerts.connect(publisher)
        flood_while_paused(publisher, alerts.process.pid)
        wait_for(
            lambda: "dropped (seq gap)" in alerts.log(),
            poke=lambda: shot(publisher, "keep"),
            what="the drop report",
        )
    finally:
        publisher.close()
    log = alerts.stop()
    assert "dropped 0" not in log.splitlines()[-1]


def test_a_publisher_restart_is_followed_without_restarting_the_alert(sound, endpoint):
    first = Publisher(endpoint)
    alerts = sound("--cooldown", "0")
    try:
        alerts.connect(first)
    finally:
        first.close()
    second = rebind(endpoint)
    try:
        wait_for(
            lambda: alerts.log().count("receiving from publisher") == 2,
            poke=lambda: second.publish("status", {"state": "running"}, source="t", capture_ts=0),
            what="the reconnect",
        )
        shot(second, "retake")
        wait_for(lambda: "play: shot" in alerts.log(), what="a sound from the new publisher")
    finally:
        second.close()


def run_sound(*args: str) -> subprocess.CompletedProcess:
    needs.tool("aplay", "apt-get install alsa-utils")
    return subprocess.run(
        [sys.executable, "-m", "eyespy_live", "sound", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_test_mode_plays_into_the_null_device():
    result = run_sound("--test", "--player", "aplay", "--device", "null")
    assert result.returncode == 0, result.stderr
    assert "played" in result.stderr


def test_a_missing_device_or_player_or_a_bad_wav_is_one_clear_line(tmp_path):
    no_device = run_sound("--test", "--player", "aplay", "--device", "no_such_card")
    assert no_device.returncode == 1
    assert "no usable sound device" in no_device.stderr and "aplay -L" in no_device.stderr

    no_player = run_sound("--test", "--player", "no-such-player")
    assert no_player.returncode == 2
    assert "'no-such-player' not found" in no_player.stderr

    bad = tmp_path / "notes.wav"
    bad.write_text("not audio at all, just text long enough to be read as a header")
    bad_wav = run_sound("--test", "--wav", str(bad))
    assert bad_wav.returncode == 2 and "is not a PCM WAV file" in bad_wav.stderr
    for result in (no_device, no_player, bad_wav):
        assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_the_built_in_tone_is_a_short_16_bit_wav(tmp_path):
    path = write_tone(tmp_path / "tone.wav")
    with wave.open(str(path)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 22050)
        assert 0.2 < wav.getnframes() / wav.getframerate() < 0.5
    assert check_wav(path) == path
    with pytest.raises(AlertError, match="does not exist"):
        check_wav(tmp_path / "missing.wav")


def test_which_events_sound():
    retake = {"type": "shot", "verdict": "retake", "file": "a.jpg"}
    check = {"type": "shot", "verdict": "check", "file": "b.jpg"}
    keep = {"type": "shot", "verdict": "keep", "file": "c.jpg"}
    live = {"type": "blink", "face": {"id": 2}, "blink": {"kind": "blink"}}
    assert alert_reason(retake, ["retake"]) == "shot a.jpg: retake"
    assert alert_reason(check, ["retake"]) is None
    assert alert_reason(check, ["retake", "check"]) == "shot b.jpg: check"
    assert alert_reason(keep, ["retake", "check", "keep"]) is None
    assert alert_reason(live, ["retake"]) is None
    assert alert_reason(live, ["blink"]) == "blink face 2"
    assert alert_reason({"type": "status"}, ["retake", "blink"]) is None


def test_cool_down_turns_a_burst_into_one_alert():
    cool = CoolDown(2.0)
    assert [cool.allow(t) for t in (10.0, 10.5, 11.9, 12.0, 12.1)] == [
        True,
        False,
        False,
        True,
        False,
    ]


def test_player_command_lines():
    assert player_command("/usr/bin/aplay", "x.wav", "null") == [
        "/usr/bin/aplay",
        "-q",
        "-D",
        "null",
        "x.wav",
    ]
    assert player_command("paplay", "x.wav", "sink1") == ["paplay", "--device=sink1", "x.wav"]
    assert player_command("/opt/beep.sh", "x.wav", "ignored") == ["/opt/beep.sh", "x.wav"]


def test_end_to_end_a_closed_eyes_photo_in_the_hot_folder_sounds_once(
    sound, endpoint, tmp_path, shared_data
):
    """Real publisher (`eyespy live` on a hot folder, real model) → `eyespy sound` → aplay."""
    folder = tmp_path / "incoming"
    folder.mkdir()
    live = subprocess.Popen(
        [sys.executable, "-m", "eyespy_live", "live", "--source", f"folder:{folder}", "--watch"]
        + ["--endpoint", endpoint, "--set", "service.status_interval_s=0.3"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        alerts = sound("--cooldown", "0")
        wait_for(
            lambda: "receiving from publisher" in alerts.log(),
            timeout_s=90,
            what="the first heartbeat of eyespy live",
        )
        pair = shared_data / "photos" / "dryeye_pair"
        (folder / "IMG_0001.JPG").write_bytes((pair / "eyes_open.jpg").read_bytes())
        (folder / "IMG_0002.JPG").write_bytes((pair / "eyes_closed.jpg").read_bytes())
        wait_for(lambda: alerts.plays().count("aplay exit 0") == 1, timeout_s=90, what="a sound")
        time.sleep(1.0)  # room for a wrong second sound to show up
    finally:
        live.terminate()
        live.wait(timeout=30)
    log = alerts.stop()
    assert "play: shot IMG_0002.JPG: retake" in log
    assert log.count("play:") == 1, "the open-eyed shot is a keep: no sound"


def test_a_service_stop_ends_with_the_summary_line(sound, endpoint):
    """systemd stops with SIGTERM: the loop ends between events and still reports."""
    publisher = Publisher(endpoint)
    try:
        alerts = sound()
        alerts.connect(publisher)
        alerts.process.send_signal(signal.SIGTERM)
        assert alerts.process.wait(timeout=20) == 0
    finally:
        publisher.close()
    assert "played 0, failed 0, dropped 0" in alerts.stop()
