"""Live blink detection when the footage gets worse: every frame of labelled clips altered the
same repeatable way (a dim room, a rolled or shaking head, low resolution, side light), and
the blinks scored again, as `eyespy evaluate` scores them.

    python -m eyespy_live.train.live_robustness [--data ../shared/data] [--only NAME,...]
        [--conditions "dim 0.35 noise 4,roll +20,..."]

The figures are in docs/live-blinks.md ("A dim room"). Noise is seeded by the frame number,
so two runs agree.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from eyespy_live.sources.base import Frame

Alter = Callable[[np.ndarray, int], np.ndarray]


def dimmed(gain: float, noise: float) -> Alter:
    """Underexposed to `gain` of the light, with sensor noise of s.d. `noise` grey levels."""
    def alter(image: np.ndarray, seq: int) -> np.ndarray:
        rng = np.random.default_rng(seq)
        dark = image.astype(np.float32) * gain + rng.normal(0.0, noise, image.shape)
        return np.clip(dark, 0, 255).astype(np.uint8)
    return alter


def rolled(degrees: float) -> Alter:
    """The head tilted sideways (the whole frame turned about its centre)."""
    def alter(image: np.ndarray, seq: int) -> np.ndarray:
        h, w = image.shape[:2]
        turn = cv2.getRotationMatrix2D((w / 2.0, h / 2.0), degrees, 1.0)
        return cv2.warpAffine(image, turn, (w, h), borderMode=cv2.BORDER_REPLICATE)
    return alter


def shaken(image: np.ndarray, seq: int) -> np.ndarray:
    """A head (or a hand-held camera) moving: the frame shifted up to ±18 / ±10 px."""
    h, w = image.shape[:2]
    shift = np.float32([[1, 0, 18 * np.sin(seq / 3.0)], [0, 1, 10 * np.cos(seq / 2.3)]])
    return cv2.warpAffine(image, shift, (w, h), borderMode=cv2.BORDER_REPLICATE)


def low_resolution(image: np.ndarray, seq: int) -> np.ndarray:
    h, w = image.shape[:2]
    small = cv2.resize(image, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def farther(image: np.ndarray, seq: int) -> np.ndarray:
    """The picture at 0.8 × on a larger grey 640×480 frame: a smaller face in more frame."""
    h, w = image.shape[:2]
    canvas = np.full((480, 640, 3), 110, np.uint8)
    small = cv2.resize(image, (int(w * 0.8), int(h * 0.8)), interpolation=cv2.INTER_AREA)
    canvas[100 : 100 + small.shape[0], 200 : 200 + small.shape[1]] = small[:380, :440]
    return canvas


def motion_blurred(length: int, every: int = 1, burst: int = 1, across: bool = False) -> Alter:
    """Motion blur `length` px long, up and down (a nod) or `across` (a shake of the head),
    on `burst` frames of every `every`."""
    kernel = np.full((length, 1), 1.0 / length, np.float32)
    if across:
        kernel = np.ascontiguousarray(kernel.T)

    def alter(image: np.ndarray, seq: int) -> np.ndarray:
        if seq % every >= burst:
            return image
        return cv2.filter2D(image, -1, kernel, borderType=cv2.BORDER_REPLICATE)
    return alter


def mirrored(image: np.ndarray, seq: int) -> np.ndarray:
    return np.ascontiguousarray(image[:, ::-1])


def side_lit(image: np.ndarray, seq: int) -> np.ndarray:
    """Light falling from 1.3 to 0.2 across the frame."""
    ramp = np.linspace(0.2, 1.3, image.shape[1], dtype=np.float32)[None, :, None]
    return np.clip(image.astype(np.float32) * ramp, 0, 255).astype(np.uint8)


CONDITIONS: dict[str, Alter | None] = {
    "as filmed": None,
    "dim 0.35 noise 4": dimmed(0.35, 4.0),
    "dim 0.25 noise 3": dimmed(0.25, 3.0),
    "dim 0.45 noise 6": dimmed(0.45, 6.0),
    "dim 0.35": dimmed(0.35, 0.0),
    "roll +20": rolled(20.0),
    "roll -20": rolled(-20.0),
    "shaken": shaken,
    "half resolution": low_resolution,
    "farther": farther,
    "motion blur 5": motion_blurred(5),
    "motion blur 9 in bursts": motion_blurred(9, 15, 2),
    "motion blur 9 across in bursts": motion_blurred(9, 15, 2, across=True),
    "mirrored": mirrored,
    "side light": side_lit,
}


def frame_alter(alter: Alter | None) -> Callable[[Frame], Frame] | None:
    if alter is None:
        return None
    return lambda frame: dataclasses.replace(frame, image=alter(frame.image, frame.seq))


def sweep(folder: Path, conditions: dict[str, Alter | None], only: str = "",
          tolerance: int = 2) -> list[dict]:
    """One summary (as `eyespy evaluate` prints it for a folder) per condition."""
    from eyespy_live.commands.evaluate import evaluate_one, folder_summary, labels_beside, videos_in
    from eyespy_live.config import Config

    config = Config()
    rows = []
    for name, condition in conditions.items():
        alter = frame_alter(condition)
        results = [evaluate_one(config, v, labels_beside(v), tolerance, alter)
                   for v in videos_in(folder, only)]
        rows.append({"condition": name, **folder_summary(results, tolerance)})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--only", default="", help="comma-separated clip name parts")
    parser.add_argument("--conditions", default=",".join(CONDITIONS),
                        help="comma-separated, of: " + ", ".join(CONDITIONS))
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.conditions.split(",") if n.strip()]
    unknown = [n for n in names if n not in CONDITIONS]
    if unknown:
        parser.error(f"unknown condition {unknown[0]!r}")
    print("| frames | F1 strict | F1 ±2 | found / false / missed (±2) |")
    print("|---|---|---|---|")
    conditions = {name: CONDITIONS[name] for name in names}
    for row in sweep(args.data / "video" / "zju", conditions, args.only):
        print(f"| {row['condition']} | {row['f1']:.3f} | {row['f1_tolerant']:.3f} | "
              f"{row['true_positives_tolerant']} / {row['false_positives_tolerant']} / "
              f"{row['false_negatives_tolerant']} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
