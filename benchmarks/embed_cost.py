"""Per-face cost of reading the MediaPipe networks' features (`FaceLandmarker(embed=True)`).

A fusion over the transfer features (issue 14) needs both landmark interpreters built with
`experimental_preserve_all_tensors=True` (no arena reuse) and the pooled maps read after each
`invoke()`. This times `FaceLandmarker.measure` per face both ways on the same faces (CEW
face crops enlarged 4× as `train.evidence.cew_faces` cuts them, the detector's face box), so
the photo path's budget can be judged before any such fusion ships.

    python benchmarks/embed_cost.py [--data ../shared/data] [--faces 60] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

from eyespy_live.train.evidence import cew_faces
from eyespy_live.vision.faces import create_detector
from eyespy_live.vision.landmarks import FaceLandmarker


def time_measure(landmarker: FaceLandmarker, faces: list, repeats: int) -> list[float]:
    """Milliseconds per `measure` call, best of `repeats` for each face (less scheduler noise
    on shared cores)."""
    out = []
    for gray, face in faces:
        best = float("inf")
        for _ in range(repeats):
            t0 = time.perf_counter()
            landmarker.measure(gray, face)
            best = min(best, time.perf_counter() - t0)
        out.append(best * 1000)
    return out


def main() -> int:
    import cv2

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--faces", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    detector = create_detector("blazeface")
    faces = []
    for image, face, *_ in cew_faces(args.data, detector):
        if face is not None:
            faces.append((cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), face))
        if len(faces) >= args.faces:
            break
    plain, embed = FaceLandmarker(), FaceLandmarker(embed=True)
    assert embed.measure(*faces[0]).eyes[0].embedding is not None  # the features really are read
    for lm in (plain, embed):  # warm-up
        lm.measure(*faces[0])
    a = time_measure(plain, faces, args.repeats)
    b = time_measure(embed, faces, args.repeats)
    diff = np.array(b) - np.array(a)
    print(f"{len(faces)} faces, best of {args.repeats}: measure() median "
          f"{statistics.median(a):.2f} ms plain, {statistics.median(b):.2f} ms embed=True; "
          f"extra per face median {np.median(diff):.2f} ms (p90 {np.percentile(diff, 90):.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
