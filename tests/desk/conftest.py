"""Fixtures of the desk's process tests."""

from __future__ import annotations

import pytest

from tests.fakes.exchange import spawn


@pytest.fixture
def fake_exchange():
    """The fake exchange in its own process (it outlives a killed desk, as a venue does),
    one new one-minute bar every half second; yields its REST base URL."""
    process, rest, _ = spawn("--advance-every", "0.5", "--history", "2000")
    try:
        yield rest
    finally:
        process.terminate()
        process.wait(timeout=10)
