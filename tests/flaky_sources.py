"""Test-only frame sources that fail the way real cameras do, for the service's supervision.

Imported into a real `eyespy service` process (see tests/test_service_process.py); they
register themselves like any source plugin, by subclassing FrameSource with a scheme.

- `flaky:STATE_DIR`: plays the demo clip; on its first N openings (N from STATE_DIR/fail_times)
  it raises after a few frames, as a camera unplugged mid-session does.
- `hang:STATE_DIR`: plays a few frames, then blocks for good inside frames(), like a camera
  call that never returns; close() cannot interrupt it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

from eyespy_live.sources.base import Frame, FrameSource
from eyespy_live.sources.video import DemoSource


class CameraUnplugged(RuntimeError):
    pass


class FlakySource(FrameSource):
    scheme = "flaky"

    def __init__(self, state_dir: str, **_: object):
        self.state_dir = Path(state_dir)
        opened = self.state_dir / "openings"
        self.opening = int(opened.read_text()) + 1 if opened.exists() else 1
        opened.write_text(str(self.opening))
        self.fail = self.opening <= int((self.state_dir / "fail_times").read_text())
        self.demo = DemoSource(realtime=True, loop=True)

    @property
    def id(self) -> str:
        return "flaky"

    def frames(self) -> Iterator[Frame]:
        for frame in self.demo.frames():
            if self.fail and frame.seq == 5:
                raise CameraUnplugged(f"camera unplugged (opening {self.opening})")
            yield frame

    def close(self) -> None:
        self.demo.close()


class HangingSource(FlakySource):
    scheme = "hang"

    @property
    def id(self) -> str:
        return "hang"

    def frames(self) -> Iterator[Frame]:
        for frame in self.demo.frames():
            if frame.seq == 10:
                (self.state_dir / "hung").write_text("1")
                time.sleep(3600)
            yield frame
