"""Many publishers on one subscriber: each camera's stream is tracked on its own.

A subscriber connected to several endpoints, or to a relay, sees the events of many
publishers interleaved. Every publisher instance numbers its events from 1 (`seq`), so gaps
are counted per instance. The camera is the event's `source`: a new publisher instance for a
source already known is that camera restarting — its sequence starts over, which is not a
loss. Events a subscriber missed before it first heard an instance (it joined late, or a
restarted camera's first events went out before the connection was up) are counted apart
from gaps, because nothing between two received events went missing there.

Pure bookkeeping, no sockets: `pubsub.Subscriber` feeds it, and every subscriber command
(tail, overlay, sound, mqtt, the relay itself) reads the same numbers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Stream:
    """What one camera (source) has sent, for its current publisher instance and overall."""

    source: str
    publisher: str
    first_seq: int
    last_seq: int
    last_seen: float  # time.monotonic() of its latest event
    received: int = 0  # events received from this source, all instances
    dropped: int = 0  # events lost in seq gaps, all instances
    restarts: int = 0  # times the source came back as a new publisher instance
    unseen_at_start: int = 0  # seq numbers before the first one received, per instance
    status: dict[str, Any] | None = None  # its latest status event
    publishers: list[str] = field(default_factory=list)  # instance ids, oldest first

    def summary(self) -> str:
        line = (
            f"{self.source}: {self.received} event(s), {self.dropped} dropped, "
            f"{self.restarts} restart(s)"
        )
        if self.unseen_at_start:
            line += f", {self.unseen_at_start} sent before this subscriber heard them"
        return line


@dataclass(frozen=True)
class Seen:
    """How one event fits its stream."""

    stream: Stream
    gap: int  # events lost just before this one (0 for the first of an instance)
    new_publisher: bool  # the first event of a publisher instance
    restart: bool  # ... that replaces an earlier instance of the same source
    shared_source: bool  # first sign of an older instance still running beside the newer one


class StreamTracker:
    """Per-publisher seq bookkeeping; `dropped` and `restarts` are the totals over all."""

    def __init__(self) -> None:
        self.streams: dict[str, Stream] = {}  # by source
        self._last_seq: dict[str, int] = {}  # by publisher instance
        self._source_of: dict[str, str] = {}  # publisher instance -> source
        self.shared_sources: set[str] = set()  # sources two live instances claim at once

    @property
    def dropped(self) -> int:
        return sum(s.dropped for s in self.streams.values())

    @property
    def restarts(self) -> int:
        return sum(s.restarts for s in self.streams.values())

    @property
    def publishers(self) -> int:
        return len(self._source_of)

    def see(self, event: dict[str, Any], now: float | None = None) -> Seen:
        """Record one decoded event (it has `publisher`, `seq` and usually `source`)."""
        now = time.monotonic() if now is None else now
        publisher, seq = str(event["publisher"]), int(event["seq"])
        source = str(event.get("source") or publisher)
        known_source = self._source_of.get(publisher)
        if known_source is not None:
            source = known_source  # an instance belongs to the source it first named
        stream = self.streams.get(source)
        previous = self._last_seq.get(publisher)
        new_publisher = previous is None
        restart = shared = False
        gap = 0
        if new_publisher:
            self._source_of[publisher] = source
            if stream is None:
                stream = Stream(source, publisher, seq, seq, now)
                self.streams[source] = stream
            else:
                restart = True
                stream.restarts += 1
                stream.publisher, stream.first_seq = publisher, seq
            stream.publishers.append(publisher)
            stream.unseen_at_start += max(0, seq - 1)
        else:
            assert stream is not None
            if seq > previous:
                gap = seq - previous - 1
                stream.dropped += gap
            if publisher != stream.publisher and source not in self.shared_sources:
                shared = True  # the older instance is alive too: two cameras, one name
                self.shared_sources.add(source)
        self._last_seq[publisher] = max(seq, previous or 0)
        if publisher == stream.publisher:
            stream.last_seq = max(stream.last_seq, seq) if not new_publisher else seq
        stream.received += 1
        stream.last_seen = now
        if event.get("type") == "status":
            stream.status = event
        return Seen(stream, gap, new_publisher, restart, shared)

    def summary_lines(self) -> list[str]:
        return [s.summary() for s in sorted(self.streams.values(), key=lambda s: s.source)]


def note(seen: Seen, event: dict[str, Any]) -> str | None:
    """One line for a log when an event changes the picture of its camera, else None."""
    source = seen.stream.source
    if seen.restart:
        previous = seen.stream.publishers[-2]
        return (
            f"receiving from publisher {event['publisher']} ({source}): publisher restarted "
            f"(was {previous}), its seq starts over"
        )
    if seen.new_publisher:
        return f"receiving from publisher {event['publisher']} ({source})"
    if seen.gap:
        return f"{seen.gap} event(s) dropped (seq gap) from {source} before seq {event['seq']}"
    if seen.shared_source:
        return (
            f"two publishers both call themselves {source}: give each camera its own name "
            "(source.name / eyespy live --name)"
        )
    return None
