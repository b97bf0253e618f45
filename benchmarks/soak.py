"""Soak: the service on a looping video and a hot folder receiving a photo a second, for long.

Two real processes, as a studio runs them: `eyespy service` on the demo clip (looping, paced
at its frame rate) and `eyespy service` watching a hot folder, into which this script drops
one real photo per second (written under a hidden name, then renamed, as tethering programs
do). A subscriber counts what each publishes. Every `--sample-s` seconds the resident memory
(VmRSS) and open file descriptors of both processes are sampled from /proc.

At the end it prints the samples, the growth from the first sample (after warm-up) to the
last, and whether every photo was judged exactly once. Not run in CI (30 minutes by default):

    python benchmarks/soak.py                      # 30 min, a sample a minute
    python benchmarks/soak.py --minutes 4 --sample-s 30
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from eyespy_live.bus.pubsub import Subscriber

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("EYESPY_SHARED_DATA", REPO.parent / "shared" / "data"))


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def start_service(folder: Path, name: str, source: str) -> tuple[subprocess.Popen, str]:
    endpoint = f"ipc://{folder}/{name}.bus"
    config = folder / f"{name}.toml"
    config.write_text(f'[source]\n{source}\n[bus]\nendpoint = "{endpoint}"\n')
    log = (folder / f"{name}.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "eyespy_live", "service", "--config", str(config)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return process, endpoint


class Counting(threading.Thread):
    """Counts events by type, and shot events by file name, from one publisher."""

    def __init__(self, endpoint: str):
        super().__init__(daemon=True)
        self.subscriber = Subscriber(endpoint)
        self.types: Counter[str] = Counter()
        self.shots: Counter[str] = Counter()
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            got = self.subscriber.receive(timeout_s=0.2)
            if got is None:
                continue
            event = got[0]
            self.types[event["type"]] += 1
            if event["type"] == "shot":
                self.shots[str(event.get("file"))] += 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--sample-s", type=float, default=60.0)
    parser.add_argument("--photo-every-s", type=float, default=1.0)
    parser.add_argument("--json", type=Path, help="also write the samples here")
    args = parser.parse_args()

    pair = DATA / "photos" / "dryeye_pair"
    photos = [(pair / "eyes_open.jpg").read_bytes(), (pair / "eyes_closed.jpg").read_bytes()]
    work = Path(tempfile.mkdtemp(prefix="eyespy-soak-"))
    hot = work / "hot"
    hot.mkdir()
    video, video_ep = start_service(work, "video", 'spec = "demo"\nloop = true\nrealtime = true')
    folder, folder_ep = start_service(work, "folder", f'spec = "folder:{hot}"\nwatch = true')
    counters = {"video": Counting(video_ep), "folder": Counting(folder_ep)}
    for counter in counters.values():
        counter.start()
    procs = {"video": video, "folder": folder}
    # Photos already in the folder when watching starts are (by design) not judged: write
    # the first one only once the folder service says it is running.
    deadline = time.monotonic() + 120
    while not counters["folder"].types["status"] and time.monotonic() < deadline:
        time.sleep(0.1)
    samples: list[dict] = []
    written = 0
    started = time.monotonic()
    end = started + args.minutes * 60
    next_sample = started + min(args.sample_s, 30.0)  # first sample after warm-up
    next_photo = started + 1.0
    try:
        while time.monotonic() < end:
            now = time.monotonic()
            for name, proc in procs.items():
                if proc.poll() is not None:
                    print(f"{name} service exited with {proc.returncode}", file=sys.stderr)
                    return 1
            if now >= next_photo:
                next_photo += args.photo_every_s
                tmp = hot / f".IMG_{written:05d}.jpg.part"
                tmp.write_bytes(photos[written % 2])
                os.replace(tmp, hot / f"IMG_{written:05d}.jpg")
                written += 1
            if now >= next_sample:
                next_sample += args.sample_s
                sample = {"t_min": round((now - started) / 60, 2), "photos": written}
                for name, proc in procs.items():
                    sample[f"{name}_rss_mb"] = round(rss_kb(proc.pid) / 1024, 1)
                    sample[f"{name}_fds"] = open_fds(proc.pid)
                sample["video_blinks"] = counters["video"].types["blink"]
                sample["folder_shots"] = sum(counters["folder"].shots.values())
                samples.append(sample)
                print(json.dumps(sample), flush=True)
            time.sleep(0.05)
        time.sleep(3.0)  # the last photos' verdicts
    finally:
        for proc in procs.values():
            proc.terminate()
        codes = {name: proc.wait(timeout=20) for name, proc in procs.items()}
        for counter in counters.values():
            counter.stop.set()
    shots = counters["folder"].shots
    judged_once = sum(1 for n in range(written) if shots.get(f"IMG_{n:05d}.jpg") == 1)
    twice = sum(1 for count in shots.values() if count > 1)
    first, last = samples[0], samples[-1]
    summary = {
        "minutes": args.minutes,
        "photos_written": written,
        "judged_exactly_once": judged_once,
        "judged_twice_or_more": twice,
        "video_blinks": counters["video"].types["blink"],
        "exit_codes": codes,
        **{
            f"{name}_{what}_growth": round(last[f"{name}_{what}"] - first[f"{name}_{what}"], 1)
            for name in procs
            for what in ("rss_mb", "fds")
        },
    }
    print(json.dumps(summary, indent=1))
    if args.json:
        args.json.write_text(json.dumps({"samples": samples, "summary": summary}, indent=1))
    shutil.rmtree(work, ignore_errors=True)
    missed = written - judged_once
    return 0 if missed == 0 and twice == 0 and all(c == 0 for c in codes.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
