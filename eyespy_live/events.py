"""The public event contract: what goes on the wire, and how to read it back.

A message is multipart `[topic, json]` (a `preview` message adds a third part with JPEG
bytes). Every event carries the schema version, its type, a per-publisher sequence number
(gaps mean dropped events), the publisher's instance id (a restart starts a new sequence),
the source, and the capture and publish times. This module is pure: no sockets. Counting
gaps and restarts per publisher is `eyespy_live.bus.streams.StreamTracker`.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from typing import Any

# 2: face states squint and wink, can't-tell reasons from eyelid geometry, per-eye
# `openness` (docs/events.md).
SCHEMA_VERSION = 2
TOPICS = ("blink", "shot", "status", "preview")


class EventError(ValueError):
    """A message that is not a valid eyespy event."""


@dataclass(frozen=True)
class FaceReport:
    id: int  # stable track id within one source
    box: tuple[int, int, int, int]  # x, y, width, height in frame pixels
    p_closed: tuple[float, float] | None  # image-left eye, image-right eye; None: can't tell
    state: str  # open | squint | half | closed | wink | unknown (docs/events.md)
    reason: str | None = None  # why "unknown"
    # Lid gap / iris diameter per eye when the eyelid geometry was measured, else None.
    openness: tuple[float, float] | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["box"] = list(self.box)
        data["p_closed"] = None if self.p_closed is None else [round(p, 4) for p in self.p_closed]
        data["openness"] = None if self.openness is None else [round(v, 3) for v in self.openness]
        return data


def make_event(
    event_type: str,
    *,
    seq: int,
    publisher: str,
    source: str,
    capture_ts: float,
    body: dict[str, Any],
    publish_ts: float | None = None,
) -> dict[str, Any]:
    if event_type not in TOPICS:
        raise EventError(f"unknown event type {event_type!r}; expected one of {TOPICS}")
    return {
        "schema": SCHEMA_VERSION,
        "type": event_type,
        "seq": seq,
        "publisher": publisher,
        "source": source,
        "capture_ts": capture_ts,
        "publish_ts": time.time() if publish_ts is None else publish_ts,
        **body,
    }


def encode(event: dict[str, Any]) -> list[bytes]:
    return [event["type"].encode(), json.dumps(event, separators=(",", ":")).encode()]


def decode(parts: list[bytes]) -> tuple[dict[str, Any], bytes | None]:
    """The event and the optional binary attachment of a received multipart message."""
    if len(parts) < 2:
        raise EventError(f"expected [topic, json], got {len(parts)} part(s)")
    try:
        event = json.loads(parts[1])
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EventError(f"event is not JSON: {exc}") from exc
    if not isinstance(event, dict):
        raise EventError("event JSON is not an object")
    for key in ("schema", "type", "seq", "publisher", "capture_ts", "publish_ts"):
        if key not in event:
            raise EventError(f"event lacks {key!r}")
    if event["schema"] != SCHEMA_VERSION:
        raise EventError(f"schema {event['schema']} not understood (this is {SCHEMA_VERSION})")
    if parts[0].decode(errors="replace") != event["type"]:
        raise EventError("topic and event type differ")
    return event, (parts[2] if len(parts) > 2 else None)
