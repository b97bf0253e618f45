"""Group-disjoint splits: one person, source photo or video never lands on two sides.

A group's side is a pure function of its name (a hash), so the split of a group does not
depend on which other groups were loaded, on their order, or on any random state: adding a
data source never moves an existing person from train to test.
"""

from __future__ import annotations

import hashlib

import numpy as np

SPLITS = ("train", "val", "test")


def group_fraction(group: str, salt: str = "eyespy-split-v1") -> float:
    """A stable pseudo-random number in [0, 1) for a group name."""
    digest = hashlib.sha256(f"{salt}:{group}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def assign_splits(groups: np.ndarray, val: float = 0.1, test: float = 0.2,
                  salt: str = "eyespy-split-v1") -> np.ndarray:
    """'train' / 'val' / 'test' for every item, decided per group."""
    if not val >= 0 and test >= 0 and val + test < 1:
        raise ValueError("val and test fractions must be ≥0 and sum below 1")
    sides = {}
    for group in set(groups.tolist()):
        u = group_fraction(str(group), salt)
        sides[group] = "test" if u < test else "val" if u < test + val else "train"
    return np.array([sides[g] for g in groups.tolist()], dtype=object)


def check_disjoint(groups: np.ndarray, splits: np.ndarray) -> None:
    """Raise if any group appears in more than one split."""
    seen: dict[str, str] = {}
    for group, side in zip(groups.tolist(), splits.tolist(), strict=True):
        if seen.setdefault(group, side) != side:
            raise AssertionError(f"group {group!r} is in both {seen[group]} and {side}")
