"""The tethered camera: libgphoto2's own virtual camera for detection, capture, download and
the shot verdict (in subprocesses, since VCAMERADIR must be set before gphoto2 loads); a
test double at the camera boundary only for what the virtual camera lacks: live view and
being unplugged."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from eyespy_live.bus.pubsub import Subscriber
from eyespy_live.config import Config
from eyespy_live.live.run import LiveRun
from eyespy_live.sources.base import SourceError
from eyespy_live.sources.camera import (
    Camera,
    CameraBusy,
    CameraEvent,
    CameraLost,
    CameraMissing,
    explain,
)
from eyespy_live.sources.gphoto import GphotoSource, pair_shots, save_copy

HERE = Path(__file__).parent


def env_with_camera(card: Path | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "VCAMERADIR"}
    if card is not None:
        env["VCAMERADIR"] = str(card)
    return env


def eyespy(*args: str, card: Path | None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "eyespy_live", *args],
        env=env_with_camera(card),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def card(tmp_path: Path, shared_data: Path):
    """A virtual memory card holding one photo; returns a function choosing which."""

    def load(name: str) -> Path:
        folder = tmp_path / "card"
        folder.mkdir()
        shutil.copyfile(shared_data / "photos" / "dryeye_pair" / name, folder / name)
        return folder

    return load


# -- libgphoto2's virtual camera -------------------------------------------------------------


def test_cameras_lists_the_virtual_camera_with_its_port_and_source(card):
    listed = eyespy("cameras", "--json", card=card("eyes_open.jpg"))
    assert listed.returncode == 0, listed.stderr
    found = json.loads(listed.stdout)
    assert [c["model"] for c in found["gphoto2"]] == ["Nikon DSC D750"]
    assert found["gphoto2"][0]["port"].startswith("usb:")
    assert found["gphoto2"][0]["source"] == "gphoto2:Nikon DSC D750"
    assert found["gphoto2_error"] is None
    human = eyespy("cameras", card=None)
    assert "none found" in human.stdout and human.returncode == 0


def test_no_camera_is_one_clear_line_saying_what_to_do(card):
    missing = eyespy("live", "--source", "gphoto2", card=None)
    assert missing.returncode == 2
    assert "no camera found" in missing.stderr and "PTP" in missing.stderr
    assert "Traceback" not in missing.stderr
    other = eyespy("live", "--source", "gphoto2:Canon", card=card("eyes_open.jpg"))
    assert other.returncode == 2
    assert "no camera matching 'Canon'" in other.stderr
    assert "Nikon DSC D750" in other.stderr  # says which cameras it did see
    assert "Traceback" not in other.stderr


@pytest.mark.parametrize(
    ("photo", "verdict"), [("eyes_closed.jpg", "retake"), ("eyes_open.jpg", "keep")]
)
def test_each_photo_taken_is_downloaded_judged_and_published(
    card, tmp_path, endpoint, photo, verdict
):
    folder = card(photo)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    saved = tmp_path / "saved"
    session = subprocess.Popen(
        [sys.executable, str(HERE / "virtual_camera_session.py"), endpoint, str(saved)],
        env=env_with_camera(folder),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert session.stdout.readline().strip() == "ready", session.stderr.read()
        subscriber = Subscriber(endpoint, topics=("shot",))  # the publisher is bound by now
        shot = None
        for _ in range(3):  # the first one may go out before the subscription is through
            session.stdin.write("shoot\n")
            session.stdin.flush()
            got = subscriber.receive(timeout_s=10)
            if got is not None:
                shot = got[0]
                break
        assert shot is not None, "no shot event"
        subscriber.close()
    finally:
        session.stdin.close()
        session.wait(timeout=30)
    assert shot["type"] == "shot" and shot["verdict"] == verdict
    assert shot["file"].startswith("GPH_") and shot["file"].endswith(".JPG")
    assert shot["source"] == "gphoto2:Nikon DSC D750"
    assert (shot["width"], shot["height"]) == (1440, 960) and len(shot["faces"]) == 1
    assert session.returncode == 0
    # Saved as downloaded, byte for byte; the card is untouched.
    copies = sorted(saved.iterdir())
    assert copies and all(c.read_bytes() == before[photo] for c in copies)
    assert shot["file"] in {c.name for c in copies}
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


# -- the camera boundary, doubled: live view and unplug ---------------------------------------


def jpeg(image: np.ndarray) -> bytes:
    return cv2.imencode(".jpg", image)[1].tobytes()


class FakeCamera(Camera):
    """A camera with live view: `script` says what each preview call does."""

    model, port = "Canon EOS R6", "usb:002,007"

    folder = "/store_00020001/DCIM/100CANON"

    def __init__(
        self,
        frames: list[bytes],
        shots: dict[int, tuple[str, bytes]] | None = None,
        card: dict[str, bytes] | None = None,
    ):
        self.frames = frames
        self.shots = shots or {}  # preview index -> (file name, bytes) taken at that moment
        self.card = dict(card or {})  # file name -> bytes, all in `folder`
        self.calls = 0
        self.pending: list[CameraEvent] = []
        self.closed = False
        self.fail_at: dict[int, Exception] = {}

    def preview(self) -> bytes | None:
        index = self.calls
        self.calls += 1
        if index in self.fail_at:
            raise self.fail_at[index]
        if index in self.shots:
            name, data = self.shots[index]
            self.card[name] = data
            self.pending.append(CameraEvent("file_added", self.folder, name))
        time.sleep(0.005)  # the camera's frame interval
        return self.frames[index % len(self.frames)]

    def wait_event(self, timeout_ms: int) -> CameraEvent:
        return self.pending.pop(0) if self.pending else CameraEvent("timeout")

    def download(self, folder: str, name: str) -> bytes:
        assert folder == self.folder
        return self.card[name]

    def list_folder(self, folder: str) -> tuple[list[str], list[str]]:
        tree = {"/": ["store_00020001"], "/store_00020001/DCIM": ["100CANON"]}
        files = sorted(self.card) if folder == self.folder else []
        return tree.get(folder, []), files

    def trigger(self) -> None:
        raise AssertionError("not used")

    def close(self) -> None:
        self.closed = True


@pytest.fixture(scope="module")
def pair_images(shared_data):
    folder = shared_data / "photos" / "dryeye_pair"
    return {n: (folder / f"eyes_{n}.jpg").read_bytes() for n in ("open", "closed")}


def small(data: bytes) -> bytes:
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    return jpeg(cv2.resize(image, (640, 427), interpolation=cv2.INTER_AREA))


def test_live_view_frames_and_a_shot_taken_meanwhile(pair_images):
    frames = [small(pair_images["open"]), small(pair_images["closed"])]
    camera = FakeCamera(frames, shots={5: ("IMG_0042.JPG", pair_images["closed"])})
    source = GphotoSource(connect=lambda _: camera)
    got = []
    for frame in source.frames():
        got.append(frame)
        if len(got) == 12:
            source.close()
    kinds = [f.kind for f in got]
    assert kinds.count("shot") == 1 and kinds.count("live") == 11
    shot = got[kinds.index("shot")]
    assert shot.name == "IMG_0042.JPG" and shot.photo.scale.full_size == (1440, 960)
    assert [f.seq for f in got] == list(range(12))
    assert got[0].image.shape == (427, 640, 3)
    assert camera.closed and source.state == "closed"
    # The shot frame gets its verdict through the service like any other.
    events = []
    run = LiveRun(Config(), lambda kind, body, **kw: events.append((kind, body)))
    run.process(shot)
    assert events[0][0] == "shot" and events[0][1]["verdict"] == "retake"


def test_unplugged_mid_session_it_reconnects_by_itself(pair_images):
    frames = [small(pair_images["open"])]
    first, second = FakeCamera(frames), FakeCamera(frames)
    first.fail_at[3] = CameraLost("the camera stopped answering (cable, sleep, battery?)")
    attempts: list[float] = []
    states: list[tuple[str, bool]] = []

    def connect(selector: str) -> Camera:
        attempts.append(time.monotonic())
        if len(attempts) == 1:
            return first
        if len(attempts) < 5:  # still unplugged for three more looks
            states.append((source.state, source.connected))
            raise CameraMissing("no camera found")
        assert selector == "Canon EOS R6"  # the same camera again, whatever its new port
        return second

    source = GphotoSource(connect=connect, backoff=(0.05, 0.2))
    got = []
    for frame in source.frames():
        got.append(frame)
        if len(got) == 6:
            source.close()
    assert len(got) == 6 and first.closed and second.calls >= 3
    assert source.reconnects == 1 and source.connected is False  # closed at the end
    assert states[0] == ("reconnecting", False)
    assert "no camera found" in source.last_error
    assert all(gap >= 0.045 for gap in np.diff(attempts[1:]))


def test_back_off_grows_for_a_failing_camera_but_not_for_an_absent_one(pair_images):
    """An absent camera is looked for every 2 s (cheap); one that fails to open waits longer
    each time, 2 s → 4 → 8 → 16 → 20 s at most."""
    camera = FakeCamera([small(pair_images["open"])])
    outcome: list[Exception] = []

    def connect(selector: str) -> Camera:
        if outcome:
            raise outcome[0]
        return camera

    source = GphotoSource(connect=connect)
    source._stop.wait = lambda delay: False  # type: ignore[method-assign]  # no real waiting
    outcome.append(CameraMissing("no camera found"))
    assert [source._reconnect(d) for d in (2.0, 2.0, 2.0)] == [2.0, 2.0, 2.0]
    outcome[0] = CameraLost("I/O error")
    delays, delay = [], 2.0
    for _ in range(6):
        delay = source._reconnect(delay)
        delays.append(delay)
    assert delays == [4.0, 8.0, 16.0, 20.0, 20.0, 20.0]
    outcome.clear()
    assert source._reconnect(20.0) == 0.0 and source.connected


def test_photos_taken_while_unplugged_are_judged_when_it_is_back(pair_images):
    """The camera's events for photos taken while away are lost; the card is not."""
    frames = [small(pair_images["open"])]
    before = {"IMG_0040.JPG": pair_images["open"]}
    first = FakeCamera(frames, card=before)
    first.fail_at[2] = CameraLost("asleep")
    taken_meanwhile = {"IMG_0041.JPG": pair_images["closed"], "IMG_0042.JPG": pair_images["open"]}
    second = FakeCamera(frames, card={**before, **taken_meanwhile})
    cameras = [first, second]
    source = GphotoSource(connect=lambda _: cameras.pop(0), backoff=(0.01, 0.02))
    shots = []
    for seen, frame in enumerate(source.frames(), start=1):
        if frame.kind == "shot":
            shots.append(frame.name)
        if len(shots) == 2 or seen == 50:
            source.close()
    assert shots == ["IMG_0041.JPG", "IMG_0042.JPG"]  # not the one from before
    assert source.reconnects == 1


