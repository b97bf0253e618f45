"""The dimensions an image file declares, read from its header before anything is decoded.

A 1 KB file can declare 30000×30000 pixels; OpenCV would then allocate 2.7 GB and spend
seconds filling it (or raise for even larger ones). Checking the header first turns such
files into a clear rejection. Covers the formats cameras and tether programs write (JPEG)
and the usual lossless ones (PNG, BMP); other formats are left to OpenCV's own limit.
"""

from __future__ import annotations

import struct

# Larger than any camera's photo (the biggest medium-format backs make ~150 MP).
MAX_IMAGE_PIXELS = 200_000_000

_JPEG_FRAME_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCF}


def declared_size(data: bytes | memoryview) -> tuple[int, int] | None:
    """(width, height) from a JPEG, PNG or BMP header; None for anything else."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR" and len(data) >= 24:
        return struct.unpack(">II", data[16:24])
    if data[:2] == b"BM" and len(data) >= 26:
        width, height = struct.unpack("<ii", data[18:26])
        return abs(width), abs(height)
    if data[:3] == b"\xff\xd8\xff":
        return _jpeg_size(data)
    return None


def _jpeg_size(data: bytes | memoryview) -> tuple[int, int] | None:
    i, n = 2, len(data)
    while i + 4 <= n and data[i] == 0xFF:
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        if marker in (0xDA, 0xD9):  # image data starts: no frame header before it
            return None
        length = struct.unpack(">H", data[i + 2 : i + 4])[0]
        if marker in _JPEG_FRAME_MARKERS and i + 9 <= n:
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return width, height
        i += 2 + length
    return None


def oversized(data: bytes | memoryview, limit: int = MAX_IMAGE_PIXELS) -> str | None:
    """Why this file must not be decoded (it declares too many pixels), or None."""
    size = declared_size(data)
    if size is not None and size[0] * size[1] > limit:
        return f"declares {size[0]}×{size[1]} pixels, more than any photo ({limit:,} max)"
    return None
