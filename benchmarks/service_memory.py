"""Service memory over a long run: RSS after 100k frames against RSS after the first 1k.

An all-day session must not grow: the headless service (the same code `eyespy service` runs:
supervised source, vision pipeline, publisher, heartbeats) processes the demo clip in a loop
as fast as it can, and the resident set size is read from /proc after the warm-up frames
(the baseline) and again at the end. Criterion: growth below 10 MB.

    python benchmarks/service_memory.py                # 100k frames, about 5 minutes
    python benchmarks/service_memory.py --frames 20000 # quicker look
"""

from __future__ import annotations

import argparse
import socket
import sys
import threading
import time

from eyespy_live import config as config_module
from eyespy_live.live.run import LiveRun
from eyespy_live.live.service import HeadlessService

LIMIT_MB = 10.0


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def free_endpoint() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"tcp://127.0.0.1:{s.getsockname()[1]}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100_000)
    parser.add_argument("--baseline-frames", type=int, default=1_000)
    parser.add_argument("--detect-every", type=int, default=25)
    args = parser.parse_args()

    config = config_module.load(
        None,
        {
            "source.spec": "demo",
            "source.loop": True,
            "vision.detect_every": args.detect_every,
            "bus.endpoint": free_endpoint(),
            "service.status_interval_s": 1.0,
        },
    )
    stop = threading.Event()
    marks: dict[str, tuple[int, float, float]] = {}
    started = time.monotonic()

    def on_frame(run: LiveRun) -> None:
        n = run.stats.frames
        if n == args.baseline_frames:
            marks["baseline"] = (n, rss_mb(), time.monotonic())
        if n % 10_000 == 0:
            print(f"  {n:>7} frames  RSS {rss_mb():7.1f} MB", file=sys.stderr, flush=True)
        if n >= args.frames:
            marks["end"] = (n, rss_mb(), time.monotonic())
            stop.set()

    service = HeadlessService(config, on_frame=on_frame)
    code = service.run(stop)
    if code != 0 or "end" not in marks:
        print("the run did not reach the frame count", file=sys.stderr)
        return 1
    n0, rss0, t0 = marks["baseline"]
    n1, rss1, t1 = marks["end"]
    growth = rss1 - rss0
    fps = (n1 - n0) / (t1 - t0)
    run = service.live_run
    assert run is not None
    print(f"frames: {n1} (demo clip looped, detect_every={args.detect_every}), {fps:.0f} fps")
    print(f"blinks detected: {run.stats.blinks}, source restarts: {service.supervisor.restarts}")
    print(f"RSS after {n0} frames (baseline): {rss0:.1f} MB")
    print(f"RSS after {n1} frames:            {rss1:.1f} MB")
    print(f"growth: {growth:+.1f} MB (ratio {rss1 / rss0:.3f}); limit {LIMIT_MB:.0f} MB")
    print(f"total time {time.monotonic() - started:.0f} s")
    ok = growth < LIMIT_MB
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
