"""The relay with CURVE on both sides: cameras connect in with their own keys, subscribers
with theirs; a peer without a listed key gets nothing through. Also: cameras that connect to
the relay (bus.connect) instead of binding."""

from __future__ import annotations

import time

from endpoints import free_tcp_endpoint
from multi_procs import Proc

from eyespy_live.bus.curve import client_socket_options, open_publisher, write_keypair
from eyespy_live.bus.pubsub import Subscriber
from eyespy_live.config import BusConfig


def publish_until(publishers, subscriber, wanted: int, timeout_s: float = 20.0) -> list[dict]:
    got: list[dict] = []
    end = time.monotonic() + timeout_s
    n = 0
    while time.monotonic() < end and len({e["source"] for e in got}) < wanted:
        n += 1
        for i, publisher in enumerate(publishers):
            publisher.publish("status", {"n": n}, source=f"cam-{i}", capture_ts=time.time())
        received = subscriber.receive(timeout_s=0.05)
        if received is not None and received[0]["source"].startswith("cam-"):
            got.append(received[0])
    return got


def test_curve_on_both_sides_of_the_relay(tmp_path):
    keys, allowed = tmp_path / "keys", tmp_path / "allowed"
    relay_key = write_keypair(keys, "relay")
    cam_keys = [write_keypair(keys, f"cam{i}") for i in range(2)]
    laptop = write_keypair(keys, "laptop")
    write_keypair(keys, "stranger")
    allowed.mkdir()
    for public, _ in (*cam_keys, laptop):
        (allowed / public.name).write_text(public.read_text())
    front, back = free_tcp_endpoint(), free_tcp_endpoint()
    config = tmp_path / "relay.toml"
    config.write_text(
        "[relay]\n"
        f'frontend = "{front}"\nbackend = "{back}"\nstatus_interval_s = 0.2\n'
        f'curve_secret_key_file = "{relay_key[1]}"\ncurve_authorized_keys_dir = "{allowed}"\n'
    )
    relay = Proc("relay", "--config", str(config))
    opened = [
        open_publisher(
            BusConfig(
                endpoint=front,
                connect=True,
                curve_secret_key_file=str(secret),
                curve_relay_key_file=str(relay_key[0]),
            )
        )
        for _, secret in cam_keys
    ]
    publishers = [p for p, _ in opened]
    friend = Subscriber(back, socket_options=client_socket_options(relay_key[0], laptop[1]))
    stranger = Subscriber(
        back, socket_options=client_socket_options(relay_key[0], keys / "stranger.key_secret")
    )
    plain = Subscriber(back)
    try:
        got = publish_until(publishers, friend, wanted=2)
        assert {e["source"] for e in got} == {"cam-0", "cam-1"}, relay.errors[-5:]
        for _ in range(20):
            for p in publishers:
                p.publish("status", {}, source="x", capture_ts=0.0)
            time.sleep(0.02)
        assert stranger.receive(timeout_s=1.0) is None, "an unlisted key receives nothing"
        assert plain.receive(timeout_s=0.5) is None, "no CURVE, no events"
        # The relay's heartbeats queue up at the friend while the checks above run; the
        # oldest may predate the monitor's copy of the second camera's first event, so read
        # on to a fresh one (both cameras published for a second before these checks).
        heartbeat = None
        end = time.monotonic() + 10
        while time.monotonic() < end and (heartbeat is None or heartbeat["publishers_seen"] < 2):
            received = friend.receive(timeout_s=0.5)
            if received and received[0].get("role") == "relay":
                heartbeat = received[0]
        assert heartbeat is not None and heartbeat["publishers_seen"] == 2
    finally:
        for subscriber in (friend, stranger, plain):
            subscriber.close()
        for _, close in opened:
            close()
        assert relay.stop() == 0
    assert any("stopped" in line for line in relay.errors)


def test_a_publisher_without_a_listed_key_cannot_feed_the_relay(tmp_path):
    keys, allowed = tmp_path / "keys", tmp_path / "allowed"
    relay_key = write_keypair(keys, "relay")
    laptop, rogue = write_keypair(keys, "laptop"), write_keypair(keys, "rogue")
    allowed.mkdir()
    (allowed / "laptop.key").write_text(laptop[0].read_text())
    front, back = free_tcp_endpoint(), free_tcp_endpoint()
    relay = Proc(
        "relay",
        "--frontend",
        front,
        "--backend",
        back,
        "--set",
        f'relay.curve_secret_key_file="{relay_key[1]}"',
        "--set",
        f'relay.curve_authorized_keys_dir="{allowed}"',
        "--set",
        "relay.status_interval_s=0.2",
    )
    publisher, close = open_publisher(
        BusConfig(
            endpoint=front,
            connect=True,
            curve_secret_key_file=str(rogue[1]),
            curve_relay_key_file=str(relay_key[0]),
        )
    )
    friend = Subscriber(back, socket_options=client_socket_options(relay_key[0], laptop[1]))
    sources = set()
    try:
        end = time.monotonic() + 4
        while time.monotonic() < end:
            publisher.publish("status", {}, source="rogue", capture_ts=0.0)
            received = friend.receive(timeout_s=0.05)
            if received is not None:
                sources.add(received[0]["source"])
    finally:
        friend.close()
        close()
        relay.stop()
    assert "relay" in sources, "the listed subscriber does hear the relay"
    assert "rogue" not in sources, "a camera without a listed key feeds nothing"
