"""How far the head's pitch moves during labelled blinks: the evidence for `max_head_dip`.

A glance down can drop the lids within a frame, like a blink; what tells them apart is the head
tilting down with it. The live rule (`decision.blink`) compares each frame's pitch with the
closure's first measured one, so this measures exactly that on every labelled blink, with the
landmark stage forced on every frame (live runs it only where the CNN is not sure):

    python -m eyespy_live.train.head_dip --data ../shared/data
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Sequence
from pathlib import Path

import cv2
import numpy as np

from eyespy_live.decision.judge import EyeJudge
from eyespy_live.evaluation import read_labels, runs_of_ones
from eyespy_live.train.data import largest_face
from eyespy_live.train.zju import aligned_labels, decode_clip, zju_clips
from eyespy_live.vision.eyecrop import to_gray
from eyespy_live.vision.eyestate import EyeStateModel
from eyespy_live.vision.faces import create_detector


def pitch_series(frames: Sequence[np.ndarray], detector, judge: EyeJudge) -> np.ndarray:
    """Head pitch of the largest face in each frame (NaN where none or no landmarks)."""
    out = np.full(len(frames), np.nan)
    for i, frame in enumerate(frames):
        face = largest_face(detector, frame)
        if face is None:
            continue
        geometry = judge.read(to_gray(frame), face, thorough=True).geometry
        if geometry is not None:
            out[i] = geometry.pitch
    return out


def blink_dips(pitch: np.ndarray, blinks: Sequence[tuple[int, int]]) -> list[float]:
    """Per blink: its first measured pitch minus its lowest (+ = the head went down)."""
    dips = []
    for first, last in blinks:
        inside = pitch[first : last + 1]
        inside = inside[np.isfinite(inside)]
        if inside.size:
            dips.append(float(inside[0] - inside.min()))
    return dips


def _labelled_videos(data: Path) -> Iterator[tuple[str, list[np.ndarray], list[tuple[int, int]]]]:
    for clip in zju_clips(data):
        decoded = decode_clip(clip.video)
        closed = [int(t is not None and t.in_blink) for t in aligned_labels(clip, decoded)]
        yield f"zju/{clip.name}", decoded.frames, runs_of_ones(closed)
    webcam = data / "video" / "focus_webcam"
    for labels in sorted(webcam.glob("*_ideal.csv")):
        video = webcam / labels.name.replace("_ideal.csv", ".avi")
        capture = cv2.VideoCapture(str(video))
        frames = []
        while True:
            ok, image = capture.read()
            if not ok:
                break
            frames.append(image)
        capture.release()
        yield f"focus_webcam/{video.stem}", frames, runs_of_ones(read_labels(labels)[: len(frames)])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    args = parser.parse_args(argv)
    detector = create_detector("blazeface")
    judge = EyeJudge.default(EyeStateModel())
    by_set: dict[str, list[float]] = {}
    for name, frames, blinks in _labelled_videos(args.data):
        dips = blink_dips(pitch_series(frames, detector, judge), blinks)
        by_set.setdefault(name.split("/")[0], []).extend(dips)
    for name, dips in by_set.items():
        p50, p95, top = np.percentile(dips, [50, 95, 100])
        print(f"{name}: {len(dips)} blinks, head dip median {p50:.1f}°, 95th {p95:.1f}°, "
              f"max {top:.1f}°")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
