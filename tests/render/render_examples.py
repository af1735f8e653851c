"""The example catalog and orders the diagram tests draw (each compiled or planned once)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from om_dsl.compiler.driver import compile_catalog
from om_dsl.ir.models import Catalog
from om_dsl.orders.decompose import Decomposer
from om_dsl.orders.models import Decomposition, Order
from om_dsl.runtime.builder import build_plan
from om_dsl.runtime.plan import OrderPlan

REPO = Path(__file__).resolve().parents[2]
ACME = REPO / "examples" / "catalog" / "acme.om"
ORDERS = REPO / "examples" / "orders"
ORDER_NAMES = sorted(p.stem for p in ORDERS.glob("*.json"))
"""The example orders every order view is snapshot over."""


@dataclass(frozen=True)
class Example:
    """An example order, validated, decomposed and planned."""

    order: Order
    work: Decomposition
    plan: OrderPlan


@functools.cache
def catalog() -> Catalog:
    return compile_catalog(ACME).raise_on_error()


@functools.cache
def example(name: str) -> Example:
    decomposer = Decomposer(catalog())
    order = decomposer.read((ORDERS / f"{name}.json").read_bytes())
    work = decomposer.decompose(order)
    return Example(order, work, build_plan(catalog(), work, order))
