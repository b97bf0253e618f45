"""The audible alert: a short tone when a shot needs retaking, so nobody has to look.

Pure parts (which events alert, the cool-down, the tone) are apart from the two with side
effects: `Player` starts `aplay`/`paplay` as a child process and never waits for it in the
receive loop, and `SoundAlerts` is the subscriber loop. A burst of events inside the
cool-down is one sound, because five beeps for one group photo teach people to ignore it.
"""

from __future__ import annotations

import math
import shutil
import struct
import subprocess
import sys
import threading
import time
import wave
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eyespy_live.alerts import AlertError
from eyespy_live.bus.pubsub import Subscriber
from eyespy_live.bus.streams import note
from eyespy_live.events import TOPICS

ALERT_KINDS = ("retake", "check", "blink", "half_blink")
DEFAULT_KINDS = ("retake",)


def alert_reason(event: dict[str, Any], kinds: Iterable[str]) -> str | None:
    """Why `event` should sound, given the chosen kinds; None when it should not."""
    wanted = set(kinds)
    if event.get("type") == "shot":
        verdict = event.get("verdict")
        if verdict in wanted and verdict in ("retake", "check"):
            return f"shot {event.get('file') or '?'}: {verdict}"
    elif event.get("type") == "blink":
        kind = (event.get("blink") or {}).get("kind")
        if kind in wanted:
            return f"{kind} face {(event.get('face') or {}).get('id', '?')}"
    return None


@dataclass
class CoolDown:
    """Allows one sound, then nothing for `seconds`: a burst becomes one alert."""

    seconds: float
    _last: float | None = None

    def allow(self, now: float) -> bool:
        if self._last is not None and now - self._last < self.seconds:
            return False
        self._last = now
        return True


def tone_samples(rate: int = 22050) -> list[int]:
    """Two rising beeps (880 Hz then 1320 Hz, 120 ms each) with soft edges: unmistakable,
    not harsh, and distinct from camera and phone sounds."""
    samples: list[int] = []
    for freq, length in ((880.0, 0.12), (0.0, 0.04), (1320.0, 0.12)):
        n = int(rate * length)
        fade = int(rate * 0.01)
        for i in range(n):
            envelope = min(1.0, i / fade, (n - 1 - i) / fade) if fade else 1.0
            value = math.sin(2 * math.pi * freq * i / rate) if freq else 0.0
            samples.append(int(0.6 * 32767 * envelope * value))
    return samples


def write_tone(path: str | Path, rate: int = 22050) -> Path:
    """The project's own alert sound as a 16-bit mono WAV."""
    path = Path(path)
    samples = tone_samples(rate)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(struct.pack(f"<{len(samples)}h", *samples))
    return path


def check_wav(path: str | Path) -> Path:
    """A readable WAV file, or a clear error (players fail obscurely on anything else)."""
    path = Path(path)
    if not path.is_file():
        raise AlertError(f"sound file {path} does not exist")
    try:
        with wave.open(str(path), "rb") as wav:
            if wav.getnframes() == 0:
                raise AlertError(f"sound file {path} holds no audio")
    except (wave.Error, EOFError) as exc:
        why = str(exc) or "too short to hold a WAV header"
        raise AlertError(f"sound file {path} is not a PCM WAV file ({why})") from exc
    return path


def player_command(player: str, wav: str | Path, device: str | None = None) -> list[str]:
    """The command line that plays `wav`: aplay and paplay get their device option;
    any other program (a wrapper script) gets the WAV path as its only argument."""
    program = Path(player).name
    if program == "aplay":
        return [player, "-q", *(["-D", device] if device else []), str(wav)]
    if program == "paplay":
        return [player, *([f"--device={device}"] if device else []), str(wav)]
    return [player, str(wav)]


def find_player(requested: str | None = None) -> str:
    """The player to use: the requested one, else aplay, else paplay; clear error if none."""
    candidates = [requested] if requested else ["aplay", "paplay"]
    for name in candidates:
        found = shutil.which(name)
        if found:
            return found
    if requested:
        raise AlertError(f"sound player {requested!r} not found (is it installed and on PATH?)")
    raise AlertError(
        "no sound player found: install alsa-utils (aplay) or pulseaudio-utils (paplay), "
        "or name one with --player"
    )


