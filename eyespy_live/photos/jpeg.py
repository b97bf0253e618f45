"""Just enough JPEG and EXIF parsing to trust a file before decoding it.

Reads the marker structure (never the image data): the frame size and kind from SOF, where
the image data starts, whether an end-of-image marker follows it (a truncated download has
none), and the EXIF orientation. Pure functions over bytes; nothing here decodes pixels.
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass

import cv2
import numpy as np

SOI = b"\xff\xd8"
EOI = b"\xff\xd9"
# Baseline, extended, progressive (Huffman): what cameras write and OpenCV decodes. SOF3 is
# lossless JPEG, used for the raw sensor data inside CR2 and DNG files: never a preview.
DECODABLE_SOF = {0xC0, 0xC1, 0xC2}
_SOF_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_STANDALONE = {0x01, 0xD0, 0xD1, 0xD2, 0xD3, 0xD4, 0xD5, 0xD6, 0xD7}
ORIENTATION_TAG = 0x0112

Buffer = bytes | mmap.mmap


@dataclass(frozen=True)
class JpegInfo:
    offset: int  # where the SOI marker is
    width: int
    height: int
    sof: int  # the SOF marker byte, e.g. 0xC0
    scan_start: int  # offset of the first SOS marker
    end: int | None  # offset just past EOI, or None when the file stops before it
    orientation: int  # EXIF orientation 1..8 (1 when absent)
    multi_picture: bool = False  # has an MPF (CIPA multi-picture) segment: previews follow
    # Where the MPF index says the other pictures are: (offset, length) in the buffer.
    mpf_images: tuple[tuple[int, int], ...] = ()

    @property
    def decodable(self) -> bool:
        return self.sof in DECODABLE_SOF and self.width > 0 and self.height > 0

    @property
    def pixels(self) -> int:
        return self.width * self.height


def jpeg_info(
    data: Buffer, offset: int = 0, limit: int | None = None, last_eoi: bool = False
) -> JpegInfo | None:
    """Parse the JPEG whose SOI is at `offset`; None when it isn't one.

    A JPEG whose data stops before its image data is returned with `end` None.
    `data` is bytes or an mmap (both search in C without copying); `limit` bounds the search
    for EOI (the end of a preview whose length a container states). `last_eoi` looks for
    the file's last EOI instead of the first after the image data: the same answer for a
    file holding one JPEG, found from the end instead of by reading megabytes of scan data.
    """
    buf = data
    end_of_data = len(buf) if limit is None else min(len(buf), limit)
    if buf[offset : offset + 2] != SOI:
        return None
    pos = offset + 2
    size = sof = None
    orientation = 1
    multi_picture = False
    mpf_images: tuple[tuple[int, int], ...] = ()
    seen_exif = False
    while pos + 4 <= end_of_data:
        if buf[pos] != 0xFF:
            return None
        marker = buf[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in _STANDALONE:
            pos += 2
            continue
        if marker == 0xD9:
            return None  # EOI before any image data
        (length,) = struct.unpack(">H", buf[pos + 2 : pos + 4])
        if length < 2:
            return None
        if pos + 2 + length > end_of_data:
            break  # the data stops inside a header segment
        segment = buf[pos + 4 : pos + 2 + length]
        if marker == 0xE1 and segment[:6] == b"Exif\x00\x00" and not seen_exif:
            # the first EXIF block counts, as in other readers, when an editor added a second
            seen_exif = True
            orientation = tiff_orientation(segment[6:]) or 1
        elif marker == 0xE2 and segment[:4] == b"MPF\x00":
            multi_picture = True
            mpf_images = mpf_index(bytes(segment[4:]), pos + 8)
        elif marker in _SOF_MARKERS and len(segment) >= 5:
            height, width = struct.unpack(">HH", segment[1:5])
            size, sof = (width, height), marker
        elif marker == 0xDA:
            if size is None or sof is None:
                return None
            search = buf.rfind if last_eoi else buf.find
            found = search(EOI, pos, end_of_data)
            end = found + 2 if found >= 0 else None
            return JpegInfo(
                offset, size[0], size[1], sof, pos, end, orientation, multi_picture, mpf_images
            )
        pos += 2 + length
    # Out of data before the image data began: a JPEG cut short (end is None, not decodable).
    width, height = size or (0, 0)
    return JpegInfo(offset, width, height, sof or 0, -1, None, orientation)


def _first_ifd(tiff: bytes, most: int) -> tuple[str, list[bytes]]:
    """The byte order and the 12-byte entries of a TIFF structure's first IFD.

    Raises KeyError / struct.error on a structure that isn't TIFF or is cut short.
    """
    endian = {b"II": "<", b"MM": ">"}[tiff[:2]]
    (ifd,) = struct.unpack(endian + "I", tiff[4:8])
    (count,) = struct.unpack(endian + "H", tiff[ifd : ifd + 2])
    return endian, [tiff[ifd + 2 + 12 * i : ifd + 14 + 12 * i] for i in range(min(count, most))]


_MP_ENTRY_TAG = 0xB002
_MP_ENTRY_SIZE = 16


def mpf_index(tiff: bytes, tiff_start: int) -> tuple[tuple[int, int], ...]:
    """(offset, length) of each picture after the first that an MPF index lists.

    The MP Entry tag holds 16 bytes per picture: attributes, length, and an offset counted
    from the MPF segment's TIFF header (`tiff_start` in the file); the first picture (the
    photo itself) has offset 0 and is left out. A malformed index gives (), and the caller
    falls back to searching for the pictures.
    """
    try:
        endian, entries = _first_ifd(tiff, 64)
        for entry in entries:
            tag, _kind, length, where = struct.unpack(endian + "HHII", entry)
            if tag != _MP_ENTRY_TAG or length % _MP_ENTRY_SIZE:
                continue
            table = tiff[where : where + length]
            if len(table) != length:
                return ()
            images = []
            for k in range(length // _MP_ENTRY_SIZE):
                _attr, size, picture = struct.unpack(
                    endian + "III", table[k * _MP_ENTRY_SIZE : k * _MP_ENTRY_SIZE + 12]
                )
                if picture and size:
                    images.append((tiff_start + picture, size))
            return tuple(images)
    except (KeyError, struct.error):
        return ()
    return ()


def tiff_orientation(tiff: bytes) -> int | None:
    """The Orientation tag of IFD0 in a TIFF structure (EXIF, or a TIFF-based RAW)."""
    try:
        endian, entries = _first_ifd(bytes(tiff[:65536]), 512)
        for entry in entries:
            tag, kind = struct.unpack(endian + "HH", entry[:4])
            if tag == ORIENTATION_TAG and kind == 3:
                (value,) = struct.unpack(endian + "H", entry[8:10])
                return value if 1 <= value <= 8 else None
    except (KeyError, struct.error, IndexError):
        return None
    return None


def apply_orientation(image: np.ndarray, orientation: int) -> np.ndarray:
    """Turn a decoded image the way EXIF orientation says it should be shown."""
    if orientation == 2:
        return cv2.flip(image, 1)
    if orientation == 3:
        return cv2.rotate(image, cv2.ROTATE_180)
    if orientation == 4:
        return cv2.flip(image, 0)
    if orientation == 5:
        return cv2.transpose(image)
    if orientation == 6:
        return cv2.rotate(image, cv2.ROTATE_90_CLOCKWISE)
    if orientation == 7:
        return cv2.flip(cv2.transpose(image), -1)
    if orientation == 8:
        return cv2.rotate(image, cv2.ROTATE_90_COUNTERCLOCKWISE)
    return image


def oriented_size(width: int, height: int, orientation: int) -> tuple[int, int]:
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)
