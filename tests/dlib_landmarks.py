"""The 43 faces of the dlib group photos with dlib's 68-point landmarks, for tests and
benchmarks/detectors.py: the box and the centre of each eye (iBUG 68: points 36–41 are the
eye on the image's left, 42–47 the other one)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import numpy as np

Box = tuple[int, int, int, int]


def labelled_faces(folder: Path) -> Iterator[tuple[Path, list[tuple[Box, tuple[np.ndarray, ...]]]]]:
    """(photo, [(x, y, w, h box, (left eye centre, right eye centre)), ...]) per photo."""
    for xml in ("training_with_face_landmarks.xml", "testing_with_face_landmarks.xml"):
        for image in ET.parse(folder / xml).getroot().iter("image"):
            boxes = []
            for box in image.iter("box"):
                parts = {int(p.get("name")): (int(p.get("x")), int(p.get("y"))) for p in box}
                eyes = (
                    np.mean([parts[i] for i in range(36, 42)], axis=0),
                    np.mean([parts[i] for i in range(42, 48)], axis=0),
                )
                xywh = tuple(int(box.get(k)) for k in ("left", "top", "width", "height"))
                boxes.append((xywh, eyes))
            yield folder / image.get("file"), boxes
