"""Frame sources: one module per kind, chosen by a spec string like `webcam:0`.

Adding a source type = one new module with a `FrameSource` subclass that sets `scheme`, and
its name in `_PLUGIN_MODULES` below.
"""

from __future__ import annotations

import logging

from eyespy_live.plugins import discover
from eyespy_live.sources.base import Frame, FrameSource, SourceError

log = logging.getLogger(__name__)

_PLUGIN_MODULES = ("video", "webcam", "folder", "gphoto")

__all__ = ["Frame", "FrameSource", "SourceError", "available_sources", "open_source"]


def available_sources() -> dict[str, type[FrameSource]]:
    return discover("eyespy_live.sources", _PLUGIN_MODULES, FrameSource, "scheme")


def open_source(spec: str, **options: object) -> FrameSource:
    """Build a source from `scheme:argument` (a bare number is a webcam, a bare path a video)."""
    scheme, _, argument = spec.partition(":")
    sources = available_sources()
    if scheme not in sources:
        if spec.isdigit():
            scheme, argument = "webcam", spec
        else:
            scheme, argument = "video", spec
    return sources[scheme].from_spec(argument, **options)
