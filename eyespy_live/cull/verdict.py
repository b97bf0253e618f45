"""The cull verdict for one photo, from the per-face eye readings.

Three answers a photographer can act on: `keep` (every face has open eyes), `closed`
(someone's eyes are closed or half closed, and which faces), `check` (the program can't
tell: no face, a face too small or turned away, or two eyes that disagree, which is a wink
or a misread). A file that can't be read at all is `unreadable`, with the reason.
"""

from __future__ import annotations

from eyespy_live.decision.blink import EyeState
from eyespy_live.events import FaceReport

KEEP, CLOSED, CHECK, UNREADABLE = "keep", "closed", "check", "unreadable"
VERDICTS = (KEEP, CLOSED, CHECK, UNREADABLE)
# One eye this sure open and the other this sure closed: a wink or a misread, never "keep".
DISAGREE_OPEN, DISAGREE_CLOSED = 0.25, 0.75


def disagreeing_eyes(face: FaceReport) -> bool:
    if face.p_closed is None:
        return False
    low, high = sorted(face.p_closed)
    return low <= DISAGREE_OPEN and high >= DISAGREE_CLOSED


def cull_verdict(faces: list[FaceReport]) -> tuple[str, str, list[int]]:
    """(verdict, one-line reason, ids of the faces a person should look at)."""
    if not faces:
        return CHECK, "no face found", []
    shut = [f for f in faces if f.state in (EyeState.CLOSED.value, EyeState.HALF.value)]
    if shut:
        names = ", ".join(
            f"face {f.id}" + (" half closed" if f.state == EyeState.HALF.value else "")
            for f in shut
        )
        return CLOSED, f"eyes closed: {names} of {len(faces)}", [f.id for f in shut]
    unknown = [f for f in faces if f.state == EyeState.UNKNOWN.value]
    odd = [f for f in faces if f.state == EyeState.OPEN.value and disagreeing_eyes(f)]
    if unknown or odd:
        why = [f"face {f.id}: {f.reason or 'unreadable eyes'}" for f in unknown]
        why += [f"face {f.id}: one eye open, one closed (wink or misread)" for f in odd]
        return CHECK, "can't tell: " + "; ".join(why), [f.id for f in unknown + odd]
    return KEEP, "all eyes open" if len(faces) > 1 else "eyes open", []
