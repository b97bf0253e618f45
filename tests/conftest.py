"""Shared test fixtures: where the real data lives, and free ZeroMQ endpoints."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from endpoints import free_tcp_endpoint

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("EYESPY_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture
def endpoint() -> str:
    return free_tcp_endpoint()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"the shared data folder is missing: {SHARED_DATA} (set EYESPY_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def python() -> str:
    return sys.executable
