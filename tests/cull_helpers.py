"""Building test inputs for cull: sessions of real photos, EXIF-tagged JPEGs, RAW containers.

The RAW files are made here, byte by byte, in each format's real layout (TIFF IFDs with a
SubIFD preview and lossless-JPEG sensor data; Fujifilm's RAF header; a CR3-style ISO media
file with a CMT1 TIFF block), around real face photos as the embedded previews.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import struct
from pathlib import Path

import cv2
import numpy as np


def jpeg_bytes(image: np.ndarray, quality: int = 90) -> bytes:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return data.tobytes()


def tiff_block(orientation: int, endian: str = "<") -> bytes:
    """A minimal TIFF structure whose IFD0 holds only an Orientation tag."""
    magic = b"II*\x00" if endian == "<" else b"MM\x00*"
    return (
        magic
        + struct.pack(endian + "I", 8)
        + struct.pack(endian + "H", 1)
        + struct.pack(endian + "HHIHH", 0x0112, 3, 1, orientation, 0)
        + struct.pack(endian + "I", 0)
    )


def with_exif_orientation(jpeg: bytes, orientation: int) -> bytes:
    """The JPEG with an EXIF APP1 segment carrying `orientation`, right after SOI."""
    payload = b"Exif\x00\x00" + tiff_block(orientation, ">")
    app1 = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    return jpeg[:2] + app1 + jpeg[2:]


def lossless_sensor_stream(width: int = 6048, height: int = 4024, size: int = 60_000) -> bytes:
    """What CR2/NEF/DNG sensor data looks like from outside: a lossless (SOF3) JPEG stream."""
    sof3 = b"\xff\xc3" + struct.pack(">HBHHB", 11, 14, height, width, 1) + b"\x01\x11\x00"
    sos = b"\xff\xda" + struct.pack(">HB", 8, 1) + b"\x01\x00\x01\x00\x00"
    noise = np.random.default_rng(7).integers(0, 255, size, dtype=np.uint8).tobytes()
    noise = noise.replace(b"\xff", b"\xfe")  # no accidental markers
    return b"\xff\xd8" + sof3 + sos + noise + b"\xff\xd9"


def tiff_raw(preview: bytes, thumb: bytes, orientation: int, sensor: bytes) -> bytes:
    """A TIFF-based RAW (NEF/ARW/DNG layout): IFD0 with thumbnail + orientation, two SubIFDs:
    the large preview (JPEGInterchangeFormat) and the sensor data (compression 7, one strip)."""
    e = "<"
    ifd0_at = 8
    ifd0_entries = 4
    sub0_at = ifd0_at + 2 + 12 * ifd0_entries + 4
    sub1_at = sub0_at + 2 + 12 * 2 + 4
    subifd_list_at = sub1_at + 2 + 12 * 3 + 4
    data_at = subifd_list_at + 8
    thumb_at = data_at
    preview_at = thumb_at + len(thumb)
    sensor_at = preview_at + len(preview)

    def entry(tag: int, kind: int, count: int, value: int) -> bytes:
        if kind == 3 and count == 1:
            return struct.pack(e + "HHIHH", tag, kind, count, value, 0)
        return struct.pack(e + "HHII", tag, kind, count, value)

    ifd0 = struct.pack(e + "H", ifd0_entries) + b"".join(
        [
            entry(0x0112, 3, 1, orientation),
            entry(0x014A, 4, 2, subifd_list_at),
            entry(0x0201, 4, 1, thumb_at),
            entry(0x0202, 4, 1, len(thumb)),
        ]
    )
    ifd0 += struct.pack(e + "I", 0)
    sub0 = struct.pack(e + "H", 2) + entry(0x0201, 4, 1, preview_at)
    sub0 += entry(0x0202, 4, 1, len(preview)) + struct.pack(e + "I", 0)
    sub1 = struct.pack(e + "H", 3) + entry(0x0103, 3, 1, 7) + entry(0x0111, 4, 1, sensor_at)
    sub1 += entry(0x0117, 4, 1, len(sensor)) + struct.pack(e + "I", 0)
    subifd_list = struct.pack(e + "II", sub0_at, sub1_at)
    head = b"II*\x00" + struct.pack(e + "I", ifd0_at)
    blob = head + ifd0 + sub0 + sub1 + subifd_list
    assert len(blob) == data_at
    return blob + thumb + preview + sensor


def raf_raw(preview: bytes, sensor: bytes) -> bytes:
    """Fujifilm RAF: a fixed header whose bytes 84..91 give the JPEG's offset and length."""
    header = b"FUJIFILMCCD-RAW 0201FF383501".ljust(84, b"\x00")
    jpeg_at = 160
    header += struct.pack(">II", jpeg_at, len(preview))
    header = header.ljust(jpeg_at, b"\x00")
    return header + preview + sensor


