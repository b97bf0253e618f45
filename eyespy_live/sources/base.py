"""The frame and the small interface every source implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import ClassVar, Literal

import numpy as np


class SourceError(RuntimeError):
    """A source that cannot be opened or has failed for good (message is for the user)."""


@dataclass
class Frame:
    image: np.ndarray  # BGR (or grayscale) uint8
    ts: float  # capture time, seconds since the epoch
    source: str  # source id, e.g. "video:clip.mp4"
    seq: int  # frame index within this source, from 0
    kind: Literal["live", "shot"] = "live"
    name: str | None = None  # file name for shots
    meta: dict = field(default_factory=dict)


def valid_image(image: object) -> bool:
    """Frames that reach the vision code must be non-empty 2-D or 3-channel uint8 arrays."""
    return (
        isinstance(image, np.ndarray)
        and image.dtype == np.uint8
        and image.size > 0
        and (image.ndim == 2 or (image.ndim == 3 and image.shape[2] in (1, 3, 4)))
        and image.shape[0] >= 8
        and image.shape[1] >= 8
    )


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
