"""The frame and the small interface every source implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import ClassVar, Literal

import numpy as np

from eyespy_live.photos.load import LoadedPhoto, valid_image  # noqa: F401 (re-exported)


class SourceError(RuntimeError):
    """A source that cannot be opened or has failed for good (message is for the user)."""


class SourceSetupError(SourceError):
    """A source that waiting cannot bring (a video file that does not exist): a setup error,
    never retried, unlike a webcam or camera that may be plugged in later."""


@dataclass
class Frame:
    image: np.ndarray  # BGR (or grayscale) uint8
    ts: float  # capture time, seconds since the epoch
    source: str  # source id, e.g. "video:clip.mp4"
    seq: int  # frame index within this source, from 0
    kind: Literal["live", "shot"] = "live"
    name: str | None = None  # file name for shots
    meta: dict = field(default_factory=dict)


class FrameSource(ABC):
    """A stream of frames. `frames()` ends when the source is exhausted or `close()` is called."""

    scheme: ClassVar[str] = ""
    description: ClassVar[str] = ""

    @classmethod
    def from_spec(cls, argument: str, **options: object) -> FrameSource:
        return cls(argument, **options)  # type: ignore[call-arg]

    @property
    @abstractmethod
    def id(self) -> str:
        """Names the source in events, e.g. "webcam:0"."""

    @abstractmethod
    def frames(self) -> Iterator[Frame]:
        """Frames in capture order until the source ends or `close()` is called."""

    def close(self) -> None:  # noqa: B027 - optional: not every source holds a device
        """Release the device or file; safe to call twice and from another thread."""

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class PhotoFrame(Frame):
    """A `shot` frame that carries its LoadedPhoto, so the service can use the fast path.

    `image` is the reduced decode (what a preview needs); `photo` keeps the bytes for eyes.
    """

    photo: LoadedPhoto | None = None


def photo_frame(photo: LoadedPhoto, *, ts: float, source: str, seq: int, name: str) -> PhotoFrame:
    meta = {"from_raw_preview": True} if photo.scale.from_raw else {}
    return PhotoFrame(
        image=photo.image, ts=ts, source=source, seq=seq, kind="shot", name=name, meta=meta,
        photo=photo,
    )  # fmt: skip
