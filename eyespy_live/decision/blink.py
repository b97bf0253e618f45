"""Per-face blink decision: a pure state machine over eye-closed probabilities.

Fed one observation per frame for one tracked face, it reports a blink when the eyes go
open → closed → open. Hysteresis (a higher threshold to enter "closed" than to leave it)
keeps a noisy probability near one threshold from splitting one blink into several; a
minimum duration in frames and in milliseconds drops single-frame flickers. By default
both eyes must be closed: a wink is not a blink, nor is any closure during which one eye
kept reading open (below `t_half` on every frame) — a glint on one lens, a hand over one
eye — even where the low live thresholds let the two eyes' combined value cross. Frames
where the eyes cannot be judged (face too small, turned away, dark) are tolerated for a few
frames inside a closure; a face that disappears mid-closure ends it without an event, since
nobody saw it reopen.

The time course tells a blink from a laugh, a smile or a glance down: a blink starts from
eyes seen open (for `min_open_before_ms`, or one frame before a clear closure), closes fast
(within `max_onset_ms` of the last open frame) and reopens within `max_blink_ms`. A laugh or
a downward glance narrows the lids slowly, or is already narrowed when the face is first
seen, and stays so for seconds: no `blink`, `half_blink` or `eyes_closed` event comes from
such a closure. Nor from one during which the head tilts down (`max_head_dip`): a glance down
can lower the lids within a frame, but the head goes with it, and a blink does not move it.

Each face is read against its own open level: glare on glasses makes some people's open eyes
read 0.1-0.4 by turns, where most read 0.00-0.02. The thresholds are moved up (in logit) by
how far the face's recent open readings sit above `open_level`, so a blink is a rise from
that face's open eyes, and its open flicker neither breaks "seen open" nor reads as a blink.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum


class EyeState(StrEnum):
    OPEN = "open"
    HALF = "half"
    CLOSED = "closed"
    UNKNOWN = "unknown"  # "can't tell"


@dataclass(frozen=True)
class BlinkSettings:
    # Defaults chosen with `eyespy evaluate` on labelled webcam video (docs/configuration.md).
    t_closed: float = 0.15  # enter "closed" at or above this
    t_open: float = 0.09  # leave "closed" below this (hysteresis)
    t_half: float = 0.07  # "half closed" at or above this when not closed
    both_eyes: bool = True  # False: either eye closing counts (winks too)
    min_closed_frames: int = 1
    # A blink takes at least ~50 ms from the last open frame to the reopened one. Timed from
    # open to open because a frame shows an instant: at 25–30 fps a fast blink is shut in one
    # frame only (the demo clip's second blink), at 100 fps one closed frame is a flicker.
    min_closed_ms: float = 50.0
    min_half_frames: int = 2
    max_unknown_frames: int = 2  # "can't tell" frames tolerated inside a closure
    long_closure_ms: float = 700.0  # still closed after this: report "eyes_closed" once
    # Time course (see the module text): what a blink looks like, and a laugh does not.
    max_onset_ms: float = 250.0  # last open frame → near the closure's peak, at most
    min_open_before_ms: float = 100.0  # eyes seen open at least this long before closing
    max_blink_ms: float = 700.0  # shut longer than this is no blink (ZJU blinks: up to ~630)
    # A glance down lowers the lids over the iris within a frame, as a blink does, and the
    # head tilts down with it: a closure during which the head stays more than this many
    # degrees below its pitch on the open frames before it (medians: PITCH_BEFORE_MS,
    # DIP_READINGS) is a look down, not closed eyes. Blinks the live pipeline found stay
    # within 3.0° (188 events on ZJU, focus_webcam and three clips; a closing lid lifts the
    # mesh's pitch, if anything); talking_two_faces' man looking down: 7.9° and 18.8°
    # (`python -m eyespy_live.train.head_dip`). 0 turns the rule off.
    max_head_dip: float = 5.0
    # Each face's own open level: the thresholds above are for open eyes reading about
    # `open_level` (most faces read 0.00-0.02). A face whose open eyes read higher (glare on
    # glasses, a dark or deep-set eye: 0.1-0.4 by turns) has every threshold raised by the
    # logit distance from its level, measured over the last `open_level_ms` of frames seen
    # open. 0 ms: fixed thresholds.
    open_level: float = 0.02
    open_level_ms: float = 2000.0
    # A still photo has no next frame to confirm a reading, and a false "closed" costs a
    # keeper, so it is judged on its own, stricter thresholds (chosen on CEW validation faces).
    photo_t_closed: float = 0.5
    photo_t_half: float = 0.5  # cull --calibrate moves this one

    def __post_init__(self) -> None:
        if not 0.0 <= self.t_half <= self.t_open <= self.t_closed <= 1.0:
            raise ValueError("thresholds must satisfy 0 <= t_half <= t_open <= t_closed <= 1")
        if not 0.0 <= self.photo_t_half <= self.photo_t_closed <= 1.0:
            raise ValueError("photo thresholds: need 0 <= photo_t_half <= photo_t_closed <= 1")
        if self.min_closed_frames < 1 or self.min_half_frames < 1:
            raise ValueError("minimum frame counts must be at least 1")
        if min(self.max_onset_ms, self.min_open_before_ms, self.min_closed_ms,
               self.max_head_dip) < 0:
            raise ValueError("time-course durations must be at least 0")
        if self.max_blink_ms < self.min_closed_ms:
            raise ValueError("max_blink_ms must be at least min_closed_ms")
        if not 0.0 < self.open_level < 1.0 or self.open_level_ms < 0:
            raise ValueError("open_level must be in (0, 1) and open_level_ms at least 0")


@dataclass(frozen=True)
class Observation:
    frame: int  # source frame index
    ts: float  # capture time, seconds
    p_closed: tuple[float, float] | None  # (image-left eye, image-right eye); None: can't tell
    pitch: float | None = None  # head pitch in degrees (− = tilted down), where measured


@dataclass(frozen=True)
class BlinkEvent:
    kind: str  # "blink", "half_blink" or "eyes_closed" (a closure still going on)
    first_frame: int  # first frame with the eyes closed (half closed for half_blink)
    last_frame: int  # last such frame
    start_ts: float
    end_ts: float  # capture time of the frame that ended it (the last closed one if ongoing)
    peak_p_closed: float
    # How far the head stayed below its pitch before the closure (degrees; None: not
    # measured): what `max_head_dip` is compared with, kept for measuring it.
    head_dip: float | None = None

    @property
    def duration_ms(self) -> float:
        return max(0.0, (self.end_ts - self.start_ts) * 1000.0)


def combined_closed(p: tuple[float, float], both_eyes: bool) -> float:
    """How closed "the eyes" are, as one probability.

    When both eyes must close, the geometric mean: one clearly open eye keeps it low (a wink
    stays a wink), while two eyes that both read fairly closed add up, which tolerates one
    eye being misjudged behind a glasses reflection. Otherwise the more closed eye.
    """
    if both_eyes:
        return math.sqrt(max(0.0, p[0]) * max(0.0, p[1]))
    return max(p)


def eye_state(
    p: tuple[float, float] | None, settings: BlinkSettings, photo: bool = False
) -> EyeState:
    """Instantaneous state, without history: for display, or (`photo`) a still photo's verdict."""
    if p is None:
        return EyeState.UNKNOWN
    value = combined_closed(p, settings.both_eyes)
    closed, half = (
        (settings.photo_t_closed, settings.photo_t_half) if photo
        else (settings.t_closed, settings.t_half)
    )
    if value >= closed:
        return EyeState.CLOSED
    if value >= half:
        return EyeState.HALF
    return EyeState.OPEN