def test_busy_for_a_moment_is_waited_out_without_reconnecting(pair_images):
    camera = FakeCamera([small(pair_images["open"])])
    camera.fail_at[1] = CameraBusy("PTP Device Busy")
    camera.fail_at[2] = CameraBusy("PTP Device Busy")
    source = GphotoSource(connect=lambda _: camera)
    seen = []
    for _ in source.frames():
        seen.append(source.state)
        if len(seen) == 3:
            source.close()
    assert source.reconnects == 0 and "Busy" in source.last_error


def test_status_says_what_the_camera_is_doing(pair_images):
    camera = FakeCamera([small(pair_images["open"])])
    source = GphotoSource(connect=lambda _: camera)
    run = LiveRun(Config(), lambda *a, **k: None)
    status = run.status_body("running", source)
    assert status["device_state"] == "connected" and status["source_connected"] is True
    source._lost("the camera stopped answering")
    status = run.status_body("running", source)
    assert status["device_state"] == "reconnecting" and status["source_connected"] is False
    assert status["device_error"] == "the camera stopped answering"


def test_gphoto2_errors_become_advice_or_a_retry():
    import gphoto2 as gp

    claim = explain(gp.GP_ERROR_IO_USB_CLAIM, "opening")
    assert isinstance(claim, SourceError) and "gvfs" in str(claim) and "gio mount" in str(claim)
    assert isinstance(explain(gp.GP_ERROR_CAMERA_BUSY, "live view"), CameraBusy)
    assert "PTP Device Busy" in str(explain(gp.GP_ERROR_CAMERA_BUSY, "live view"))
    for code in (gp.GP_ERROR_IO, gp.GP_ERROR_IO_USB_FIND, gp.GP_ERROR_MODEL_NOT_FOUND):
        assert isinstance(explain(code, "preview"), CameraLost)


