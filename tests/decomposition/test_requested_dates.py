"""The order's requested dates: ``order.requested_start_date``, ``..._completion_date``.

TMF622 gives them as date-times (``requestedStartDate``), the native format as a date or a
date-time. Rules and plans read the day, on both engines; TMF641 service orders carry the text
as given; a value that is not a date is O012 at its JSON path (the bad orders), and the quick
readers take exactly what the thorough ones take.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from decomposition_support import ACME, EXAMPLE_ORDERS, decomposer, engines
from hypothesis import given
from hypothesis import strategies as st

from om_dsl.compiler.driver import compile_catalog
from om_dsl.errors import OrderValidationError
from om_dsl.ir import models as ir
from om_dsl.orders.catalog_index import CatalogIndex
from om_dsl.orders.decompose import Decomposer, decompose
from om_dsl.orders.jsondoc import load_document
from om_dsl.orders.limits import DEFAULT_LIMITS
from om_dsl.orders.parse import read_order
from om_dsl.orders.quick import read_quick
from om_dsl.orders.tmf641 import service_orders
from om_dsl.runtime import build_plan

CATALOG = """catalog "D" version "1"
offer Net "Net" id "1" { attribute speed: int default 100 }
cfs Line {
  attribute start: date
  attribute due: date
  attribute window: int
}
plan Line on add {
  auto survey handler "net.survey" when days_between(order.requested_start_date, "2026-06-01") > 30
  auto install handler "net.install"
}
decompose Net -> Line {
  start = order.requested_start_date
  due = add_days(order.requested_start_date, 14)
  window = days_between(order.requested_start_date, order.requested_completion_date)
}
"""


@pytest.fixture(scope="module")
def catalog() -> ir.Catalog:
    return compile_catalog("d.om", CATALOG).raise_on_error()


def _native(**dates: Any) -> dict[str, Any]:
    return {"id": "N", **dates, "items": [{"id": "1", "product": "Net"}]}


def _tmf(**dates: Any) -> dict[str, Any]:
    item = {"id": "1", "action": "add", "productOffering": {"id": "1"}}
    return {"id": "T", **dates, "productOrderItem": [item]}


@pytest.mark.parametrize("engine", engines())
@pytest.mark.parametrize(
    ("order", "expected"),
    [
        (
            _native(requested_start_date="2026-05-03", requested_completion_date="2026-06-01"),
            {"start": "2026-05-03", "due": "2026-05-17", "window": 29},
        ),
        (  # the requester's day, as written: no time-zone arithmetic
            _native(requested_start_date="2026-05-03T23:30:00-05:00"),
            {"start": "2026-05-03", "due": "2026-05-17"},
        ),
        (
            _tmf(
                requestedStartDate="2019-05-03T08:13:59.506Z",
                requestedCompletionDate="2019-05-02T08:13:59.506Z",  # before the start: allowed
            ),
            {"start": "2019-05-03", "due": "2019-05-17", "window": -1},
        ),
        (_native(), {}),  # not given: null, and the attributes are left out
    ],
)
def test_rules_read_the_requested_day(
    catalog: ir.Catalog, engine: str, order: dict[str, Any], expected: dict[str, Any]
) -> None:
    (request,) = Decomposer(catalog, engine).decompose(order).requests
    assert request.lines[0].attributes == expected


def test_plans_read_the_requested_day(catalog: ir.Catalog) -> None:
    """A survey only for work asked for more than 30 days before June: decided at plan time."""

    def initial(order: dict[str, Any]) -> dict[str, str]:
        result = decompose(catalog, order)
        plan = build_plan(catalog, result, Decomposer(catalog).read(order))
        return {i.name: i.initial for i in plan.items}

    assert initial(_native(requested_start_date="2026-04-01T09:00:00Z")) == {
        "survey": "pending",
        "install": "pending",
    }
    assert initial(_native(requested_start_date="2026-05-15"))["survey"] == "skipped"


def test_tmf641_service_orders_carry_the_dates_as_given(catalog: ir.Catalog) -> None:
    order = _tmf(requestedStartDate="2019-05-03T08:13:59.506Z")
    decomposer = Decomposer(catalog)
    read = decomposer.read(order)
    (payload,) = service_orders(decomposer.decompose(order), read, catalog)
    assert payload["requestedStartDate"] == "2019-05-03T08:13:59.506Z"
    assert "requestedCompletionDate" not in payload


def test_the_tmf622_samples_dates_are_read() -> None:
    sample = json.loads((EXAMPLE_ORDERS / "tmf622-product-order.json").read_text())
    order = decomposer(ACME, "compiled").read(sample)
    assert order.requested_start_date == "2019-05-03T08:13:59.506Z"
    assert order.order_fields()["requested_completion_date"] == "2019-05-02"


DATES = st.sampled_from(
    [
        "2026-05-03",
        "2026-05-03T08:00",
        "2026-05-03T08:00:00Z",
        "2026-05-03T08:00:00.1234567891+02:00",
        "2026-02-29",
        "2026-05-03T24:00:00Z",
        "2026-05-03 08:00:00",
        "20260503",
        "2026-W18-1",
        "",
        "tomorrow",
        None,
        5,
        True,
        [],
    ]
)


@given(DATES, DATES, st.booleans())
def test_the_quick_readers_take_what_the_thorough_readers_take(
    start: Any, end: Any, tmf: bool
) -> None:
    catalog = compile_catalog("d.om", CATALOG).raise_on_error()
    index = CatalogIndex.build(catalog)
    if tmf:
        data = _tmf(requestedStartDate=start, requestedCompletionDate=end)
    else:
        data = _native(requested_start_date=start, requested_completion_date=end)
    quick = read_quick(load_document(copy.deepcopy(data)), index, DEFAULT_LIMITS)
    try:
        thorough = read_order(copy.deepcopy(data), index, DEFAULT_LIMITS, quick=False)
    except OrderValidationError:
        assert quick is None
        return
    if quick is not None:
        assert quick.model_dump_json() == thorough.model_dump_json()
