"""A bus peer in its own process, driven by the fault tests (never imported by eyespy).

python bus_peer.py subscribe ENDPOINT   print one JSON line per event received
python bus_peer.py publish ENDPOINT     publish a `status` event every 5 ms until killed
python bus_peer.py stuck ENDPOINT       read one event, then stop reading until a line
                                        arrives on stdin; then drain until a status event
                                        with state "end" and print a summary line
"""

from __future__ import annotations

import json
import sys
import time

from eyespy_live.bus.pubsub import Publisher, Subscriber


def say(**fields: object) -> None:
    print(json.dumps(fields), flush=True)


def subscribe(endpoint: str) -> None:
    subscriber = Subscriber(endpoint)
    say(state="ready")
    while True:
        got = subscriber.receive(timeout_s=0.5)
        if got is None:
            continue
        event, _ = got
        say(
            type=event["type"],
            seq=event["seq"],
            publisher=event["publisher"],
            dropped=subscriber.seq.dropped,
            restarts=subscriber.seq.restarts,
        )


def publish(endpoint: str) -> None:
    publisher = Publisher(endpoint)
    say(state="bound", publisher=publisher.instance)
    while True:
        publisher.publish("status", {"state": "running"}, source="peer", capture_ts=time.time())
        time.sleep(0.005)


def stuck(endpoint: str) -> None:
    subscriber = Subscriber(endpoint, high_water_mark=10)
    got = None
    while got is None:  # the publisher probes until this first event proves the connection
        got = subscriber.receive(timeout_s=0.5)
    first = got[0]["seq"]
    say(state="connected")
    sys.stdin.readline()  # never read while the test floods the publisher
    received = 1
    while True:
        got = subscriber.receive(timeout_s=30)
        if got is None:
            say(state="timeout", received=received)
            return
        event, _ = got
        if event["type"] == "status" and event.get("state") == "end":
            break
        received += 1
    say(
        state="drained",
        received=received,
        first=first,
        end=event["seq"],
        dropped=subscriber.seq.dropped,
    )


if __name__ == "__main__":
    {"subscribe": subscribe, "publish": publish, "stuck": stuck}[sys.argv[1]](sys.argv[2])
