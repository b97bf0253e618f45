"""Motion smear on a live face: a frame in which a fast nod or shake has smeared the face.

The eye CNN reads a smeared open eye as shut (a sharp lash line becomes a dark band), so a
burst of two such frames looks like a blink. A smear along one direction takes the face's
image gradients across it away — a face's gradient energy across x or y falls to under
half of what the same face shows on its other frames — while a blink changes only the eye
region, a small part of the face. Frames so smeared are "can't tell" for the blink
machine, never "closed".
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import cv2
import numpy as np

from eyespy_live.vision.faces import Face

REASON_SMEARED = "motion smear"  # the can't-tell reason of a smeared frame's eyes
SIDE_PX = 128  # the face is compared at this size, so its distance from the camera does not matter
HISTORY = 30  # frames of each face's own energies kept for its baseline (1 s at 30 fps)
MIN_HISTORY = 8  # frames needed before a face is judged at all
# Energy along x or y under this share of the face's median: smeared.
SMEAR_RATIO = 0.5
# Judged smeared this many frames of one kind in a row, a face is taken to have changed
# rather than to be moving (a nod or a shake smears two or three frames at 30 fps).
MAX_SMEARED_RUN = 4
EYE_RADIUS = 0.4  # each eye is left out within this many inter-eye distances of its centre


def gradient_energy(gray: np.ndarray, face: Face) -> tuple[float, float] | None:
    """Mean squared Sobel gradient across x and across y over the face box at SIDE_PX, the
    eyes left out: a closing lid trades an iris's upright edges for a lash line's level
    one, which on a face of little texture would itself look like a smear across."""
    x, y, w, h = face.box
    height, width = gray.shape[:2]
    x0, y0, x1, y1 = max(0, x), max(0, y), min(width, x + w), min(height, y + h)
    if x1 - x0 < 16 or y1 - y0 < 16:
        return None
    # Linear rather than area resampling: a third of the time, and the same face is
    # compared with itself, so the aliasing it lets in is the same on every frame.
    crop = cv2.resize(gray[y0:y1, x0:x1], (SIDE_PX, SIDE_PX), interpolation=cv2.INTER_LINEAR)
    gx = cv2.Sobel(crop, cv2.CV_16S, 1, 0)
    gy = cv2.Sobel(crop, cv2.CV_16S, 0, 1)
    sx, sy = SIDE_PX / (x1 - x0), SIDE_PX / (y1 - y0)
    left_out = 0
    for ex, ey in face.eyes:  # a square around each eye (they do not overlap: 0.8 < 1 apart)
        r = EYE_RADIUS * face.inter_eye_distance
        c0, c1 = (min(SIDE_PX, max(0, round((v - x0) * sx))) for v in (ex - r, ex + r))
        r0, r1 = (min(SIDE_PX, max(0, round((v - y0) * sy))) for v in (ey - r, ey + r))
        gx[r0:r1, c0:c1] = 0
        gy[r0:r1, c0:c1] = 0
        left_out += (r1 - r0) * (c1 - c0)
    pixels = float(SIDE_PX * SIDE_PX - left_out)
    if pixels < SIDE_PX * SIDE_PX / 4:
        return None
    return cv2.norm(gx, cv2.NORM_L2SQR) / pixels, cv2.norm(gy, cv2.NORM_L2SQR) / pixels


@dataclass
class _Baseline:
    energies: deque = field(default_factory=lambda: deque(maxlen=HISTORY))
    smeared_run: int = 0  # frames in a row judged smeared


@dataclass
class SmearWatch:
    """Each live face's recent gradient energies, and whether this frame is smeared."""

    ratio: float = SMEAR_RATIO
    _faces: dict[tuple[int, bool], _Baseline] = field(default_factory=dict)

    def smeared(self, track_id: int, energy: tuple[float, float] | None,
                detected: bool = False) -> bool:
        """`detected`: the box is this frame's detection, not the follower's. The two sit
        differently on the same face (the energy over a box follows where it sits), so
        each is compared with its own kind."""
        if energy is None:
            return False
        face = self._faces.setdefault((track_id, detected), _Baseline())
        judged = False
        if len(face.energies) >= MIN_HISTORY:
            middle = len(face.energies) // 2
            base = [sorted(e[axis] for e in face.energies)[middle] for axis in (0, 1)]
            judged = min(energy[0] / max(base[0], 1e-6),
                         energy[1] / max(base[1], 1e-6)) < self.ratio
        face.smeared_run = face.smeared_run + 1 if judged else 0
        if face.smeared_run > MAX_SMEARED_RUN:
            # No fast movement lasts this long: the face itself looks different now (the
            # light changed, the camera refocused, the tracker moved to another face).
            # Its baseline starts again from here.
            face.energies.clear()
            face.smeared_run, judged = 0, False
        face.energies.append(energy)
        return judged

    def forget(self, track_id: int) -> None:
        for detected in (False, True):
            self._faces.pop((track_id, detected), None)