def test_a_raw_and_jpeg_pair_is_judged_once_by_its_jpeg():
    names = ["DSC_0001.NEF", "DSC_0001.JPG", "DSC_0002.NEF", "notes.txt"]
    assert pair_shots(names) == ["DSC_0001.JPG", "DSC_0002.NEF"]


def test_raw_plus_heif_is_judged_by_its_raw_and_a_lone_heif_is_kept_to_be_reported():
    names = ["IMG_0001.CR3", "IMG_0001.HIF", "IMG_0002.HIF", "IMG_0003.JPG", "IMG_0003.HEIC"]
    assert pair_shots(names) == ["IMG_0001.CR3", "IMG_0002.HIF", "IMG_0003.JPG"]


def test_saving_never_replaces_a_file(tmp_path):
    (tmp_path / "IMG_1.JPG").write_bytes(b"first")
    path = save_copy(tmp_path, "IMG_1.JPG", b"second")
    assert path.name == "IMG_1-1.JPG" and (tmp_path / "IMG_1.JPG").read_bytes() == b"first"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_the_source_can_be_closed_from_another_thread_while_waiting(pair_images):
    class Quiet(FakeCamera):
        def preview(self) -> bytes | None:
            return None  # no live view: only waits for photos

        def wait_event(self, timeout_ms: int) -> CameraEvent:
            time.sleep(timeout_ms / 1000)
            return CameraEvent("timeout")

    camera = Quiet([])
    source = GphotoSource(connect=lambda _: camera)
    done = threading.Event()

    def consume() -> None:
        for _ in source.frames():
            pass
        done.set()

    threading.Thread(target=consume, daemon=True).start()
    time.sleep(0.3)
    source.close()
    assert done.wait(5) and camera.closed


