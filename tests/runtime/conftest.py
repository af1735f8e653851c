"""Fixtures shared by the runtime tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from om_dsl.runtime.store.base import Store
from om_dsl.runtime.store.memory import MemoryStore
from om_dsl.runtime.store.sqlite import SqliteStore


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """Each store a host may run on: what the tests using it check must hold on both."""
    made: Store = MemoryStore() if request.param == "memory" else SqliteStore(tmp_path / "om.db")
    yield made
    made.close()
