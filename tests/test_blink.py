"""The blink state machine, fed probability sequences: what counts as a blink and what not."""

import numpy as np
import pytest

from eyespy_live.decision.blink import (
    BlinkSettings,
    BlinkStateMachine,
    EyeState,
    Observation,
    eye_state,
)

FPS = 30.0
# Round thresholds so the sequences below read easily; the shipped defaults are lower.
CLEAR = BlinkSettings(t_closed=0.6, t_open=0.4, t_half=0.3)


def feed(values, settings=None, start_frame=0, frame_step=1):
    """Run a sequence; each value is P(closed) for both eyes, a pair, or None (can't tell)."""
    machine = BlinkStateMachine(settings or CLEAR)
    events = []
    for i, value in enumerate(values):
        frame = start_frame + i * frame_step
        p = None if value is None else (value if isinstance(value, tuple) else (value, value))
        events += machine.update(Observation(frame, frame / FPS, p))
    return machine, events


def test_open_closed_open_is_one_blink_with_its_closed_frames():
    _, events = feed([0.05] * 5 + [0.9] * 4 + [0.05] * 5)
    assert [e.kind for e in events] == ["blink"]
    assert (events[0].first_frame, events[0].last_frame) == (5, 8)
    assert events[0].duration_ms == pytest.approx(4 / FPS * 1000)


def test_eyes_that_stay_open_give_nothing():
    _, events = feed([0.05, 0.1, 0.2, 0.15, 0.05] * 20)
    assert events == []


def test_noise_around_the_threshold_does_not_split_one_blink():
    # Inside a closure the probability dips to 0.45: above t_open, so still closed.
    _, events = feed([0.05] * 3 + [0.9, 0.65, 0.45, 0.7, 0.5, 0.95] + [0.05] * 3)
    assert [e.kind for e in events] == ["blink"]


def test_two_separate_blinks_are_two_events():
    _, events = feed([0.0] * 3 + [0.9] * 3 + [0.0] * 5 + [0.9] * 3 + [0.0] * 2)
    assert [e.kind for e in events] == ["blink", "blink"]
    assert events[1].first_frame == 11


def test_a_wink_is_not_a_blink_by_default():
    wink = [(0.02, 0.02)] * 3 + [(0.95, 0.03)] * 4 + [(0.02, 0.02)] * 3
    _, events = feed(wink)
    assert all(e.kind != "blink" for e in events)


def test_one_eye_shutting_while_the_other_reads_open_is_no_blink_at_the_shipped_thresholds():
    """The live thresholds sit low (0.15 on the geometric mean), so one eye at 0.95 beside an
    open one at 0.03 reaches them: a wink, a hand over one eye or a glint on one lens. A blink
    needs both eyes at least half closed on some frame; a real blink still is one."""
    quick = [(0.02, 0.02)] * 5 + [(0.95, 0.03)] * 4 + [(0.02, 0.02)] * 5
    held = [(0.02, 0.02)] * 5 + [(0.95, 0.03)] * 30 + [(0.02, 0.02)] * 5
    assert feed(quick, DEFAULTS)[1] == [] and feed(held, DEFAULTS)[1] == []
    both = [(0.02, 0.02)] * 5 + [(0.95, 0.03), (0.95, 0.3), (0.95, 0.03)] + [(0.02, 0.02)] * 5
    assert [e.kind for e in feed(both, DEFAULTS)[1]] == ["blink"]


def test_a_wink_counts_when_either_eye_is_enough():
    wink = [(0.02, 0.02)] * 3 + [(0.95, 0.03)] * 4 + [(0.02, 0.02)] * 3
    _, events = feed(wink, BlinkSettings(t_closed=0.6, t_open=0.4, t_half=0.3, both_eyes=False))
    assert [e.kind for e in events] == ["blink"]


def test_minimum_frames_drop_a_single_frame_flicker():
    settings = BlinkSettings(min_closed_frames=2)
    _, events = feed([0.0] * 3 + [0.9] + [0.0] * 3, settings)
    assert events == []
    _, events = feed([0.0] * 3 + [0.9, 0.9] + [0.0] * 3, settings)
    assert len(events) == 1


