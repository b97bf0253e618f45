"""Per-publisher stream tracking: gaps, restarts and late joins, camera by camera."""

from __future__ import annotations

from eyespy_live.bus.streams import StreamTracker


def ev(publisher: str, seq: int, source: str, kind: str = "blink") -> dict:
    return {"publisher": publisher, "seq": seq, "source": source, "type": kind}


def test_two_interleaved_publishers_have_their_own_gaps():
    t = StreamTracker()
    for e in [ev("a", 1, "cam-a"), ev("b", 1, "cam-b"), ev("a", 2, "cam-a"), ev("b", 4, "cam-b")]:
        t.see(e)
    seen = t.see(ev("a", 5, "cam-a"))
    assert seen.gap == 2
    assert t.streams["cam-a"].dropped == 2 and t.streams["cam-b"].dropped == 2
    assert t.dropped == 4 and t.restarts == 0 and t.publishers == 2


def test_a_restart_is_not_a_gap_and_counts_for_its_camera_only():
    t = StreamTracker()
    for seq in range(1, 11):
        t.see(ev("a1", seq, "cam-a"))
        t.see(ev("b", seq, "cam-b"))
    seen = t.see(ev("a2", 3, "cam-a"))  # restarted; its first two went out before we heard
    assert seen.restart and seen.new_publisher and seen.gap == 0
    t.see(ev("a2", 4, "cam-a"))
    a, b = t.streams["cam-a"], t.streams["cam-b"]
    assert (a.restarts, a.dropped, a.unseen_at_start, a.publisher) == (1, 0, 2, "a2")
    assert (b.restarts, b.dropped) == (0, 0)
    assert a.received == 12 and a.publishers == ["a1", "a2"]


def test_a_late_join_is_reported_apart_from_drops():
    t = StreamTracker()
    seen = t.see(ev("a", 40, "cam-a"))
    assert seen.gap == 0 and not seen.restart
    assert t.streams["cam-a"].unseen_at_start == 39 and t.dropped == 0


def test_two_live_instances_claiming_one_source_are_flagged_not_counted_as_restarts():
    t = StreamTracker()
    t.see(ev("x", 1, "webcam:0"))
    t.see(ev("y", 1, "webcam:0"))  # looks like a restart ...
    seen = t.see(ev("x", 2, "webcam:0"))  # ... until the first one speaks again
    assert seen.shared_source and seen.gap == 0
    assert t.shared_sources == {"webcam:0"} and t.restarts == 1


def test_status_is_kept_per_camera_and_old_seq_is_not_a_gap():
    t = StreamTracker()
    t.see(ev("a", 5, "cam-a", "status") | {"fps": 30.0})
    assert t.see(ev("a", 3, "cam-a")).gap == 0  # a duplicate path: nothing lost
    assert t.streams["cam-a"].status["fps"] == 30.0
    assert t.summary_lines() == [
        "cam-a: 2 event(s), 0 dropped, 0 restart(s), 4 sent before this subscriber heard them"
    ]
