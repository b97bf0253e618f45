"""Photo arriving → RETAKE banner drawn in the browser, beside a direct ZeroMQ subscriber.

Everything real and in its own process, as on a shoot: `eyespy live --source folder:DIR
--watch` judges each photo, `eyespy overlay` serves the page, headless Chromium shows it.
This script drops a photo with closed eyes into the hot folder (a rename: complete at that
instant, t0), and reads two arrival times for the same shot event:
- a plain ZeroMQ subscriber in this process (the baseline: what any app gets);
- the page's own timestamp after the frame with the banner was painted
  (`window.eyespy.drawn[].drawn`, performance.timeOrigin + performance.now()).
Both clocks are the machine's wall clock; the page-minus-Python clock offset is measured
over the DevTools connection and printed.

    python benchmarks/overlay_latency.py [--data ../shared/data] [--photos 40] [--gap 0.8]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from browser import Browser  # noqa: E402
from endpoints import free_tcp_endpoint  # noqa: E402

from eyespy_live.bus.pubsub import Subscriber  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def describe(name: str, values: list[float]) -> str:
    return (
        f"{name:<44} p50 {statistics.median(values):7.1f} ms   p99 {percentile(values, 99):7.1f}"
        f" ms   max {max(values):7.1f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=str(REPO.parent / "shared" / "data"))
    parser.add_argument("--photos", type=int, default=40)
    parser.add_argument("--gap", type=float, default=0.8, help="seconds between photos")
    args = parser.parse_args()
    photo = (Path(args.data) / "photos" / "dryeye_pair" / "eyes_closed.jpg").read_bytes()
    endpoint = free_tcp_endpoint()
    folder = Path(tempfile.mkdtemp(prefix="eyespy-bench-"))
    live = subprocess.Popen(
        [sys.executable, "-m", "eyespy_live", "live", "--source", f"folder:{folder}",
         "--watch", "--endpoint", endpoint, "--quiet"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    for line in live.stderr:
        if "watching folder:" in line:
            break
    threading.Thread(target=lambda: [None for _ in live.stderr], daemon=True).start()
    overlay = subprocess.Popen(
        [sys.executable, "-m", "eyespy_live", "overlay", "--endpoint", endpoint, "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    url = overlay.stdout.readline().split("open ", 1)[1].strip()
    direct: dict[str, float] = {}
    stop = threading.Event()

    def subscribe() -> None:
        subscriber = Subscriber(endpoint, topics=("shot",))
        while not stop.is_set():
            got = subscriber.receive(timeout_s=0.2)
            if got is not None:
                direct[got[0]["file"]] = time.time()
        subscriber.close()

    reader = threading.Thread(target=subscribe, daemon=True)
    reader.start()
    browser = Browser()
    arrived: dict[str, float] = {}
    try:
        browser.open(url)
        browser.wait_for("window.eyespy.connects >= 1")
        offsets = []
        for _ in range(20):
            before = time.time()
            page = browser.evaluate("performance.timeOrigin + performance.now()")
            after = time.time()
            offsets.append((page / 1000 - (before + after) / 2, after - before))
        offset = min(offsets, key=lambda o: o[1])[0]  # the tightest round trip
        warm = 0
        while not direct and warm < 10:  # until the subscriptions are through
            name = f"WARM_{warm:03d}.JPG"
            (folder / f".{name}").write_bytes(photo)
            (folder / f".{name}").rename(folder / name)
            warm += 1
            time.sleep(2)
        browser.wait_for("window.eyespy.drawn.length > 0", timeout=20)
        for number in range(args.photos):
            name = f"IMG_{number:04d}.JPG"
            part = folder / f".{name}.part"
            part.write_bytes(photo)
            arrived[name] = time.time()
            part.rename(folder / name)
            time.sleep(args.gap)
        time.sleep(3)
        drawn = browser.evaluate("window.eyespy.drawn")
    finally:
        browser.close()
        stop.set()
        reader.join(2)
        for process in (overlay, live):
            process.terminate()
            process.wait(30)
    pages = {d["file"]: d for d in drawn if d["file"] in arrived}
    both = [n for n in arrived if n in direct and n in pages]
    to_direct = [(direct[n] - arrived[n]) * 1000 for n in both]
    to_page = [(pages[n]["drawn"] / 1000 - offset - arrived[n]) * 1000 for n in both]
    extra = [p - d for p, d in zip(to_page, to_direct, strict=True)]
    publish_to_page = [
        (pages[n]["drawn"] / 1000 - offset - pages[n]["publish_ts"]) * 1000 for n in both
    ]
    publish_to_direct = [(direct[n] - pages[n]["publish_ts"]) * 1000 for n in both]
    verdicts = sorted({pages[n]["verdict"] for n in both})
    print(
        f"photos {len(arrived)}, seen by both {len(both)}, verdicts {verdicts}, "
        f"page clock offset {offset * 1000:+.2f} ms"
    )
    print(describe("photo arrives → direct ZeroMQ subscriber", to_direct))
    print(describe("photo arrives → banner painted in Chromium", to_page))
    print(describe("overlay's share (page − direct)", extra))
    print(describe("shot published → direct subscriber", publish_to_direct))
    print(describe("shot published → banner painted", publish_to_page))
    ratio = statistics.median(to_page) / statistics.median(to_direct)
    print(f"page / direct, p50: {ratio:.2f}x")
    return 0 if len(both) == len(arrived) else 1


if __name__ == "__main__":
    raise SystemExit(main())
