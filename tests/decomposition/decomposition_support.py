"""Helpers shared by the decomposition tests."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from om_dsl.compiler.driver import compile_catalog
from om_dsl.errors import DecompositionError, OrderValidationError
from om_dsl.ir import models as ir
from om_dsl.orders.decompose import Decomposer
from om_dsl.rules.durable_adapter import durable_available

REPO = Path(__file__).resolve().parents[2]
ACME = REPO / "examples" / "catalog" / "acme.om"
LAB = REPO / "tests" / "fixtures" / "orders" / "lab.om"
FAMILY = REPO / "tests" / "fixtures" / "orders" / "family.om"
TABLES = REPO / "tests" / "fixtures" / "orders" / "tables.om"
BUNDLE = REPO / "tests" / "fixtures" / "orders" / "bundle.om"
FIXTURES = REPO / "tests" / "fixtures" / "orders"
EXAMPLE_ORDERS = REPO / "examples" / "orders"


GOLDEN_CATALOGS = {"lab": LAB, "family": FAMILY, "tables": TABLES, "bundle": BUNDLE}
"""Golden fixture orders named ``<prefix>-*`` run on these catalogs; the others on acme."""


def golden_cases() -> list[tuple[str, Path, Path]]:
    """(name, catalog, order file) for every example order and golden fixture order: the lab
    catalog's fixtures are named ``lab-*``, the family plan catalog's ``family-*``, the named
    map tables catalog's ``tables-*``, the bundle attribute catalog's ``bundle-*``."""
    cases = [(p.stem, ACME, p) for p in sorted(EXAMPLE_ORDERS.glob("*.json"))]
    for path in sorted((FIXTURES / "golden").glob("*.json")):
        prefix = path.name.split("-", 1)[0]
        cases.append((path.stem, GOLDEN_CATALOGS.get(prefix, ACME), path))
    return cases


def golden_documents() -> list[tuple[str, Path, Any]]:
    """:func:`golden_cases` with each order file read as JSON."""
    return [(name, catalog, json.loads(path.read_text())) for name, catalog, path in golden_cases()]


@functools.cache
def catalog_at(path: Path) -> ir.Catalog:
    return compile_catalog(path).raise_on_error()


@functools.cache
def decomposer(path: Path, engine: str) -> Decomposer:
    return Decomposer(catalog_at(path), engine)


def engines() -> list[str]:
    return ["compiled", "durable"] if durable_available() else ["compiled"]


HASH_PLACEHOLDER = "<the catalog's content hash>"


def outcome(path: Path, order: Any, engine: str) -> str:
    """The decomposition as JSON, or the error it raised as JSON: what goldens compare.

    The catalog hash changes with any edit of the catalog or of the IR models, so goldens hold
    a placeholder (a separate test checks the real value).
    """
    try:
        result = decomposer(path, engine).decompose(order)
    except (OrderValidationError, DecompositionError) as exc:
        kind = type(exc).__name__
        return json.dumps({kind: [i.to_dict() for i in exc.issues]}, indent=2) + "\n"
    assert result.catalog_hash == catalog_at(path).content_hash
    result = result.model_copy(update={"catalog_hash": HASH_PLACEHOLDER})
    return result.model_dump_json(indent=2) + "\n"


def on_every_engine(path: Path, order: Any) -> str:
    """The outcome, after checking that every available engine gives exactly the same one."""
    results = {engine: outcome(path, order, engine) for engine in engines()}
    first = results["compiled"]
    for engine, text in results.items():
        assert text == first, f"engine {engine} differs from compiled"
    return first
