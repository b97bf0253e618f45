"""Cull throughput: photos per second on 24 MP JPEGs, against a naive loop, same run.

The photos are real face photos from ../shared/data upscaled to 6000×4000 and saved as
JPEG (quality 92, with camera-like sensor grain so the files are as large as a camera's;
portrait ones stored landscape with an EXIF orientation tag, as cameras do)
in a temporary folder; nothing is kept. Rows:

- naive: one process, `cv2.imread` at full resolution, then the same detector and eye model
  (`pipeline.analyze_photo`) on the full image; the loop anyone would write first.
- cull, 1 worker / cull, N workers: `run_cull` end to end (scan, reduced decode, faces,
  eyes, sharpness, thumbnails, resume file), wall time including starting the workers.
- decode ceiling: a decode-only pass over the same plain files on the same cores (a process
  per core, libjpeg's cheapest 1/8 decode, nothing else) — what no reader can beat, because
  libjpeg's entropy decoding is most of a decode and no scaling skips it. Cull's rate is
  printed as a share of it (target ≥ 80 %).
- cull on camera-style JPEGs: the same photos carrying the ~1620×1080 preview that
  camera bodies append (with an MPF index), which cull judges instead of decoding 24 MP.

    python benchmarks/cull_speed.py [--data ../shared/data] [--photos 120] [--naive 20]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import cv2
import numpy as np

from eyespy_live.config import load
from eyespy_live.cull.run import CullOptions, run_cull
from eyespy_live.decision.configured import blink_settings, build_detector, build_model
from eyespy_live.decision.shot import analyze_photo

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))
from cull_helpers import (  # noqa: E402 - the test suite's camera-style JPEGs
    with_camera_preview,
    with_exif_orientation,
)

SOURCES = [
    "photos/dryeye_pair/eyes_open.jpg",
    "photos/dryeye_pair/eyes_closed.jpg",
    "photos/face_recognition_open/examples/obama-1080p.jpg",
    "photos/face_recognition_open/examples/two_people.jpg",
    "photos/face_recognition_open/examples/biden.jpg",
    "photos/face_recognition_open/examples/obama.jpg",
]
SIZE = (6000, 4000)


def make_session(data: Path, folder: Path, count: int) -> tuple[list[Path], list[Path]]:
    """`count` plain 24 MP JPEGs, and `count` camera-style ones (same, plus the ~1620×1080
    preview that Nikon/Canon/Sony/Fujifilm bodies append after an MPF segment)."""
    rng = np.random.default_rng(1)
    encoded, camera = [], []
    for source in SOURCES:
        image = cv2.imread(str(data / source))
        height, width = image.shape[:2]
        # A camera stores every photo in the sensor's landscape shape and tags portrait ones
        # (EXIF orientation 6: turn 90° clockwise to show); the preview is stored the same way.
        orientation = 6 if height > width else 1
        if orientation == 6:
            image = cv2.rotate(image, cv2.ROTATE_90_COUNTERCLOCKWISE)
        big = cv2.resize(image, SIZE, interpolation=cv2.INTER_CUBIC)
        grain = rng.normal(0.0, 3.0, big.shape).astype(np.int16)
        big = np.clip(big.astype(np.int16) + grain, 0, 255).astype(np.uint8)
        ok, jpeg = cv2.imencode(".jpg", big, [cv2.IMWRITE_JPEG_QUALITY, 92])
        assert ok
        encoded.append(with_exif_orientation(jpeg.tobytes(), orientation))
        small = cv2.resize(big, (SIZE[0] * 1080 // SIZE[1], 1080), interpolation=cv2.INTER_AREA)
        ok, preview = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 85])
        assert ok
        camera.append(with_camera_preview(encoded[-1], preview.tobytes()))
    plain_dir, camera_dir = folder / "plain", folder / "camera"
    plain_dir.mkdir()
    camera_dir.mkdir()
    plain, cams = [], []
    for i in range(count):
        plain.append(plain_dir / f"IMG_{i:04d}.jpg")
        plain[-1].write_bytes(encoded[i % len(encoded)])
        cams.append(camera_dir / f"IMG_{i:04d}.jpg")
        cams[-1].write_bytes(camera[i % len(camera)])
    return plain, cams


def _decode_only(path: str) -> int:
    image = cv2.imdecode(np.fromfile(path, np.uint8), cv2.IMREAD_REDUCED_COLOR_8)
    return image.shape[0]


def decode_ceiling(paths: list[Path], jobs: int) -> float:
    """Photos per second for a decode-only pass, `jobs` processes (started before timing)."""
    with ProcessPoolExecutor(jobs) as pool:
        list(pool.map(_decode_only, [str(paths[0])] * jobs))  # workers up
        started = time.perf_counter()
        list(pool.map(_decode_only, [str(p) for p in paths], chunksize=4))
        return len(paths) / (time.perf_counter() - started)


def naive(paths: list[Path]) -> tuple[float, dict[str, int]]:
    config = load(None)
    detector, model, settings = build_detector(config), build_model(config), blink_settings(config)
    verdicts: dict[str, int] = {}
    started = time.perf_counter()
    for path in paths:
        image = cv2.imread(str(path))
        verdict = analyze_photo(image, detector, model, settings, config.vision.min_face_score)
        verdicts[verdict.verdict] = verdicts.get(verdict.verdict, 0) + 1
    return len(paths) / (time.perf_counter() - started), verdicts


def cull(session: Path, out: Path, jobs: int) -> tuple[float, float, dict[str, int]]:
    started = time.perf_counter()
    summary = run_cull(CullOptions(session=session, out_dir=out, jobs=jobs), load(None))
    wall = time.perf_counter() - started
    return summary.analysed / wall, summary.rate, summary.counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=Path(__file__).parents[1].parent / "shared/data"
    )
    parser.add_argument("--photos", type=int, default=120, help="24 MP photos for cull")
    parser.add_argument("--naive", type=int, default=20, help="photos for the naive loop")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="cull-bench-") as tmp:
        started = time.perf_counter()
        paths, camera_paths = make_session(args.data, Path(tmp), args.photos)
        megabytes = sum(p.stat().st_size for p in paths) / len(paths) / 1e6
        print(
            f"{len(paths)} photos, {SIZE[0]}x{SIZE[1]}, {megabytes:.1f} MB each "
            f"(made in {time.perf_counter() - started:.1f} s); {cores} cores"
        )
        naive_rate, naive_verdicts = naive(paths[: args.naive])
        plain_dir, camera_dir = paths[0].parent, camera_paths[0].parent
        ceiling_one = decode_ceiling(paths, 1)
        ceiling = decode_ceiling(paths, cores)
        one_wall, one_rate, one_counts = cull(plain_dir, Path(tmp) / "out1", 1)
        many_wall, many_rate, many_counts = cull(plain_dir, Path(tmp) / "outN", cores)
        cam_wall, _, cam_counts = cull(camera_dir, Path(tmp) / "outC", cores)
        print(f"{'method':44} {'photos/s':>9} {'vs naive':>9}  verdicts")
        rows = [
            (f"naive full-res loop, 1 process ({args.naive})", naive_rate, naive_verdicts),
            ("cull, 1 worker (wall)", one_wall, one_counts),
            (f"cull, {cores} workers (wall)", many_wall, many_counts),
            (f"cull, {cores} workers, camera JPEGs w/ preview", cam_wall, cam_counts),
        ]
        for name, rate, verdicts in rows:
            shown = {k: v for k, v in verdicts.items() if v}
            print(f"{name:44} {rate:9.1f} {rate / naive_rate:8.1f}x  {shown}")
        print(
            f"decode ceiling (1/8 decode only): 1 process {ceiling_one:.1f}/s, "
            f"{cores} processes {ceiling:.1f}/s"
        )
        print(
            f"cull vs ceiling: 1 worker {one_rate / ceiling_one:.0%} "
            f"(wall {one_wall / ceiling_one:.0%}), {cores} workers {many_rate / ceiling:.0%} "
            f"(wall {many_wall / ceiling:.0%}); {cores}-worker scaling {many_rate / one_rate:.2f}x"
        )
        print(f"600 plain 24 MP JPEGs at the {cores}-worker wall rate: {600 / many_wall:.1f} s")
        print(f"load average during the run: {os.getloadavg()[0]:.1f} on {cores} cores")


if __name__ == "__main__":
    main()
