"""Cutting the eye patch the eye-state model sees.

One function is used by the live pipeline, cull and the training code, so the model is
trained on exactly what it is shown at run time. The patch is square, centred on the eye,
rotated so the eye line is level, `EYE_CROP_SCALE` × the inter-eye distance wide (the
proportion of the CEW eye patches: 24 px from faces with ~37 px between the eyes), and
resized to `PATCH_SIZE` grayscale pixels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from eyespy_live.vision.faces import Face, Point

PATCH_SIZE = 24
EYE_CROP_SCALE = 0.65
# Below this inter-eye distance (frame pixels) an eye patch holds too little detail to judge.
MIN_INTER_EYE_PX = 14.0
# Mean patch brightness below this is too dark to judge.
MIN_MEAN_BRIGHTNESS = 18.0
REASON_TOO_SMALL = "face too small to judge"


@dataclass(frozen=True)
class EyePatches:
    patches: tuple[np.ndarray, np.ndarray]  # (image-left eye, image-right eye), uint8 24×24
    unreadable: str | None  # why these patches can't be judged, or None when fine


def standard_channels(image: np.ndarray) -> np.ndarray:
    """Grayscale as 2-D, colour as 3-channel BGR: the two layouts the detectors take."""
    if image.ndim == 3 and image.shape[2] == 1:
        return image[:, :, 0]
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return image


def to_gray(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return image
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def crop_eye(gray: np.ndarray, centre: Point, width: float, angle_rad: float = 0.0) -> np.ndarray:
    """A PATCH_SIZE² patch of `gray` centred on `centre`, `width` pixels wide, levelled."""
    width = max(float(width), 2.0)
    zoom = PATCH_SIZE / width
    cx, cy = centre
    if zoom < 0.5:
        # Shrink the neighbourhood with area averaging first: warpAffine alone would alias.
        half = int(math.ceil(width * 0.75))
        x0, y0 = int(round(cx)) - half, int(round(cy)) - half
        region = _padded_region(gray, x0, y0, 2 * half, 2 * half)
        small = int(round(2 * half * zoom * 2)) or 1
        region = cv2.resize(region, (small, small), interpolation=cv2.INTER_AREA)
        factor = small / (2 * half)
        cx, cy, gray, zoom = (cx - x0) * factor, (cy - y0) * factor, region, zoom / factor
    rotation = cv2.getRotationMatrix2D((cx, cy), math.degrees(angle_rad), zoom)
    rotation[0, 2] += PATCH_SIZE / 2.0 - cx
    rotation[1, 2] += PATCH_SIZE / 2.0 - cy
    return cv2.warpAffine(
        gray,
        rotation,
        (PATCH_SIZE, PATCH_SIZE),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )


def _padded_region(gray: np.ndarray, x0: int, y0: int, w: int, h: int) -> np.ndarray:
    height, width = gray.shape[:2]
    top, left = max(0, -y0), max(0, -x0)
    bottom, right = max(0, y0 + h - height), max(0, x0 + w - width)
    inner = gray[max(0, y0) : min(height, y0 + h), max(0, x0) : min(width, x0 + w)]
    if inner.size == 0:
        return np.zeros((h, w), np.uint8)
    if top or left or bottom or right:
        inner = cv2.copyMakeBorder(inner, top, bottom, left, right, cv2.BORDER_REPLICATE)
    return inner


def eye_patches(gray: np.ndarray, face: Face) -> EyePatches:
    """Both eye patches of one face, plus a reason when they cannot be judged."""
    (lx, ly), (rx, ry) = face.eyes
    distance = face.inter_eye_distance
    angle = math.atan2(ry - ly, rx - lx)
    width = EYE_CROP_SCALE * max(distance, 1.0)
    patches = (crop_eye(gray, (lx, ly), width, angle), crop_eye(gray, (rx, ry), width, angle))
    return EyePatches(patches, _unreadable_reason(gray, face, patches))


def _unreadable_reason(gray: np.ndarray, face: Face, patches: tuple[np.ndarray, ...]) -> str | None:
    if face.inter_eye_distance < MIN_INTER_EYE_PX:
        return REASON_TOO_SMALL
    height, width = gray.shape[:2]
    half = EYE_CROP_SCALE * face.inter_eye_distance / 2.0
    for x, y in face.eyes:
        if x - half < 0 or y - half < 0 or x + half > width or y + half > height:
            return "eye outside the frame"
    if max(float(p.mean()) for p in patches) < MIN_MEAN_BRIGHTNESS:
        return "too dark"
    # Eyes much closer together than the face is wide: the head is turned well away.
    if face.inter_eye_distance < 0.25 * face.box[2]:
        return "face turned away"
    return None