def test_status_heartbeats_go_on_while_the_camera_is_away(pair_images, endpoint):
    """`eyespy live` keeps publishing status while no frame comes: subscribers see why."""
    from eyespy_live.bus.pubsub import Publisher
    from eyespy_live.live.run import run_live

    camera = FakeCamera([small(pair_images["open"])])
    camera.fail_at[0] = CameraLost("the camera stopped answering (cable, sleep, battery?)")

    def connect(selector: str) -> Camera:
        if camera.calls == 0:
            return camera
        raise CameraMissing("no camera found: connect it by USB")

    source = GphotoSource(connect=connect, backoff=(0.05, 0.1))
    config = Config()
    config.service.status_interval_s = 0.2
    publisher = Publisher(endpoint)
    subscriber = Subscriber(endpoint, topics=("status",))
    stop = threading.Event()
    session = threading.Thread(
        target=run_live,
        args=(config, source, publisher),
        kwargs={"stop": stop, "idle_status": True},
        daemon=True,
    )
    session.start()
    try:
        away = None
        deadline = time.monotonic() + 30
        while away is None and time.monotonic() < deadline:
            got = subscriber.receive(timeout_s=5)
            if got and got[0]["state"] == "running" and got[0]["device_state"] == "reconnecting":
                away = got[0]
        assert away is not None, "no heartbeat while the camera was away"
        assert away["source_connected"] is False
        assert "no camera found" in away["device_error"]
    finally:
        stop.set()
        session.join(timeout=10)
        subscriber.close()
        publisher.close()
    assert not session.is_alive()