def test_minimum_milliseconds_use_capture_time_not_frame_count():
    settings = BlinkSettings(min_closed_ms=100)
    # Two closed frames at 30 fps: 66 ms from first closed to reopening → too short.
    _, events = feed([0.0] * 2 + [0.9] * 2 + [0.0] * 2, settings)
    assert events == []
    # Same two frames when every other frame was dropped (step 2): 133 ms → a blink.
    _, events = feed([0.0] * 2 + [0.9] * 2 + [0.0] * 2, settings, frame_step=2)
    assert len(events) == 1
    assert events[0].last_frame - events[0].first_frame == 2


def test_a_few_cant_tell_frames_inside_a_blink_are_tolerated():
    _, events = feed([0.0] * 3 + [0.9, None, None, 0.9] + [0.0] * 3)
    assert [e.kind for e in events] == ["blink"]
    assert (events[0].first_frame, events[0].last_frame) == (3, 6)


def test_too_many_cant_tell_frames_abandon_the_closure():
    _, events = feed([0.0] * 3 + [0.9] + [None] * 5 + [0.0] * 3)
    assert events == []


def test_a_face_that_leaves_mid_blink_gives_no_event():
    machine, events = feed([0.0] * 3 + [0.9] * 3)
    assert machine.state is EyeState.CLOSED
    assert machine.finish() == [] and events == []
    assert machine.state is EyeState.OPEN


def test_half_closed_eyes_are_a_half_blink():
    _, events = feed([0.0] * 3 + [0.45] * 4 + [0.0] * 3)
    assert [e.kind for e in events] == ["half_blink"]


def test_lids_reopening_slowly_after_a_blink_are_not_a_half_blink():
    _, events = feed([0.0] * 3 + [0.9] * 3 + [0.35, 0.35, 0.32] + [0.0] * 3)
    assert [e.kind for e in events] == ["blink"]


def test_a_half_blink_after_the_eyes_fully_reopened_still_counts():
    _, events = feed([0.0] * 3 + [0.9] * 3 + [0.0] * 3 + [0.45] * 3 + [0.0] * 2)
    assert [e.kind for e in events] == ["blink", "half_blink"]


def test_a_long_closure_is_reported_while_it_lasts_and_is_no_blink():
    settings = BlinkSettings(long_closure_ms=300)
    _, events = feed([0.0] * 5 + [0.9] * 20 + [0.0] * 2, settings)
    assert [e.kind for e in events] == ["eyes_closed"]
    assert events[0].duration_ms >= 300


def test_thresholds_out_of_order_are_rejected():
    with pytest.raises(ValueError):
        BlinkSettings(t_closed=0.3, t_open=0.5)


def test_instant_state_for_display():
    s = CLEAR
    assert eye_state(None, s) is EyeState.UNKNOWN
    assert eye_state((0.9, 0.95), s) is EyeState.CLOSED
    assert eye_state((0.35, 0.5), s) is EyeState.HALF
    assert eye_state((0.9, 0.05), s) is EyeState.OPEN


# ---------------------------------------------------------------- time course (issue 14)

DEFAULTS = BlinkSettings()


def test_a_fast_blink_is_one_event_with_the_default_settings():
    # 30 fps: open 300 ms, shut 133 ms (4 frames), open again.
    _, events = feed([0.02] * 9 + [0.4, 0.95, 0.97, 0.9, 0.3] + [0.02] * 10, DEFAULTS)
    assert [e.kind for e in events] == ["blink"]


def test_a_slow_narrowing_gives_no_event():
    """A laugh: the lids narrow over ~1 s, stay narrowed for 2 s, and open slowly."""
    ramp = list(np.linspace(0.02, 0.9, 30))
    laugh = [0.02] * 10 + ramp + [0.9, 0.7, 0.95, 0.6, 0.85] * 12 + ramp[::-1] + [0.02] * 10
    _, events = feed(laugh, DEFAULTS)
    assert events == []


def test_a_laugh_with_flickering_readings_gives_no_event():
    """Narrowed eyes read closed and half by turns after a slow start: still nothing."""
    ramp = list(np.linspace(0.02, 0.6, 20))
    flicker = [0.02] * 10 + ramp + [0.1, 0.5, 0.9, 0.08, 0.3, 0.95, 0.1, 0.6] * 8 + [0.02] * 10
    _, events = feed(flicker, DEFAULTS)
    assert events == []


