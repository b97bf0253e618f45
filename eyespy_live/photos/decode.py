"""Opening one photo: JPEG, RAW (its embedded preview) or another image — for every path.

The tethered camera, the hot folder and `cull` all open photos here, so one file always
yields the same pixels (and so the same verdict). Nothing here writes: files are read (RAWs
through a read-only mmap) and the encoded bytes are checked before decoding, so a truncated,
empty or non-image file becomes a `PhotoError` with a reason a person understands. A camera
JPEG's large embedded preview (MPF) and a RAW's largest JPEG preview stand in for the photo;
the lossless sensor data is never taken for a preview. EXIF orientation is applied the same
way for JPEGs and RAW previews.
"""

from __future__ import annotations

import mmap
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from eyespy_live.files import FileRefused, describe_size, read_regular, symlink_problem
from eyespy_live.photos.imagesize import oversized
from eyespy_live.photos.jpeg import JpegInfo, apply_orientation, jpeg_info, oriented_size
from eyespy_live.photos.raw import RAW_SUFFIXES, embedded_previews

JPEG_SUFFIXES = frozenset({".jpg", ".jpeg", ".jpe", ".jfif"})
# GIF and the netpbm family (PGM/PPM) are how classic face collections and some scanners
# store portraits; OpenCV decodes them (a GIF's first frame).
OTHER_IMAGE_SUFFIXES = frozenset(
    {".png", ".tif", ".tiff", ".webp", ".bmp", ".gif", ".pgm", ".ppm", ".pnm"}
)
# Photos this program cannot decode (OpenCV has no HEIF or AVIF reader), still photos:
# a Canon or Sony body set to HEIF writes .HIF/.HEIF, a phone .HEIC. They are listed so that
# every path says so for each file (cull's report, the hot folder's and the camera's
# warnings) instead of passing over them without a word.
UNDECODABLE_SUFFIXES = frozenset({".heic", ".heif", ".hif", ".avif"})
PHOTO_SUFFIXES = JPEG_SUFFIXES | RAW_SUFFIXES | OTHER_IMAGE_SUFFIXES | UNDECODABLE_SUFFIXES

_REDUCED = {1: cv2.IMREAD_COLOR, 2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4}
_REDUCED[8] = cv2.IMREAD_REDUCED_COLOR_8
FACTORS = (8, 4, 2, 1)
PREVIEW_MIN_SIDE = 1280  # a camera JPEG's embedded preview is used from this size up
# Larger files are refused before reading: the biggest RAWs (150 MP, 16-bit) are ~400 MB;
# a 3 GB "photo" would cost seconds and gigabytes per worker.
MAX_PHOTO_BYTES = 1024 * 1024 * 1024


class PhotoError(ValueError):
    """A file that is not a readable photo; the message says why, for a person."""


UnreadablePhoto = PhotoError  # the name cull's code uses


# The ISO base media file's brands (bytes 8–12 after "ftyp") of HEIF and AVIF stills.
_HEIF_BRANDS = frozenset(
    {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"avif", b"avis"}
)
UNDECODABLE_REASON = (
    "a HEIF/AVIF photo, which this program cannot decode: set the camera to JPEG, or RAW "
    "(with RAW+HEIF the RAW is judged), or convert the file to JPEG"
)


def is_heif(head: bytes) -> bool:
    """The first bytes are a HEIF or AVIF file's (an ISO box "ftyp" with a still brand)."""
    return head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS


def valid_image(image: object) -> bool:
    """Images that reach the vision code must be non-empty 2-D or 3-channel uint8 arrays."""
    return (
        isinstance(image, np.ndarray)
        and image.dtype == np.uint8
        and image.size > 0
        and (image.ndim == 2 or (image.ndim == 3 and image.shape[2] in (1, 3, 4)))
        and image.shape[0] >= 8
        and image.shape[1] >= 8
    )


def unreadable_reason(path: Path) -> str | None:
    """Why `path` can't even be opened as a photo file, or None when it can be read."""
    try:
        info = path.lstat()
    except OSError as exc:
        return f"cannot be read: {exc.strerror or exc}"
    if stat.S_ISLNK(info.st_mode):
        problem = symlink_problem(path)
        if problem:
            return problem
        info = path.stat()
    if stat.S_ISDIR(info.st_mode):
        return "a folder, not a file"
    if not stat.S_ISREG(info.st_mode):
        return "not a regular file"
    if info.st_size == 0:
        return "empty file (0 bytes)"
    if info.st_size > MAX_PHOTO_BYTES:
        return (
            f"too large for a photo ({describe_size(info.st_size)}; the limit is "
            f"{describe_size(MAX_PHOTO_BYTES)})"
        )
    if not os.access(path, os.R_OK):
        return "no permission to read it"
    return None


