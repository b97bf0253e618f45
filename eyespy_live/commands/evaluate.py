"""`eyespy evaluate VIDEO LABELS`: blink-level precision, recall and F1 against labels."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from eyespy_live.commands.common import add_config_options, load_config
from eyespy_live.evaluation import read_labels, runs_of_ones, score_blinks
from eyespy_live.live.run import LiveRun
from eyespy_live.sources.video import VideoSource

NAME = "evaluate"
HELP = "score blink detection on a video against per-frame 0/1 labels (1 = eyes closed)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("video", type=Path)
    parser.add_argument(
        "labels",
        type=Path,
        nargs="?",
        help="one 0/1 per frame; omit and give --expect-blinks for a count only",
    )
    parser.add_argument("--expect-blinks", type=int, help="number of blinks in an unlabelled clip")
    parser.add_argument("--detector", help="face detector: blazeface or haar")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    add_config_options(parser)


def detect_blinks(config, video: Path) -> tuple[list[tuple[int, int]], int]:
    """(first, last) closed frame of every blink found in `video`, and its frame count."""
    found: list[tuple[int, int]] = []

    def emit(event_type, body, **_):
        if event_type == "blink" and body["blink"]["kind"] == "blink":
            found.append((body["blink"]["first_frame"], body["blink"]["last_frame"]))

    run = LiveRun(config, emit)
    source = VideoSource(video)
    for frame in source.frames():
        run.process(frame)
    for machine in run.machines.values():
        machine.finish()
    return found, run.stats.frames


def run(args: argparse.Namespace) -> int:
    config = load_config(args, **{"vision.detector": args.detector})
    found, frames = detect_blinks(config, args.video)
    result: dict = {"video": str(args.video), "frames": frames, "detected": len(found)}
    if args.labels:
        labels = read_labels(args.labels)
        if len(labels) != frames:
            print(f"note: {len(labels)} labels for {frames} frames; scoring the overlap")
        runs = runs_of_ones(labels[:frames])
        score = score_blinks(found, runs)
        result.update(
            labelled=len(runs),
            true_positives=score.true_positives,
            false_positives=score.false_positives,
            false_negatives=score.false_negatives,
            precision=round(score.precision, 4),
            recall=round(score.recall, 4),
            f1=round(score.f1, 4),
        )
    if args.expect_blinks is not None:
        result["expected"] = args.expect_blinks
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:16} {value}")
    return 0
