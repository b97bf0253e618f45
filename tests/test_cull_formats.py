"""What cull reads: EXIF orientation, and the preview inside RAW files of several layouts."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from cull_helpers import (
    copy_photos,
    cr3_like,
    jpeg_bytes,
    lossless_sensor_stream,
    raf_raw,
    snapshot,
    tiff_raw,
    with_camera_preview,
    with_exif_orientation,
)

from eyespy_live.config import load
from eyespy_live.cull.run import CullOptions, run_cull
from eyespy_live.photos.decode import UnreadablePhoto, open_photo
from eyespy_live.photos.jpeg import jpeg_info
from eyespy_live.photos.raw import embedded_previews


@pytest.fixture(scope="module")
def closed_face(shared_data: Path) -> np.ndarray:
    return cv2.imread(str(shared_data / "photos" / "dryeye_pair" / "eyes_closed.jpg"))


def sideways(image: np.ndarray) -> np.ndarray:
    """How a camera held in portrait stores the picture: the tag (6) says turn it back."""
    return cv2.rotate(image, cv2.ROTATE_90_COUNTERCLOCKWISE)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orientation_matches_opencvs_own_exif_handling(orientation, closed_face, tmp_path):
    small = cv2.resize(closed_face, (360, 240), interpolation=cv2.INTER_AREA)
    small[:40, :60] = (0, 0, 255)  # a corner mark makes every flip and turn distinguishable
    path = tmp_path / "o.jpg"
    path.write_bytes(with_exif_orientation(jpeg_bytes(small, 95), orientation))
    ours = open_photo(path).decode(1)
    theirs = cv2.imread(str(path), cv2.IMREAD_COLOR)  # OpenCV applies EXIF orientation itself
    assert ours.shape == theirs.shape
    assert np.abs(ours.astype(int) - theirs.astype(int)).mean() < 1.0


def test_tiff_raw_preview_is_the_largest_decodable_jpeg(closed_face):
    preview = jpeg_bytes(sideways(closed_face))
    thumb = jpeg_bytes(cv2.resize(sideways(closed_face), (107, 160)))
    sensor = lossless_sensor_stream()
    found = embedded_previews(tiff_raw(preview, thumb, 6, sensor))
    # The lossless sensor stream is larger but is not a preview; the thumbnail comes last.
    assert [(p.jpeg.width, p.jpeg.height) for p in found] == [(960, 1440), (107, 160)]
    assert found[0].orientation == 6 and found[0].container == "tiff"
    assert found[0].length == len(preview)


def test_raw_files_of_every_layout_get_the_right_verdict_upright(closed_face, tmp_path):
    preview = jpeg_bytes(sideways(closed_face))
    thumb = jpeg_bytes(cv2.resize(sideways(closed_face), (107, 160)))
    sensor = lossless_sensor_stream()
    session = tmp_path / "session"
    session.mkdir()
    (session / "DSC_0001.NEF").write_bytes(tiff_raw(preview, thumb, 6, sensor))
    (session / "DSC_0002.ARW").write_bytes(tiff_raw(preview, thumb, 6, sensor))
    (session / "IMG_0003.CR3").write_bytes(cr3_like(preview, thumb, 6, sensor))
    upright_with_exif = with_exif_orientation(preview, 6)  # RAF: the JPEG carries the tag
    (session / "DSCF0004.RAF").write_bytes(raf_raw(upright_with_exif, sensor))
    before = snapshot(session)
    summary = run_cull(CullOptions(session=session, jobs=2, xmp=True, report=True), load(None))
    by_name = {r["path"]: r for r in summary.records}
    for name in ("DSC_0001.NEF", "DSC_0002.ARW", "IMG_0003.CR3", "DSCF0004.RAF"):
        record = by_name[name]
        assert record["verdict"] == "closed", (name, record["reason"])
        assert (record["width"], record["height"]) == (1440, 960), name
        assert record["origin"] == "raw preview"
    assert (session / "DSC_0001.xmp").is_file()
    assert snapshot(session) == before


def test_a_raw_and_its_jpeg_share_one_sidecar_owned_by_the_raw(closed_face, tmp_path):
    preview = jpeg_bytes(closed_face)
    session = tmp_path / "s"
    session.mkdir()
    (session / "IMG_1.NEF").write_bytes(tiff_raw(preview, preview, 1, lossless_sensor_stream()))
    (session / "IMG_1.JPG").write_bytes(preview)
    run_cull(CullOptions(session=session, jobs=1, xmp=True), load(None))
    assert sorted(p.name for p in session.glob("*.xmp")) == ["IMG_1.xmp"]
    run_cull(CullOptions(session=session, jobs=1, xmp=True, xmp_naming="full"), load(None))
    assert sorted(p.name for p in session.glob("*.xmp")) == [
        "IMG_1.JPG.xmp",
        "IMG_1.NEF.xmp",
        "IMG_1.xmp",
    ]


def test_a_truncated_raw_preview_is_not_used(closed_face, tmp_path):
    preview = jpeg_bytes(closed_face)
    data = tiff_raw(preview, b"", 1, b"")
    path = tmp_path / "cut.DNG"
    path.write_bytes(data[: len(data) - len(preview) // 2])
    with pytest.raises(UnreadablePhoto, match="without an embedded JPEG preview"):
        open_photo(path)


def test_jpeg_info_reads_size_without_decoding(closed_face):
    data = jpeg_bytes(closed_face)
    info = jpeg_info(data)
    assert (info.width, info.height, info.decodable, info.end) == (1440, 960, True, len(data))
    assert jpeg_info(data[: len(data) // 2]).end is None
    assert jpeg_info(b"not a jpeg") is None


def test_a_png_named_jpg_is_still_read(closed_face, tmp_path):
    ok, png = cv2.imencode(".png", closed_face)
    copy_photos({}, tmp_path)
    (tmp_path / "really_png.jpg").write_bytes(png.tobytes())
    assert open_photo(tmp_path / "really_png.jpg").decode(2).shape == (480, 720, 3)


def test_image_files_named_without_an_image_suffix_are_culled_by_their_bytes(
        closed_face, shared_data, tmp_path):
    """Classic face collections name their GIFs by subject and expression
    (`subject01.happy`, `subject01.sad`): cull finds them by their first bytes, gives each
    its own verdict and its own sidecar, and leaves notes and sidecars unopened."""
    session = tmp_path / "faces"
    session.mkdir()
    opened = cv2.imread(str(shared_data / "photos" / "dryeye_pair" / "eyes_open.jpg"))
    for name, face in (("subject01.normal", opened), ("subject01.sleepy", closed_face)):
        small = cv2.resize(face, (480, 320), interpolation=cv2.INTER_AREA)
        assert cv2.imwrite(str(session / "frame.gif"), small)
        (session / "frame.gif").rename(session / name)
    (session / "subject01.notes").write_text("BM: P5 looks like a header but is not one\n")
    (session / "Readme").write_bytes(b"P5 is a netpbm magic number\n")
    before = snapshot(session)
    summary = run_cull(CullOptions(session=session, jobs=1, xmp=True), load(None))
    verdicts = {r["path"]: r["verdict"] for r in summary.records}
    assert verdicts == {"subject01.normal": "keep", "subject01.sleepy": "closed"}, verdicts
    assert sorted(p.name for p in session.glob("*.xmp")) == [
        "subject01.normal.xmp", "subject01.sleepy.xmp"]
    assert snapshot(session) == before


def test_a_camera_jpegs_embedded_preview_is_used_when_large_enough(closed_face, tmp_path):
    big = cv2.resize(closed_face, (2880, 1920), interpolation=cv2.INTER_CUBIC)
    primary = with_exif_orientation(jpeg_bytes(big), 6)
    (tmp_path / "camera.jpg").write_bytes(with_camera_preview(primary, jpeg_bytes(closed_face)))
    small = cv2.resize(closed_face, (640, 427))
    (tmp_path / "tiny.jpg").write_bytes(with_camera_preview(primary, jpeg_bytes(small)))
    camera = open_photo(tmp_path / "camera.jpg")
    assert (camera.origin, camera.width, camera.height) == ("camera preview", 1440, 960)
    assert camera.orientation == 6  # the main image's tag applies to its preview
    assert camera.decode(1).shape == (1440, 960, 3)
    tiny = open_photo(tmp_path / "tiny.jpg")  # too small to judge eyes on: the main image
    assert (tiny.origin, tiny.width, tiny.height) == ("jpeg", 2880, 1920)


def test_a_camera_preview_is_found_with_or_without_a_usable_mpf_index(closed_face, tmp_path):
    primary = jpeg_bytes(cv2.resize(closed_face, (2880, 1920), interpolation=cv2.INTER_CUBIC))
    preview = jpeg_bytes(closed_face)
    for indexed in (True, False):
        data = with_camera_preview(primary, preview, indexed=indexed)
        (tmp_path / "camera.jpg").write_bytes(data)
        camera = open_photo(tmp_path / "camera.jpg")
        assert (camera.origin, camera.width, camera.height) == ("camera preview", 1440, 960)
        assert camera.data == preview
    info = jpeg_info(with_camera_preview(primary, preview))
    assert info is not None and len(info.mpf_images) == 1
    assert info.mpf_images[0][1] == len(preview)


def test_a_preview_no_ifd_names_is_still_found_past_the_thumbnail(closed_face):
    """Some bodies keep the big preview in a maker note: only the thumbnail is in an IFD."""
    thumb = jpeg_bytes(cv2.resize(closed_face, (160, 107)))
    data = tiff_raw(b"", thumb, 1, lossless_sensor_stream()) + jpeg_bytes(closed_face)
    found = embedded_previews(data)
    assert (found[0].jpeg.width, found[0].jpeg.height) == (1440, 960)
    assert found[0].orientation == 1


HEIC = Path(__file__).parent / "fixtures" / "gradient.heic"  # a real HEIF (libheif, 570 B)


def test_a_heif_photo_is_listed_as_unreadable_with_what_to_do(closed_face, tmp_path):
    session = tmp_path / "s"
    session.mkdir()
    (session / "IMG_0001.HIF").write_bytes(HEIC.read_bytes())  # a Canon body set to HEIF
    (session / "IMG_0002.HEIC").write_bytes(HEIC.read_bytes())  # a phone
    (session / "IMG_0003").write_bytes(HEIC.read_bytes())  # no suffix: known by its bytes
    (session / "IMG_0004.JPG").write_bytes(HEIC.read_bytes())  # misnamed
    (session / "IMG_0005.JPG").write_bytes(jpeg_bytes(closed_face))
    before = snapshot(session)
    summary = run_cull(CullOptions(session=session, jobs=1), load(None))
    by_path = {r["path"]: r for r in summary.records}
    assert by_path["IMG_0005.JPG"]["verdict"] == "closed"
    for name in ("IMG_0001.HIF", "IMG_0002.HEIC", "IMG_0003", "IMG_0004.JPG"):
        assert by_path[name]["verdict"] == "unreadable"
        assert "HEIF" in by_path[name]["reason"] and "JPEG" in by_path[name]["reason"]
    assert snapshot(session) == before  # nothing of the photographer's touched


def test_a_heif_photo_is_refused_before_any_decoder_sees_it(tmp_path):
    path = tmp_path / "IMG_0001.heif"
    path.write_bytes(HEIC.read_bytes())
    with pytest.raises(UnreadablePhoto, match="HEIF"):
        open_photo(path)


def test_16_bit_files_are_judged_and_a_float_tiff_is_named_for_what_it_is(closed_face, tmp_path):
    session = tmp_path / "s"
    session.mkdir()
    wide = closed_face.astype(np.uint16) * 257  # a raw converter's 16-bit export
    cv2.imwrite(str(session / "export16.tif"), wide)
    cv2.imwrite(str(session / "export16.png"), wide)
    cv2.imwrite(str(session / "hdr_merge.tif"), closed_face.astype(np.float32) / 255.0)
    summary = run_cull(CullOptions(session=session, jobs=1), load(None))
    by_path = {r["path"]: r for r in summary.records}
    assert by_path["export16.tif"]["verdict"] == by_path["export16.png"]["verdict"] == "closed"
    assert by_path["hdr_merge.tif"]["verdict"] == "unreadable"
    assert "32-bit floating-point" in by_path["hdr_merge.tif"]["reason"]
