"""A deterministic corpus of broken image files, written at test time (never committed).

Each file is what a card reader, a crashed tether program or a hostile folder might leave:
zero bytes, truncated JPEG/PNG, random bytes, flipped bits, headers that declare enormous
dimensions, EXIF blocks built to loop or overflow, and a few valid images as controls.
"""

from __future__ import annotations

import random
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np

# category → how many files (1,000 in all)
PLAN = {
    "zero bytes": 20,
    "truncated jpeg": 200,
    "truncated png": 150,
    "random bytes": 150,
    "flipped bits": 200,
    "huge dimensions": 100,
    "exif bomb": 100,
    "valid": 80,
}


def _base_images(rng: random.Random) -> tuple[bytes, bytes]:
    noise = np.random.default_rng(rng.randrange(2**32)).integers(0, 255, (48, 64, 3), np.uint8)
    image = cv2.GaussianBlur(noise, (5, 5), 0)
    return cv2.imencode(".jpg", image)[1].tobytes(), cv2.imencode(".png", image)[1].tobytes()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _huge_png(width: int, height: int) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(bytes(64)))
        + _png_chunk(b"IEND", b"")
    )


def _with_size(jpeg: bytes, width: int, height: int) -> bytes:
    data = bytearray(jpeg)
    sof = data.find(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def _huge_bmp(width: int, height: int) -> bytes:
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, 0, 2835, 2835, 0, 0)
    return b"BM" + struct.pack("<IHHI", 14 + 40 + 16, 0, 0, 54) + info + bytes(16)


def _exif_bomb(jpeg: bytes, rng: random.Random) -> bytes:
    """A valid small JPEG with an APP1 EXIF block built to trip up a naive parser."""
    endian = rng.choice(["<", ">"])
    tiff_head = (b"II" if endian == "<" else b"MM") + struct.pack(endian + "HI", 42, 8)

    def entry(tag: int, kind: int, count: int, value: int) -> bytes:
        return struct.pack(endian + "HHII", tag, kind, count, value)

    variant = rng.randrange(6)
    if variant == 0:  # an entry count far beyond the data
        ifd = struct.pack(endian + "H", 65535) + entry(0x0112, 3, 1, 6)
    elif variant == 1:  # the next-IFD pointer points back at itself: an endless chain
        ifd = struct.pack(endian + "H", 1) + entry(0x0112, 3, 1, 6) + struct.pack(endian + "I", 8)
    elif variant == 2:  # an EXIF sub-IFD pointer that points back at IFD0
        ifd = struct.pack(endian + "H", 1) + entry(0x8769, 4, 1, 8) + struct.pack(endian + "I", 0)
    elif variant == 3:  # a value count that would need 16 GB
        ifd = (
            struct.pack(endian + "H", 1)
            + entry(0x010E, 2, 0xFFFFFFFF, 26)
            + struct.pack(endian + "I", 0)
        )
    elif variant == 4:  # orientation with a wrong type and an absurd value
        ifd = (
            struct.pack(endian + "H", 1)
            + entry(0x0112, rng.choice([1, 2, 5, 7, 12]), 1, rng.randrange(2**32))
            + struct.pack(endian + "I", rng.randrange(2**32))
        )
    else:  # random bytes where the IFD should be
        ifd = rng.randbytes(rng.randrange(0, 200))
    payload = b"Exif\x00\x00" + tiff_head + ifd
    segment = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    repeats = rng.choice([1, 1, 1, 50])  # sometimes many EXIF blocks in a row
    return jpeg[:2] + segment * repeats + jpeg[2:]


def make_corpus(folder: Path, seed: int = 20261123) -> dict[str, list[Path]]:
    """Write the corpus into `folder`; returns the files of each category."""
    rng = random.Random(seed)
    jpeg, png = _base_images(rng)
    corpus: dict[str, list[Path]] = {category: [] for category in PLAN}

    def write(category: str, suffix: str, data: bytes) -> None:
        path = folder / f"{category.replace(' ', '_')}_{len(corpus[category]):03d}{suffix}"
        path.write_bytes(data)
        corpus[category].append(path)

    for _ in range(PLAN["zero bytes"]):
        write("zero bytes", rng.choice([".jpg", ".png", ".tif", ".JPG"]), b"")
    for _ in range(PLAN["truncated jpeg"]):
        write("truncated jpeg", ".jpg", jpeg[: rng.randrange(1, len(jpeg) - 2)])
    for _ in range(PLAN["truncated png"]):
        write("truncated png", ".png", png[: rng.randrange(1, len(png) - 12)])
    for _ in range(PLAN["random bytes"]):
        head = rng.choice([b"", b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"BM", b"II*\x00"])
        write("random bytes", rng.choice([".jpg", ".png", ".bmp", ".tif", ".webp"]),
              head + rng.randbytes(rng.randrange(1, 5000)))  # fmt: skip
    for _ in range(PLAN["flipped bits"]):
        original, suffix = rng.choice([(jpeg, ".jpg"), (png, ".png")])
        data = bytearray(original)
        for _ in range(rng.randrange(1, 20)):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        write("flipped bits", suffix, bytes(data))
    for _ in range(PLAN["huge dimensions"]):
        kind = rng.randrange(3)
        if kind == 0:
            side = (rng.randrange(20000, 2**31 - 1), rng.randrange(20000, 2**31 - 1))
            write("huge dimensions", ".png", _huge_png(*side))
        elif kind == 1:
            side = (rng.randrange(20000, 65536), rng.randrange(20000, 65536))
            write("huge dimensions", ".jpg", _with_size(jpeg, *side))
        else:
            side = (rng.randrange(20000, 2**31 - 1), rng.randrange(20000, 2**31 - 1))
            write("huge dimensions", ".bmp", _huge_bmp(*side))
    for _ in range(PLAN["exif bomb"]):
        write("exif bomb", ".jpg", _exif_bomb(jpeg, rng))
    for _ in range(PLAN["valid"]):
        write("valid", rng.choice([".jpg", ".png"]), rng.choice([jpeg, png]))
    return corpus
