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

from eyespy_live.sources.base import Frame
from eyespy_live.train.alterations import (
    Alter,
    dimmed,
    farther,
    low_resolution,
    mirrored,
    motion_blurred,
    recompressed,
    rolled,
    shaken,
    side_lit,
)

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
    "jpeg 70": recompressed(70),  # a camera's live view comes as JPEG frames
    "jpeg 30": recompressed(30),
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