def cr3_like(preview: bytes, thumb: bytes, orientation: int, sensor: bytes) -> bytes:
    """An ISO-media file like Canon's CR3: ftyp, a CMT1 box holding a TIFF IFD0, then JPEGs."""
    ftyp = struct.pack(">I", 24) + b"ftypcrx " + b"\x00\x00\x00\x01crx isom"
    tiff = tiff_block(orientation)
    cmt1 = struct.pack(">I", 8 + len(tiff)) + b"CMT1" + tiff
    thmb = struct.pack(">I", 8 + len(thumb)) + b"THMB" + thumb
    prvw = struct.pack(">I", 8 + len(preview)) + b"PRVW" + preview
    mdat = struct.pack(">I", 8 + len(sensor)) + b"mdat" + sensor
    return ftyp + cmt1 + thmb + prvw + mdat


def file_digest(path: Path) -> tuple[str, int, int]:
    """(sha256, size, mtime_ns): what "untouched" means for an original."""
    info = path.stat()
    return hashlib.sha256(path.read_bytes()).hexdigest(), info.st_size, info.st_mtime_ns


def snapshot(folder: Path) -> dict[str, tuple[str, int, int]]:
    return {
        p.name: file_digest(p)
        for p in sorted(folder.iterdir())
        if p.is_file() and not p.is_symlink() and p.suffix.lower() != ".xmp"
    }


def copy_photos(sources: dict[str, Path], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, source in sources.items():
        shutil.copy2(source, folder / name)
        os.utime(folder / name, ns=(1_600_000_000_000_000_000, 1_600_000_000_000_000_000))


def with_camera_preview(primary: bytes, preview: bytes, indexed: bool = True) -> bytes:
    """A camera-style JPEG: an APP2 MPF segment in the main image, the preview appended.

    `indexed`: the MPF segment lists both pictures with their lengths and offsets, as camera
    bodies write it; otherwise it is a stub and cull must find the preview by its markers.
    """
    if not indexed:
        payload = b"MPF\x00" + b"MM\x00*" + b"\x00\x00\x00\x08" + b"\x00\x00"
        app2 = b"\xff\xe2" + struct.pack(">H", len(payload) + 2) + payload
        return primary[:2] + app2 + primary[2:] + preview
    entry_table = 8 + 2 + 3 * 12 + 4  # TIFF header, IFD count, 3 entries, next-IFD offset
    app2_size = 2 + 2 + 4 + entry_table + 32
    tiff = b"MM\x00*" + struct.pack(">I", 8) + struct.pack(">H", 3)
    tiff += struct.pack(">HHI4s", 0xB000, 7, 4, b"0100")
    tiff += struct.pack(">HHII", 0xB001, 4, 1, 2)
    tiff += struct.pack(">HHII", 0xB002, 7, 32, entry_table)
    tiff += struct.pack(">I", 0)
    # Offsets count from the TIFF header, 10 bytes into the file (SOI, APP2 marker, length,
    # "MPF\0"); entry 0 is the photo itself, at offset 0.
    preview_at = len(primary) + app2_size - 10
    tiff += struct.pack(">IIIHH", 0x030000, len(primary) + app2_size, 0, 0, 0)
    tiff += struct.pack(">IIIHH", 0x010002, len(preview), preview_at, 0, 0)
    payload = b"MPF\x00" + tiff
    app2 = b"\xff\xe2" + struct.pack(">H", len(payload) + 2) + payload
    assert len(app2) == app2_size
    return primary[:2] + app2 + primary[2:] + preview
