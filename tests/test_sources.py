"""Frame sources: order, numbering, timestamps, and what they do with bad input."""

from __future__ import annotations

import shutil
import time

import cv2
import numpy as np
import pytest

from eyespy_live.sources import SourceError, open_source
from eyespy_live.sources.folder import read_image
from eyespy_live.sources.webcam import WebcamSource


@pytest.fixture
def clip(tmp_path):
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 20.0, (64, 48))
    for i in range(30):
        writer.write(np.full((48, 64, 3), i * 8, np.uint8))
    writer.release()
    return path


def test_a_video_yields_every_frame_in_order_with_video_time(clip):
    source = open_source(f"video:{clip}")
    frames = list(source.frames())
    assert [f.seq for f in frames] == list(range(30))
    assert all(f.source == "video:clip.avi" and f.kind == "live" for f in frames)
    steps = np.diff([f.ts for f in frames])
    assert np.allclose(steps, 1 / 20.0)


def test_a_bare_path_is_a_video_and_a_bare_number_a_webcam(clip):
    assert open_source(str(clip)).id == "video:clip.avi"
    with pytest.raises(SourceError, match="no webcam"):
        open_source("17")


def test_realtime_paces_a_video_like_a_camera(clip):
    start = time.monotonic()
    frames = list(open_source(f"video:{clip}", realtime=True).frames())
    assert len(frames) == 30
    assert time.monotonic() - start >= 29 / 20.0 * 0.9


def test_a_folder_is_read_in_name_order_skipping_what_is_not_an_image(tmp_path, shared_data):
    photos = shared_data / "photos" / "dryeye_pair"
    shutil.copy(photos / "eyes_open.jpg", tmp_path / "b.jpg")
    shutil.copy(photos / "eyes_closed.jpg", tmp_path / "a.jpg")
    (tmp_path / "c.jpg").write_bytes((photos / "eyes_open.jpg").read_bytes()[:2000])
    (tmp_path / "d.jpg").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("not an image")
    source = open_source(f"folder:{tmp_path}")
    names = [f.name for f in source.frames()]
    assert names[:2] == ["a.jpg", "b.jpg"]
    assert "d.jpg" not in names and "notes.txt" not in names
    assert ("d.jpg", "not a readable image") in source.rejected


def test_read_image_returns_none_for_anything_unreadable(tmp_path):
    (tmp_path / "zero.jpg").write_bytes(b"")
    (tmp_path / "noise.jpg").write_bytes(np.random.default_rng(1).bytes(5000))
    assert read_image(tmp_path / "zero.jpg") is None
    assert read_image(tmp_path / "noise.jpg") is None
    assert read_image(tmp_path / "missing.jpg") is None
    assert read_image(tmp_path) is None  # a directory


def test_the_webcam_reader_keeps_only_the_newest_frame(clip):
    # OpenCV opens a file path like a device: a real reader thread, no camera needed.
    source = WebcamSource(str(clip), width=None, height=None, stall_s=0.5)
    try:
        frames = source.frames()
        first = next(frames)
        time.sleep(0.5)  # the reader runs on while we are "busy"
        second = next(frames)
        assert second.seq == first.seq + 1
        assert second.ts > first.ts
        assert source.skipped > 0, "frames read while we were busy must be dropped, not queued"
    finally:
        source.close()
