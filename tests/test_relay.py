"""Two real cameras (`eyespy live` on two videos) -> a real `eyespy relay` -> subscribers in
their own processes: both streams arrive, in order per publisher, and seq gaps and restarts
are reported per camera, the way they really happened (a camera killed and restarted, the
relay killed and restarted)."""

from __future__ import annotations

import re
import time
from collections import defaultdict

import needs
import pytest
from endpoints import free_tcp_endpoint
from multi_procs import Proc

VIDEOS = ("mahie_test_1.avi", "mahie_test_4_low_fps.avi")
FAST_STATUS = ("--set", "service.status_interval_s=0.1")
SUMMARY = re.compile(r"eyespy tail: (\S+): (\d+) event\(s\), (\d+) dropped, (\d+) restart")


def camera(video, endpoint: str, *extra: str) -> Proc:
    return Proc(
        "live",
        "--source",
        f"video:{video}",
        "--realtime",
        "--endpoint",
        endpoint,
        "--json",
        *FAST_STATUS,
        *extra,
    )


def by_instance(events: list[dict]) -> dict[str, list[dict]]:
    streams: dict[str, list[dict]] = defaultdict(list)
    for event in events:
        streams[event["publisher"]].append(event)
    return streams


def summaries(tail: Proc) -> dict[str, tuple[int, int, int]]:
    found = {}
    for line in tail.errors:
        m = SUMMARY.match(line)
        if m:
            found[m.group(1)] = (int(m.group(2)), int(m.group(3)), int(m.group(4)))
    return found


def sources_seen(proc: Proc) -> set[str]:
    return {e["source"] for e in list(proc.events) if e.get("source", "").startswith("video:")}


def instances_of(proc: Proc, source: str) -> set[str]:
    return {e["publisher"] for e in list(proc.events) if e.get("source") == source}


def count_from(proc: Proc, publisher: str) -> int:
    return sum(1 for e in list(proc.events) if e["publisher"] == publisher)


@pytest.mark.timeout(240)
def test_two_cameras_through_a_relay_with_a_camera_and_the_relay_restarted():
    folder = needs.shared_data("video", "focus_webcam")
    videos = [folder / name for name in VIDEOS]
    ends = [free_tcp_endpoint() for _ in videos]
    backend = free_tcp_endpoint()
    relay_args = [
        "relay",
        "--frontend",
        "",
        "--backend",
        backend,
        "--name",
        "relay-test",
        "--set",
        "relay.status_interval_s=0.5",
    ]
    for end in ends:
        relay_args += ["--upstream", end]
    relay = Proc(*relay_args)
    via_relay = Proc("tail", "--endpoint", backend)
    direct = Proc("tail", "--endpoint", ends[0], "--endpoint", ends[1])
    cams = [camera(v, e) for v, e in zip(videos, ends, strict=True)]
    a_source, b_source = (f"video:{v.name}" for v in videos)
    procs = [relay, via_relay, direct, *cams]
    try:
        for tail in (via_relay, direct):
            tail.wait_for(lambda t=tail: len(sources_seen(t)) == 2, 90, "both cameras heard")
        first_a = cams[0].events[0]["publisher"]
        via_relay.wait_for(lambda: count_from(via_relay, first_a) >= 20, 30, "20 events of A")

        cams[0].kill()  # camera A dies without a word ...
        time.sleep(0.5)
        cams.append(camera(videos[0], ends[0]))  # ... and comes back as a new instance
        procs.append(cams[-1])
        for tail in (via_relay, direct):
            tail.wait_for(lambda t=tail: len(instances_of(t, a_source)) == 2, 90, "A again")

        relay.kill()  # the relay dies: events published meanwhile are lost
        time.sleep(1.5)
        relay = Proc(*relay_args)
        procs.append(relay)
        n_before = len(via_relay.events)
        via_relay.wait_for(lambda: len(via_relay.events) > n_before + 20, 60, "relay back")
        relay.wait_for(lambda: any("relay" in line for line in relay.errors), 10, "relay log")

        for cam in cams[1:]:
            cam.stop()
        time.sleep(0.5)
        stopped = {name: tail.stop() for tail, name in ((via_relay, "relay"), (direct, "direct"))}
    finally:
        for proc in procs:
            proc.kill()

    published = defaultdict(set)  # what the cameras say they published, per instance
    for cam in cams:
        for event in cam.events:
            published[event["publisher"]].add(event["seq"])
    for tail, name in ((via_relay, "relay"), (direct, "direct")):
        streams = by_instance([e for e in tail.events if e["source"] in (a_source, b_source)])
        assert len(streams) == 3, f"{name}: A, A restarted, and B"
        expected = {a_source: [0, 0, 0], b_source: [0, 0, 0]}
        for publisher, got in streams.items():
            seqs = [e["seq"] for e in got]
            assert seqs == sorted(set(seqs)), f"{name}: {publisher} out of order or repeated"
            missing = set(range(seqs[0], seqs[-1] + 1)) - set(seqs)
            assert missing <= published[publisher], "a reported gap is an event really sent"
            source = got[0]["source"]
            expected[source][0] += len(seqs)
            expected[source][1] += len(missing)
        expected[a_source][2] = 1
        reported = summaries(tail)
        why = (name, f"exit {stopped[name]}", tail.errors[-6:])
        assert reported.get(a_source) == tuple(expected[a_source]), why
        assert reported.get(b_source) == tuple(expected[b_source]), why
        if name == "direct":
            assert expected[a_source][1] == expected[b_source][1] == 0, "nothing lost direct"
        else:
            # B ran on while the relay was down for 1.5 s at 10 events/s
            assert expected[b_source][1] > 0, "the relay restart lost B's events"
    relay_status = [e for e in via_relay.events if e["source"] == "relay-test"]
    assert relay_status, "the relay's own heartbeat reaches subscribers"
    last = relay_status[-1]
    assert last["role"] == "relay" and last["publishers_seen"] >= 2 and last["relayed"] > 0


@pytest.mark.timeout(120)
def test_named_cameras_that_connect_to_the_relay():
    front, back = free_tcp_endpoint(), free_tcp_endpoint()
    relay = Proc("relay", "--frontend", front, "--backend", back)
    tail = Proc("tail", "--endpoint", back)
    cams = [
        Proc(
            "live",
            "--demo",
            "--name",
            name,
            "--endpoint",
            front,
            "--json",
            "--set",
            "bus.connect=true",
            "--set",
            "source.loop=true",
            *FAST_STATUS,
        )
        for name in ("left", "right")
    ]
    try:
        tail.wait_for(
            lambda: {"left", "right"} <= {e["source"] for e in list(tail.events)}, 90, "both"
        )
        for cam in cams:
            cam.stop()
        tail.stop()
    finally:
        for proc in (*cams, tail, relay):
            proc.kill()
    for cam in cams:
        assert {e["source"] for e in cam.events} == {cam.args[cam.args.index("--name") + 1]}
    for name in ("left", "right"):
        seqs = [e["seq"] for e in tail.events if e["source"] == name]
        assert seqs == sorted(set(seqs)) and len(seqs) >= 2