def test_the_same_blink_inside_a_talk_is_still_found():
    talk = [0.02, 0.05, 0.03, 0.06, 0.01] * 4
    _, events = feed(talk + [0.3, 0.9, 0.97, 0.6, 0.1] + talk, DEFAULTS)
    assert [e.kind for e in events] == ["blink"]


def test_a_face_first_seen_with_narrowed_eyes_gives_no_event():
    _, events = feed([0.9] * 6 + [0.02] * 10, DEFAULTS)
    assert events == []


def test_a_one_frame_flicker_at_a_high_frame_rate_is_below_the_minimum_duration():
    assert DEFAULTS.min_closed_ms >= 50
    machine, events = BlinkStateMachine(DEFAULTS), []
    values = [0.02] * 30 + [0.95] + [0.02] * 30  # 100 fps: 20 ms from open to open
    for i, v in enumerate(values):
        events += machine.update(Observation(i, i / 100.0, (v, v)))
    assert events == []
    # At 30 fps one closed frame spans 67 ms open to open: a fast blink, counted.
    _, events = feed([0.02] * 10 + [0.95] + [0.02] * 10, DEFAULTS)
    assert [e.kind for e in events] == ["blink"]


def test_eyes_kept_shut_after_a_fast_closing_are_eyes_closed_but_no_blink():
    _, events = feed([0.02] * 10 + [0.95] * 30 + [0.02] * 5, DEFAULTS)
    assert [e.kind for e in events] == ["eyes_closed"]


def test_a_closure_longer_than_a_blink_that_reopens_early_is_no_blink():
    settings = BlinkSettings(max_blink_ms=300, long_closure_ms=2000)
    _, events = feed([0.02] * 10 + [0.95] * 15 + [0.02] * 5, settings)
    assert events == []


def test_a_cant_tell_frame_just_before_a_blink_keeps_the_eyes_seen_open():
    _, events = feed([0.02] * 8 + [None, 0.14, 0.98, 0.98, 0.22, 0.04] + [0.02] * 5, DEFAULTS)
    assert [e.kind for e in events] == ["blink"]
    _, events = feed([0.02] * 8 + [None] * 3 + [0.98, 0.98, 0.04] + [0.02] * 5, DEFAULTS)
    assert events == []  # eyes unseen too long: not "seen open" before the closure


def test_one_eye_shut_and_the_other_open_is_no_half_blink():
    one_sided = [(0.02, 0.02)] * 8 + [(0.92, 0.01)] * 3 + [(0.02, 0.02)] * 5
    _, events = feed(one_sided, DEFAULTS)
    assert events == []
    both = [(0.02, 0.02)] * 8 + [(0.1, 0.12)] * 3 + [(0.02, 0.02)] * 5
    _, events = feed(both, DEFAULTS)
    assert [e.kind for e in events] == ["half_blink"]


# Open eyes behind glare on glasses: this face's open readings flicker between 0.02 and 0.4.
GLARE = [0.12, 0.05, 0.04, 0.24, 0.15, 0.19, 0.1, 0.07, 0.09, 0.18, 0.07, 0.3, 0.12, 0.35,
         0.13, 0.04, 0.15, 0.22, 0.06, 0.16]


def test_a_blink_of_a_face_whose_open_eyes_read_high_is_found():
    blink = [0.52, 0.99, 0.99, 0.98, 0.99, 0.72, 0.27]
    _, events = feed(GLARE + blink + GLARE, DEFAULTS)
    assert [e.kind for e in events] == ["blink"]
    assert events[0].first_frame == len(GLARE) + 1  # the first frame near the peak
    assert events[0].peak_p_closed == pytest.approx(0.99)  # as read, not as shifted
    # With fixed thresholds the closure seems to start on the glare frame before it.
    _, events = feed(GLARE + blink + GLARE, BlinkSettings(open_level_ms=0))
    assert [e.first_frame for e in events] == [len(GLARE) - 1]


def test_the_open_flicker_of_such_a_face_is_no_blink():
    _, events = feed(GLARE * 6, DEFAULTS)
    assert events == []


def test_a_face_reading_open_at_zero_keeps_the_shipped_thresholds():
    machine, _ = feed([0.0, 0.004, 0.008, 0.012] * 10, DEFAULTS)
    assert machine._level_shift() == 0.0
    # A low closure is a blink for such a face, as before.
    _, events = feed([0.004] * 10 + [0.2, 0.3, 0.05] + [0.004] * 5, DEFAULTS)
    assert [e.kind for e in events] == ["blink"]


