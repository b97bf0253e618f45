"""Which face detector should be the default? Speed at 640×480 and recall on real photos.

For each registered detector, in one run:
- ms per 640×480 frame (a real webcam frame from ../shared/data), one thread;
- recall / precision on the 43 landmarked faces of the dlib group photos (IoU ≥ 0.4);
- eye-point error: distance from the detector's eye point to the mean of the 6 landmark
  points of that eye, as a fraction of the inter-eye distance (what the eye crop relies on);
- how many of the face_recognition portraits yield at least one face.
Times are relative to the Haar baseline measured in the same run.

    python benchmarks/detectors.py [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from eyespy_live.vision.faces import box_iou, create_detector

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))
from dlib_landmarks import labelled_faces  # noqa: E402 - shared with the test suite

DETECTORS = {
    "haar (baseline)": ("haar", {}),
    "blazeface full": ("blazeface", {"variant": "full"}),
    "blazeface short": ("blazeface", {"variant": "short", "min_score": 0.75}),
}



def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=Path(__file__).parents[2] / "shared" / "data")
    parser.add_argument("--frames", type=int, default=60)
    args = parser.parse_args()
    capture = cv2.VideoCapture(str(args.data / "video/focus_webcam/mahie_test_1.avi"))
    frames = [capture.read()[1] for _ in range(args.frames)]
    groups = list(labelled_faces(args.data / "photos/dlib_groups"))
    portraits = sorted((args.data / "photos/face_recognition_open/examples").glob("*.*"))
    portraits += sorted((args.data / "photos/face_recognition_open/tests/test_images").glob("*.*"))
    portraits = [p for p in portraits if cv2.imread(str(p)) is not None]

    rows = []
    for label, (name, options) in DETECTORS.items():
        detector = create_detector(name, **options)
        detector.detect(frames[0])
        start = time.perf_counter()
        for frame in frames:
            detector.detect(frame)
        ms = (time.perf_counter() - start) / len(frames) * 1000
        hits = total = found = 0
        eye_errors = []
        for path, truth in groups:
            faces = detector.detect(cv2.imread(str(path)))
            found += len(faces)
            total += len(truth)
            for box, eyes in truth:
                best = max(faces, key=lambda f, b=box: box_iou(f.box, b), default=None)
                if best is not None and box_iou(best.box, box) >= 0.4:
                    hits += 1
                    ied = np.linalg.norm(eyes[1] - eyes[0])
                    err = max(np.linalg.norm(np.subtract(best.eyes[k], eyes[k])) for k in (0, 1))
                    eye_errors.append(err / ied)
        with_face = sum(bool(detector.detect(cv2.imread(str(p)))) for p in portraits)
        rows.append(
            (
                label,
                ms,
                hits / total,
                hits / max(found, 1),
                np.median(eye_errors),
                with_face,
                len(portraits),
            )
        )

    base = rows[0][1]
    print(
        f"{'detector':18} {'ms/frame':>9} {'vs haar':>8} {'recall':>7} {'precision':>9} "
        f"{'eye err':>8} {'portraits w/ face':>18}"
    )
    for label, ms, recall, precision, eye_err, with_face, n in rows:
        print(
            f"{label:18} {ms:9.1f} {base / ms:7.1f}x {recall:7.1%} {precision:9.1%} "
            f"{eye_err:8.2f} {with_face:>10}/{n}"
        )


if __name__ == "__main__":
    main()
