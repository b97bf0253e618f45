"""OpenCV's Haar frontal-face cascade: always installed, slow and less accurate.

It is the baseline the benchmarks compare against. It gives no eye points, so the eye
centres are placed where they sit in a typical Haar face box.
"""

from __future__ import annotations

import cv2
import numpy as np

from eyespy_live.vision.faces import DetectorUnavailable, Face, FaceDetector

# Where the eyes sit inside a Haar frontal-face box, as fractions of its width and height,
# measured on CEW faces and the dryeye portrait pair.
EYE_X = (0.31, 0.69)
EYE_Y = 0.40


class HaarDetector(FaceDetector):
    name = "haar"
    description = "OpenCV Haar frontal-face cascade (baseline; ships inside opencv-python 4.x)"

    def __init__(self, scale_factor: float = 1.1, min_neighbors: int = 5, min_size: int = 30):
        cascades = getattr(getattr(cv2, "data", None), "haarcascades", None)
        if not cascades or not hasattr(cv2, "CascadeClassifier"):
            raise DetectorUnavailable("this OpenCV has no Haar cascades (needs opencv-python<5)")
        self._cascade = cv2.CascadeClassifier(cascades + "haarcascade_frontalface_default.xml")
        if self._cascade.empty():
            raise DetectorUnavailable("OpenCV's Haar face cascade could not be loaded")
        self.scale_factor = scale_factor
        self.min_neighbors = min_neighbors
        self.min_size = min_size

    def detect(self, image: np.ndarray) -> list[Face]:
        gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        found = self._cascade.detectMultiScale3(
            gray,
            scaleFactor=self.scale_factor,
            minNeighbors=self.min_neighbors,
            minSize=(self.min_size, self.min_size),
            outputRejectLevels=True,
        )
        boxes, _, weights = found
        faces = []
        for (x, y, w, h), weight in zip(boxes, np.ravel(weights), strict=False):
            eyes = ((x + EYE_X[0] * w, y + EYE_Y * h), (x + EYE_X[1] * w, y + EYE_Y * h))
            score = float(1.0 / (1.0 + np.exp(-float(weight))))
            faces.append(Face(box=(int(x), int(y), int(w), int(h)), score=score, eyes=eyes))
        return faces
