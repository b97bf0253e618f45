"""Faces found in big group shots, and what the finer grids of tiles cost where they run.

`detect_photo` searches the whole photo, then 2×2 tiles, then finer grids (tiles 0.3 and
0.15 of the long side) only where the coarser search found small faces. This compares, in
the same run, the shipped search against the previous one (whole photo + 2×2 tiles only,
`tile_shares=(0.6,)`) on 24 MP photos made at run time (never committed) from real photos:

- team photos: the 24-person dlib photo `bald_guys.jpg` repeated 2 × 2 and 3 × 2 (96 and 144
  real faces, 1/35 and 1/54 of the width), scaled to 6000 px wide, one person with eyes shut
  (the dryeye pair's closed face, the team's face size) in a band below;
- a headshot (the dryeye pair's open photo filling the frame) and a full-length portrait
  (the same face at 1/25 of the width on a plain 6000×4000 canvas): one face each, where
  any extra pass is pure cost.

Each through the product's photo path (`analyze_photo_file`: reduced decode, face search,
every face's eyes), median of `--repeat` runs; the ratio is shipped / previous.

    python benchmarks/group_faces.py [--data ../shared/data] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from eyespy_live.config import Config
from eyespy_live.decision.configured import blink_settings, build_model
from eyespy_live.decision.shot import analyze_photo_file
from eyespy_live.vision.detectors.blazeface import TILE_SHARES, BlazeFaceDetector

REPO = Path(__file__).resolve().parents[1]
WIDTH, HEIGHT = 6000, 4000


def _noisy_jpeg(image: np.ndarray, path: Path) -> None:
    noise = np.random.default_rng(1).normal(0, 3.0, image.shape).astype(np.int16)
    image = np.clip(image.astype(np.int16) + noise, 0, 255).astype(np.uint8)
    cv2.imwrite(str(path), image, [cv2.IMWRITE_JPEG_QUALITY, 92])


def team_photo(data: Path, across: int, path: Path) -> int:
    """The 24-person photo repeated `across` × 2 at 6000 px wide, one shut-eyed face below."""
    group = cv2.imread(str(data / "photos" / "dlib_groups" / "bald_guys.jpg"))
    closed = cv2.imread(str(data / "photos" / "dryeye_pair" / "eyes_closed.jpg"))
    team = np.vstack([np.hstack([group] * across)] * 2)
    scale = WIDTH / team.shape[1]
    team = cv2.resize(team, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    band = np.full((team.shape[0] // 3, WIDTH, 3), 128, np.uint8)
    face_px = 110 * scale  # bald_guys' faces are ~110 px wide; the dryeye face ~392
    small = cv2.resize(closed, None, fx=face_px / 392, fy=face_px / 392,
                       interpolation=cv2.INTER_AREA)
    small = small[: band.shape[0] - 20]
    band[20 : 20 + small.shape[0], WIDTH // 2 : WIDTH // 2 + small.shape[1]] = small
    _noisy_jpeg(np.vstack([team, band]), path)
    return 24 * across * 2 + 1


def headshot(data: Path, path: Path) -> int:
    image = cv2.imread(str(data / "photos" / "dryeye_pair" / "eyes_open.jpg"))
    _noisy_jpeg(cv2.resize(image, (WIDTH, HEIGHT), interpolation=cv2.INTER_CUBIC), path)
    return 1


def full_length(data: Path, path: Path) -> int:
    """The same open face at 1/25 of the width, alone on a plain canvas."""
    image = cv2.imread(str(data / "photos" / "dryeye_pair" / "eyes_open.jpg"))
    scale = (WIDTH / 25) / 392
    small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    canvas = np.full((HEIGHT, WIDTH, 3), 150, np.uint8)
    y, x = HEIGHT // 5, WIDTH // 2 - small.shape[1] // 2
    canvas[y : y + small.shape[0], x : x + small.shape[1]] = small
    _noisy_jpeg(canvas, path)
    return 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    config = Config()
    model, settings = build_model(config), blink_settings(config)
    searches = {"previous (whole + 2x2)": BlazeFaceDetector(tile_shares=(0.6,)),
                f"shipped (grids {TILE_SHARES})": BlazeFaceDetector()}
    work = Path(tempfile.mkdtemp(prefix="eyespy-groups-"))
    photos = {
        "team photo, 97 people (faces 1/35 of the width)": lambda p: team_photo(args.data, 2, p),
        "team photo, 145 people (faces 1/54)": lambda p: team_photo(args.data, 3, p),
        "headshot (face 0.27 of the width)": lambda p: headshot(args.data, p),
        "full-length portrait (face 1/25)": lambda p: full_length(args.data, p),
    }
    print(f"24 MP JPEGs made at run time in {work}")
    print()
    print("| photo | search | faces found | verdict | median ms | shipped / previous |")
    print("|---|---|---|---|---|---|")
    for n, (label, make) in enumerate(photos.items()):
        path = work / f"photo{n}.jpg"
        people = make(path)
        times = {}
        for name, detector in searches.items():
            runs = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                verdict = analyze_photo_file(path, detector, model, settings, 0.6)
                runs.append((time.perf_counter() - start) * 1000)
            times[name] = statistics.median(runs)
            ratio = times[name] / next(iter(times.values()))
            print(f"| {label} | {name} | {len(verdict.faces)} of {people} | "
                  f"{verdict.verdict} | {times[name]:.0f} | {ratio:.2f}x |")


if __name__ == "__main__":
    main()
