"""Real simulators on free 127.0.0.1 ports for every downstream test, always stopped."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from downstream_support import Lab, Sims, start_sims
from simulators import stop_all

from om_dsl.runtime import Runtime


@pytest.fixture
def sims() -> Iterator[Sims]:
    started = start_sims()
    yield started
    stop_all(started.all())


@pytest.fixture
def lab(sims: Sims) -> Iterator[Callable[..., Runtime]]:
    """Build runtimes on the lab catalog (or another), pointed at the simulators."""
    with Lab(sims) as factory:
        yield factory.runtime