def test_a_clear_closure_needs_only_one_open_frame_before_it():
    """A face seen open for one frame, then shut for ~200 ms and open again: a blink (a
    video that starts just before one). A one- or two-frame closure needs the eyes seen
    open for min_open_before_ms, as a misplaced crop on a moving head reads like that."""
    _, events = feed([0.03] + [0.9] * 6 + [0.02] * 10, DEFAULTS)
    assert [e.kind for e in events] == ["blink"]
    _, events = feed([0.03] + [0.9] * 2 + [0.02] * 10, DEFAULTS)
    assert events == []
    _, events = feed([0.03] * 4 + [0.9] * 2 + [0.02] * 10, DEFAULTS)
    assert [e.kind for e in events] == ["blink"]


def test_a_laugh_after_glare_flicker_gives_no_event():
    ramp = list(np.linspace(0.2, 0.95, 25))
    laugh = GLARE + ramp + [0.9, 0.7, 0.95, 0.6, 0.85] * 12 + ramp[::-1] + GLARE
    _, events = feed(laugh, DEFAULTS)
    assert events == []


def test_a_clear_blink_after_open_frames_cut_by_cant_tell_vetoes_is_found():
    """A veto every third frame (one eye misread behind a glasses frame) keeps any open
    streak short; the eyes were still seen open just before the closure."""
    vetoed = [0.02, 0.02, None] * 4 + [0.02, None]
    _, events = feed(vetoed + [0.9] * 8 + [0.3, None, 0.02] + [0.02] * 5, DEFAULTS)
    assert [e.kind for e in events] == ["blink"]
    _, events = feed(vetoed + [0.9] + [0.02] * 5, DEFAULTS)
    assert events == []  # one closed frame: needs the eyes seen open for 100 ms


def test_a_face_first_seen_mid_blink_does_not_take_shut_eyes_for_its_open_level():
    # The video starts inside a blink (no event for it), then a shallow blink 400 ms later.
    values = [0.95] * 5 + [0.02] * 12 + [0.2, 0.45, 0.5, 0.3, 0.05] + [0.02] * 10
    _, events = feed(values, DEFAULTS)
    assert [e.kind for e in events] == ["blink"]
    assert events[0].first_frame == 17


def test_eyes_kept_shut_after_one_open_frame_are_no_eyes_closed_event():
    """One open frame is enough before a clear blink, not before eyes that stay shut (a face
    first seen looking down a moment after it looked up)."""
    _, events = feed([0.03] + [0.95] * 30 + [0.02] * 5, DEFAULTS)
    assert events == []
    _, events = feed([0.03] * 4 + [0.95] * 30 + [0.02] * 5, DEFAULTS)
    assert [e.kind for e in events] == ["eyes_closed"]


def feed_with_pitch(values, pitches, settings=DEFAULTS):
    """Like `feed`, with the head pitch the landmarks measured on each frame (None: not run)."""
    machine, events = BlinkStateMachine(settings), []
    for i, (value, pitch) in enumerate(zip(values, pitches, strict=True)):
        events += machine.update(Observation(i, i / FPS, (value, value), pitch))
    return events


# Lids down within a frame and kept there for a second (the landmarks run only on frames the
# CNN does not call clearly open, so the open frames carry no pitch).
SHUT_FOR_A_SECOND = [0.02] * 10 + [0.97] * 30 + [0.02] * 5


def test_lids_dropping_as_the_head_tilts_down_are_a_glance_not_closed_eyes():
    tilting = [None] * 10 + list(np.linspace(-6, -20, 10)) + [-20.0] * 20 + [None] * 5
    assert feed_with_pitch(SHUT_FOR_A_SECOND, tilting) == []


def test_the_same_closure_with_a_steady_head_is_eyes_closed():
    steady = [None] * 10 + [-6.0 + 0.5 * (i % 3) for i in range(30)] + [None] * 5
    assert [e.kind for e in feed_with_pitch(SHUT_FOR_A_SECOND, steady)] == ["eyes_closed"]


