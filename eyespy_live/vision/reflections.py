"""Reflections on glasses painted out, so the eye behind them can be read again.

A studio light mirrored in a lens puts near-white over the iris and lids, which the CNN reads
as a closed lid; the judge then says "can't tell: reflection on glasses". Filling the
near-white pixels over each eye from their surroundings (OpenCV's Telea inpainting) leaves
what the lens did not hide: where that reads clearly open, the eye is open.
"""

from __future__ import annotations

from collections.abc import Iterable

import cv2
import numpy as np

from eyespy_live.vision.landmarks import EyeGeometry

# Near-white, a little below the glare test's 240 so the glow around a reflection goes too.
REFLECTION_GRAY = 230
# Around each eye: a lens reaches about this far (eye widths from the eye's middle).
LENS_HALF_WIDTH = 0.75
LENS_HALF_HEIGHT = 0.5
# The mask grows by this share of the eye width (at least a pixel) to take the soft edge.
EDGE_GROWTH = 0.06
INPAINT_RADIUS = 3


def without_reflections(gray: np.ndarray, eyes: Iterable[EyeGeometry]) -> np.ndarray:
    """A copy of `gray` with the near-white pixels over each eye painted out."""
    out = gray.copy()
    height, width = gray.shape[:2]
    for eye in eyes:
        (cx, cy), w = eye.centre, eye.width
        dx, dy = LENS_HALF_WIDTH * w, LENS_HALF_HEIGHT * w
        x0, x1 = max(0, int(cx - dx)), min(width, int(cx + dx) + 1)
        y0, y1 = max(0, int(cy - dy)), min(height, int(cy + dy) + 1)
        if x1 - x0 < 3 or y1 - y0 < 3:
            continue
        region = out[y0:y1, x0:x1]
        mask = (region >= REFLECTION_GRAY).astype(np.uint8) * 255
        if not mask.any():
            continue
        grow = max(1, round(EDGE_GROWTH * w))
        mask = cv2.dilate(mask, np.ones((2 * grow + 1, 2 * grow + 1), np.uint8))
        out[y0:y1, x0:x1] = cv2.inpaint(np.ascontiguousarray(region), mask, INPAINT_RADIUS,
                                         cv2.INPAINT_TELEA)
    return out
