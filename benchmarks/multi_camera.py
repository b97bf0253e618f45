"""Events per second and added latency through `eyespy relay` and `eyespy mqtt`.

Three paths, measured one after the other in the same run with the same publisher and the
same events (real eyespy blink events, ~600 B of JSON):
- direct: Publisher → a Subscriber process (the baseline);
- relay: Publisher → an `eyespy relay` process (upstream) → a Subscriber process;
- mqtt: Publisher → an `eyespy mqtt` process → Mosquitto → a paho subscriber process.
Latency is receive time − the event's publish_ts (one clock for all processes), at a steady
pace; throughput is a burst of events sent as fast as the publisher can, counted at the
subscriber (what was lost in the burst is reported too). Ratios against direct are printed.

    python benchmarks/multi_camera.py [--events 300] [--rate 100] [--burst 5000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from eyespy_live.bus.pubsub import Publisher, Subscriber

EYESPY = [sys.executable, "-m", "eyespy_live"]
BODY = {
    "frame": 1234,
    "face": {
        "id": 1,
        "box": [212, 118, 164, 164],
        "p_closed": [0.91, 0.88],
        "state": "closed",
        "reason": None,
    },
    "blink": {
        "kind": "blink",
        "duration_ms": 166.7,
        "first_frame": 1229,
        "last_frame": 1233,
        "start_ts": 1.0,
        "end_ts": 1.2,
        "peak_p_closed": 0.93,
    },
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- subscriber processes -------------------------------------------------------------------


def zmq_subscriber(endpoint: str) -> None:
    subscriber = Subscriber(endpoint)
    collect(lambda: _zmq_next(subscriber))


def _zmq_next(subscriber: Subscriber):
    got = subscriber.receive(timeout_s=30)
    return None if got is None else got[0]


def mqtt_subscriber(port: str) -> None:
    import queue

    import paho.mqtt.client as mqtt

    inbox: queue.Queue = queue.Queue()
    client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2)
    client.on_message = lambda c, u, m: inbox.put((time.time(), m.payload))
    client.connect("127.0.0.1", int(port))
    client.subscribe([("eyespy/bench/blink", 1), ("eyespy/bench/status", 1)])
    client.loop_start()

    def next_event():
        try:
            at, payload = inbox.get(timeout=30)
        except queue.Empty:
            return None
        event = json.loads(payload)
        event["_at"] = at
        return event

    collect(next_event)


def collect(next_event) -> None:
    """Print `ready` at the first probe, then one JSON result line per phase marker."""
    ready = False
    latencies: list[float] = []
    arrivals: list[float] = []
    while True:
        event = next_event()
        if event is None:
            print(json.dumps({"error": "timeout"}), flush=True)
            return
        now = event.pop("_at", None) or time.time()
        if event["type"] == "status":
            state = event.get("state")
            if state == "probe" and not ready:
                ready = True
                print("ready", flush=True)
            elif state in ("steady-end", "burst-end"):
                print(json.dumps({"latency_ms": latencies, "arrivals": arrivals}), flush=True)
                latencies, arrivals = [], []
                if state == "burst-end":
                    return
            continue
        latencies.append((now - event["publish_ts"]) * 1000)
        arrivals.append(now)


# -- the publishing side --------------------------------------------------------------------


def start(argv: list[str], publisher: Publisher) -> subprocess.Popen:
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    end = time.monotonic() + 60
    while not select.select([process.stdout], [], [], 0.05)[0]:
        publisher.publish("status", {"state": "probe"}, source="bench", capture_ts=time.time())
        if time.monotonic() > end:
            raise SystemExit(f"{argv}: never ready")
    assert process.stdout.readline().strip() == "ready"
    return process


def marker(process: subprocess.Popen, publisher: Publisher, state: str) -> dict:
    while not select.select([process.stdout], [], [], 0.2)[0]:
        publisher.publish("status", {"state": state}, source="bench", capture_ts=time.time())
    line = process.stdout.readline()
    return json.loads(line)


def one_path(name: str, publisher: Publisher, argv: list[str], args) -> dict:
    process = start(argv, publisher)
    try:
        next_at = time.perf_counter()
        for _ in range(args.events):
            next_at += 1.0 / args.rate
            time.sleep(max(0.0, next_at - time.perf_counter()))
            publisher.publish("blink", BODY, source="bench", capture_ts=time.time())
        steady = marker(process, publisher, "steady-end")
        time.sleep(0.5)
        sent_at = time.time()
        for _ in range(args.burst):
            publisher.publish("blink", BODY, source="bench", capture_ts=time.time())
        sent_s = time.time() - sent_at
        burst = marker(process, publisher, "burst-end")
    finally:
        process.wait(10)
    arrivals = burst["arrivals"]
    span = (arrivals[-1] - sent_at) if arrivals else float("nan")
    return {
        "path": name,
        "latency": steady["latency_ms"],
        "steady_received": len(steady["latency_ms"]),
        "burst_received": len(arrivals),
        "burst_rate": len(arrivals) / span if arrivals else 0.0,
        "burst_send_s": sent_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=300, help="events at a steady pace")
    parser.add_argument("--rate", type=float, default=100.0, help="steady events per second")
    parser.add_argument("--burst", type=int, default=5000, help="events sent as fast as possible")
    parser.add_argument("--rounds", type=int, default=2, help="each path this many times")
    args = parser.parse_args()
    mosquitto = shutil.which("mosquitto")
    work = Path(tempfile.mkdtemp(prefix="eyespy-bench-"))
    port = free_port()
    endpoint = f"tcp://127.0.0.1:{port}"
    backend = f"tcp://127.0.0.1:{free_port()}"
    helpers: list[subprocess.Popen] = []
    publisher = Publisher(endpoint, high_water_mark=100_000)
    try:
        helpers.append(
            subprocess.Popen(
                [
                    *EYESPY,
                    "relay",
                    "--frontend",
                    "",
                    "--backend",
                    backend,
                    "--upstream",
                    endpoint,
                    "--set",
                    "relay.high_water_mark=100000",
                ],
                stderr=subprocess.DEVNULL,
            )
        )
        paths = {
            "direct": [sys.executable, __file__, "--subscriber", "zmq", endpoint],
            "relay": [sys.executable, __file__, "--subscriber", "zmq", backend],
        }
        if mosquitto:
            broker_port = free_port()
            conf = work / "mosquitto.conf"
            conf.write_text(f"listener {broker_port} 127.0.0.1\nallow_anonymous true\n")
            helpers.append(
                subprocess.Popen([mosquitto, "-c", str(conf)], stderr=subprocess.DEVNULL)
            )
            time.sleep(0.5)
            helpers.append(
                subprocess.Popen(
                    [
                        *EYESPY,
                        "mqtt",
                        "--endpoint",
                        endpoint,
                        "--broker",
                        f"mqtt://127.0.0.1:{broker_port}",
                        "--set",
                        "mqtt.name=bench",
                        "--set",
                        "mqtt.discovery=false",
                        "--set",
                        "mqtt.queue_size=100000",
                    ],
                    stderr=subprocess.DEVNULL,
                )
            )
            paths["mqtt"] = [sys.executable, __file__, "--subscriber", "mqtt", str(broker_port)]
        else:
            print("mosquitto not found (apt-get install mosquitto): MQTT path skipped")
        results: dict[str, list[dict]] = {name: [] for name in paths}
        for _ in range(args.rounds):
            for name, argv in paths.items():
                results[name].append(one_path(name, publisher, argv, args))
    finally:
        publisher.close()
        for helper in helpers:
            helper.terminate()
            helper.wait(10)
        shutil.rmtree(work, ignore_errors=True)
    report(results, args)


def report(results: dict[str, list[dict]], args) -> None:
    print(
        f"{args.events} events at {args.rate:.0f}/s per path and round, burst of {args.burst}, "
        f"{args.rounds} round(s), load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    rows = {}
    for name, runs in results.items():
        latency = [v for r in runs for v in r["latency"]]
        rows[name] = {
            "p50": float(np.percentile(latency, 50)) if latency else float("nan"),
            "p99": float(np.percentile(latency, 99)) if latency else float("nan"),
            "steady": sum(r["steady_received"] for r in runs) / (args.events * len(runs)),
            "rate": max(r["burst_rate"] for r in runs),
            "burst": min(r["burst_received"] for r in runs) / args.burst,
        }
    base = rows["direct"]
    print("path     p50 ms  p99 ms  +p50 ms  +p99 ms  steady recv  burst events/s  burst recv")
    for name, row in rows.items():
        print(
            f"{name:7s} {row['p50']:7.2f} {row['p99']:7.2f} {row['p50'] - base['p50']:8.2f} "
            f"{row['p99'] - base['p99']:8.2f} {row['steady']:11.1%} {row['rate']:15.0f} "
            f"{row['burst']:10.1%}"
        )
    for name, row in rows.items():
        if name != "direct":
            print(f"{name}: throughput {row['rate'] / base['rate']:.2f}x direct")


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "--subscriber":
        (zmq_subscriber if sys.argv[2] == "zmq" else mqtt_subscriber)(sys.argv[3])
    else:
        main()
