"""How far the head dips during the blinks the live pipeline finds: the evidence for
`blink.max_head_dip`.

A glance down can drop the lids within a frame, like a blink; what tells them apart is the
head staying tilted down. This runs the shipped live pipeline with the rule off over labelled
and hand-checked footage and prints, per set, each event's `head_dip` (how far the head stayed
below its pitch on the open frames before the closure):

    python -m eyespy_live.train.head_dip --data ../shared/data
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from eyespy_live.config import Config
from eyespy_live.decision.blink import BlinkEvent
from eyespy_live.live.run import LiveRun
from eyespy_live.sources.video import VideoSource

# Footage whose every event is a real blink (ZJU, focus_webcam: labelled; the others checked
# by hand, tests/labels), and footage with a labelled look down.
BLINK_SETS = {
    "zju": "video/zju/*.avi",
    "focus_webcam": "video/focus_webcam/*.avi",
    "talking_one_face": "video/unlabelled/talking_one_face.mp4",
    "demo clip": "video/dinoman/example.mp4",
}
LOOKING_DOWN = {"talking_two_faces (man looking down)": "video/unlabelled/talking_two_faces.mp4"}


def video_events(video: Path) -> list[BlinkEvent]:
    """Every event of a default live run over the video, with the head-dip rule off."""
    config = Config()
    config.blink.max_head_dip = 0.0
    run = LiveRun(config, lambda *_, **__: None)
    return [blink for frame in VideoSource(video).frames() for _, blink in run.blink_events(frame)]


def describe(dips: Sequence[float | None]) -> str:
    measured = [d for d in dips if d is not None and math.isfinite(d)]
    if not measured:
        return f"{len(dips)} events, none with the head measured"
    p50, p99, top = np.percentile(measured, [50, 99, 100])
    return (f"{len(dips)} events, {len(measured)} measured: head dip median {p50:.1f}°, "
            f"99th {p99:.1f}°, max {top:.1f}°")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    args = parser.parse_args(argv)
    everything: list[float | None] = []
    for name, pattern in {**BLINK_SETS, **LOOKING_DOWN}.items():
        dips = [e.head_dip for v in sorted(args.data.glob(pattern)) for e in video_events(v)]
        if name in BLINK_SETS:
            everything += dips
        print(f"{name}: {describe(dips)}")
        if name in LOOKING_DOWN:
            print("   ", [None if d is None else round(d, 1) for d in dips])
    print(f"all blink footage: {describe(everything)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
