"""The fast photo verdict: reduced decode, EXIF orientation, RAW previews, finer eye reads."""

from __future__ import annotations

import struct
from pathlib import Path

import cv2
import numpy as np
import pytest

from eyespy_live.config import Config
from eyespy_live.decision.configured import blink_settings, build_detector, build_model
from eyespy_live.decision.shot import analyze_loaded_photo, analyze_photo, analyze_photo_file
from eyespy_live.photos.load import (
    PhotoError,
    decode_photo,
    embedded_jpeg,
    exif_orientation,
    jpeg_size,
    load_photo,
    load_photo_file,
    reduction_for,
)


def with_orientation(jpeg: bytes, orientation: int) -> bytes:
    """The same JPEG with an EXIF block whose only tag is Orientation."""
    tiff = b"MM\x00\x2a" + struct.pack(">I", 8) + struct.pack(">H", 1)
    tiff += struct.pack(">HHIHH", 0x0112, 3, 1, orientation, 0) + struct.pack(">I", 0)
    payload = b"Exif\x00\x00" + tiff
    app1 = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    return jpeg[:2] + app1 + jpeg[2:]


def encode(image: np.ndarray, quality: int = 90) -> bytes:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return data.tobytes()


@pytest.fixture(scope="module")
def vision():
    config = Config()
    return build_detector(config), build_model(config), blink_settings(config)


@pytest.fixture(scope="module")
def pair(shared_data: Path) -> Path:
    return shared_data / "photos" / "dryeye_pair"


def test_reduction_keeps_enough_pixels_for_detection():
    assert reduction_for((6000, 4000)) == 8
    assert reduction_for((3000, 2000)) == 4
    assert reduction_for((1440, 960)) == 2
    assert reduction_for((640, 480)) == 1


def test_a_24_mp_jpeg_is_decoded_once_at_a_quarter_in_grayscale(pair: Path, tmp_path: Path):
    """1/4 grayscale costs what 1/8 colour does, and leaves the eyes fine enough to read."""
    big = cv2.resize(cv2.imread(str(pair / "eyes_open.jpg")), (6000, 4000))
    path = tmp_path / "big.jpg"
    path.write_bytes(encode(big))
    photo = load_photo_file(path)
    assert photo.image.shape[:2] == (1000, 1500)
    assert photo.scale.factor == 4 and photo.scale.full_size == (6000, 4000)
    assert photo.scale.to_full(photo.image.shape) == (4.0, 4.0)
    b, g, r = cv2.split(photo.image)
    assert (b == g).all() and (g == r).all(), "decoded in grayscale"
    assert photo.gray(4) is photo.gray(4), "the eyes reuse that decode"


def test_a_mid_size_jpeg_is_decoded_reduced_in_colour(pair: Path, tmp_path: Path):
    mid = cv2.resize(cv2.imread(str(pair / "eyes_open.jpg")), (3000, 2000))
    path = tmp_path / "mid.jpg"
    path.write_bytes(encode(mid))
    image, scale = load_photo(path)
    assert image.shape[:2] == (500, 750)
    assert scale.factor == 4 and scale.full_size == (3000, 2000)
    b, g, r = cv2.split(image)
    assert not ((b == g).all() and (g == r).all()), "still in colour"


def test_exif_orientation_is_applied_and_the_size_follows(pair: Path):
    jpeg = (pair / "eyes_open.jpg").read_bytes()
    assert jpeg_size(jpeg) == (1440, 960)
    turned = with_orientation(jpeg, 6)  # "rotate 90° clockwise to display"
    assert exif_orientation(turned) == 6
    photo = decode_photo(turned, "turned.jpg")
    assert photo.scale.full_size == (960, 1440)
    assert photo.image.shape[:2] == (720, 480)
    # The finer grayscale decode is turned the same way, so coordinates agree.
    assert photo.gray(1).shape == (1440, 960)


def test_a_photo_stored_sideways_is_judged_upright(pair: Path, vision):
    upright = cv2.imread(str(pair / "eyes_closed.jpg"))
    # Stored as the sensor saw it (camera held vertically), EXIF says "turn 90° clockwise".
    sideways = encode(cv2.rotate(upright, cv2.ROTATE_90_COUNTERCLOCKWISE))
    photo = decode_photo(with_orientation(sideways, 6), "stored.jpg")
    assert photo.image.shape[:2] == (480, 720)
    verdict = analyze_loaded_photo(photo, *vision)
    assert verdict.verdict == "retake" and len(verdict.faces) == 1
    # Boxes are in upright photo pixels: where the face is in the upright original.
    reference = analyze_photo(upright, *vision)
    assert np.allclose(verdict.faces[0].box, reference.faces[0].box, atol=8)
    assert decode_photo(sideways, "plain.jpg").image.shape[:2] == (720, 480)


