"""The bus under faults: peers die and come back, and a subscriber stops reading.

Every peer is a real process on a real ZeroMQ socket (tests/faults/bus_peer.py).
"""

from __future__ import annotations

import time

import pytest

from eyespy_live.bus.pubsub import Publisher

pytestmark = pytest.mark.timeout(90)


def is_event(line: dict) -> bool:
    return "seq" in line


def test_a_killed_subscriber_is_replaced_by_a_new_one_that_gets_events_again(peers, endpoint):
    publisher = peers("publish", endpoint)
    publisher.wait_for(lambda line: line.get("state") == "bound")
    first = peers("subscribe", endpoint)
    seen = first.wait_for(is_event)
    first.kill()

    second = peers("subscribe", endpoint)
    again = second.wait_for(lambda line: is_event(line) and line["seq"] > seen["seq"])

    assert again["publisher"] == seen["publisher"], "the same publisher kept running"
    assert publisher.process.poll() is None, "the publisher survived its subscriber's death"


def test_a_restarted_publisher_is_counted_as_a_restart_not_as_drops(peers, endpoint):
    subscriber = peers("subscribe", endpoint)
    subscriber.wait_for(lambda line: line.get("state") == "ready")
    old = peers("publish", endpoint)
    old_id = old.wait_for(lambda line: line.get("state") == "bound")["publisher"]
    subscriber.wait_for(lambda line: is_event(line) and line["publisher"] == old_id)
    old.kill()

    new = peers("publish", endpoint)
    new_id = new.wait_for(lambda line: line.get("state") == "bound")["publisher"]
    first_new = subscriber.wait_for(lambda line: is_event(line) and line["publisher"] == new_id)
    later = subscriber.wait_for(
        lambda line: (
            is_event(line) and line["publisher"] == new_id and line["seq"] >= first_new["seq"] + 50
        )
    )

    assert later["restarts"] == 1
    assert later["dropped"] == 0, "events sent before the reconnect are not counted as drops"


def test_a_subscriber_that_never_reads_sees_the_drops_as_seq_gaps(peers, endpoint):
    publisher = Publisher(endpoint, high_water_mark=10)
    try:
        stuck = peers("stuck", endpoint)
        while stuck.next_line(timeout_s=0.02) is None:  # probe until it is connected
            publisher.publish("status", {"state": "probe"}, source="test", capture_ts=time.time())

        blob = bytes(4096)
        for number in range(5000):  # ~20 MB: far beyond the socket buffers and the HWM
            publisher.publish(
                "preview", {"frame": number}, source="test", capture_ts=0.0, attachment=blob
            )

        stuck.tell("read now")
        summary = None
        while summary is None:
            publisher.publish("status", {"state": "end"}, source="test", capture_ts=time.time())
            summary = stuck.next_line(timeout_s=0.05)
    finally:
        publisher.close()

    assert summary["state"] == "drained"
    assert summary["dropped"] > 0, "the flood must have overflowed the stuck subscriber"
    assert summary["received"] + summary["dropped"] == summary["end"] - summary["first"], (
        "every event is either received or counted as dropped"
    )
