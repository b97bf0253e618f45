"""What following faces between detections costs: live analyzer fps, three ways, same frames.

Rows: faces followed between detections (the default), the last box reused unchanged (the
behaviour before, which leaves a moving head's eye crops behind) and the Haar cascade on
every frame (the baseline). 640×480 webcam frames, one core, `detect_every` 3; the rounds
alternate and the best of each is kept, so a busy machine hurts all rows alike.

    python benchmarks/follow_fps.py [--data ../shared/data] [--rounds 5]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2

from eyespy_live.config import Config
from eyespy_live.decision.analyzer import LiveAnalyzer
from eyespy_live.decision.configured import build_detector, build_model
from eyespy_live.vision.faces import create_detector


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--frames", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    capture = cv2.VideoCapture(str(args.data / "video/focus_webcam/mahie_test_1.avi"))
    frames = [f for ok, f in (capture.read() for _ in range(args.frames)) if ok]
    config = Config()
    model = build_model(config)
    following = build_detector(config)
    stale = build_detector(config)
    stale.follow = lambda image, face: face  # type: ignore[method-assign]
    rows = [
        ("faces followed (default), detect every 3rd", following, 3),
        ("last box reused (before), detect every 3rd", stale, 3),
        ("haar, every frame (baseline)", create_detector("haar"), 1),
    ]
    best: dict[str, float] = {}
    for _ in range(args.rounds):
        for name, detector, every in rows:
            analyzer = LiveAnalyzer(detector, model, detect_every=every)
            analyzer.analyze(frames[0])  # warm-up
            start = time.perf_counter()
            for image in frames:
                analyzer.analyze(image)
            fps = len(frames) / (time.perf_counter() - start)
            best[name] = max(best.get(name, 0.0), fps)
    base = best[rows[-1][0]]
    for name, fps in best.items():
        print(f"{name:46} {fps:7.1f} fps  {fps / base:5.1f}x baseline")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
