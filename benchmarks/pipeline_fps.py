"""Live pipeline throughput: frames per second, per detector, at 640×480 and 1280×720.

Every row runs the real pipeline (face detector, tracker, eye crops, int8 eye model, blink
state machine, ZeroMQ publish) on one core over frames already in memory, so decoding is
timed separately. The baseline is the naive pipeline: the Haar cascade on every frame.
A second table splits one frame's time into stages.

    python benchmarks/pipeline_fps.py [--data ../shared/data] [--frames 150]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np

from eyespy_live import config as config_module
from eyespy_live.bus.pubsub import Publisher
from eyespy_live.live.run import LiveRun
from eyespy_live.sources.base import Frame
from eyespy_live.vision.eyecrop import eye_patches, to_gray
from eyespy_live.vision.eyestate import EyeStateModel
from eyespy_live.vision.faces import create_detector

# (label, detector, detect_every, eyelid geometry: "cascade" (default), "off" or "always";
# "no smear": the cascade without the motion-smear check, to show what that check costs)
ROWS = [
    ("haar, every frame (baseline)", "haar", 1, "cascade"),
    ("blazeface, every frame", "blazeface", 1, "cascade"),
    ("blazeface, detect every 3rd", "blazeface", 3, "cascade"),
    ("  same, CNN only (no geometry)", "blazeface", 3, "off"),
    ("  same, geometry on every face", "blazeface", 3, "always"),
    ("  same, no motion-smear check", "blazeface", 3, "no smear"),
    ("blazeface, detect every 6th", "blazeface", 6, "cascade"),
]


def webcam_frames(data: Path, size: tuple[int, int], count: int) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(data / "video/focus_webcam/mahie_test_1.avi"))
    frames = []
    while len(frames) < count:
        ok, image = capture.read()
        if not ok:
            break
        frames.append(cv2.resize(image, size) if image.shape[1::-1] != size else image)
    return frames


def five_face_frames(data: Path, size: tuple[int, int], count: int) -> list[np.ndarray]:
    """Five real faces (CEW, open eyes) on one canvas, nudged a pixel per frame like video."""
    faces = sorted((data / "cew/faces/OpenFace").glob("*.jpg"))[:5]
    width, height = size
    side = height // 3
    canvas = np.full((height, width, 3), 90, np.uint8)
    positions = [
        (40, 40),
        (width // 2 - side // 2, 40),
        (width - side - 40, 40),
        (width // 4, height - side - 40),
        (3 * width // 4 - side, height - side - 40),
    ]
    for path, (x, y) in zip(faces, positions, strict=True):
        canvas[y : y + side, x : x + side] = cv2.resize(cv2.imread(str(path)), (side, side))
    return [np.roll(canvas, i % 3, axis=1) for i in range(count)]


def fps_of(
    frames: list[np.ndarray], detector: str, detect_every: int, publisher, geometry: str = "cascade"
) -> tuple[float, int]:
    cfg = config_module.from_dict({"vision": {
        "detector": detector, "detect_every": detect_every, "geometry": geometry != "off"}})
    seen = []

    def emit(event_type, body, *, source, capture_ts, attachment=None):
        return publisher.publish(event_type, body, source=source, capture_ts=capture_ts)

    run = LiveRun(cfg, emit)
    if geometry == "always":  # no cascade: the landmark stage on every face, every frame
        run.analyzer.model.clear_open = -1.0
    if geometry == "no smear":
        run.analyzer.smear = None
    run.process(Frame(frames[0], 0.0, "bench", 0))  # warm-up
    start = time.perf_counter()
    for i, image in enumerate(frames):
        run.process(Frame(image, i / 30.0, "bench", i))
        seen.append(run.stats.faces)
    elapsed = time.perf_counter() - start
    return len(frames) / elapsed, int(np.median(seen))


def stage_times(frames: list[np.ndarray], encoded: list[bytes], publisher) -> dict[str, float]:
    detector = create_detector("blazeface")
    model = EyeStateModel()
    totals = dict.fromkeys(("decode", "detect", "crop", "infer", "publish"), 0.0)
    for image, jpeg in zip(frames, encoded, strict=True):
        t0 = time.perf_counter()
        cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
        t1 = time.perf_counter()
        faces = detector.detect(image)
        t2 = time.perf_counter()
        gray = to_gray(image)
        patches = [eye_patches(gray, f) for f in faces]
        t3 = time.perf_counter()
        probabilities = [[model.p_closed(p) for p in eyes.patches] for eyes in patches]
        t4 = time.perf_counter()
        publisher.publish("blink", {"p": probabilities}, source="bench", capture_ts=t0)
        t5 = time.perf_counter()
        for key, span in zip(totals, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4), strict=True):
            totals[key] += span
    return {k: v / len(frames) * 1000 for k, v in totals.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=Path(__file__).parents[2] / "shared" / "data")
    parser.add_argument("--frames", type=int, default=150)
    args = parser.parse_args()
    cv2.setNumThreads(1)
    publisher = Publisher("ipc:///tmp/eyespy-bench-fps.sock")
    print(f"{'scene':24} {'pipeline':32} {'faces':>5} {'fps':>8} {'vs baseline':>12}")
    for size in ((640, 480), (1280, 720)):
        for label, maker in (("1 face", webcam_frames), ("5 faces", five_face_frames)):
            frames = maker(args.data, size, args.frames)
            baseline = None
            for row_label, detector, every, geometry in ROWS:
                fps, faces = fps_of(frames, detector, every, publisher, geometry)
                baseline = baseline or fps
                scene = f"{size[0]}x{size[1]} {label}"
                print(f"{scene:24} {row_label:32} {faces:5d} {fps:8.1f} {fps / baseline:11.1f}x")
    frames = webcam_frames(args.data, (640, 480), 60)
    encoded = [cv2.imencode(".jpg", f)[1].tobytes() for f in frames]
    stages = stage_times(frames, encoded, publisher)
    decide = _decide_time()
    print("\nper-stage time, 640x480, 1 face, blazeface on every frame (ms per frame)")
    for key, value in {**stages, "decide": decide}.items():
        print(f"  {key:8} {value:8.3f}")
    publisher.close()


def _decide_time() -> float:
    from eyespy_live.decision.blink import BlinkStateMachine, Observation

    machine = BlinkStateMachine()
    values = np.random.default_rng(0).random(20000)
    start = time.perf_counter()
    for i, v in enumerate(values):
        machine.update(Observation(i, i / 30.0, (float(v), float(v))))
    return (time.perf_counter() - start) / len(values) * 1000


if __name__ == "__main__":
    main()
