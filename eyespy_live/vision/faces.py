"""What a face detector returns, and how a detector plugin is found by name.

Every detector gives the same `Face`: a box in frame pixels and the two eye centres, so the
rest of the pipeline never cares which detector ran. Eye points are ordered by image side:
`eyes[0]` is the eye on the image's left (the subject's right eye).
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from eyespy_live.plugins import discover

log = logging.getLogger(__name__)

Point = tuple[float, float]


@dataclass(frozen=True)
class Face:
    box: tuple[int, int, int, int]  # x, y, width, height in frame pixels
    score: float
    eyes: tuple[Point, Point]  # (image-left eye, image-right eye) centres in frame pixels
    # Found only by a still photo's second look (BlazeFace's close-face retry): a less
    # certain detection, so its eyes need stronger evidence before "closed".
    second_look: bool = False

    @property
    def inter_eye_distance(self) -> float:
        (x0, y0), (x1, y1) = self.eyes
        return float(np.hypot(x1 - x0, y1 - y0))

    @property
    def center(self) -> Point:
        x, y, w, h = self.box
        return (x + w / 2.0, y + h / 2.0)


class FaceDetector(ABC):
    """Base class of detector plugins; subclasses set `name` and implement `detect`."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""

    @abstractmethod
    def detect(self, image: np.ndarray) -> list[Face]:
        """Find faces in a BGR or grayscale uint8 image."""

    def detect_photo(self, image: np.ndarray, thorough: bool = False) -> list[Face]:
        """Find every face in a still photo, small ones too; may be slower than `detect`.

        `thorough` asks for the slowest, most complete search on every photo, even where a
        first look suggests it is not needed.
        """
        return self.detect(image)

    def follow(self, image: np.ndarray, face: Face) -> Face | None:
        """The same face in the next video frame, looked for only near where it was.

        Between full detections a moving head must not leave its eye crops behind (a crop on
        a cheek reads "closed" for a frame or two: a false blink). Detectors that can look in
        a small region cheaply override this; the default keeps the last position.
        """
        return face


class DetectorUnavailable(RuntimeError):
    """The detector's weights or library are not installed."""


# One line per plugin module in eyespy_live/vision/detectors/. A module whose import fails
# (a missing optional package) is logged and skipped, so the others keep working.
_PLUGIN_MODULES: Sequence[str] = ("blazeface", "haar")


def available_detectors() -> dict[str, type[FaceDetector]]:
    return discover("eyespy_live.vision.detectors", _PLUGIN_MODULES, FaceDetector, "name")


def create_detector(name: str, **options: object) -> FaceDetector:
    detectors = available_detectors()
    if name not in detectors:
        raise DetectorUnavailable(
            f"unknown face detector {name!r}; available: {', '.join(sorted(detectors))}"
        )
    return detectors[name](**options)


def face_in_frame(face: Face, frame_shape: tuple[int, ...], margin: float = 0.0) -> bool:
    """True when both eyes lie inside the frame (with `margin` × inter-eye distance spare)."""
    height, width = frame_shape[:2]
    pad = margin * face.inter_eye_distance
    return all(pad <= x < width - pad and pad <= y < height - pad for x, y in face.eyes)


def box_iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Intersection over union of two (x, y, width, height) boxes: how benchmarks match a
    detected face to a labelled one (0 for disjoint or empty boxes)."""
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    ix = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    iy = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    inter = ix * iy
    union = aw * ah + bw * bh - inter
    return float(inter / union) if union > 0 else 0.0
