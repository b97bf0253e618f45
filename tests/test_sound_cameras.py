"""`eyespy sound` listening to two cameras at once: it sounds for either, says which, and
keeps one account per camera (a restart of one is not a drop of the other)."""

from __future__ import annotations

import time

from endpoints import free_tcp_endpoint, rebind
from multi_procs import Proc

from eyespy_live.bus.pubsub import Publisher


def retake(publisher: Publisher, camera: str, name: str) -> None:
    publisher.publish(
        "shot", {"verdict": "retake", "file": name, "faces": []}, source=camera, capture_ts=0.0
    )


def until(test, poke, timeout_s: float = 30.0) -> None:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end and not test():
        poke()
        time.sleep(0.1)
    assert test()


def test_sound_follows_two_cameras_and_a_restart_of_one():
    ends = [free_tcp_endpoint(), free_tcp_endpoint()]
    left, right = Publisher(ends[0]), Publisher(ends[1])
    sound = Proc(
        "sound",
        "--endpoint",
        ends[0],
        "--endpoint",
        ends[1],
        "--player",
        "true",
        "--cooldown",
        "0",
    )
    try:

        def beat() -> None:
            for pub, cam in ((left, "left"), (right, "right")):
                pub.publish("status", {"state": "running"}, source=cam, capture_ts=0.0)

        until(lambda: sum("receiving from publisher" in e for e in sound.errors) == 2, beat)
        retake(left, "left", "L_1.JPG")
        retake(right, "right", "R_1.JPG")
        until(lambda: sum("play: shot" in e for e in sound.errors) == 2, lambda: None)
        left.close()
        left = rebind(ends[0])
        until(lambda: any("publisher restarted" in e for e in sound.errors), beat)
        retake(left, "left", "L_2.JPG")
        until(lambda: any("L_2.JPG" in e for e in sound.errors), lambda: None)
        assert sound.stop() == 0
    finally:
        left.close()
        right.close()
        sound.kill()
    log = "\n".join(sound.errors)
    assert "play: shot L_1.JPG: retake from left" in log
    assert "play: shot R_1.JPG: retake from right" in log
    assert "left: " in log and "1 restart(s)" in log and "dropped 0" in log.splitlines()[-1]
