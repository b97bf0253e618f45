"""What a test needs that a user's machine may lack, and the one line that says how to get it.

A test calls `needs.shared_data()`, `needs.tool(...)` or `needs.module(...)`; when the thing is
missing the test is skipped with a line naming it and how to get it. Under `EYESPY_CI=1`
(set by `.ci/run`) a skip is a failure instead, so CI can never pass by skipping.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("EYESPY_SHARED_DATA", REPO.parent / "shared" / "data"))
IN_CI = os.environ.get("EYESPY_CI") == "1"


def missing(what: str, how: str) -> None:
    """Skip (or, in CI, fail) because `what` is missing; `how` says how to get it."""
    line = f"needs {what}: {how}"
    if IN_CI:
        pytest.fail(f"{line} (EYESPY_CI=1: a skip is a failure)", pytrace=False)
    pytest.skip(line)


def shared_data(*parts: str) -> Path:
    """The shared data folder (or a path inside it); skipped when it is not there."""
    path = SHARED_DATA.joinpath(*parts)
    # The bare folder must be the data set (its README indexes it), not just any folder.
    found = path.exists() if parts else (path / "README.md").is_file()
    if not found:
        missing(
            f"the shared data set ({path})",
            "set EYESPY_SHARED_DATA=/path/to/shared/data (test photos and videos; README: Tests)",
        )
    return path


def tool(name: str, how: str) -> str:
    """The full path of a system command; skipped when it is not on PATH."""
    found = shutil.which(name)
    if found is None:
        missing(f"the command `{name}`", how)
    return found  # type: ignore[return-value]


def module(name: str, how: str) -> None:
    """A Python module that only an extra installs (e.g. tensorflow from `[train]`)."""
    if importlib.util.find_spec(name) is None:
        missing(f"the Python module `{name}`", how)