def test_a_blink_that_moves_the_head_as_much_as_real_ones_do_is_still_found():
    # Labelled blinks moved the mesh's pitch by at most ~3° (ZJU); a blink lifts it if anything.
    blink = [0.02] * 9 + [0.4, 0.95, 0.97, 0.9, 0.3] + [0.02] * 10
    pitches = [None] * 9 + [-8.0, -9.5, -11.0, -9.0, -8.5] + [None] * 10
    assert [e.kind for e in feed_with_pitch(blink, pitches)] == ["blink"]
    # … and with the rule off, a tilting head does not matter.
    tilting = [None] * 10 + list(np.linspace(-6, -20, 10)) + [-20.0] * 20 + [None] * 5
    off = BlinkSettings(max_head_dip=0)
    assert [e.kind for e in feed_with_pitch(SHUT_FOR_A_SECOND, tilting, off)] == ["eyes_closed"]


def test_a_look_down_that_begins_with_the_head_is_measured_from_the_open_frames_before():
    # The head goes down while the eyes are still open (a mesh-only pose now and then), then
    # the lids drop: against its own first closed frame the head hardly moves, against the
    # open frames before it, it is 8° lower.
    values = [0.02] * 30 + [0.97] * 30 + [0.02] * 5
    pitches = [(-10.0 if i < 15 else -13.0) if i % 6 == 0 else None for i in range(30)]
    pitches += [-18.0, -18.5, -18.0, -19.0] + [-18.5] * 26 + [None] * 5
    assert feed_with_pitch(values, pitches) == []
    # The same closure with the head where it was: eyes closed.
    steady = pitches[:30] + [-11.0 - 0.5 * (i % 3) for i in range(30)] + [None] * 5
    assert [e.kind for e in feed_with_pitch(values, steady)] == ["eyes_closed"]


def test_one_jumpy_pitch_reading_inside_a_blink_does_not_cancel_it():
    # talking_one_face's second blink as the live pipeline measured it: the mesh's pitch
    # jumps 6° for a frame; the median of the latest three stays within 3° of before.
    values = [0.0] * 12 + [0.99, 1.0, 1.0, 0.97, 0.99, 0.68] + [0.02] * 5
    pitches = [-5.0 if i % 6 == 0 else None for i in range(12)]
    pitches += [-2.5, -7.5, -8.8, -4.3, -6.2, -7.1] + [None] * 5
    events = feed_with_pitch(values, pitches)
    assert [e.kind for e in events] == ["blink"]
    assert events[0].head_dip == pytest.approx(2.5)


def test_a_face_open_for_a_long_time_keeps_only_its_last_second_of_head_pitch():
    machine = BlinkStateMachine(DEFAULTS)
    for i in range(3000):  # 100 s at 30 fps, a pitch reading on every frame
        machine.update(Observation(i, i / FPS, (0.01, 0.01), -5.0))
    assert len(machine._open_pitches) <= FPS + 1


def test_a_blink_as_the_head_moves_down_and_stays_there_is_found_once_the_head_is_measured():
    # The lids drop and reopen within 300 ms while the head goes 7° down and stays there (a
    # look down with a blink in it): the event waits for the next pitch reading after it.
    values = [0.02] * 12 + [0.95] * 8 + [0.02] * 8
    pitches = [1.0] * 12 + list(np.linspace(0.0, -6.0, 8)) + [-6.5] * 8
    events = feed_with_pitch(values, pitches)
    assert [(e.kind, e.first_frame, e.last_frame) for e in events] == [("blink", 12, 19)]


def test_a_short_glance_down_whose_head_comes_back_up_is_no_blink():
    values = [0.02] * 12 + [0.95] * 8 + [0.02] * 8
    pitches = [1.0] * 12 + [-8.0] * 8 + [0.5] * 8
    assert feed_with_pitch(values, pitches) == []
    # … nor when no pitch reading comes after it to tell.
    assert feed_with_pitch(values, [1.0] * 12 + [-8.0] * 8 + [None] * 8) == []


def test_eyes_still_part_shut_as_they_reopen_are_no_second_blink():
    # A blink, one open frame, then readings that hover just over the low live threshold
    # (lids back up, the patch still reading part-shut behind glasses) for 150 ms.
    values = [0.02] * 10 + [0.95] * 6 + [0.02] + [0.26, 0.2, 0.22, 0.16, 0.2] + [0.02] * 6
    assert [(e.kind, e.first_frame) for e in feed(values, DEFAULTS)[1]] == [("blink", 10)]
