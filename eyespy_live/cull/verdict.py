"""The cull verdict for one photo, from the per-face eye readings.

Three answers a photographer can act on: `keep` (every face has open eyes), `closed`
(someone's eyes are closed or half closed, and which faces), `check` (the program can't
tell: no face, a face too small or turned away, or two eyes that disagree, which is a wink
or a misread). A file that can't be read at all is `unreadable`, with the reason.
"""

from __future__ import annotations

from eyespy_live.decision.shot import (  # noqa: F401 - re-exported for cull's callers
    DISAGREE_CLOSED,
    DISAGREE_OPEN,
    disagreeing_eyes,
    photo_verdict,
)
from eyespy_live.events import FaceReport

KEEP, CLOSED, CHECK, UNREADABLE = "keep", "closed", "check", "unreadable"
VERDICTS = (KEEP, CLOSED, CHECK, UNREADABLE)
VERDICT_NAMES = {"keep": KEEP, "retake": CLOSED, "check": CHECK}


def cull_verdict(faces: list[FaceReport], wink: str = "retake") -> tuple[str, str, list[int]]:
    """(verdict, one-line reason, ids of the faces a person should look at).

    The decision is `decision.shot.photo_verdict`, the same one the tethered shot and the
    hot folder publish, so a file gets one answer everywhere; cull only names a retake
    "closed" (the folder its photos are sorted into).
    """
    verdict = photo_verdict(faces, wink)
    return VERDICT_NAMES[verdict.verdict], verdict.reason, verdict.attention
