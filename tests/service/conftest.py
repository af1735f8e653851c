"""Real simulators, and the real service on a free 127.0.0.1 port, for every service test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from service_support import Running, Sims, serve, start_sims
from simulators import stop_all


@pytest.fixture
def sims() -> Iterator[Sims]:
    started = start_sims()
    yield started
    stop_all(started.all())


@pytest.fixture
def service(tmp_path: Path, sims: Sims) -> Iterator[Callable[..., Running]]:
    """Start services (``service(tokens=..., **config)``); each is stopped at the end."""
    started: list[Running] = []

    def make(**options: Any) -> Running:
        running = serve(tmp_path / f"om{len(started)}.db", sims, **options)
        started.append(running)
        return running

    yield make
    for running in started:
        running.close()
