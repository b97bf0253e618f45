"""Sunglasses as they photograph, put on real open faces: does the face state say "can't tell"?

A lens passes a fraction of the light from the eye behind it and reflects the room, often as a
bright streak. This puts such lenses on open CEW faces (the eye seen through at 8-35 %, a
highlight of 0-90 % across it, lenses 1-1.4 eye widths; one random draw per face, fixed seed)
and counts which the geometry calls sunglasses, beside how many real CEW faces it flags:

    python -m eyespy_live.train.lenses --data ../shared/data
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from eyespy_live.decision.facestate import REASON_SUNGLASSES, StateLimits, geometry_reason
from eyespy_live.decision.judge import EyeJudge
from eyespy_live.train.portraits import cew_portrait
from eyespy_live.vision.eyecrop import to_gray
from eyespy_live.vision.eyestate import EyeStateModel
from eyespy_live.vision.faces import create_detector


def put_on_lenses(image: np.ndarray, eyes, transmission: float, highlight: float,
                  size: float) -> np.ndarray:
    """`image` with a tinted lens over each eye (`eyes`: the landmarker's EyeGeometry)."""
    mask = np.zeros(image.shape[:2], np.float32)
    glint = np.zeros(image.shape[:2], np.float32)
    for eye in eyes:
        (cx, cy), w = eye.centre, eye.width
        axes = (int(0.85 * w * size), int(0.62 * w * size))
        cv2.ellipse(mask, (int(cx), int(cy + 0.1 * w)), axes, 0, 0, 360, 1.0, -1, cv2.LINE_AA)
        start, end = (int(cx - 0.5 * w), int(cy - 0.2 * w)), (int(cx + 0.1 * w), int(cy + 0.3 * w))
        cv2.line(glint, start, end, 1.0, max(1, int(0.12 * w)), cv2.LINE_AA)
    blur = max(1.0, 0.05 * float(np.mean([eye.width for eye in eyes])))
    glint = cv2.GaussianBlur(glint, (0, 0), blur) * mask
    m = mask[:, :, None] if image.ndim == 3 else mask
    g = glint[:, :, None] if image.ndim == 3 else glint
    out = image * (1 - m) + image * transmission * m + highlight * 255 * g
    return np.clip(out, 0, 255).astype(np.uint8)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--share", type=float, default=0.3, help="open faces given lenses")
    args = parser.parse_args(argv)
    detector = create_detector("blazeface")
    judge = EyeJudge.default(EyeStateModel())
    assert judge.landmarker is not None
    rng = random.Random(0)

    # The texture test alone (the reflection test off), for comparison in the same run.
    texture_only = StateLimits(lens_surround_luma=0.0)

    def reasons(image: np.ndarray) -> tuple[str | None, str | None]:
        faces = detector.detect_photo(image)
        if not faces:
            return "no face", "no face"
        face = max(faces, key=lambda f: f.box[2])
        geometry = judge.landmarker.measure(to_gray(image), face)
        return geometry_reason(geometry), geometry_reason(geometry, texture_only)

    real = flagged = lensed = caught = caught_before = 0
    by_highlight: dict[float, list[int]] = {}
    faces_dir = args.data / "cew" / "faces"
    paths = sorted(faces_dir.glob("OpenFace/*.jpg")) + sorted(faces_dir.glob("ClosedFace/*.jpg"))
    for path in paths:
        image = cew_portrait(cv2.imread(str(path)))
        found, _ = reasons(image)
        if found == "no face":
            continue
        real += 1
        flagged += found == REASON_SUNGLASSES
        if path.parent.name != "OpenFace" or rng.random() >= args.share:
            continue
        transmission, highlight = rng.uniform(0.08, 0.35), rng.choice([0.0, 0.3, 0.6, 0.9])
        size = rng.uniform(1.0, 1.4)
        face = max(detector.detect_photo(image), key=lambda f: f.box[2])
        eyes = judge.landmarker.measure(to_gray(image), face).eyes
        verdict, before = reasons(put_on_lenses(image, eyes, transmission, highlight, size))
        if verdict == "no face":
            continue
        lensed += 1
        caught += verdict == REASON_SUNGLASSES
        caught_before += before == REASON_SUNGLASSES
        tally = by_highlight.setdefault(highlight, [0, 0, 0])
        tally[0] += verdict == REASON_SUNGLASSES
        tally[1] += before == REASON_SUNGLASSES
        tally[2] += 1
    print(f"real CEW faces called sunglasses: {flagged} of {real}")
    print(f"open CEW faces given lenses, called sunglasses: {caught} of {lensed} "
          f"(the texture test alone: {caught_before})")
    for highlight, (hit, hit_before, n) in sorted(by_highlight.items()):
        print(f"   highlight {highlight:.0%}: {hit} of {n} (texture test alone: {hit_before})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