@dataclass
class EncodedPhoto:
    """The encoded image to analyse, and how it must be turned to be upright."""

    data: bytes
    width: int  # as stored, before orientation; 0 when not known without decoding
    height: int
    orientation: int
    origin: str  # "jpeg", "camera preview" (MPF in a JPEG), "raw preview", "image"
    _decoded: np.ndarray | None = field(default=None, repr=False)

    @property
    def upright_size(self) -> tuple[int, int]:
        return oriented_size(self.width, self.height, self.orientation)

    def decode(self, factor: int = 1) -> np.ndarray:
        """Upright BGR image at 1/`factor` of the stored size."""
        if self.origin == "image":
            return self._decode_other(factor)
        flags = _REDUCED[factor] | cv2.IMREAD_IGNORE_ORIENTATION
        image = cv2.imdecode(np.frombuffer(self.data, np.uint8), flags)
        if not valid_image(image):
            raise PhotoError(_why_not_valid(image, factor))
        return apply_orientation(image, self.orientation)

    def _decode_other(self, factor: int) -> np.ndarray:
        if self._decoded is None:
            image = cv2.imdecode(np.frombuffer(self.data, np.uint8), cv2.IMREAD_COLOR)
            if not valid_image(image):
                raise PhotoError(_why_not_valid(image, 1, self._why_undecodable()))
            self._decoded = image
            self.height, self.width = image.shape[:2]
        if factor == 1:
            return self._decoded
        h, w = self._decoded.shape[:2]
        size = (max(1, -(-w // factor)), max(1, -(-h // factor)))
        return cv2.resize(self._decoded, size, interpolation=cv2.INTER_AREA)

    def _why_undecodable(self) -> str:
        """A floating-point image (an HDR merge's 32-bit TIFF) decodes, but not to 8 bits:
        whether its values are linear light or display values is not in the file, so
        rather than guess an exposure it is named for what it is."""
        raw = cv2.imdecode(np.frombuffer(self.data, np.uint8), cv2.IMREAD_UNCHANGED)
        if isinstance(raw, np.ndarray) and raw.dtype.kind == "f":
            return (
                f"a {raw.dtype.itemsize * 8}-bit floating-point image (an HDR merge?), "
                "which this program does not judge: export it as an 8- or 16-bit TIFF or a JPEG"
            )
        return "not an image this program can decode"


def open_photo(path: Path) -> EncodedPhoto:
    """Read and check one photo file; raises PhotoError with the reason."""
    reason = unreadable_reason(path)
    if reason:
        raise PhotoError(reason)
    try:
        if path.suffix.lower() in RAW_SUFFIXES:
            return _open_raw(path)
        data = read_regular(path, MAX_PHOTO_BYTES)
    except FileRefused as exc:
        raise UnreadablePhoto(exc.message.removeprefix(f"{path}: ")) from None
    except OSError as exc:
        raise PhotoError(f"cannot be read: {exc.strerror or exc}") from None
    return open_bytes(data, path.name)


def open_bytes(data: bytes, name: str) -> EncodedPhoto:
    """Check a photo's bytes (a download, a file's content); `name` gives the suffix."""
    if not data:
        raise PhotoError("empty file (0 bytes)")
    suffix = Path(name).suffix.lower()
    if suffix in RAW_SUFFIXES:
        return _raw_preview(data)
    if suffix in UNDECODABLE_SUFFIXES or is_heif(data[:16]):
        raise PhotoError(UNDECODABLE_REASON)
    problem = oversized(data)  # a decompression bomb: seconds and gigabytes to decode
    if problem:
        raise PhotoError(problem)
    info = jpeg_info(data, last_eoi=True)
    if info is not None:
        if info.end is None:
            raise PhotoError("truncated JPEG: the file ends before the image does")
        if not info.decodable:
            raise PhotoError(f"unsupported JPEG kind (SOF 0x{info.sof:02X})")
        if info.width and info.height and min(info.width, info.height) < 8:
            raise PhotoError(f"too small to be a photo ({info.width}×{info.height} pixels)")
        if info.multi_picture:
            preview = _camera_preview(data, info)
            if preview is not None:
                return preview
        return EncodedPhoto(data, info.width, info.height, info.orientation, "jpeg")
    if data[:2] == b"\xff\xd8":
        raise PhotoError("corrupt JPEG: its header cannot be parsed")
    if suffix in JPEG_SUFFIXES and not _looks_like_image(data):
        raise PhotoError("not an image (no JPEG header)")
    return EncodedPhoto(data, 0, 0, 1, "image")


def _why_not_valid(
    image: np.ndarray | None,
    factor: int,
    otherwise: str = "corrupt image data (the decoder gave up)",
) -> str:
    """A decoded image too small to hold a face is "too small", not "corrupt"."""
    if isinstance(image, np.ndarray) and image.size and image.ndim in (2, 3):
        h, w = image.shape[:2]
        if factor == 1 and min(h, w) < 8:
            return f"too small to be a photo ({w}×{h} pixels)"
    return otherwise


def _camera_preview(data: bytes, primary: JpegInfo) -> EncodedPhoto | None:
    """The large preview a camera appends to its JPEGs (CIPA MPF), when it is big enough.

    Nikon, Canon, Sony and Fujifilm bodies store a ~1620×1080 to 1920×1280 copy of the photo
    after the main image; faces and eyes are judged on it as on a RAW's preview, at a
    fraction of the cost of decoding 24 MP. Used only when it has the photo's aspect ratio
    and at least PREVIEW_MIN_SIDE pixels on its long side.
    """
    best: JpegInfo | None = None
    for info in _pictures_after(data, primary):
        if _same_shape(info, primary) and (best is None or info.pixels > best.pixels):
            best = info
    if best is None or max(best.width, best.height) < PREVIEW_MIN_SIDE:
        return None
    assert best.end is not None
    preview = data[best.offset : best.end]
    return EncodedPhoto(preview, best.width, best.height, primary.orientation, "camera preview")


def _pictures_after(data: bytes, primary: JpegInfo):
    """The complete JPEGs stored after the photo: where the MPF index says, else searched."""
    if primary.mpf_images:
        for offset, length in primary.mpf_images:
            info = jpeg_info(data, offset, limit=offset + length, last_eoi=True)
            if info is not None and info.decodable and info.end is not None:
                yield info
        return
    first = jpeg_info(data, primary.offset)
    if first is None or first.end is None:
        return
    pos = data.find(b"\xff\xd8\xff", first.end)
    while pos >= 0:
        info = jpeg_info(data, pos)
        if info is not None and info.decodable and info.end is not None:
            yield info
            pos = data.find(b"\xff\xd8\xff", info.end)
        else:
            pos = data.find(b"\xff\xd8\xff", pos + 3)


def _same_shape(a: JpegInfo, b: JpegInfo) -> bool:
    return a.pixels < b.pixels and abs(a.width / a.height - b.width / b.height) < 0.02


# Files that are never photos, whatever their bytes: not even opened when sniffing.
NOT_PHOTO_SUFFIXES = frozenset({".xmp", ".json", ".csv", ".txt", ".html", ".toml", ".log"})
_BMP_HEADER_SIZES = (12, 40, 52, 56, 64, 108, 124)
_NETPBM_HEADER = re.compile(rb"P[1-6](\s+#[^\n]*)*\s+\d+\s+\d+\s")  # magic, width, height


def has_image_signature(head: bytes) -> bool:
    """The first bytes of a file are an image format's own signature (strict: a text file
    starting "BM" or "P5" does not pass)."""
    return (
        head[:3] == b"\xff\xd8\xff"
        or head[:8] == b"\x89PNG\r\n\x1a\n"
        or head[:6] in (b"GIF87a", b"GIF89a")
        or head[:4] in (b"II*\x00", b"MM\x00*")
        or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")
        or (head[:2] == b"BM" and len(head) >= 18
            and int.from_bytes(head[14:18], "little") in _BMP_HEADER_SIZES)
        or _NETPBM_HEADER.match(head) is not None
        or is_heif(head)
    )


def is_photo_file(path: Path) -> bool:
    """A photo by its suffix or, for a name whose suffix is no image format's, by its first
    bytes: classic face collections name their GIFs `subject01.happy`, `subject01.sad`."""
    suffix = path.suffix.lower()
    if suffix in PHOTO_SUFFIXES:
        return True
    if suffix in NOT_PHOTO_SUFFIXES:
        return False
    try:
        if not stat.S_ISREG(path.stat().st_mode):  # never open a FIFO or a device
            return False
        with path.open("rb") as handle:
            return has_image_signature(handle.read(64))
    except OSError:
        return False


def _looks_like_image(data: bytes) -> bool:
    """A .jpg that is really a PNG/TIFF/WebP/BMP still decodes; text or zip does not. Looser
    than `has_image_signature` (the name already says photo): any "BM", "P5" or "P6" start."""
    return has_image_signature(data) or data[:2] in (b"BM", b"P5", b"P6")


def _open_raw(path: Path) -> EncodedPhoto:
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as buf:
        return _raw_preview(buf)


def _raw_preview(buf) -> EncodedPhoto:
    """The largest embedded JPEG preview (never the lossless sensor stream many RAWs hold)."""
    previews = embedded_previews(buf)
    if not previews:
        raise PhotoError("RAW file without an embedded JPEG preview")
    best = previews[0]
    data = bytes(buf[best.jpeg.offset : best.jpeg.offset + best.length])
    if oversized(data):
        raise PhotoError(oversized(data))
    return EncodedPhoto(data, best.jpeg.width, best.jpeg.height, best.orientation, "raw preview")
