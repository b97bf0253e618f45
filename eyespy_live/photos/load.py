"""A photo decoded once for a verdict: faces and eyes from the same reduced decode.

A 24 MP JPEG takes ~130 ms to decode in full colour, longer than the whole verdict should.
libjpeg decodes at 1/2, 1/4 or 1/8 scale for little more than its entropy pass (~28 ms
here, which no scaling skips), and the face detector shrinks its input to 192² anyway, so
faces are found on a reduced decode. The scale is chosen so that the eyes can usually be
read from the same decode: a 24 MP photo is decoded once at 1/4 in grayscale (it costs what
1/8 in colour costs; a 1/8 decode left the eyes of a half-body shot too coarse and cost a
second decode), smaller photos in colour at the largest reduction that keeps
`DETECT_MIN_SIDE` pixels. Only a face too small for that decode is read again, finer.

Opening and checking the bytes (truncation, RAW previews, camera previews, decompression
bombs) is `photos.decode`; EXIF orientation is applied the same way at every scale.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from eyespy_live.photos.decode import (  # noqa: F401 (re-exported: the one place to import from)
    JPEG_SUFFIXES,
    OTHER_IMAGE_SUFFIXES,
    PHOTO_SUFFIXES,
    UNDECODABLE_REASON,
    UNDECODABLE_SUFFIXES,
    EncodedPhoto,
    PhotoError,
    open_bytes,
    open_photo,
    valid_image,
)
from eyespy_live.photos.jpeg import apply_orientation, jpeg_info
from eyespy_live.photos.raw import RAW_SUFFIXES, embedded_previews

# The reduced decode keeps at least this many pixels on its shorter side: the detector's
# input is 192², and Haar wants ~30 px faces, so ~500 px keeps group-photo faces findable.
DETECT_MIN_SIDE = 480
# Where the colour decode would be 1/8, decode once at 1/4 in grayscale instead: the same
# cost (entropy decoding dominates), twice the pixels for the eyes, no second decode.
GRAY_ONCE_FROM = 8
GRAY_ONCE_FACTOR = 4
FACTORS = (8, 4, 2, 1)
_REDUCED_GRAY = {1: cv2.IMREAD_GRAYSCALE, 2: cv2.IMREAD_REDUCED_GRAYSCALE_2,
                 4: cv2.IMREAD_REDUCED_GRAYSCALE_4, 8: cv2.IMREAD_REDUCED_GRAYSCALE_8}  # fmt: skip


def to_gray(image: np.ndarray) -> np.ndarray:
    """Grayscale from a 1-, 3- or 4-channel image."""
    if image.ndim == 2:
        return image
    if image.shape[2] == 1:
        return image[:, :, 0]
    code = cv2.COLOR_BGRA2GRAY if image.shape[2] == 4 else cv2.COLOR_BGR2GRAY
    return cv2.cvtColor(image, code)


@dataclass(frozen=True)
class PhotoScale:
    """How the decoded image relates to the photo's own pixels (after EXIF orientation)."""

    factor: int  # 1, 2, 4 or 8: one decoded pixel is `factor` photo pixels
    full_size: tuple[int, int]  # (width, height) of the photo, oriented
    orientation: int = 1  # EXIF orientation applied (1 = none)
    from_raw: bool = False  # decoded from a RAW file's embedded JPEG preview

    def to_full(self, image_shape: tuple[int, ...]) -> tuple[float, float]:
        """(sx, sy) multipliers from decoded pixels to photo pixels."""
        height, width = image_shape[:2]
        return self.full_size[0] / width, self.full_size[1] / height


@dataclass
class LoadedPhoto:
    """A photo decoded for detection, with what is needed to decode finer on demand."""

    image: np.ndarray  # BGR at 1/scale.factor, oriented
    scale: PhotoScale
    data: bytes | None = None  # the JPEG bytes (None for formats libjpeg can't reduce)
    _gray: dict[int, np.ndarray] = field(default_factory=dict, repr=False)

    def gray(self, factor: int) -> np.ndarray:
        """Grayscale at 1/factor of the photo (decoded once per factor, oriented)."""
        if factor not in self._gray:
            if factor == self.scale.factor or self.data is None:
                self._gray[factor] = to_gray(self.image)
            else:
                decoded = cv2.imdecode(
                    np.frombuffer(self.data, np.uint8),
                    _REDUCED_GRAY[factor] | cv2.IMREAD_IGNORE_ORIENTATION,
                )
                if decoded is None:
                    raise PhotoError("the photo could not be decoded at full resolution")
                self._gray[factor] = orient(decoded, self.scale.orientation)
        return self._gray[factor]


