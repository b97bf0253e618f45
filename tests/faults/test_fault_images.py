"""1,000 broken image files: every one is either read or rejected with a reason, none crashes.

The corpus (tests/faults/fuzz_images.py) is written at test time from a fixed seed: zero
bytes, truncated JPEG/PNG, random bytes, flipped bits, headers declaring up to 2³¹ pixels a
side, EXIF blocks that loop or overflow, and valid controls. It goes through the still-image
reader, the photo decoder, a folder read once, and the hot folder (watch mode) feeding
`LiveRun` shots.
"""

from __future__ import annotations

import shutil
import threading
import time

import pytest
from fuzz_images import PLAN, make_corpus

from eyespy_live.config import Config
from eyespy_live.live.run import LiveRun
from eyespy_live.photos.load import PhotoError, load_photo_file
from eyespy_live.sources.folder import FolderSource, read_image

pytestmark = pytest.mark.timeout(120)

TOTAL = sum(PLAN.values())
ALWAYS_UNREADABLE = ("zero bytes", "random bytes", "huge dimensions", "truncated png")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz")
    files = make_corpus(folder)
    assert sum(len(paths) for paths in files.values()) == TOTAL == 1000
    return folder, files


def test_read_image_reads_or_rejects_every_fuzzed_file(corpus):
    _, files = corpus
    outcome = {
        category: [read_image(p) is not None for p in paths] for category, paths in files.items()
    }

    for category in ALWAYS_UNREADABLE:
        assert not any(outcome[category]), f"{category}: read as an image"
    assert all(outcome["valid"]), "every valid control image is read"
    assert all(outcome["exif bomb"]), "a hostile EXIF block does not stop the picture being read"


def test_the_photo_decoder_raises_only_photo_errors_naming_the_file(corpus):
    _, files = corpus
    read, rejected = 0, 0
    for category, paths in files.items():
        for path in paths:
            try:
                load_photo_file(path)
                read += 1
            except PhotoError as exc:
                assert str(exc).startswith(path.name), exc
                assert category != "valid", f"{path.name}: {exc}"
                rejected += 1
    assert read + rejected == TOTAL
    assert rejected >= sum(PLAN[c] for c in ALWAYS_UNREADABLE)


def test_a_folder_of_fuzzed_files_reports_every_file(corpus):
    folder, files = corpus
    source = FolderSource(folder)
    frames = list(source.frames())

    assert len(frames) + len(source.rejected) == TOTAL, "each file is a frame or a rejection"
    assert all(why for _, why in source.rejected)
    rejected_names = {name for name, _ in source.rejected}
    assert not rejected_names & {p.name for p in files["valid"]}


def test_the_hot_folder_reports_every_fuzzed_file_and_judges_the_readable_ones(corpus, tmp_path):
    folder, _ = corpus
    hot = tmp_path / "hot"
    hot.mkdir()
    source = FolderSource(hot, watch=True, poll_s=0.02, settle_s=0.05, max_wait_s=0.3)
    run = LiveRun(Config(), lambda *args, **kwargs: {})
    shots: list[str] = []

    def consume() -> None:
        for frame in source.frames():
            run.process(frame)  # a shot: full-photo verdict, as the service does
            shots.append(frame.name or "")

    worker = threading.Thread(target=consume, daemon=True)
    worker.start()
    for path in sorted(folder.iterdir()):  # files arrive while the folder is watched
        shutil.copyfile(path, hot / path.name)
    deadline = time.monotonic() + 90
    while len(shots) + len(source.rejected) < TOTAL and time.monotonic() < deadline:
        time.sleep(0.05)
    source.close()
    worker.join(timeout=10)

    assert not worker.is_alive()
    assert len(shots) + len(source.rejected) == TOTAL, "each file is judged or rejected, once"
    assert len(set(shots)) == len(shots)
    assert run.stats.shots == len(shots) and run.stats.bad_frames == 0
    assert all(why for _, why in source.rejected)


def test_cull_gives_every_fuzzed_file_a_verdict_and_leaves_them_untouched(corpus, tmp_path):
    from eyespy_live.cull.run import CullOptions, run_cull

    folder, files = corpus
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    summary = run_cull(CullOptions(session=folder, out_dir=tmp_path / "out", jobs=2), Config())

    assert summary.total == len(summary.records) == TOTAL, "every file is in the report"
    crashed = [r for r in summary.records if r["reason"].startswith("could not be analysed")]
    assert not crashed, crashed[:3]  # the catch-all must not be what saved the run
    verdicts = {r["path"]: r["verdict"] for r in summary.records}
    for category in ALWAYS_UNREADABLE:
        assert {verdicts[p.name] for p in files[category]} == {"unreadable"}, category
    assert "unreadable" not in {verdicts[p.name] for p in files["valid"]}
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before, "originals untouched"
