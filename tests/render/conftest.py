"""Fixtures for the diagram tests: the example catalog, compiled once."""

from __future__ import annotations

from pathlib import Path

import pytest

from om_dsl.compiler.driver import compile_catalog
from om_dsl.ir.models import Catalog

REPO = Path(__file__).resolve().parents[2]
ACME = REPO / "examples" / "catalog" / "acme.om"


@pytest.fixture(scope="session")
def acme() -> Catalog:
    return compile_catalog(ACME).raise_on_error()
