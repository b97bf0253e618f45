"""The wire format other apps rely on: round trips, validation and drop counting."""

import json

import pytest

from eyespy_live import events
from eyespy_live.bus.streams import StreamTracker


def make(seq, publisher="p1", event_type="blink"):
    return events.make_event(
        event_type,
        seq=seq,
        publisher=publisher,
        source="video:x",
        capture_ts=1.0,
        body={"face": {"id": 1}},
        publish_ts=2.0,
    )


def test_an_event_round_trips_through_the_wire_format():
    event = make(7)
    parts = events.encode(event)
    assert parts[0] == b"blink"
    decoded, attachment = events.decode(parts)
    assert decoded == event and attachment is None
    for key in ("schema", "type", "seq", "publisher", "source", "capture_ts", "publish_ts"):
        assert key in decoded


def test_a_third_part_is_the_binary_attachment():
    parts = events.encode(make(1, event_type="preview")) + [b"\xff\xd8jpeg"]
    assert events.decode(parts)[1] == b"\xff\xd8jpeg"


@pytest.mark.parametrize(
    "parts",
    [
        [b"blink"],
        [b"blink", b"not json"],
        [b"blink", b"[1, 2]"],
        [b"blink", json.dumps({"type": "blink"}).encode()],
        [b"shot", events.encode(make(1))[1]],
        [b"blink", json.dumps({**make(1), "schema": 99}).encode()],
    ],
)
def test_malformed_messages_are_rejected_with_a_reason(parts):
    with pytest.raises(events.EventError):
        events.decode(parts)


def test_unknown_event_types_cannot_be_made():
    with pytest.raises(events.EventError):
        make(1, event_type="gossip")


def test_seq_gaps_count_dropped_events_and_a_restart_is_not_a_gap():
    tracker = StreamTracker()
    for seq in (1, 2, 5, 6):
        tracker.see(make(seq))
    assert tracker.dropped == 2
    tracker.see(make(1, publisher="p2"))  # the publisher restarted: new instance id
    tracker.see(make(2, publisher="p2"))
    assert tracker.dropped == 2 and tracker.restarts == 1


def test_face_report_json_is_plain_lists_and_rounded():
    report = events.FaceReport(3, (1, 2, 3, 4), (0.123456, 0.9), "half")
    data = report.to_json()
    assert data == {
        "id": 3,
        "box": [1, 2, 3, 4],
        "p_closed": [0.1235, 0.9],
        "state": "half",
        "reason": None,
        "openness": None,
    }
    json.dumps(data)


def test_face_report_openness_is_a_rounded_pair_when_measured():
    report = events.FaceReport(1, (0, 0, 9, 9), (0.1, 0.2), "squint", None, (0.41234, 0.5))
    assert report.to_json()["openness"] == [0.412, 0.5]