# -- JPEG structure, read without decoding (cull.jpeg's parser) -----------------------------


def jpeg_size(data: bytes, start: int = 0) -> tuple[int, int] | None:
    """(width, height) from the JPEG's frame header, or None if it has none."""
    info = jpeg_info(data, start, last_eoi=True)
    return (info.width, info.height) if info is not None and info.width and info.height else None


def exif_orientation(data: bytes, start: int = 0) -> int:
    """EXIF orientation (1..8) of a JPEG; 1 when absent or unreadable."""
    info = jpeg_info(data, start, last_eoi=True)
    return info.orientation if info is not None else 1


orient = apply_orientation  # turn a decoded image upright as EXIF orientation says


def embedded_jpeg(raw: bytes) -> tuple[bytes, int] | None:
    """The largest decodable JPEG preview in a RAW file, and the orientation to show it in.

    The same reader `cull` uses: the container's own IFDs first (never the lossless-JPEG
    sensor data many RAWs also hold), a scan for JPEGs where those name none.
    """
    previews = embedded_previews(raw)
    if not previews:
        return None
    best = previews[0]
    return bytes(raw[best.jpeg.offset : best.jpeg.offset + best.length]), best.orientation


def looks_complete(data: bytes, name: str) -> bool:
    """Whether a file's bytes end the way a finished file of its kind ends.

    A JPEG cut short still decodes (libjpeg fills the rest with grey), so a file still being
    written must be recognised by its end marker, not by decoding.
    """
    if not data:
        return False
    suffix = Path(name).suffix.lower()
    if suffix in JPEG_SUFFIXES or (suffix not in RAW_SUFFIXES and data[:3] == b"\xff\xd8\xff"):
        return data[-2:] == b"\xff\xd9"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return data[-12:-4] == b"\x00\x00\x00\x00IEND"
    return True


# -- loading -----------------------------------------------------------------------------


def reduction_for(size: tuple[int, int], min_side: int = DETECT_MIN_SIDE) -> int:
    """The largest libjpeg reduction (8, 4, 2, 1) keeping the shorter side ≥ `min_side`."""
    short = min(size)
    for factor in FACTORS:
        if short // factor >= min_side:
            return factor
    return 1


def load(photo: EncodedPhoto) -> LoadedPhoto:
    """Decode an opened photo once, at the scale both face detection and eyes need."""
    if photo.origin == "image":  # PNG, TIFF, WebP…: no reduced decode available
        image = photo.decode(1)
        return LoadedPhoto(image, PhotoScale(1, (image.shape[1], image.shape[0])), None)
    from_raw = photo.origin == "raw preview"
    factor = reduction_for((photo.width, photo.height), DETECT_MIN_SIDE)
    if factor >= GRAY_ONCE_FROM:
        flags = _REDUCED_GRAY[GRAY_ONCE_FACTOR] | cv2.IMREAD_IGNORE_ORIENTATION
        gray = _imdecode(photo.data, flags)
        if not valid_image(gray):
            raise PhotoError("corrupt image data (the decoder gave up)")
        gray = orient(gray, photo.orientation)
        scale = PhotoScale(GRAY_ONCE_FACTOR, photo.upright_size, photo.orientation, from_raw)
        loaded = LoadedPhoto(cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR), scale, photo.data)
        loaded._gray[GRAY_ONCE_FACTOR] = gray
        return loaded
    image = photo.decode(factor)
    scale = PhotoScale(factor, photo.upright_size, photo.orientation, from_raw)
    return LoadedPhoto(image, scale, photo.data)


def decode_photo(data: bytes, name: str = "photo") -> LoadedPhoto:
    """Photo bytes (JPEG, RAW, PNG…) decoded for a verdict; PhotoError naming the file."""
    try:
        return load(open_bytes(data, name))
    except PhotoError as exc:
        raise PhotoError(f"{name}: {exc}") from None


def _imdecode(data: bytes, flags: int) -> np.ndarray | None:
    try:
        return cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    except cv2.error:  # e.g. dimensions beyond OpenCV's own limit: unreadable, not a crash
        return None


def load_photo(path: str | Path) -> tuple[np.ndarray, PhotoScale]:
    """An upright BGR image of the photo at path, reduced for detection, and its scale."""
    photo = load_photo_file(path)
    return photo.image, photo.scale


def load_photo_file(path: str | Path) -> LoadedPhoto:
    """A photo file decoded for a verdict (only regular files are read); PhotoError if not."""
    path = Path(path)
    try:
        return load(open_photo(path))
    except PhotoError as exc:
        raise PhotoError(f"{path.name}: {exc}") from None
