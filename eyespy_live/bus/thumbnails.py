"""Face thumbnails that travel with a `shot` event, so a subscriber can show *who* blinked.

A shot event's boxes are in full-photo pixels, but a subscriber never sees the photo. The
publisher therefore attaches one small JPEG: a strip of square tiles, one per face that is
not clearly open, in the order of `body["thumbnails"]["ids"]`. Cropping at the publisher
keeps small faces at the back of a group legible, where a downscaled whole photo would not.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import cv2
import numpy as np

TILE = 128  # pixels per square tile
MAX_TILES = 8  # a group photo with many closed eyes still costs at most ~40 KB
MARGIN = 0.25  # context around the face box, as a fraction of its larger side


def crop_tile(image: np.ndarray, box: Iterable[float], tile: int = TILE) -> np.ndarray:
    """A `tile`×`tile` BGR crop around `box` (x, y, w, h in `image` pixels), padded at edges."""
    x, y, w, h = (float(v) for v in box)
    side = max(w, h) * (1 + 2 * MARGIN)
    cx, cy = x + w / 2, y + h / 2
    x0, y0 = int(round(cx - side / 2)), int(round(cy - side / 2))
    s = max(1, int(round(side)))
    height, width = image.shape[:2]
    canvas = np.zeros((s, s, 3), np.uint8)
    sx0, sy0 = max(0, x0), max(0, y0)
    sx1, sy1 = min(width, x0 + s), min(height, y0 + s)
    if sx1 > sx0 and sy1 > sy0:
        patch = image[sy0:sy1, sx0:sx1]
        if patch.ndim == 2:
            patch = cv2.cvtColor(patch, cv2.COLOR_GRAY2BGR)
        canvas[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = patch[..., :3]
    interpolation = cv2.INTER_AREA if s > tile else cv2.INTER_LINEAR
    return cv2.resize(canvas, (tile, tile), interpolation=interpolation)


def face_strip(
    image: np.ndarray,
    faces: list[Mapping[str, Any]],
    full_size: tuple[int, int],
    *,
    tile: int = TILE,
    limit: int = MAX_TILES,
) -> tuple[bytes, dict[str, Any]] | None:
    """JPEG strip of the faces whose state is not "open", and the body entry describing it.

    `faces` are `FaceReport.to_json()` dicts with boxes in `full_size` (width, height) pixels;
    `image` may be a reduced decode of that photo. None when no face needs a thumbnail.
    """
    chosen = [f for f in faces if f.get("state") != "open"][:limit]
    if not chosen or image is None or image.size == 0:
        return None
    scale_x = image.shape[1] / max(1, full_size[0])
    scale_y = image.shape[0] / max(1, full_size[1])
    tiles = []
    for face in chosen:
        x, y, w, h = face["box"]
        tiles.append(crop_tile(image, (x * scale_x, y * scale_y, w * scale_x, h * scale_y), tile))
    ok, data = cv2.imencode(".jpg", np.hstack(tiles), [cv2.IMWRITE_JPEG_QUALITY, 80])
    if not ok:
        return None
    return data.tobytes(), {"ids": [int(f["id"]) for f in chosen], "tile": tile}


def split_strip(jpeg: bytes | None, info: Mapping[str, Any] | None) -> dict[int, np.ndarray]:
    """Face id → tile image, from a shot event's attachment; empty when absent or unreadable."""
    if not jpeg or not info:
        return {}
    strip = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    tile = int(info.get("tile", TILE))
    ids = list(info.get("ids", []))
    if strip is None or strip.shape[0] != tile or strip.shape[1] < tile * len(ids):
        return {}
    return {int(face_id): strip[:, i * tile : (i + 1) * tile] for i, face_id in enumerate(ids)}