@dataclass
class Player:
    """Starts the player as a child process; `reap()` collects finished ones and their errors."""

    command: Callable[[], list[str]]
    running: list[subprocess.Popen] = field(default_factory=list)
    played: int = 0
    failed: int = 0

    def start(self) -> None:
        argv = self.command()
        try:
            process = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )
        except OSError as exc:
            raise AlertError(f"cannot run {argv[0]}: {exc}") from exc
        self.running.append(process)
        self.played += 1

    def reap(self) -> list[str]:
        """Messages for players that failed since the last call; never blocks."""
        problems, still = [], []
        for process in self.running:
            if process.poll() is None:
                still.append(process)
                continue
            error = process.stderr.read().decode(errors="replace").strip() if process.stderr else ""
            if process.stderr:
                process.stderr.close()
            if process.returncode != 0:
                self.failed += 1
                problems.append(explain_failure(process.args, process.returncode, error))
        self.running = still
        return problems

    def wait(self, timeout_s: float) -> list[str]:
        """Let the sounds still playing finish (at exit), up to `timeout_s`."""
        end = time.monotonic() + timeout_s
        while self.running and time.monotonic() < end:
            time.sleep(0.02)
            problems = self.reap()
            if problems:
                return problems
        return self.reap()


def explain_failure(argv: Any, code: int, error: str) -> str:
    program = Path(str(argv[0])).name if argv else "player"
    detail = error.splitlines()[-1] if error else "no message"
    hint = ""
    lowered = error.lower()
    if "audio open error" in lowered or "no such" in lowered or "connection" in lowered:
        hint = (
            " - no usable sound device? list devices with `aplay -L` and pick one with --device"
            if program == "aplay"
            else " - is a PulseAudio/PipeWire server running for this user?"
        )
    return f"{program} failed (exit {code}): {detail}{hint}"


class SoundAlerts:
    """Subscribes to every topic (so seq gaps are real drops) and sounds on chosen events."""

    def __init__(
        self,
        endpoint: str | Sequence[str],
        player: Player,
        *,
        kinds: Iterable[str] = DEFAULT_KINDS,
        cooldown_s: float = 2.0,
        socket_options=(),
        log: Callable[[str], None] | None = None,
    ):
        self.kinds = tuple(kinds)
        self.cooldown = CoolDown(cooldown_s)
        self.player = player
        self.subscriber = Subscriber(endpoint, TOPICS, socket_options=socket_options)
        self.log = log or (lambda text: print(f"eyespy sound: {text}", file=sys.stderr, flush=True))

    def handle(self, event: dict[str, Any], now: float) -> None:
        seen = self.subscriber.last
        line = note(seen, event) if seen is not None else None
        if line:
            self.log(line)
        reason = alert_reason(event, self.kinds)
        if reason is None:
            return
        camera = event.get("source") or "?"
        if self.cooldown.allow(now):
            self.player.start()
            self.log(f"play: {reason} from {camera} (seq {event.get('seq')})")
        else:
            self.log(f"quiet (cool-down): {reason} from {camera} (seq {event.get('seq')})")

    def run(self, *, timeout_s: float = 0.0, stop: threading.Event | None = None) -> int:
        """Until `timeout_s` passes (0: no limit), `stop` is set or Ctrl-C; then a summary."""
        end = time.monotonic() + timeout_s if timeout_s > 0 else None
        stop = stop or threading.Event()
        self.log(f"listening on {self.subscriber.endpoint} for {', '.join(self.kinds)}")
        try:
            while not stop.is_set() and (end is None or time.monotonic() < end):
                wait = 0.5 if end is None else max(0.0, min(0.5, end - time.monotonic()))
                got = self.subscriber.receive(timeout_s=wait)
                if got is not None:
                    self.handle(got[0], time.monotonic())
                for problem in self.player.reap():
                    self.log(problem)
        except KeyboardInterrupt:
            pass
        finally:
            for problem in self.player.wait(2.0):
                self.log(problem)
            self.subscriber.close()
            for line in self.subscriber.seq.summary_lines():
                self.log(line)
            self.log(
                f"played {self.player.played}, failed {self.player.failed}, "
                f"dropped {self.subscriber.seq.dropped}"
            )
        return 0