@dataclass
class _Run:
    first_frame: int
    last_frame: int
    start_ts: float
    last_ts: float
    frames: int = 1
    peak: float = 0.0
    raw_peak: float = 0.0  # the peak as read, before the face's open-level shift
    unknown: int = 0
    reported_long: bool = False
    open_before_ms: float = 0.0  # how long the eyes were seen open before this run began
    onset_from: float | None = None  # capture time of the last open frame before it
    shut_until: float | None = None  # first frame after the last one at or above t_closed
    samples: list[tuple[float, float]] = field(default_factory=list)  # (ts, value), the first few
    one_sided: bool = False  # a half-closed frame had one eye open: no half blink
    both_down: bool = False  # some frame had both eyes at least half closed
    # The head's pitch: where it was on open frames just before (None: not measured), and the
    # latest readings inside the closure. A glance down is the head staying lower.
    pitch_before: float | None = None
    pitches: list[float] = field(default_factory=list)
    head_dip: float | None = None  # the most it stayed below pitch_before so far
    looked_down: bool = False  # … by more than `max_head_dip`

    def note_pitch(self, pitch: float | None, max_dip: float) -> None:
        if pitch is None:
            return
        if self.pitch_before is None:  # nothing measured before it: its own first reading
            self.pitch_before = pitch
        self.pitches = [*self.pitches[-(DIP_READINGS - 1):], pitch]
        before = self.pitch_before
        if len(self.pitches) < DIP_READINGS:
            return
        dip = before - self.pitch_during()
        self.head_dip = dip if self.head_dip is None else max(self.head_dip, dip)
        if max_dip > 0 and dip > max_dip:
            self.looked_down = True

    def pitch_during(self) -> float:
        """The head's pitch over the closure's latest readings (median)."""
        return sorted(self.pitches)[len(self.pitches) // 2]

    def reached_peak(self) -> float | None:
        """When the closure first came near its peak (PEAK_SHARE of it), among the first
        samples; None when it got there later (a slow narrowing)."""
        top = max((v for _, v in self.samples), default=0.0)
        return next((ts for ts, v in self.samples if v >= PEAK_SHARE * top), None)

    def shut_ms(self, end_ts: float) -> float:
        """How long the lids were fully shut: the slow last part of a reopening (half
        closed, above t_open) is not counted, so a long tail does not make a blink "long"."""
        return ((self.shut_until if self.shut_until is not None else end_ts) - self.start_ts) * 1e3


# The onset is timed to the closure's own peak, not to t_closed: the live thresholds sit low
# (0.15) and a slow narrowing crosses them within a frame or two, while a blink comes near its
# peak within ~100 ms of the last open frame. Only the first samples of a run are kept.
PEAK_SHARE = 0.75
ONSET_SAMPLES = 24
# A face's open level is this quantile of its recent open readings (open eyes behind glare
# flicker: the level is where most of them stay), once it has this many of them. It may rise
# only so fast, so a laugh coming on over a second is not taken for the face's new level.
OPEN_LEVEL_QUANTILE = 0.75
OPEN_LEVEL_MIN_FRAMES = 5
OPEN_LEVEL_RISE = 1.0  # logit per second, at most
# Eyes seen open for one frame and then shut this long (first to last frame at or above
# t_closed; 4 frames at 30 fps) are a blink without `min_open_before_ms`: the rule is there
# for one- or two-frame misreads (a crop sliding on a moving head), not for clear closures
# right after a face appears (a video starting just before a blink).
SURE_SHUT_MS = 100.0
# … and read shut clearly at some point (the two eyes' combined P(closed), as read): eyes
# still reading part-shut as they reopen after a blink are no second blink.
SURE_SHUT_PEAK = 0.5
# The head's pitch before a closure is the median of its open frames' readings over this
# long (they come from the geometry stage or a mesh-only look every few frames), and the
# closure's is the median of its latest DIP_READINGS: the mesh's pitch jitters by a few
# degrees frame to frame, a glance down stays down.
PITCH_BEFORE_MS = 1000.0
DIP_READINGS = 3
# A blink whose closure dipped the head waits at most this long for a pitch reading after it
# (one comes with the next geometry run, or a mesh-only look every POSE_EVERY frames: 200 ms
# at 30 fps); none by then, and it is dropped, as every such closure was before.
SETTLE_MS = 300.0


@dataclass(frozen=True)
class _DippedBlink:
    event: BlinkEvent
    before: float  # head pitch on the open frames before the closure
    during: float  # … and over its latest readings
    deadline: float  # capture time after which it is dropped


_P_EPS = 1e-3  # int8 outputs step by 1/256: 0.0 and 1.0 are ends of a scale, not certainties


def _logit(p: float) -> float:
    p = min(1.0 - _P_EPS, max(_P_EPS, p))
    return math.log(p / (1.0 - p))


def _lower(p: float, shift: float) -> float:
    """`p` moved down by `shift` in logit: read relative to the face's own open level."""
    return 1.0 / (1.0 + math.exp(-(_logit(p) - shift)))


def _fast_onset(run: _Run, settings: BlinkSettings, reopened: bool = True) -> bool:
    """Did this closure start like a blink: from eyes seen open, closing quickly?
    (`reopened`: the eyes opened again, so a clear closure may follow one open frame; a
    closure still going on, possibly a glance down, needs `min_open_before_ms`.)"""
    slack = 0.5  # ms: frame times are sums of 1/fps and do not add up exactly
    needed = settings.min_open_before_ms
    shut = [ts for ts, v in run.samples if v >= settings.t_closed]
    if (reopened and shut and (shut[-1] - shut[0]) * 1000.0 + slack >= SURE_SHUT_MS
            and run.raw_peak >= SURE_SHUT_PEAK):
        needed = 0.0
    if run.onset_from is None or run.open_before_ms + slack < needed:
        return False
    reached = run.reached_peak()
    if reached is None:
        return False
    return (reached - run.onset_from) * 1000.0 <= settings.max_onset_ms + slack


@dataclass
class BlinkStateMachine:
    settings: BlinkSettings = field(default_factory=BlinkSettings)
    state: EyeState = EyeState.OPEN
    _run: _Run | None = None
    _reopening: bool = False
    _open_since: float | None = None  # first frame of the current clearly-open streak
    _last_open: float | None = None  # the latest clearly-open frame
    _open_gap: int = 0  # can't-tell frames since it
    _seen_open: bool = False  # the latest judged frame read open (≤ max_unknown_frames ago)
    _unseen: int = 0  # can't-tell frames since the latest judged one
    _open_values: deque[tuple[float, float]] = field(default_factory=deque)  # (ts, raw value)
    _raw: float = 0.0  # this frame's combined value before the open-level shift
    _shift: float = 0.0  # logit distance of the face's open level above `open_level`
    _shift_ts: float | None = None  # when it was last updated
    _open_pitches: deque[tuple[float, float]] = field(default_factory=deque)  # (ts, pitch)
    _both_down: bool = False  # this frame: both eyes at least half closed (or either counts)
    _dipped: _DippedBlink | None = None  # a blink waiting for the head's pitch after it

    def update(self, obs: Observation) -> list[BlinkEvent]:
        s = self.settings
        settled = self._settle(obs)
        if obs.p_closed is None:
            return settled + self._unknown(obs.ts)
        raw = combined_closed(obs.p_closed, s.both_eyes)
        shift = self._level_shift()
        p = obs.p_closed if shift == 0.0 else (_lower(obs.p_closed[0], shift),
                                                _lower(obs.p_closed[1], shift))
        value = combined_closed(p, s.both_eyes)
        self._raw = raw
        # Half closed means both lids part way down: one eye shut and the other wide open
        # (a hand, a reflection, a wink) is not a half blink, whatever the combined value.
        half_ok = not s.both_eyes or min(p) >= s.t_half
        self._both_down = half_ok
        events: list[BlinkEvent] = settled
        if self.state is EyeState.CLOSED:
            assert self._run is not None
            if value >= s.t_open:
                self._extend(obs, value)
                if not self._run.reported_long and self._run.shut_ms(obs.ts) >= s.long_closure_ms:
                    self._run.reported_long = True
                    if (_fast_onset(self._run, s, reopened=False) and not self._run.looked_down
                            and self._run.both_down):
                        events.append(self._event("eyes_closed", self._run.last_ts))
                return events
            events.extend(self._close_run(obs.ts, "blink"))
            self._reopening = True
        elif self.state is EyeState.HALF:
            assert self._run is not None
            if value >= s.t_closed:
                half = self._run
                self._start(obs, value, EyeState.CLOSED)
                self._run.open_before_ms = half.open_before_ms
                self._run.onset_from = half.onset_from
                self._run.samples = (half.samples + self._run.samples)[:ONSET_SAMPLES]
                self._run.pitch_before = half.pitch_before
                self._run.pitches = half.pitches
                self._run.head_dip = half.head_dip
                self._run.note_pitch(obs.pitch, s.max_head_dip)
                self._run.looked_down = self._run.looked_down or half.looked_down
                self._run.both_down = self._run.both_down or half.both_down
                return events
            if value >= s.t_half:
                self._extend(obs, value)
                self._run.one_sided = self._run.one_sided or not half_ok
                return events
            events.extend(self._close_run(obs.ts, "half_blink"))
        # Eyes open (or just reopened): look for the start of a new closure. Lids still on
        # their way up after a blink are not a half blink of their own.
        if value >= s.t_closed:
            self._start(obs, value, EyeState.CLOSED)
        elif value >= s.t_half and not self._reopening:
            self._start(obs, value, EyeState.HALF)
            assert self._run is not None
            self._run.one_sided = not half_ok
        else:
            self.state, self._run = EyeState.OPEN, None
            self._reopening = self._reopening and value >= s.t_half
        self._open_gap = self._unseen = 0
        self._seen_open = value < s.t_half
        if value < s.t_half:
            if self._open_since is None:
                self._open_since = obs.ts
            self._last_open = obs.ts
        else:
            self._open_since = None
        # Frames outside any closure feed the level, so a laugh narrowing the eyes for
        # seconds does not lift it. Until a face has a level, its frames below t_closed do
        # too: a glare face's flicker starts closures before it has one to read them by.
        # Eyes seen shut (a video starting inside a blink) never do.
        warming_up = len(self._open_values) < OPEN_LEVEL_MIN_FRAMES and raw < s.t_closed
        if self._run is None or warming_up:
            self._remember_open(obs.ts, raw)
        if self._run is None and obs.pitch is not None:
            self._open_pitches.append((obs.ts, obs.pitch))
            self._pitch_before(obs.ts)  # drops the readings older than PITCH_BEFORE_MS
        return events

    def _pitch_before(self, ts: float) -> float | None:
        """Median head pitch of the open frames in the last PITCH_BEFORE_MS, or None."""
        while self._open_pitches and ts - self._open_pitches[0][0] > PITCH_BEFORE_MS / 1000.0:
            self._open_pitches.popleft()
        if not self._open_pitches:
            return None
        ordered = sorted(p for _, p in self._open_pitches)
        return ordered[len(ordered) // 2]

    def _remember_open(self, ts: float, raw: float) -> None:
        """Keep the readings of frames seen open, and follow the face's open level."""
        if self.settings.open_level_ms <= 0:
            return
        self._open_values.append((ts, raw))
        while ts - self._open_values[0][0] > self.settings.open_level_ms / 1000.0:
            self._open_values.popleft()
        if len(self._open_values) < OPEN_LEVEL_MIN_FRAMES:
            return
        ordered = sorted(v for _, v in self._open_values)
        level = ordered[int(OPEN_LEVEL_QUANTILE * (len(ordered) - 1))]
        shift = max(0.0, _logit(level) - _logit(self.settings.open_level))
        if self._shift_ts is not None and shift > self._shift:
            # It rises slowly: lids narrowing over a second or two (a laugh coming on) are
            # read against the level from before, not taken for the new open level.
            shift = min(shift, self._shift + OPEN_LEVEL_RISE * (ts - self._shift_ts))
        self._shift, self._shift_ts = shift, ts

    def _level_shift(self) -> float:
        """How far (logit) this face's open eyes read above `open_level`; 0 when not."""
        return self._shift

    def finish(self) -> list[BlinkEvent]:
        """The face left: drop any closure in progress (nobody saw the eyes reopen)."""
        self.state, self._run, self._reopening = EyeState.OPEN, None, False
        self._dipped = None
        self._open_values.clear()
        self._open_pitches.clear()
        self._shift, self._shift_ts = 0.0, None
        self._open_since = self._last_open = None
        self._open_gap = self._unseen = 0
        self._seen_open = False
        return []

    def _start(self, obs: Observation, value: float, state: EyeState) -> None:
        self.state = state
        self._run = _Run(obs.frame, obs.frame, obs.ts, obs.ts, peak=value, raw_peak=self._raw,
                         both_down=self._both_down)
        self._run.samples.append((obs.ts, value))
        self._run.pitch_before = self._pitch_before(obs.ts)
        self._run.note_pitch(obs.pitch, self.settings.max_head_dip)
        if self._open_since is not None and self._last_open is not None:
            # The open streak lasted until this frame broke it.
            self._run.open_before_ms = (obs.ts - self._open_since) * 1000.0
            self._run.onset_from = self._last_open
        elif self._seen_open and self._last_open is not None:
            # Open eyes, then a can't-tell veto or two that cut a short streak: seen open
            # (enough for a clear closure, SURE_SHUT_MS), though not for min_open_before_ms.
            self._run.onset_from = self._last_open

    def _extend(self, obs: Observation, value: float) -> None:
        run = self._run
        assert run is not None
        run.last_frame, run.last_ts = obs.frame, obs.ts
        run.frames += 1
        run.peak = max(run.peak, value)
        run.raw_peak = max(run.raw_peak, self._raw)
        run.unknown = 0
        run.both_down = run.both_down or self._both_down
        run.note_pitch(obs.pitch, self.settings.max_head_dip)
        if len(run.samples) < ONSET_SAMPLES:
            run.samples.append((obs.ts, value))
        if value >= self.settings.t_closed:
            run.shut_until = None
        elif run.shut_until is None:
            run.shut_until = obs.ts

    def _unknown(self, ts: float) -> list[BlinkEvent]:
        self._unseen += 1
        if self._unseen > self.settings.max_unknown_frames:
            self._seen_open = False
        if self._run is not None:
            self._run.unknown += 1
            if self._run.unknown > self.settings.max_unknown_frames:
                self.state, self._run = EyeState.OPEN, None
        elif self._open_since is not None:
            # Eyes not seen for a frame or two (a can't-tell veto) keep an open streak that
            # was already long enough on its own; a short one or a longer gap does not.
            self._open_gap += 1
            steady = (ts - self._open_since) * 1000.0 + 0.5 >= self.settings.min_open_before_ms
            if not steady or self._open_gap > self.settings.max_unknown_frames:
                self._open_since = None
        return []

    def _close_run(self, end_ts: float, kind: str) -> list[BlinkEvent]:
        run, s = self._run, self.settings
        assert run is not None
        self.state, self._run = EyeState.OPEN, None
        duration_ms = run.shut_ms(end_ts) if kind == "blink" else (end_ts - run.start_ts) * 1e3
        fast = _fast_onset(run, s)
        if run.reported_long or not fast or duration_ms > s.max_blink_ms + 0.5:
            return []  # a slow narrowing (laugh, smile, glance down) or a long closure
        if run.looked_down and kind == "half_blink":
            return []  # the head tilted down with the lids: a glance down
        if not run.both_down:
            return []  # one eye stayed open throughout: a wink, a hand, a glint on one lens
        if kind == "half_blink":
            real = run.frames >= s.min_half_frames and not run.one_sided
            return [self._event(kind, end_ts, run)] if real else []
        assert run.onset_from is not None  # a fast onset has one
        span_ms = (end_ts - run.onset_from) * 1000.0
        long_enough = run.frames >= s.min_closed_frames and span_ms + 0.5 >= s.min_closed_ms
        if not long_enough:
            return []
        if run.looked_down:
            # The head went down with the lids. A glance down ends with the eyes, and the
            # head, coming back up; a blink during a nod or a look down keeps the head low
            # after it. Which one it was, the next pitch reading tells (`_settle`).
            self._dipped = _DippedBlink(self._event(kind, end_ts, run), run.pitch_before,
                                        run.pitch_during(), end_ts + SETTLE_MS / 1000.0)
            return []
        return [self._event(kind, end_ts, run)]

    def _settle(self, obs: Observation) -> list[BlinkEvent]:
        """A blink held back because the head dipped with it: reported once a pitch reading
        after it shows the head still low (nearer its pitch during the closure than before
        it), dropped when the head came back up or no reading came within SETTLE_MS."""
        dipped = self._dipped
        if dipped is None:
            return []
        if obs.ts > dipped.deadline:
            self._dipped = None
            return []
        if obs.pitch is None:
            return []
        self._dipped = None
        stayed_low = obs.pitch < (dipped.before + dipped.during) / 2.0
        return [dipped.event] if stayed_low else []

    def _event(self, kind: str, end_ts: float, run: _Run | None = None) -> BlinkEvent:
        run = run or self._run
        assert run is not None
        return BlinkEvent(
            kind=kind,
            first_frame=run.first_frame,
            last_frame=run.last_frame,
            start_ts=run.start_ts,
            end_ts=end_ts,
            peak_p_closed=run.raw_peak,
            head_dip=run.head_dip,
        )
