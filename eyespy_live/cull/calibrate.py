"""Learning the closed-eyes threshold from the photographer's own corrections.

After a cull with `--xmp`, the photographer reviews in Lightroom / Capture One and changes
the colour label of the photos cull got wrong (Red = eyes closed, Green = keep). Those
sidecars now disagree with what eyespy wrote, and that is the signal: each photo's
"how closed" score (the most closed face, both eyes combined as the live pipeline does) is
paired with the verdict the photographer wants, photos nobody relabelled count as accepted,
and the threshold that agrees with the most of them (a correction weighs more than a silent
acceptance) becomes `blink.photo_t_half`, the point where a face in a photo starts to count
as closed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eyespy_live.cull import xmp
from eyespy_live.cull.verdict import CLOSED, KEEP
from eyespy_live.decision.blink import combined_closed

CORRECTION_WEIGHT = 3.0
_LABEL_VERDICT = {xmp.LABELS[KEEP]: KEEP, xmp.LABELS[CLOSED]: CLOSED}


@dataclass(frozen=True)
class Example:
    path: str
    score: float  # the most closed face's combined P(closed)
    wanted: str  # keep | closed
    corrected: bool  # the photographer changed our label


@dataclass(frozen=True)
class Calibration:
    photo_t_half: float
    examples: int
    corrections: int
    errors_before: int  # weighted examples the current threshold gets wrong
    errors_after: int


def photo_score(record: dict[str, Any], both_eyes: bool = True) -> float | None:
    scores = [
        combined_closed(tuple(f["p_closed"]), both_eyes)
        for f in record.get("faces") or []
        if f.get("p_closed")
    ]
    return max(scores) if scores else None


def collect_examples(
    records: list[dict[str, Any]], session: Path, naming: str = "stem"
) -> list[Example]:
    """Photos with a sidecar we wrote, and the verdict the photographer now wants for each."""
    examples = []
    for record in records:
        score = photo_score(record)
        sidecar = xmp.sidecar_path(session / record["path"], naming)
        if score is None or not sidecar.is_file():
            continue
        try:
            fields = xmp.read_sidecar(sidecar)
        except (xmp.SidecarError, OSError, UnicodeDecodeError):
            continue
        ours, theirs = fields.get("eyespy:Label"), fields.get("xmp:Label")
        if ours is None:
            continue
        if theirs != ours and theirs in _LABEL_VERDICT:
            examples.append(Example(record["path"], score, _LABEL_VERDICT[theirs], True))
        elif theirs == ours and record["verdict"] in (KEEP, CLOSED):
            examples.append(Example(record["path"], score, record["verdict"], False))
    return examples


def _weighted_errors(examples: list[Example], threshold: float) -> float:
    total = 0.0
    for e in examples:
        predicted = CLOSED if e.score >= threshold else KEEP
        if predicted != e.wanted:
            total += CORRECTION_WEIGHT if e.corrected else 1.0
    return total


def fit_threshold(examples: list[Example], current: float) -> Calibration:
    """The photo_t_half with the fewest weighted disagreements; ties go to the one nearest
    `current`."""
    scores = sorted({e.score for e in examples})
    candidates = {current}
    candidates.update((a + b) / 2 for a, b in zip(scores, scores[1:], strict=False))
    if scores:
        candidates.update({max(0.0, scores[0] - 0.01), min(1.0, scores[-1] + 0.01)})
    best = min(candidates, key=lambda t: (_weighted_errors(examples, t), abs(t - current)))
    return Calibration(
        photo_t_half=round(best, 4),
        examples=len(examples),
        corrections=sum(e.corrected for e in examples),
        errors_before=round(_weighted_errors(examples, current)),
        errors_after=round(_weighted_errors(examples, best)),
    )


def config_snippet(calibration: Calibration, photo_t_closed: float) -> str:
    """A [blink] section keeping photo_t_half <= photo_t_closed, for --config or a config file."""
    t_half = calibration.photo_t_half
    t_closed = max(photo_t_closed, t_half)
    return (
        f"# From `eyespy cull --calibrate`: {calibration.corrections} corrections among "
        f"{calibration.examples} photos;\n# weighted disagreements {calibration.errors_before} "
        f"-> {calibration.errors_after}.\n"
        f"[blink]\nphoto_t_half = {t_half}\nphoto_t_closed = {t_closed}\n"
    )
