"""A full disk, for real (a tiny tmpfs, see small_disk.py): one clear line, a non-zero exit,
nothing truncated or zero-byte left behind, and after space is freed the same command
finishes the job, doing each photo once and recording no output error as a verdict.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import pytest
from small_disk import fill, free_space, small_filesystem

from eyespy_live.cull import xmp

pytestmark = pytest.mark.timeout(240)

CULL = [sys.executable, "-m", "eyespy_live", "cull"]
PHOTOS = 12


@pytest.fixture(scope="module")
def small_jpeg(shared_data) -> bytes:
    image = cv2.imread(str(shared_data / "photos" / "dryeye_pair" / "eyes_closed.jpg"))
    image = cv2.resize(image, (480, 320), interpolation=cv2.INTER_AREA)
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 85])
    assert ok
    return data.tobytes()


def cull(session: Path, out: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*CULL, str(session), "--out", str(out), "-j", "1", "--progress", "none", *args],
        capture_output=True,
        text=True,
        timeout=180,
    )


def leftovers(folder: Path) -> list[str]:
    """Temporary files, and files cut to zero bytes, anywhere under `folder` (the lock file
    may be empty: its note about the holder is a courtesy)."""
    found = []
    for path in folder.rglob("*"):
        if path.name in ("ballast.bin", ".eyespy-cull.lock") or not path.is_file():
            continue
        if "tmp" in path.name or path.stat().st_size == 0:
            found.append(str(path.relative_to(folder)))
    return found


def check_resume_file(out: Path) -> list[str]:
    lines = (out / ".eyespy-cull-state.jsonl").read_bytes().split(b"\n")
    assert lines[-1] == b"", "the resume file ends in half a line"
    records = [json.loads(line) for line in lines[1:-1]]
    return [r["path"] for r in records]


@pytest.mark.parametrize("leave_kb", [0, 24, 60])
def test_cull_onto_a_full_disk_says_so_and_the_next_run_finishes_the_job(
    tmp_path, small_jpeg, leave_kb
):
    session = tmp_path / "session"
    session.mkdir()
    for i in range(PHOTOS):
        (session / f"IMG_{i:02d}.jpg").write_bytes(small_jpeg)
    originals = {p.name: p.read_bytes() for p in session.iterdir()}
    with small_filesystem(1024) as disk:
        out = disk / "cull"
        out.mkdir()
        fill(disk, leave_bytes=leave_kb * 1024)
        first = cull(session, out, "--report", "--sheet")
        assert first.returncode == 1, first.stdout + first.stderr
        assert "Traceback" not in first.stderr
        errors = [line for line in first.stderr.splitlines() if "error" in line]
        assert len(errors) == 1 and "No space left on device" in errors[0], first.stderr
        assert str(out) in errors[0]
        assert leftovers(out) == [], leftovers(out)
        if (out / "report.json").exists():  # written whole, or not at all
            assert json.loads((out / "report.json").read_text())["summary"]["complete"] is False
        done_before = check_resume_file(out) if (out / ".eyespy-cull-state.jsonl").exists() else []

        free_space(disk)
        second = cull(session, out, "--report", "--sheet")
        assert second.returncode == 0, second.stdout + second.stderr
        report = json.loads((out / "report.json").read_text())
        assert report["summary"]["complete"] is True
        verdicts = {p["path"]: (p["verdict"], p["reason"]) for p in report["photos"]}
        assert len(verdicts) == PHOTOS
        assert all(v == "closed" for v, _ in verdicts.values()), verdicts  # none "unreadable"
        paths = check_resume_file(out)
        assert sorted(paths) == sorted(set(paths)) and len(paths) == PHOTOS  # nothing twice
        assert set(done_before) <= set(paths)
        assert (out / "contact_sheet.html").stat().st_size > 1000
        assert leftovers(out) == []
    assert {p.name: p.read_bytes() for p in session.iterdir()} == originals


def test_sidecars_onto_a_full_disk(tmp_path, small_jpeg):
    """The session itself on the full disk: sidecars are not half-written, nor left as temps."""
    with small_filesystem(1024) as disk:
        session = disk / "session"
        session.mkdir()
        for i in range(6):
            (session / f"IMG_{i}.jpg").write_bytes(small_jpeg)
        (session / "IMG_0.xmp").write_text(
            '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/'
            '02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc'
            '/elements/1.1/" dc:creator="me"/></rdf:RDF></x:xmpmeta>'
        )
        sidecar_before = (session / "IMG_0.xmp").read_bytes()
        out = tmp_path / "out"  # outputs elsewhere: only the sidecars meet the full disk
        fill(disk)
        first = cull(session, out, "--xmp")
        assert first.returncode == 1, first.stdout + first.stderr
        assert "Traceback" not in first.stderr and "No space left" in first.stderr
        assert (session / "IMG_0.xmp").read_bytes() == sidecar_before  # old one kept whole
        assert leftovers(session) == []
        free_space(disk)
        second = cull(session, out, "--xmp")
        assert second.returncode == 0, second.stderr
        for i in range(6):
            assert xmp.read_sidecar(session / f"IMG_{i}.xmp")["xmp:Label"] == "Red"
        assert 'dc:creator="me"' in (session / "IMG_0.xmp").read_text()
        assert leftovers(session) == []


def test_calibrated_toml_and_keys_onto_a_full_disk(tmp_path):
    with small_filesystem(256) as disk:
        fill(disk)
        keys = subprocess.run(
            [sys.executable, "-m", "eyespy_live", "keys", "server", "--dir", str(disk / "k")],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert keys.returncode != 0
        assert "Traceback" not in keys.stderr and "No space left" in keys.stderr, keys.stderr
        assert leftovers(disk) == []
        assert not list((disk / "k").glob("server.key*")) if (disk / "k").exists() else True


def test_the_write_helper_leaves_nothing_behind_on_a_full_disk():
    from eyespy_live.files import write_atomic

    with small_filesystem(256) as disk:
        target = disk / "report.json"
        target.write_text("old\n")
        fill(disk)
        with pytest.raises(OSError) as caught:
            write_atomic(target, b"x" * 200_000)
        assert caught.value.errno == 28
        assert target.read_text() == "old\n"
        assert sorted(os.listdir(disk)) == ["ballast.bin", "report.json"]


def test_a_tethered_shot_is_judged_even_when_its_copy_cannot_be_saved(shared_data):
    """gphoto2 `save_dir` on a full disk: the copy fails (said once per shot, nothing half
    written), the verdict does not. The camera is the test double (the hardware boundary)."""
    from test_gphoto import FakeCamera, small

    from eyespy_live.sources.gphoto import GphotoSource

    closed = (shared_data / "photos" / "dryeye_pair" / "eyes_closed.jpg").read_bytes()
    frames = [small(closed)]
    camera = FakeCamera(frames, shots={3: ("IMG_0042.JPG", closed)})
    with small_filesystem(256) as disk:
        fill(disk)
        source = GphotoSource(connect=lambda _: camera, save_dir=disk / "shots")
        got = []
        for frame in source.frames():
            got.append(frame)
            if len(got) == 8:
                source.close()
        assert [f.name for f in got if f.kind == "shot"] == ["IMG_0042.JPG"]
        assert "No space left on device" in (source.last_error or "")
        assert leftovers(disk) == [] and not list((disk / "shots").iterdir())


def test_output_errors_recorded_by_an_earlier_version_are_not_kept_as_verdicts(tmp_path):
    """Runs before this fix wrote "unreadable: could not be analysed: [Errno 28] No space
    left on device" into the resume file; those photos are done again, not kept unreadable."""
    from eyespy_live.cull.state import CullState

    state = CullState(tmp_path, {"s": 1})
    state.open()
    good = {"path": "a.jpg", "size": 1, "mtime_ns": 1, "verdict": "keep", "reason": "open"}
    bad = {
        "path": "b.jpg",
        "size": 1,
        "mtime_ns": 1,
        "verdict": "unreadable",
        "reason": "could not be analysed: [Errno 28] No space left on device: 'media/b.jpg'",
    }
    state.add(good)
    state.add(bad)
    state.close()
    again = CullState(tmp_path, {"s": 1})
    again.load()
    assert again.done(("a.jpg", 1, 1)) is not None
    assert again.done(("b.jpg", 1, 1)) is None
