"""Fixtures for decomposition tests: the example and lab catalogs, and both engines."""

from __future__ import annotations

import pytest
from decomposition_support import ACME, LAB, catalog_at

from om_dsl.ir import models as ir
from om_dsl.rules.durable_adapter import durable_available

ENGINES = ["compiled", "durable"]


@pytest.fixture(scope="session")
def acme() -> ir.Catalog:
    return catalog_at(ACME)


@pytest.fixture(scope="session")
def lab() -> ir.Catalog:
    return catalog_at(LAB)


@pytest.fixture(scope="session")
def have_durable() -> bool:
    return durable_available()


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    if name == "durable" and not durable_available():
        pytest.skip("durable-rules is not available on this Python")
    return name
