"""One verdict per photo: the hot folder, a tethered shot and `eyespy cull` run the same code
on the same file and give the same answer, face by face (real group photos)."""

from __future__ import annotations

import shutil

import needs
import pytest

from eyespy_live.config import Config
from eyespy_live.cull.analyze import analyze_file
from eyespy_live.cull.workers import build_engine
from eyespy_live.decision.shot import analyze_photo_file
from eyespy_live.live.run import LiveRun
from eyespy_live.sources.folder import FolderSource

PHOTOS = [
    "dlib_groups/2008_001009.jpg", "dlib_groups/2008_002079.jpg", "dlib_groups/2008_002506.jpg",
    "dlib_groups/2008_007676.jpg", "dlib_groups/2009_004587.jpg", "dlib_groups/bald_guys.jpg",
    "web_misc/people.jpg", "web_misc/test_image1.jpg", "web_misc/test_image2.jpg",
    "web_misc/test_image8.jpg", "web_misc/marvel.jpg",
]
CULL_NAME = {"keep": "keep", "retake": "closed", "check": "check"}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = needs.shared_data("photos")
    out = tmp_path_factory.mktemp("shots")
    for i, name in enumerate(PHOTOS):  # copies: the originals are never touched
        shutil.copy(root / name, out / f"{i:02d}_{name.split('/')[1]}")
    return out


def faces_of(faces: list[dict]) -> list[tuple]:
    return [(f["id"], tuple(f["box"]), f["state"]) for f in faces]


def test_hot_folder_tether_and_cull_agree_face_by_face(folder):
    config = Config()
    shots: list[dict] = []

    def emit(event_type, body, **_):
        if event_type == "shot":
            shots.append(body)

    live = LiveRun(config, emit)  # the hot folder and the tether both hand it a PhotoFrame
    source = FolderSource(folder, watch=True, existing=True)
    for frame in source.frames():
        assert frame.kind == "shot" and hasattr(frame, "photo")
        live.process(frame)
        if len(shots) == len(PHOTOS):
            break
    source.close()
    assert len(shots) == len(PHOTOS)

    engine = build_engine(config, folder, None, small_faces=False)
    verdicts = set()
    for shot in shots:
        path = folder / shot["file"]
        record = analyze_file(engine, path.name, path.stat().st_size, path.stat().st_mtime_ns)
        direct = analyze_photo_file(path, engine.detector, engine.model, engine.settings,
                                    engine.min_face_score)
        assert record["verdict"] == CULL_NAME[shot["verdict"]], (shot["file"], shot["reason"],
                                                                 record["reason"])
        assert record["reason"] == shot["reason"] == direct.reason
        assert faces_of(record["faces"]) == faces_of(shot["faces"])
        assert faces_of(shot["faces"]) == faces_of([f.to_json() for f in direct.faces])
        verdicts.add(shot["verdict"])
    assert len(verdicts) >= 2  # real variety, not one answer for everything
