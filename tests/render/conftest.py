"""Fixtures for the diagram tests: the example catalog, compiled once."""

from __future__ import annotations

import pytest
from render_examples import catalog

from om_dsl.ir.models import Catalog


@pytest.fixture(scope="session")
def acme() -> Catalog:
    return catalog()
