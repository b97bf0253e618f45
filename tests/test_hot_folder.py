"""The hot folder: every photo tethering software writes becomes one `shot`, once, whole."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from hot_folder_watch import Watcher, dryeye_photos

from eyespy_live.sources.folder import FolderSource


@pytest.fixture
def photos(shared_data: Path) -> dict[str, bytes]:
    return dryeye_photos(shared_data)


def write_slowly(path: Path, data: bytes, pieces: int = 6, pause: float = 0.15) -> None:
    """Like a tethering program on a slow card reader: the file grows in bursts."""
    step = len(data) // pieces + 1
    with path.open("wb") as f:
        for start in range(0, len(data), step):
            f.write(data[start : start + step])
            f.flush()
            time.sleep(pause)


def test_a_photo_written_slowly_is_yielded_once_complete_as_a_shot(tmp_path, photos):
    watcher = Watcher(tmp_path)
    try:
        target = tmp_path / "IMG_0001.JPG"
        writer = threading.Thread(target=write_slowly, args=(target, photos["open"]))
        writer.start()
        frame = watcher.next()
        writer.join()
        assert frame.kind == "shot" and frame.name == "IMG_0001.JPG"
        assert frame.photo.data == photos["open"]  # the whole file, not a prefix
        assert frame.photo.scale.full_size == (1440, 960)
        assert watcher.names_within(1.0) == []  # and only once
    finally:
        watcher.stop()


def test_every_good_file_once_in_order_and_bad_files_reported_not_fatal(tmp_path, photos):
    (tmp_path / "OLD_0001.JPG").write_bytes(photos["open"])  # from before: left alone
    watcher = Watcher(tmp_path, max_wait_s=1.0)
    try:
        write_slowly(tmp_path / "IMG_0002.JPG", photos["closed"], pause=0.05)
        (tmp_path / "IMG_0003.JPG").write_bytes(b"this is not a photo at all" * 40)
        (tmp_path / "IMG_0004.JPG").write_bytes(b"")  # zero bytes, and it stays that way
        (tmp_path / "notes.txt").write_text("shot list")  # not a photo type: ignored
        (tmp_path / "IMG_0005.xmp").write_text("<x:xmpmeta/>")  # a sidecar: ignored
        cut = photos["open"][: len(photos["open"]) // 2]
        (tmp_path / "IMG_0006.JPG").write_bytes(cut)  # cut short and never finished
        write_slowly(tmp_path / "IMG_0007.JPG", photos["open"], pieces=3, pause=0.05)
        # A temporary file renamed into place, as many tethering programs save.
        (tmp_path / ".IMG_0008.JPG.tmp").write_bytes(photos["closed"])
        (tmp_path / ".IMG_0008.JPG.tmp").rename(tmp_path / "IMG_0008.JPG")
        names = [watcher.next().name for _ in range(3)]
        assert names == ["IMG_0002.JPG", "IMG_0007.JPG", "IMG_0008.JPG"]
        deadline = time.monotonic() + 15
        while len(watcher.source.rejected) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        rejected = dict(watcher.source.rejected)
        assert set(rejected) == {"IMG_0003.JPG", "IMG_0004.JPG", "IMG_0006.JPG"}
        assert rejected["IMG_0004.JPG"] == "empty file (0 bytes)"
        assert "not an image" in rejected["IMG_0003.JPG"]
        assert watcher.source.last_error and watcher.source.state == "watching"
        assert watcher.names_within(1.0) == []  # nothing twice, nothing bad
        assert len(watcher.source.rejected) == 3  # each bad file reported once
    finally:
        watcher.stop()
    # The photographer's files are untouched.
    assert (tmp_path / "IMG_0006.JPG").read_bytes() == cut
    assert (tmp_path / "IMG_0002.JPG").read_bytes() == photos["closed"]


def test_a_file_finished_after_it_was_reported_is_judged_then(tmp_path, photos):
    watcher = Watcher(tmp_path, max_wait_s=0.5)
    try:
        target = tmp_path / "IMG_0010.JPG"
        target.write_bytes(b"")  # created first, filled much later
        deadline = time.monotonic() + 10
        while not watcher.source.rejected and time.monotonic() < deadline:
            time.sleep(0.05)
        assert watcher.source.rejected == [("IMG_0010.JPG", "empty file (0 bytes)")]
        target.write_bytes(photos["closed"])
        assert watcher.next().name == "IMG_0010.JPG"
    finally:
        watcher.stop()


def test_existing_photos_can_be_included(tmp_path, photos):
    (tmp_path / "B.jpg").write_bytes(photos["open"])
    (tmp_path / "A.jpg").write_bytes(photos["closed"])
    watcher = Watcher(tmp_path, existing=True)
    try:
        assert [watcher.next().name, watcher.next().name] == ["A.jpg", "B.jpg"]
    finally:
        watcher.stop()


def test_a_png_is_taken_once_it_has_settled(tmp_path, photos):
    import cv2
    import numpy as np

    image = cv2.imdecode(np.frombuffer(photos["open"], np.uint8), cv2.IMREAD_COLOR)
    png = cv2.imencode(".png", image)[1].tobytes()
    watcher = Watcher(tmp_path, settle_s=0.3)
    try:
        write_slowly(tmp_path / "scan.png", png, pieces=4, pause=0.1)
        frame = watcher.next()
        assert frame.name == "scan.png" and frame.image.shape == image.shape
    finally:
        watcher.stop()


def test_without_watch_a_folder_is_read_once_as_before(tmp_path, photos):
    (tmp_path / "a.jpg").write_bytes(photos["open"])
    source = FolderSource(tmp_path)
    frames = list(source.frames())
    assert [f.name for f in frames] == ["a.jpg"] and frames[0].kind == "live"


def test_eyespy_live_watching_a_folder_publishes_a_verdict_per_photo(tmp_path, photos, endpoint):
    """The whole path in real processes: tethering drops photos, a subscriber hears verdicts."""
    import signal
    import subprocess
    import sys

    from eyespy_live.bus.pubsub import Subscriber

    service = subprocess.Popen(
        [sys.executable, "-m", "eyespy_live", "live", "--source", f"folder:{tmp_path}",
         "--watch", "--endpoint", endpoint],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        for line in service.stderr:  # photos already there at the start are left alone
            if "watching folder:" in line:
                break
        subscriber = Subscriber(endpoint, topics=("shot",))
        verdicts: dict[str, str] = {}
        for attempt in range(10):  # until the subscription is through (a few ms)
            name = f"IMG_{attempt:04d}.JPG"
            label = "closed" if attempt % 2 == 0 else "open"
            (tmp_path / f".{name}.part").write_bytes(photos[label])
            (tmp_path / f".{name}.part").rename(tmp_path / name)
            got = subscriber.receive(timeout_s=10)
            if got is not None:
                event = got[0]
                verdicts[event["file"]] = (label, event["verdict"])
                if len(verdicts) == 2:
                    break
        assert len(verdicts) == 2, service.stderr.read() if service.poll() is not None else ""
        for label, verdict in verdicts.values():
            assert verdict == {"closed": "retake", "open": "keep"}[label]
        subscriber.close()
    finally:
        service.send_signal(signal.SIGTERM)  # stops even though the folder is quiet
        out, err = service.communicate(timeout=30)
    assert service.returncode == 0, err
    assert "Traceback" not in err


def test_photos_filed_in_new_dated_subfolders_are_found(tmp_path, photos):
    """EOS Utility and others file shots by date or session; a subfolder may appear mid-shoot."""
    (tmp_path / "2026_05_01").mkdir()
    (tmp_path / "2026_05_01" / "IMG_0001.JPG").write_bytes(photos["open"])  # an old day
    watcher = Watcher(tmp_path)
    try:
        today = tmp_path / "2026_05_02"
        today.mkdir()
        write_slowly(today / "IMG_0002.JPG", photos["closed"], pause=0.05)
        session = tmp_path / "Session" / "Capture"
        session.mkdir(parents=True)
        (session / "Portrait-3.jpg").write_bytes(photos["open"])
        (tmp_path / ".cache").mkdir()
        (tmp_path / ".cache" / "preview.jpg").write_bytes(photos["open"])  # hidden: ignored
        too_deep = tmp_path / "a" / "b" / "c"
        too_deep.mkdir(parents=True)
        (too_deep / "deep.jpg").write_bytes(photos["open"])  # deeper than 2 levels: ignored
        names = [watcher.next().name, watcher.next().name]
        assert names == ["2026_05_02/IMG_0002.JPG", "Session/Capture/Portrait-3.jpg"]
        assert watcher.names_within(2.5) == []  # past a full re-listing: nothing else
    finally:
        watcher.stop()


def test_a_raw_plus_jpeg_pair_is_one_shot(tmp_path, photos):
    from cull_helpers import lossless_sensor_stream, tiff_raw

    watcher = Watcher(tmp_path)
    try:
        (tmp_path / "IMG_0001.JPG").write_bytes(photos["closed"])
        raw = tiff_raw(photos["closed"], b"", 1, lossless_sensor_stream())
        (tmp_path / "IMG_0001.NEF").write_bytes(raw)  # the same press of the shutter
        (tmp_path / "IMG_0002.JPG").write_bytes(photos["open"])
        names = [watcher.next().name for _ in range(2)]
        assert names[0] in ("IMG_0001.JPG", "IMG_0001.NEF") and names[1] == "IMG_0002.JPG"
        assert watcher.names_within(1.5) == []  # no second alert for IMG_0001
    finally:
        watcher.stop()


def test_a_heif_photo_is_reported_at_once_and_raw_plus_heif_is_judged_by_its_raw(
    tmp_path, photos
):
    from cull_helpers import lossless_sensor_stream, tiff_raw

    heic = (Path(__file__).parent / "fixtures" / "gradient.heic").read_bytes()
    watcher = Watcher(tmp_path, settle_s=0.2, max_wait_s=30.0)
    try:
        (tmp_path / "IMG_0001.HIF").write_bytes(heic)  # a camera set to HEIF only
        raw = tiff_raw(photos["closed"], b"", 1, lossless_sensor_stream())
        (tmp_path / "IMG_0002.CR3").write_bytes(raw)  # RAW+HEIF: one press of the shutter
        (tmp_path / "IMG_0002.HIF").write_bytes(heic)
        assert watcher.next().name == "IMG_0002.CR3"
        deadline = time.monotonic() + 10  # well before max_wait_s: no waiting it out
        while not watcher.source.rejected and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [name for name, _ in watcher.source.rejected] == ["IMG_0001.HIF"]
        assert "cannot decode" in watcher.source.rejected[0][1]
        assert watcher.names_within(1.0) == []
        assert len(watcher.source.rejected) == 1  # said once; the pair's HEIF not at all
    finally:
        watcher.stop()
