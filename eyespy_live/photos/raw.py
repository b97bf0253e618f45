"""The JPEG preview every camera RAW file carries, found without a RAW decoder.

Cameras embed a full- or near-full-size JPEG in each RAW so that the camera's screen can show
it; that preview is what a person sees when culling, and decoding it is a hundred times
cheaper than demosaicing the sensor data (rawpy/LibRaw would be a heavy native dependency on
a Raspberry Pi). Where the preview sits:

- TIFF-based RAWs (NEF, CR2, ARW, DNG, PEF, SRW, ORF, RW2, ...): in IFDs, by
  JPEGInterchangeFormat/Length, by a single JPEG-compressed strip, in SubIFDs or the EXIF IFD,
  or (RW2) in the JpgFromRaw tag. Orientation is IFD0's tag.
- RAF: its header gives the JPEG's offset and length.
- CR3 and anything else: a scan for JPEG start markers, keeping each candidate whose marker
  structure parses.

Every candidate is checked by parsing its markers (lossless-JPEG sensor data is rejected)
and the largest decodable one wins.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from eyespy_live.photos.jpeg import Buffer, JpegInfo, jpeg_info, tiff_orientation

RAW_SUFFIXES = frozenset(
    {".nef", ".nrw", ".cr2", ".cr3", ".crw", ".arw", ".srf", ".sr2", ".dng", ".raf", ".orf",
     ".rw2", ".rwl", ".pef", ".srw", ".3fr", ".erf", ".kdc", ".mos", ".mef", ".mrw", ".iiq"}
)  # fmt: skip

_TAG_COMPRESSION = 0x0103
_TAG_STRIP_OFFSETS = 0x0111
_TAG_STRIP_BYTES = 0x0117
_TAG_JPEG_OFFSET = 0x0201
_TAG_JPEG_LENGTH = 0x0202
_TAG_SUBIFDS = 0x014A
_TAG_EXIF_IFD = 0x8769
_TAG_RW2_JPEG = 0x002E
_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}
_MAX_SCAN_CANDIDATES = 4096
_MAX_SIDE = 20000
SMALL_PREVIEW = 1000  # a named preview smaller than this (long side) sends us scanning


@dataclass(frozen=True)
class RawPreview:
    jpeg: JpegInfo
    length: int  # bytes from jpeg.offset
    orientation: int  # from the container when it has one, else the preview's own EXIF
    container: str  # "tiff", "raf", "scan"


def embedded_previews(buf: Buffer) -> list[RawPreview]:
    """The decodable-looking JPEGs embedded in a RAW file, largest first (maybe none)."""
    container, spans, orientation = _structured_candidates(buf)
    found = _valid(buf, spans)
    if max((max(info.width, info.height) for info, _ in found), default=0) < SMALL_PREVIEW:
        # Nothing named, or only a thumbnail (some bodies keep the big preview in a maker
        # note, which is not parsed here): look at every JPEG in the file.
        scanned = _valid(buf, _scan_candidates(buf))
        if not found:
            container = "scan"
        known = {info.offset for info, _ in found}
        found += [item for item in scanned if item[0].offset not in known]
    found.sort(key=lambda item: (item[0].pixels, item[1]), reverse=True)
    return [
        RawPreview(info, length, orientation or info.orientation, container)
        for info, length in found
    ]


def _valid(buf: Buffer, spans: list[tuple[int, int | None]]) -> list[tuple[JpegInfo, int]]:
    good = []
    for offset, length in spans:
        if offset < 0 or offset >= len(buf):
            continue
        limit = offset + length if length else None
        info = jpeg_info(buf, offset, limit)
        if info is None or not info.decodable or info.end is None:
            continue
        if info.width > _MAX_SIDE or info.height > _MAX_SIDE:
            continue  # random sensor bytes that happened to look like markers
        good.append((info, info.end - offset))
    return good


def _structured_candidates(buf: Buffer) -> tuple[str, list[tuple[int, int | None]], int | None]:
    head = buf[:16]
    if head.startswith(b"FUJIFILMCCD-RAW"):
        offset, length = struct.unpack(">II", buf[84:92])
        return "raf", [(offset, length)], None
    if head[:2] in (b"II", b"MM") and len(buf) >= 8:
        endian = "<" if head[:2] == b"II" else ">"
        return "tiff", _tiff_candidates(buf, endian), tiff_orientation(buf[:65536]) or None
    if head[4:8] == b"ftyp":  # ISO media (CR3): its CMT1 box is a TIFF IFD0
        cmt = buf.find(b"CMT1", 0, 1 << 20)
        orientation = tiff_orientation(buf[cmt + 4 : cmt + 4 + 65536]) if cmt >= 0 else None
        return "bmff", [], orientation
    return "unknown", [], None


def _tiff_candidates(buf: Buffer, endian: str) -> list[tuple[int, int | None]]:
    """JPEG spans named by the IFDs of a TIFF-based RAW (any TIFF magic number)."""
    spans: list[tuple[int, int | None]] = []
    (first,) = struct.unpack(endian + "I", buf[4:8])
    pending, seen = [first], set()
    while pending and len(seen) < 64:
        ifd = pending.pop()
        if ifd in seen or not 8 <= ifd < len(buf) - 2:
            continue
        seen.add(ifd)
        entries = _read_ifd(buf, ifd, endian)
        if entries is None:
            continue
        tags, next_ifd = entries
        pending.append(next_ifd)
        pending.extend(tags.get(_TAG_SUBIFDS, ()))
        pending.extend(tags.get(_TAG_EXIF_IFD, ()))
        if _TAG_JPEG_OFFSET in tags:
            length = tags.get(_TAG_JPEG_LENGTH, (None,))[0]
            spans.append((tags[_TAG_JPEG_OFFSET][0], length))
        compression = tags.get(_TAG_COMPRESSION, (0,))[0]
        strips = tags.get(_TAG_STRIP_OFFSETS, ())
        if compression in (6, 7) and len(strips) == 1:
            spans.append((strips[0], tags.get(_TAG_STRIP_BYTES, (None,))[0]))
        if _TAG_RW2_JPEG in tags:
            spans.append(tags[_TAG_RW2_JPEG])
    return spans


def _read_ifd(buf: Buffer, ifd: int, endian: str) -> tuple[dict[int, tuple], int] | None:
    """Integer-valued tags of one IFD (RW2's JpgFromRaw as (offset, length)), and the next IFD."""
    try:
        (count,) = struct.unpack(endian + "H", buf[ifd : ifd + 2])
        if count > 1000:
            return None
        table = buf[ifd + 2 : ifd + 2 + 12 * count + 4]
        tags: dict[int, tuple] = {}
        for i in range(count):
            tag, kind, n = struct.unpack(endian + "HHI", table[12 * i : 12 * i + 8])
            raw_value = table[12 * i + 8 : 12 * i + 12]
            size = _TYPE_SIZES.get(kind, 0) * n
            if tag == _TAG_RW2_JPEG:
                (where,) = struct.unpack(endian + "I", raw_value)
                tags[tag] = (where if size > 4 else ifd + 2 + 12 * i + 8, n)
                continue
            if kind not in (3, 4, 13) or n == 0 or n > 64:
                continue
            if size <= 4:
                data = raw_value[:size]
            else:
                (where,) = struct.unpack(endian + "I", raw_value)
                data = buf[where : where + size]
            fmt = endian + ("H" if kind == 3 else "I") * n
            tags[tag] = struct.unpack(fmt, data)
        (next_ifd,) = struct.unpack(endian + "I", table[12 * count : 12 * count + 4])
        return tags, next_ifd
    except struct.error:
        return None


def _scan_candidates(buf: Buffer) -> list[tuple[int, int | None]]:
    spans: list[tuple[int, int | None]] = []
    pos = buf.find(b"\xff\xd8\xff")
    while pos >= 0 and len(spans) < _MAX_SCAN_CANDIDATES:
        spans.append((pos, None))
        pos = buf.find(b"\xff\xd8\xff", pos + 3)
    return spans
