"""Odd files beside the photos and links planted in the session: cull reports them, never blocks,
never reads without bound, and never writes through a link to a file outside the session.

Each case is a real `eyespy cull` process on a session of real photos (copies of
../shared/data's dryeye pair), with the odd file made for real: a FIFO, a folder, symlinks to
/dev/zero and to a file outside the session, a sparse 3 GB file named .jpg, XMP with entities.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import cv2
import pytest

from eyespy_live.cull import xmp
from eyespy_live.cull.analyze import media_key

pytestmark = pytest.mark.timeout(180)

CULL = [sys.executable, "-m", "eyespy_live", "cull"]
PAIR_PHOTOS = 150  # enough that the first cull is still working when the second starts


@pytest.fixture(scope="module")
def small_jpeg(shared_data) -> bytes:
    """A real closed-eyes photo, 720×480 (cull is quick on it)."""
    image = cv2.imread(str(shared_data / "photos" / "dryeye_pair" / "eyes_closed.jpg"))
    image = cv2.resize(image, (720, 480), interpolation=cv2.INTER_AREA)
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    return data.tobytes()


def session_of(folder: Path, jpeg: bytes, names: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_bytes(jpeg)
    return folder


def cull(session: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*CULL, str(session), "-j", "1", "--progress", "none", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_sidecars_that_are_not_plain_files_are_reported_and_left_alone(tmp_path, small_jpeg):
    session = session_of(
        tmp_path / "s", small_jpeg, ["fifo.jpg", "folder.jpg", "zero.jpg", "out.jpg", "ok.jpg"]
    )
    outside = tmp_path / "outside.xmp"
    outside.write_text("<not yours/>")
    before = digest(outside)
    os.mkfifo(session / "fifo.xmp")
    (session / "folder.xmp").mkdir()
    (session / "zero.xmp").symlink_to("/dev/zero")
    (session / "out.xmp").symlink_to(outside)
    started = time.monotonic()
    done = cull(session, "--xmp", timeout=90)  # the old code blocked forever on the FIFO
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 90
    assert "Traceback" not in done.stderr
    out = done.stdout
    for name in ("fifo", "folder", "zero", "out"):
        line = next((ln for ln in out.splitlines() if f"{name}.jpg: sidecar not written" in ln), "")
        assert "left alone" in line, out
    assert "named pipe" in out and "a folder" in out and "symbolic link" in out
    assert (session / "fifo.xmp").is_fifo() and (session / "folder.xmp").is_dir()
    assert os.readlink(session / "out.xmp") == str(outside) and digest(outside) == before
    assert xmp.read_sidecar(session / "ok.xmp")["xmp:Label"] == "Red"


def test_the_xmp_reader_refuses_entities_and_external_entities(tmp_path):
    values = xmp.SidecarValues("closed", "eyes closed", "Red", None)
    documents = {
        "laughs.xmp": '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
        + "".join(f'<!ENTITY {chr(98 + i)} "' + f"&{chr(97 + i)};" * 10 + '">' for i in range(8))
        + ']><x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf='
        '"http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmp:Label="&i;" '
        'xmlns:xmp="http://ns.adobe.com/xap/1.0/"/></rdf:RDF></x:xmpmeta>',
        "external.xmp": '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/hostname">'
        ']><x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf='
        '"http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmp:Label="x" '
        'xmlns:xmp="http://ns.adobe.com/xap/1.0/">&e;</rdf:Description></rdf:RDF></x:xmpmeta>',
        # One harmless internal entity: the old reader expanded it and rewrote the file.
        "small.xmp": '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY g "Green">]>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf='
        '"http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" '
        'xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Rating="&g;"/></rdf:RDF></x:xmpmeta>',
    }
    for name, text in documents.items():
        path = tmp_path / name
        path.write_text(text)
        started = time.monotonic()
        with pytest.raises(xmp.SidecarError, match="DTD"):
            xmp.write_sidecar(path, values)
        with pytest.raises(xmp.SidecarError, match="DTD"):
            xmp.read_sidecar(path)
        assert time.monotonic() - started < 1.0
        assert path.read_text() == text  # left as it was


def test_planted_links_at_every_temporary_and_output_name_are_never_written_through(
    tmp_path, small_jpeg
):
    session = session_of(tmp_path / "s", small_jpeg, ["a.jpg", "b.jpg"])
    out = session / "eyespy-cull"
    (out / "media").mkdir(parents=True)
    victims: dict[Path, Path] = {}

    def plant(link: Path) -> None:
        victim = tmp_path / f"victim-{len(victims)}.txt"
        victim.write_text(f"precious {len(victims)}\n")
        link.symlink_to(victim)
        victims[link] = victim

    # The temporary names the old code opened with a plain open(..., "w") ...
    for name in ("a.jpg", "b.jpg"):
        plant(session / f".{Path(name).stem}.xmp.eyespy-tmp")
        plant(out / "media" / f"{media_key(name)}.jpg")  # predictable thumbnail names
    for name in ("report.json", "report.csv", "contact_sheet.html", ".eyespy-cull-state.jsonl"):
        plant(out / f"{name}.tmp")
    # ... and the final names themselves.
    plant(out / "report.json")
    plant(out / "contact_sheet.html")
    before = {victim: victim.read_text() for victim in victims.values()}
    done = cull(session, "--all")
    assert "Traceback" not in done.stderr
    for victim, text in before.items():
        assert victim.read_text() == text, f"{victim} was written through a planted link"
    assert done.returncode == 0, done.stderr
    report = json.loads((out / "report.json").read_text())
    assert not (out / "report.json").is_symlink()
    assert {p["path"]: p["verdict"] for p in report["photos"]} == {
        "a.jpg": "closed",
        "b.jpg": "closed",
    }
    assert xmp.read_sidecar(session / "a.xmp")["xmp:Label"] == "Red"


def test_a_3_gb_file_named_jpg_is_refused_at_once(tmp_path, small_jpeg):
    session = session_of(tmp_path / "s", small_jpeg, ["ok.jpg"])
    with (session / "huge.jpg").open("wb") as handle:  # sparse: no disk space used
        handle.write(small_jpeg[:2])
        handle.truncate(3 * 1024**3)
    started = time.monotonic()
    done = cull(session, "--report")
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 30  # the old code read all 3 GB (18 s, 3.2 GB RSS)
    report = json.loads((session / "eyespy-cull" / "report.json").read_text())
    reasons = {p["path"]: p["reason"] for p in report["photos"]}
    assert "too large" in reasons["huge.jpg"], reasons
    assert report["summary"]["counts"]["closed"] == 1


def test_two_culls_at_once_the_second_names_the_first_and_nothing_is_done_twice(
    tmp_path, small_jpeg
):
    session = session_of(tmp_path / "s", small_jpeg, ["p000.jpg"])
    for i in range(1, PAIR_PHOTOS):  # hard links: many photos for the price of one
        os.link(session / "p000.jpg", session / f"p{i:03d}.jpg")
    first = subprocess.Popen(
        [*CULL, str(session), "-j", "1", "--progress", "lines", "--small-faces"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    state = session / "eyespy-cull" / ".eyespy-cull-state.jsonl"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if state.exists() and state.read_text().count("\n") >= 2:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the first cull never started recording")
        second = cull(session, timeout=60)
        assert first.poll() is None, "the first cull ended before the second one was tried"
    finally:
        first_out, first_err = first.communicate(timeout=170)
    assert second.returncode == 2, second.stdout + second.stderr
    assert "Traceback" not in second.stderr
    assert f"another cull (process {first.pid}" in second.stderr
    assert first.returncode == 0, first_err
    lines = state.read_text().splitlines()[1:]
    paths = [json.loads(line)["path"] for line in lines]
    assert len(paths) == len(set(paths)) == PAIR_PHOTOS


def test_a_lock_left_by_a_killed_cull_does_not_block_the_next(tmp_path, small_jpeg):
    session = session_of(tmp_path / "s", small_jpeg, ["a.jpg"])
    out = session / "eyespy-cull"
    out.mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; time.sleep(60)"],
    )
    # A lock file as a dead cull leaves it: its content names a process, no flock is held.
    (out / ".eyespy-cull.lock").write_text(json.dumps({"pid": holder.pid, "host": "x", "since": 0}))
    holder.kill()
    holder.wait()
    done = cull(session)
    assert done.returncode == 0, done.stderr
    with open(out / ".eyespy-cull.lock") as handle:  # released at exit
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
