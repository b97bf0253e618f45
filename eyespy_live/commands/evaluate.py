"""`eyespy evaluate VIDEO [LABELS]`: blink-level precision, recall and F1 against labels.

Labels are per-frame 0/1 files (1 = eyes closed) or Eyeblink8 / ZJU `.tag` files; a `.tag`
is lined up with the frames the decoder returns (old AVIs drop frames). Without LABELS, the
file beside the video is used: `NAME.tag`, `NAME.csv`, `NAME_ideal.csv` or `NAME_labels.csv`
(the first that exists). VIDEO may be a folder: every video in it with labels beside it is
scored and the counts are summed.
Strict and tolerant (`--tolerance` frames) figures are printed side by side.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from eyespy_live.commands.common import add_config_options, load_config
from eyespy_live.evaluation import (
    BlinkScore,
    TagError,
    read_labels,
    read_tag,
    runs_of_ones,
    score_blinks,
    tag_labels,
)
from eyespy_live.live.run import LiveRun
from eyespy_live.sources.base import Frame
from eyespy_live.sources.video import VideoSource, frame_slots

NAME = "evaluate"
HELP = "score blink detection on a video (or a folder of them) against labels"
VIDEO_SUFFIXES = {".avi", ".mp4", ".mov", ".mkv", ".webm"}
# Label files looked for beside a video, in this order (Eyeblink8 / ZJU, then per-frame 0/1).
LABEL_NAMES = ("{stem}.tag", "{stem}.csv", "{stem}_ideal.csv", "{stem}_labels.csv")


def labels_beside(video: Path) -> Path | None:
    """The label file next to `video`, or None."""
    for pattern in LABEL_NAMES:
        candidate = video.with_name(pattern.format(stem=video.stem))
        if candidate.is_file():
            return candidate
    return None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("video", type=Path,
                        help="a video file, or a folder of videos with labels beside them")
    parser.add_argument(
        "labels",
        type=Path,
        nargs="?",
        help="one 0/1 per frame, or an Eyeblink8/ZJU .tag file; default: the labels beside "
        "VIDEO (NAME.tag, NAME.csv, NAME_ideal.csv, NAME_labels.csv); omit and give "
        "--expect-blinks for a count only",
    )
    parser.add_argument("--expect-blinks", type=int, help="number of blinks in an unlabelled clip")
    parser.add_argument(
        "--tolerance",
        type=int,
        default=2,
        help="frames a detection may miss a labelled blink by and still count (default 2)",
    )
    parser.add_argument(
        "--only",
        default="",
        help="with a folder: comma-separated name parts; score only videos whose name has one",
    )
    parser.add_argument("--detector", help="face detector: blazeface or haar")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    add_config_options(parser)


def detect_blinks(config, video: Path, alter: Callable[[Frame], Frame] | None = None
                  ) -> tuple[list[tuple[int, int]], int]:
    """(first, last) closed frame of every blink found in `video`, and its frame count.
    `alter` changes each frame before the pipeline sees it (robustness sweeps)."""
    found: list[tuple[int, int]] = []

    def emit(event_type, body, **_):
        if event_type == "blink" and body["blink"]["kind"] == "blink":
            found.append((body["blink"]["first_frame"], body["blink"]["last_frame"]))

    run = LiveRun(config, emit)
    source = VideoSource(video)
    for frame in source.frames():
        run.process(frame if alter is None else alter(frame))
    for machine in run.machines.values():
        machine.finish()
    return found, run.stats.frames


def load_labels(video: Path, labels: Path) -> list[int]:
    """Per-decoded-frame 0/1 labels from a 0/1 file or a `.tag` (mapped onto decoded frames)."""
    if labels.suffix.lower() != ".tag":
        return read_labels(labels)
    tag = read_tag(labels)
    slots, n_slots = frame_slots(video)
    times = labels.with_suffix(".txt")  # ZJU: the annotator's frame times, one line each
    n_annotated = None
    if times.is_file():
        n_annotated = sum(1 for line in times.read_text().splitlines() if line.strip()) or None
    return tag_labels(tag, slots, n_slots, n_annotated)


def _score_fields(score: BlinkScore, suffix: str) -> dict:
    return {
        f"true_positives{suffix}": score.true_positives,
        f"false_positives{suffix}": score.false_positives,
        f"false_negatives{suffix}": score.false_negatives,
        f"precision{suffix}": round(score.precision, 4),
        f"recall{suffix}": round(score.recall, 4),
        f"f1{suffix}": round(score.f1, 4),
    }


def evaluate_one(config, video: Path, labels: Path | None, tolerance: int,
                 alter: Callable[[Frame], Frame] | None = None) -> dict:
    found, frames = detect_blinks(config, video, alter)
    result: dict = {"video": str(video), "frames": frames, "detected": len(found)}
    if labels is None:
        return result
    values = load_labels(video, labels)
    if len(values) != frames:
        result["note"] = f"{len(values)} labels for {frames} frames; scored the overlap"
    runs = runs_of_ones(values[:frames])
    result["labelled"] = len(runs)
    result.update(_score_fields(score_blinks(found, runs), ""))
    result.update(_score_fields(score_blinks(found, runs, tolerance), "_tolerant"))
    result["tolerance"] = tolerance
    return result


def videos_in(folder: Path, only: str) -> list[Path]:
    parts = [p for p in only.split(",") if p]
    videos = sorted(
        p for p in folder.iterdir()
        if p.suffix.lower() in VIDEO_SUFFIXES and labels_beside(p) is not None
    )
    return [v for v in videos if not parts or any(part in v.name for part in parts)]


def folder_summary(results: list[dict], tolerance: int) -> dict:
    summary: dict = {"videos": len(results), "labelled": sum(r["labelled"] for r in results)}
    summary["detected"] = sum(r["detected"] for r in results)
    for suffix in ("", "_tolerant"):
        score = BlinkScore(
            sum(r[f"true_positives{suffix}"] for r in results),
            sum(r[f"false_positives{suffix}"] for r in results),
            sum(r[f"false_negatives{suffix}"] for r in results),
        )
        summary.update(_score_fields(score, suffix))
    errors = [abs(r["detected"] - r["labelled"]) for r in results]
    summary["mean_count_error"] = round(sum(errors) / max(1, len(errors)), 3)
    summary["tolerance"] = tolerance
    return summary


def _print(result: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(result))
        return
    if "f1" in result:
        rows = [("", "strict", f"±{result['tolerance']} frames")]
        for key in ("true_positives", "false_positives", "false_negatives", "precision",
                    "recall", "f1"):
            rows.append((key, str(result[key]), str(result[f"{key}_tolerant"])))
        head = {k: v for k, v in result.items() if not any(
            k.startswith(r[0]) for r in rows[1:]) and k != "tolerance"}
        for key, value in head.items():
            print(f"{key:18} {value}")
        for key, strict, tolerant in rows:
            print(f"{key:18} {strict:>8}  {tolerant:>10}")
    else:
        for key, value in result.items():
            print(f"{key:18} {value}")


def run(args: argparse.Namespace) -> int:
    config = load_config(args, **{"vision.detector": args.detector})
    if args.tolerance < 0:
        print("eyespy evaluate: --tolerance must be 0 or more frames", file=sys.stderr)
        return 2
    try:
        if args.video.is_dir():
            videos = videos_in(args.video, args.only)
            if not videos:
                names = ", ".join(n.format(stem="NAME") for n in LABEL_NAMES)
                print(f"eyespy evaluate: no video in {args.video} has labels beside it "
                      f"({names})", file=sys.stderr)
                return 2
            results = [
                evaluate_one(config, v, labels_beside(v), args.tolerance) for v in videos
            ]
            if not args.json:
                for r in results:
                    print(f"{Path(r['video']).name:28} labelled {r['labelled']:2}  "
                          f"detected {r['detected']:2}  tp {r['true_positives']:2}/"
                          f"{r['true_positives_tolerant']:2}")
            _print(folder_summary(results, args.tolerance), args.json)
            return 0
        labels = args.labels if args.labels is not None else labels_beside(args.video)
        result = evaluate_one(config, args.video, labels, args.tolerance)
    except (TagError, ValueError, OSError) as exc:  # SourceError: the CLI's own one line
        print(f"eyespy evaluate: {exc}", file=sys.stderr)
        return 2
    if args.expect_blinks is not None:
        result["expected"] = args.expect_blinks
    _print(result, args.json)
    return 0
