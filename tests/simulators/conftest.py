"""Fixtures for the simulator tests: real servers on free loopback ports, always stopped."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
if str(EXAMPLES) not in sys.path:
    sys.path.insert(0, str(EXAMPLES))

from simulators import Simulator, start_all, stop_all  # noqa: E402


@pytest.fixture
def sims() -> Iterator[dict[str, Simulator]]:
    """Billing, inventory and network, fresh for every test."""
    started = start_all(callback_delay_ms=20, callback_backoff_ms=30)
    yield started
    stop_all(started)


@pytest.fixture
def billing(sims: dict[str, Simulator]) -> Simulator:
    return sims["billing"]
