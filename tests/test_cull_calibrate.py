"""Calibration: the photographer relabels what cull got wrong, and the threshold follows."""

from __future__ import annotations

import subprocess
from pathlib import Path

from cull_helpers import copy_photos

from eyespy_live.config import load
from eyespy_live.cull import xmp
from eyespy_live.cull.calibrate import Example, fit_threshold


def test_the_threshold_moves_to_agree_with_the_corrections():
    examples = [
        Example("open1", 0.02, "keep", False),
        Example("open2", 0.10, "keep", False),
        Example("squint", 0.22, "closed", True),  # read as open; the photographer says closed
        Example("smile", 0.35, "keep", True),  # read as half closed; the photographer says keep
        Example("blink", 0.90, "closed", False),
    ]
    result = fit_threshold(examples, current=0.3)
    # The two corrections pull in opposite directions; either side fixes one of them, and
    # the nearer one to the old threshold wins: between open2 and squint.
    assert result.photo_t_half == 0.16
    assert result.errors_before == 6 and result.errors_after == 3
    assert result.corrections == 2 and result.examples == 5


def test_no_disagreement_keeps_the_current_threshold():
    examples = [Example("a", 0.0, "keep", False), Example("b", 1.0, "closed", False)]
    assert fit_threshold(examples, current=0.3).photo_t_half == 0.3


def test_calibrate_reads_relabelled_sidecars_and_writes_a_valid_config(
    shared_data: Path, tmp_path: Path, python: str
):
    session = tmp_path / "s"
    photos = shared_data / "photos"
    copy_photos(
        {
            "closed.jpg": photos / "dryeye_pair" / "eyes_closed.jpg",
            "open.jpg": photos / "dryeye_pair" / "eyes_open.jpg",
            "two.jpg": photos / "face_recognition_open" / "examples" / "two_people.jpg",
        },
        session,
    )
    cull = [python, "-m", "eyespy_live", "cull", str(session), "--progress", "none"]
    first = subprocess.run(cull + ["--xmp"], capture_output=True, text=True, timeout=240)
    assert first.returncode == 0, first.stderr
    nothing = subprocess.run(cull + ["--calibrate"], capture_output=True, text=True, timeout=120)
    assert nothing.returncode == 1 and "no corrections found" in nothing.stdout
    sidecar = session / "closed.xmp"  # the photographer disagrees: relabels it Green
    sidecar.write_text(sidecar.read_text().replace('xmp:Label="Red"', 'xmp:Label="Green"'))
    assert xmp.read_sidecar(sidecar)["xmp:Label"] == "Green"
    result = subprocess.run(cull + ["--calibrate"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    calibrated = session / "eyespy-cull" / "calibrated.toml"
    config = load(calibrated)  # a valid config file, thresholds in order
    assert config.blink.photo_t_half <= config.blink.photo_t_closed
    assert "1 corrections among 3 photos" in calibrated.read_text()
