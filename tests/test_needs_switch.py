"""A test that lacks data or a tool says so in one skip line, and under EYESPY_CI=1 fails.

Runs pytest itself, in a subprocess, on two real test files: one needs the shared data set
(pointed at an empty folder here), the other `systemd-analyze` (PATH points at an empty
folder, so no system tool is found).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FILES = ["tests/test_thumbnails.py", "tests/test_service_units.py"]


def run_pytest(tmp_path: Path, ci: bool) -> subprocess.CompletedProcess:
    empty_data, empty_bin = tmp_path / "no-data", tmp_path / "no-tools"
    empty_data.mkdir(exist_ok=True)
    empty_bin.mkdir(exist_ok=True)
    env = {**os.environ, "EYESPY_SHARED_DATA": str(empty_data), "PATH": str(empty_bin)}
    env.pop("EYESPY_CI", None)
    if ci:
        env["EYESPY_CI"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", *FILES],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def counts(output: str) -> dict[str, int]:
    last = output.strip().splitlines()[-1]
    return {word: int(n) for n, word in re.findall(r"(\d+) (passed|failed|skipped|errors?)", last)}


def test_missing_data_and_tools_are_skip_lines_saying_how_to_get_them(tmp_path):
    done = run_pytest(tmp_path, ci=False)
    assert done.returncode == 0, done.stdout
    found = counts(done.stdout)
    assert found.get("skipped", 0) >= 4 and "failed" not in found, done.stdout
    skips = [line for line in done.stdout.splitlines() if line.startswith("SKIPPED")]
    assert any("needs the shared data set" in s and "EYESPY_SHARED_DATA=" in s for s in skips)
    assert any("needs the command `systemd-analyze`: apt-get install systemd" in s for s in skips)
    assert found.get("passed", 0) >= 1, "tests that need nothing still run"


def test_under_the_ci_switch_every_such_skip_is_a_failure(tmp_path):
    quiet = counts(run_pytest(tmp_path, ci=False).stdout)
    done = run_pytest(tmp_path, ci=True)
    assert done.returncode == 1, done.stdout
    found = counts(done.stdout)
    assert "skipped" not in found, done.stdout
    # a fixture that fails (the shared data) is reported as an error for the tests using it
    failures = found.get("failed", 0) + found.get("error", 0) + found.get("errors", 0)
    assert failures == quiet["skipped"], (quiet, found)
    assert found.get("passed") == quiet.get("passed")
    assert "EYESPY_CI=1" in done.stdout
