"""Shared test fixtures: where the real data lives, and free ZeroMQ endpoints."""

from __future__ import annotations

import sys
from pathlib import Path

import needs
import pytest
from endpoints import free_tcp_endpoint
from needs import REPO, SHARED_DATA  # noqa: F401 (used by tests through conftest)


@pytest.fixture
def endpoint() -> str:
    return free_tcp_endpoint()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    return needs.shared_data()


@pytest.fixture(scope="session")
def python() -> str:
    return sys.executable


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under EYESPY_CI=1 any skip, wherever it comes from, is reported as a failure."""
    outcome = yield
    report = outcome.get_result()
    if needs.IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped under EYESPY_CI=1 (CI must run everything): {report.longrepr}"


@pytest.fixture(scope="session")
def detector():
    """The product's face detector (BlazeFace), loaded once for the tests that judge faces."""
    from eyespy_live.vision.faces import create_detector

    return create_detector("blazeface")


@pytest.fixture(scope="session")
def judge():
    """The product's eye judge: the shipped CNN with the eyelid geometry and the fusion."""
    from eyespy_live.decision.judge import EyeJudge
    from eyespy_live.vision.eyestate import EyeStateModel

    return EyeJudge.default(EyeStateModel())
