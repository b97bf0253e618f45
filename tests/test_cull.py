"""`eyespy cull`: verdicts on real photos, originals untouched, sidecars, resume, bad files.

Sessions are built in a temporary folder from the real photos in ../shared/data (copied,
never committed). Runs use the real detector and eye model in real worker processes.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest
from cull_helpers import copy_photos, snapshot

from eyespy_live.config import Config, load
from eyespy_live.cull import xmp
from eyespy_live.cull.run import CullOptions, run_cull
from eyespy_live.cull.state import STATE_NAME

REPO = Path(__file__).resolve().parents[1]


def real_session(shared_data: Path, folder: Path) -> Path:
    photos = shared_data / "photos"
    examples = photos / "face_recognition_open" / "examples"
    copy_photos(
        {
            "eyes_closed.jpg": photos / "dryeye_pair" / "eyes_closed.jpg",
            "eyes_open.jpg": photos / "dryeye_pair" / "eyes_open.jpg",
            "cat.jpg": photos / "web_misc" / "cat.jpg",
            "potato.jpg": photos / "web_misc" / "potato.jpg",
            "obama.jpg": examples / "obama.jpg",
            "obama-720p.jpg": examples / "obama-720p.jpg",
            "obama2.jpg": examples / "obama2.jpg",
            "biden.jpg": examples / "biden.jpg",
            "two_people.jpg": examples / "two_people.jpg",
            "alex-lacamoire.png": examples / "alex-lacamoire.png",
        },
        folder,
    )
    return folder


def verdicts(summary) -> dict[str, str]:
    return {r["path"]: r["verdict"] for r in summary.records}


@pytest.fixture(scope="module")
def config() -> Config:
    return load(None)


@pytest.fixture(scope="module")
def culled(shared_data: Path, tmp_path_factory, config):
    """One full run with every output on, shared by the tests that only read its results."""
    session = real_session(shared_data, tmp_path_factory.mktemp("session"))
    before = snapshot(session)
    options = CullOptions(session=session, jobs=2, xmp=True, report=True, sheet=True, sort="copy")
    summary = run_cull(options, config)
    return session, before, summary


def test_known_photos_get_the_right_verdicts(culled):
    _, _, summary = culled
    found = verdicts(summary)
    assert found["eyes_closed.jpg"] == "closed"
    assert found["eyes_open.jpg"] == "keep"
    assert found["cat.jpg"] == "check"
    assert found["potato.jpg"] == "check"
    open_faces = ["obama.jpg", "obama-720p.jpg", "obama2.jpg", "biden.jpg", "two_people.jpg"]
    open_faces.append("alex-lacamoire.png")
    kept = [name for name in open_faces if found[name] == "keep"]
    assert len(kept) >= 5, found
    closed = next(r for r in summary.records if r["path"] == "eyes_closed.jpg")
    assert closed["attention"] == [1] and "face 1" in closed["reason"]
    assert all(f["sharpness"] and f["sharpness"] > 0 for f in closed["faces"])


def test_originals_are_byte_identical_and_keep_their_mtime(culled):
    session, before, _ = culled
    assert snapshot(session) == before


def test_sidecars_carry_labels_that_parse_back(culled):
    session, _, _ = culled
    closed = xmp.read_sidecar(session / "eyes_closed.xmp")
    assert closed["xmp:Label"] == "Red" and closed["eyespy:Verdict"] == "closed"
    assert xmp.read_sidecar(session / "eyes_open.xmp")["xmp:Label"] == "Green"
    assert xmp.read_sidecar(session / "cat.xmp")["xmp:Label"] == "Yellow"
    assert "xmp:Rating" not in closed  # ratings only when asked for


def test_reports_and_sorted_copies_and_contact_sheet(culled):
    session, _, summary = culled
    out = session / "eyespy-cull"
    document = json.loads((out / "report.json").read_text())
    assert document["summary"]["complete"] is True
    assert document["summary"]["counts"]["closed"] >= 1
    assert len(document["photos"]) == 10
    rows = (out / "report.csv").read_text().splitlines()
    assert rows[0].startswith("path,verdict,reason") and len(rows) == 11
    assert (out / "closed" / "eyes_closed.jpg").read_bytes() == (
        session / "eyes_closed.jpg"
    ).read_bytes()
    assert (out / "keep" / "eyes_open.jpg").is_file()
    assert (out / "check" / "cat.jpg").is_file()
    sheet = (out / "contact_sheet.html").read_text()
    assert sheet.index("Eyes closed") < sheet.index("eyes_closed.jpg") < sheet.index("Keep (")
    assert "data:image/jpeg;base64," in sheet and "src='http" not in sheet
    assert "face 1: closed" in sheet  # the enlarged crop of the closed face, captioned


def test_a_second_run_is_idempotent(culled, config):
    session, before, first = culled
    out = session / "eyespy-cull"
    sidecar_times = {p.name: p.stat().st_mtime_ns for p in session.glob("*.xmp")}
    state_lines = (out / STATE_NAME).read_text().splitlines()
    options = CullOptions(session=session, jobs=2, xmp=True, report=True, sheet=True, sort="copy")
    second = run_cull(options, config)
    assert second.analysed == 0 and second.resumed == 10
    assert verdicts(second) == verdicts(first)
    assert (out / STATE_NAME).read_text().splitlines() == state_lines
    assert {p.name: p.stat().st_mtime_ns for p in session.glob("*.xmp")} == sidecar_times
    assert sorted(p.name for p in (out / "keep").iterdir()) == sorted(
        r["path"] for r in first.records if r["verdict"] == "keep"
    )
    assert snapshot(session) == before


def test_an_existing_sidecar_is_merged_without_losing_anything(shared_data, tmp_path, config):
    session = tmp_path / "s"
    photos = shared_data / "photos" / "dryeye_pair"
    copy_photos({"a.jpg": photos / "eyes_closed.jpg", "b.jpg": photos / "eyes_open.jpg"}, session)
    lightroom = (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:crs="http://ns.adobe.com/camera-raw-settings/1.0/"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:xmp="http://ns.adobe.com/xap/1.0/"'
        ' crs:Exposure2012="+0.35" xmp:Label="Blue">'
        "<dc:subject><rdf:Bag><rdf:li>wedding</rdf:li></rdf:Bag></dc:subject>"
        '</rdf:Description></rdf:RDF></x:xmpmeta>\n<?xpacket end="w"?>'
    )
    (session / "a.xmp").write_text(lightroom, encoding="utf-8")
    (session / "b.xmp").write_text(lightroom.replace(' xmp:Label="Blue"', ""), encoding="utf-8")
    run_cull(CullOptions(session=session, jobs=1, xmp=True, ratings={"closed": -1}), config)
    a_text = (session / "a.xmp").read_text(encoding="utf-8")
    assert 'Exposure2012="+0.35"' in a_text and "wedding" in a_text
    assert "camera-raw-settings" in a_text and "purl.org/dc/elements" in a_text
    a = xmp.read_sidecar(session / "a.xmp")
    assert a["xmp:Label"] == "Blue"  # the photographer's own label is kept
    assert a["eyespy:Verdict"] == "closed" and a["xmp:Rating"] == "-1"
    assert xmp.read_sidecar(session / "b.xmp")["xmp:Label"] == "Green"
    run_cull(CullOptions(session=session, jobs=1, xmp=True, xmp_overwrite=True), config)
    assert xmp.read_sidecar(session / "a.xmp")["xmp:Label"] == "Red"


def test_a_broken_sidecar_is_left_alone_and_reported(shared_data, tmp_path, config):
    session = tmp_path / "s"
    photos = shared_data / "photos" / "dryeye_pair"
    copy_photos({"a.jpg": photos / "eyes_open.jpg"}, session)
    (session / "a.xmp").write_text("<x:xmpmeta>not closed", encoding="utf-8")
    summary = run_cull(CullOptions(session=session, jobs=1, xmp=True), config)
    assert (session / "a.xmp").read_text(encoding="utf-8") == "<x:xmpmeta>not closed"
    assert any("a.jpg: sidecar not written" in note for note in summary.notes)


def test_bad_files_are_listed_with_a_reason_and_never_stop_the_run(shared_data, tmp_path, config):
    session = tmp_path / "s"
    good = shared_data / "photos" / "dryeye_pair" / "eyes_open.jpg"
    copy_photos({"good.jpg": good}, session)
    data = good.read_bytes()
    (session / "truncated.jpg").write_bytes(data[: len(data) // 2])
    (session / "header_cut.jpg").write_bytes(data[:300])
    (session / "empty.jpg").write_bytes(b"")
    (session / "notes.jpg").write_text("not a photo at all")
    (session / "garbage.png").write_bytes(os.urandom(5000))
    (session / "garbage.nef").write_bytes(b"II*\x00" + os.urandom(5000))
    (session / "folder.jpg").mkdir()
    (session / "dangling.jpg").symlink_to(tmp_path / "gone.jpg")
    os.mkfifo(session / "pipe.jpg")
    (session / "readme.txt").write_text("ignored: not a photo file type")
    summary = run_cull(CullOptions(session=session, jobs=2, report=True), config)
    reasons = {r["path"]: r["reason"] for r in summary.records if r["verdict"] == "unreadable"}
    assert verdicts(summary)["good.jpg"] == "keep"
    assert "truncated" in reasons["truncated.jpg"]
    assert "truncated" in reasons["header_cut.jpg"]
    assert reasons["empty.jpg"] == "empty file (0 bytes)"
    assert "not an image" in reasons["notes.jpg"]
    assert "not an image" in reasons["garbage.png"]
    assert "without an embedded JPEG preview" in reasons["garbage.nef"]
    assert reasons["folder.jpg"] == "a folder, not a file"
    assert "broken link" in reasons["dangling.jpg"]
    assert reasons["pipe.jpg"] == "not a regular file"
    assert "readme.txt" not in verdicts(summary)
    report = json.loads((session / "eyespy-cull" / "report.json").read_text())
    assert {p["path"] for p in report["photos"]} == set(verdicts(summary))


def test_a_file_without_read_permission_is_reported(monkeypatch, tmp_path):
    # Tests run as root, who may read anything; the access check itself is what's tested.
    from eyespy_live.photos import decode

    photo = tmp_path / "locked.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0")
    real_access = os.access
    monkeypatch.setattr(
        decode.os, "access", lambda p, mode: False if Path(p) == photo else real_access(p, mode)
    )
    assert decode.unreadable_reason(photo) == "no permission to read it"


def test_limit_then_resume_finishes_without_redoing_or_duplicating(culled, tmp_path, config):
    session, _, full = culled
    out = tmp_path / "out"
    first = run_cull(CullOptions(session=session, out_dir=out, jobs=2, limit=4), config)
    assert first.analysed == 4 and len(first.records) == 4
    second = run_cull(CullOptions(session=session, out_dir=out, jobs=2, report=True), config)
    assert second.resumed == 4 and second.analysed == 6
    assert verdicts(second) == verdicts(full)
    lines = (out / STATE_NAME).read_text().splitlines()[1:]
    assert sorted(json.loads(line)["path"] for line in lines) == sorted(verdicts(full))


def test_a_killed_run_resumes_where_it_stopped(culled, tmp_path, python):
    session, _, full = culled
    out = tmp_path / "out"
    command = [python, "-m", "eyespy_live", "cull", str(session), "--out", str(out), "-j", "1"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    state = out / STATE_NAME
    try:
        while process.poll() is None:  # kill it as soon as one photo is recorded
            if state.is_file() and len(state.read_text().splitlines()) >= 2:
                break
            time.sleep(0.01)
        process.kill()
    finally:
        process.wait(timeout=60)
    with state.open("a") as handle:
        handle.write('{"path": "torn line from the kill')  # a record cut mid-write
    done_before = len(state.read_text().splitlines()) - 2
    result = subprocess.run(
        command + ["--report", "--progress", "lines"],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["summary"]["resumed"] == done_before
    assert report["summary"]["analysed_this_run"] == 10 - done_before
    assert {p["path"]: p["verdict"] for p in report["photos"]} == verdicts(full)
    records = [json.loads(line) for line in state.read_text().splitlines()[1:]]
    assert sorted(r["path"] for r in records) == sorted(verdicts(full))
    if done_before < 10:
        assert "photos/s, ETA" in result.stderr  # plain progress lines when not a terminal


@pytest.mark.parametrize("changed", [
    {"blink.photo_t_half": 0.1},
    {"blink.photo_wink": "check"},  # a wink's photo goes elsewhere now
    {"vision.geometry": False},  # the CNN alone judges differently
])
def test_changed_settings_start_over(culled, tmp_path, config, changed):
    session, _, _ = culled
    out = tmp_path / "out"
    run_cull(CullOptions(session=session, out_dir=out, jobs=2, limit=2), config)
    same = run_cull(CullOptions(session=session, out_dir=out, jobs=2, limit=2), config)
    assert same.restarted_because is None and same.resumed == 2
    other = load(None, changed)
    again = run_cull(CullOptions(session=session, out_dir=out, jobs=2, limit=2), other)
    assert again.restarted_because == "the settings changed since the last run"
    assert again.resumed == 0 and again.analysed == 2


def test_the_command_line(culled, tmp_path, python):
    session, before, _ = culled
    out = tmp_path / "cli-out"
    result = subprocess.run(
        [python, "-m", "eyespy_live", "cull", str(session), "--out", str(out), "--sort",
         "symlink", "--progress", "none"],
        capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "cull: 10 of 10 photos" in result.stdout
    assert "closed     eyes_closed.jpg: eyes closed: face 1 of 1" in result.stdout
    link = out / "closed" / "eyes_closed.jpg"
    assert link.is_symlink() and link.resolve() == (session / "eyes_closed.jpg").resolve()
    missing = subprocess.run(
        [python, "-m", "eyespy_live", "cull", str(tmp_path / "nowhere")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert missing.returncode == 2 and "session folder not found" in missing.stderr
    assert "Traceback" not in missing.stderr
    assert snapshot(session) == before


def test_on_a_terminal_the_progress_is_a_bar_with_rate_and_eta(culled, tmp_path, python):
    import fcntl
    import pty
    import struct
    import termios

    session, _, _ = culled
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    command = [python, "-m", "eyespy_live", "cull", str(session), "--out", str(tmp_path / "o")]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=follower)
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closes when the process ends
            break
        if not chunk:
            break
        seen += chunk
    assert process.wait(timeout=240) == 0
    os.close(leader)
    text = seen.decode(errors="replace")
    assert "cull: 100%" in text and "10/10" in text and "photo/s" in text


def test_recursive_runs_never_cull_their_own_output(shared_data, tmp_path, config):
    session = tmp_path / "s"
    photo = shared_data / "photos" / "dryeye_pair" / "eyes_open.jpg"
    copy_photos({"a.jpg": photo}, session)
    copy_photos({"b.jpg": photo}, session / "day2")
    options = CullOptions(session=session, jobs=1, recursive=True, sort="copy")
    first = run_cull(options, config)
    assert sorted(verdicts(first)) == ["a.jpg", "day2/b.jpg"]
    assert sorted(p.name for p in (session / "eyespy-cull" / "keep").iterdir()) == [
        "a.jpg",
        "day2__b.jpg",
    ]
    other_out = run_cull(CullOptions(session=session, jobs=1, recursive=True), config)
    assert sorted(verdicts(other_out)) == ["a.jpg", "day2/b.jpg"]  # keep/ copies not culled
    assert sorted(verdicts(run_cull(CullOptions(session=session, jobs=1), config))) == ["a.jpg"]