def test_the_raw_preview_is_found_inside_a_raw_file(pair: Path, tmp_path: Path):
    thumbnail = encode(cv2.resize(cv2.imread(str(pair / "eyes_open.jpg")), (160, 106)))
    # The preview carries its own EXIF thumbnail (a whole JPEG, end marker and all) inside.
    exif = b"Exif\x00\x00" + b"II*\x00" + bytes(12) + thumbnail
    jpeg = (pair / "eyes_open.jpg").read_bytes()
    preview = jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(exif) + 2) + exif + jpeg[2:]
    # A TIFF-based RAW: header with Orientation, a small thumbnail, sensor bytes, the preview.
    header = b"II\x2a\x00" + struct.pack("<I", 8) + struct.pack("<H", 1)
    header += struct.pack("<HHIHH", 0x0112, 3, 1, 1, 0) + struct.pack("<I", 0)
    sensor = np.random.default_rng(0).integers(0, 255, 200_000, dtype=np.uint8).tobytes()
    raw = header + thumbnail + sensor + preview + sensor[:1000]
    assert embedded_jpeg(raw) == (preview, 1)
    path = tmp_path / "IMG_0001.CR2"
    path.write_bytes(raw)
    image, scale = load_photo(path)
    assert scale.from_raw and scale.full_size == (1440, 960)


def test_unreadable_files_raise_a_photo_error_that_names_the_file(tmp_path: Path, pair: Path):
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    text = tmp_path / "notes.jpg"
    text.write_text("not a photo")
    cut = tmp_path / "cut.jpg"
    cut.write_bytes((pair / "eyes_open.jpg").read_bytes()[:600])
    raw = tmp_path / "broken.nef"
    raw.write_bytes(b"II*\x00" + bytes(5000))
    for path in (empty, text, cut, raw, tmp_path / "missing.jpg"):
        with pytest.raises(PhotoError, match=path.name):
            load_photo_file(path)


def test_closed_eyes_mean_retake_and_open_eyes_keep(pair: Path, vision):
    closed = analyze_photo_file(pair / "eyes_closed.jpg", *vision)
    opened = analyze_photo_file(pair / "eyes_open.jpg", *vision)
    assert closed.verdict == "retake" and len(closed.faces) == 1
    assert opened.verdict == "keep" and len(opened.faces) == 1


def test_the_fast_path_agrees_with_the_full_resolution_analysis(shared_data: Path, vision):
    """Reduced decode + finer eye reads give the same faces and verdicts as a full decode."""
    photos = [
        shared_data / "photos" / "dryeye_pair" / "eyes_closed.jpg",
        shared_data / "photos" / "face_recognition_open" / "examples" / "biden.jpg",
        shared_data / "photos" / "dlib_groups" / "2008_002079.jpg",
    ]
    for path in photos:
        full = analyze_photo(cv2.imread(str(path)), *vision)
        fast = analyze_photo_file(path, *vision)
        assert fast.verdict == full.verdict, path.name
        assert len(fast.faces) == len(full.faces), path.name
        for a, b in zip(fast.faces, full.faces, strict=True):
            assert np.allclose(a.box, b.box, atol=max(4, 0.02 * b.box[2])), path.name
            assert a.state == b.state, path.name


def test_a_small_face_in_a_big_photo_is_read_from_a_finer_decode(pair: Path, vision):
    """A face too small to read at 1/4 is read from a finer decode, and only that one."""
    face = cv2.imread(str(pair / "eyes_closed.jpg"))
    canvas = np.full((4000, 6000, 3), 90, np.uint8)
    canvas[1800:2760, 2600:4040] = face  # its eye crop at 1/4 is under MIN_CROP_PX
    photo = decode_photo(encode(canvas), "group.jpg")
    verdict = analyze_loaded_photo(photo, *vision)
    assert verdict.verdict == "retake"
    assert photo.scale.factor == 4
    # Besides the one 1/4 decode, the eyes were read from one finer grayscale decode.
    assert set(photo._gray) - {4} in ({1}, {2})


@pytest.mark.parametrize("suffix", [".gif", ".pgm", ".png"])
def test_small_grayscale_studio_portraits_in_classic_formats_are_judged(
    pair: Path, tmp_path: Path, vision, suffix: str
):
    """Face collections and scanners store portraits as GIF or PGM, gray and small."""
    for name, expected in (("eyes_open.jpg", "keep"), ("eyes_closed.jpg", "retake")):
        gray = cv2.cvtColor(cv2.imread(str(pair / name)), cv2.COLOR_BGR2GRAY)
        small = cv2.resize(gray, (480, 320), interpolation=cv2.INTER_AREA)
        image = cv2.cvtColor(small, cv2.COLOR_GRAY2BGR) if suffix == ".gif" else small
        ok, data = cv2.imencode(suffix, image)
        assert ok
        path = tmp_path / f"{Path(name).stem}{suffix}"
        path.write_bytes(data.tobytes())
        assert analyze_photo_file(path, *vision).verdict == expected, path.name
