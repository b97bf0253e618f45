"""Blink-level scoring against per-frame labels (pure; used by `eyespy evaluate`).

A labelled blink is a run of 1s. A detected blink is correct when its closed frames overlap
a labelled run that no earlier detection has claimed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class BlinkScore:
    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        actual = self.true_positives + self.false_negatives
        return self.true_positives / actual if actual else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def runs_of_ones(labels: Sequence[int]) -> list[tuple[int, int]]:
    """(first, last) frame index of every run of 1s."""
    runs, start = [], None
    for i, value in enumerate(labels):
        if value and start is None:
            start = i
        elif not value and start is not None:
            runs.append((start, i - 1))
            start = None
    if start is not None:
        runs.append((start, len(labels) - 1))
    return runs


def score_blinks(
    detected: Sequence[tuple[int, int]], labelled: Sequence[tuple[int, int]]
) -> BlinkScore:
    claimed: set[int] = set()
    tp = fp = 0
    for first, last in sorted(detected):
        match = next(
            (
                i
                for i, (a, b) in enumerate(labelled)
                if i not in claimed and first <= b and last >= a
            ),
            None,
        )
        if match is None:
            fp += 1
        else:
            claimed.add(match)
            tp += 1
    return BlinkScore(tp, fp, len(labelled) - len(claimed))


def read_labels(path: Path) -> list[int]:
    """One 0/1 per frame: one per line, or comma/space separated; a header line is skipped."""
    values: list[int] = []
    for line_number, line in enumerate(path.read_text().splitlines(), start=1):
        for token in line.replace(",", " ").split():
            if token in ("0", "1"):
                values.append(int(token))
            elif line_number == 1 and not values:
                break  # header
            else:
                raise ValueError(f"{path}:{line_number}: expected 0 or 1, got {token!r}")
    return values
