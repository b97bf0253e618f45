"""The cull verdict for one photo, from the per-face eye readings.

Three answers a photographer can act on: `keep` (every face has open eyes), `closed`
(someone's eyes are closed or half closed, and which faces), `check` (the program can't
tell: no face, a face too small or turned away, or two eyes that disagree, which is a wink
or a misread). A file that can't be read at all is `unreadable`, with the reason.
"""

from __future__ import annotations

from eyespy_live.decision.facestate import FaceState
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


def cull_verdict(faces: list[FaceReport], wink: str = "retake") -> tuple[str, str, list[int]]:
    """(verdict, one-line reason, ids of the faces a person should look at).

    A wink (one eye shut, the other clearly open) goes with the closed ones by default
    (`blink.photo_wink`); a squint (narrowed but open) is kept and named in the reason.
    """
    if not faces:
        return CHECK, "no face found", []
    shut_states = (FaceState.CLOSED, FaceState.HALF) + ((FaceState.WINK,) if wink == "retake"
                                                        else ())
    shut = [f for f in faces if f.state in shut_states]
    if shut:
        names = ", ".join(
            f"face {f.id}" + {FaceState.HALF: " half closed", FaceState.WINK: " (wink)"}.get(
                f.state, "")
            for f in shut
        )
        return CLOSED, f"eyes closed: {names} of {len(faces)}", [f.id for f in shut]
    unknown = [f for f in faces if f.state == FaceState.UNKNOWN]
    winks = [f for f in faces if f.state == FaceState.WINK and wink == "check"]
    odd = [f for f in faces if f.state == FaceState.OPEN and disagreeing_eyes(f)]
    if unknown or odd or winks:
        why = [f"face {f.id}: {f.reason or 'unreadable eyes'}" for f in unknown]
        why += [f"face {f.id}: wink" for f in winks]
        why += [f"face {f.id}: one eye open, one closed (wink or misread)" for f in odd]
        return CHECK, "can't tell: " + "; ".join(why), [f.id for f in unknown + winks + odd]
    squints = [f.id for f in faces if f.state == FaceState.SQUINT]
    reason = "all eyes open" if len(faces) > 1 else "eyes open"
    if squints:
        reason += " (squinting: " + ", ".join(f"face {i}" for i in squints) + ")"
    return KEEP, reason, squints
