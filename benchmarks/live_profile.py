"""Where the live path spends its time, and what the profile-driven fixes bought.

1. Profiles `run_live` over the 640×480 webcam video with pyinstrument (a dev tool, not a
   dependency: `pip install pyinstrument`; skipped with a note when it is missing).
2. Times the fixes against what they replaced, alternating in the same run (CPU time, best
   of several blocks, so a busy machine hurts both sides alike):
   - BlazeFace input shrink: area-halving + bilinear vs one fractional INTER_AREA resize;
   - eye-model input: a 256-entry lookup table vs float scale/round/clip per patch.

    python benchmarks/live_profile.py [--data ../shared/data] [--frames 600]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np

from eyespy_live.bus.pubsub import Publisher
from eyespy_live.config import Config
from eyespy_live.live.run import LiveRun, run_live
from eyespy_live.sources.base import Frame, FrameSource
from eyespy_live.vision.detectors import blazeface
from eyespy_live.vision.eyecrop import eye_patches, to_gray
from eyespy_live.vision.eyestate import EyeStateModel
from eyespy_live.vision.faces import create_detector

VIDEO = "video/focus_webcam/mahie_test_1.avi"


class MemorySource(FrameSource):
    def __init__(self, frames: list[np.ndarray]):
        self._frames = frames

    @property
    def id(self) -> str:
        return "memory"

    def frames(self):
        for seq, image in enumerate(self._frames):
            yield Frame(image, time.time(), self.id, seq)


def old_shrink(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """What the detector did before: one INTER_AREA resize at a fractional ratio."""
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)


def old_p_closed(model: EyeStateModel, patch: np.ndarray) -> float:
    """What the eye model did before: float scale, round and clip on every patch."""
    info = np.iinfo(model._in_dtype)
    x = patch.astype(np.float32) / 255.0
    x = np.clip(np.round(x / model._in_scale + model._in_zero), info.min, info.max)
    interpreter = model._interpreter
    interpreter.set_tensor(model._in_index, x.astype(model._in_dtype).reshape(1, 24, 24, 1))
    interpreter.invoke()
    raw = interpreter.get_tensor(model._out_index).reshape(-1)[0]
    return float(np.clip((float(raw) - model._out_zero) * model._out_scale, 0.0, 1.0))


def cpu_us(call, repeat: int, blocks: int = 7) -> float:
    best = float("inf")
    for _ in range(blocks):
        started = time.process_time()
        for _ in range(repeat):
            call()
        best = min(best, (time.process_time() - started) / repeat * 1e6)
    return best


def profile(frames: list[np.ndarray]) -> None:
    try:
        from pyinstrument import Profiler
    except ImportError:
        print("pyinstrument is not installed: profile skipped (pip install pyinstrument)\n")
        return
    publisher = Publisher("ipc:///tmp/eyespy-live-profile.sock")
    profiler = Profiler(interval=0.0005)
    profiler.start()
    run_live(Config(), MemorySource(frames), publisher)
    profiler.stop()
    publisher.close()
    print(profiler.output_text(unicode=True, color=False, show_all=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).parents[2] / "shared" / "data")
    parser.add_argument("--frames", type=int, default=600)
    args = parser.parse_args()
    capture = cv2.VideoCapture(str(args.data / VIDEO))
    frames = [capture.read()[1] for _ in range(args.frames)]
    capture.release()
    profile(frames)

    detector = create_detector("blazeface", variant="full")
    model = EyeStateModel()
    image = frames[0]
    photo = cv2.imread(str(args.data / "photos/dryeye_pair/eyes_open.jpg"))
    face = detector.detect(image)[0]
    patch = eye_patches(to_gray(image), face).patches[0]
    rows = []
    for label, old, new, repeat in (
        ("BlazeFace detect, 640×480 frame", None, lambda: detector.detect(image), 30),
        ("BlazeFace detect_photo, 1440×960 photo", None, lambda: detector.detect_photo(photo), 6),
        ("eye model, one 24×24 patch", lambda: old_p_closed(model, patch),
         lambda: model.p_closed(patch), 400),
    ):  # fmt: skip
        before, after = [], []
        for _ in range(3):  # alternate, so drifting load hurts both sides alike
            blazeface.shrink, current = old_shrink, blazeface.shrink
            before.append(cpu_us(old or new, repeat))
            blazeface.shrink = current
            after.append(cpu_us(new, repeat))
        rows.append((label, min(before), min(after)))

    def per_frame(shrink) -> float:
        blazeface.shrink, current = shrink, blazeface.shrink
        try:
            run = LiveRun(Config(), lambda *a, **k: {})
            started = time.process_time()
            for seq, frame in enumerate(frames[:300]):
                run.process(Frame(frame, 0.0, "bench", seq))
            return (time.process_time() - started) / 300 * 1e6
        finally:
            blazeface.shrink = current

    new_shrink = blazeface.shrink
    live = [(per_frame(old_shrink), per_frame(new_shrink)) for _ in range(3)]
    rows.append(
        ("LiveRun.process, 640×480 (detect every 3rd)", min(b for b, _ in live),
         min(a for _, a in live))
    )  # fmt: skip
    print("| step | before: CPU µs | after: CPU µs | speed-up |")
    print("|---|---|---|---|")
    for label, before, after in rows:
        print(f"| {label} | {before:.0f} | {after:.0f} | {before / after:.2f}× |")
    print("\n(LiveRun row: 'before' restores only the old shrink; the eye-model table is in both)")


if __name__ == "__main__":
    main()
