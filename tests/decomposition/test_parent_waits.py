"""A chained rule's wait per action (``before parent on add, modify after parent on delete``):
the line's own action chooses it, on both engines, in the plan and in TMF641."""

from __future__ import annotations

from typing import Any

import pytest

from om_dsl.compiler.driver import compile_catalog
from om_dsl.ir import models as ir
from om_dsl.orders.decompose import Decomposer
from om_dsl.orders.explain import _rule_text, explain, render_text
from om_dsl.orders.tmf641 import service_orders
from om_dsl.runtime import build_plan

CATALOG = """catalog "Waits" version "1"
offer Phone "Phone" id "1" {
  attribute msisdn: string required
  attribute roaming: bool default false
}
cfs Mobile { attribute msisdn: string  attribute roaming: bool }
resource Sim { attribute msisdn: string }
rfs Roaming { attribute msisdn: string }
decompose Phone -> Mobile { msisdn = msisdn; roaming = roaming }
/// The SIM is assigned before the service is activated, and released after it is deactivated.
decompose Mobile -> Sim before parent on add, modify after parent on delete { msisdn = msisdn }
/// Roaming is set up once the service is active, and removed before it is deactivated.
decompose Mobile -> Roaming when roaming after parent on add  before parent on delete {
  msisdn = msisdn
}
plan Mobile on add { auto activate handler "mobile.activate" }
plan Mobile on modify { auto update handler "mobile.update" }
plan Mobile on delete { auto deactivate handler "mobile.deactivate" }
plan Sim on add { auto assign handler "sim.assign" }
plan Sim on delete { auto release handler "sim.release" }
plan Roaming on add { auto enable handler "roaming.enable" }
plan Roaming on delete { auto disable handler "roaming.disable" }
"""


@pytest.fixture(scope="module")
def catalog() -> ir.Catalog:
    return compile_catalog("waits.om", CATALOG).raise_on_error()


def _order(action: str, roaming: bool, before: bool | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": "1",
        "product": "Phone",
        "action": action,
        "attributes": {"msisdn": "33600000001", "roaming": roaming},
    }
    if before is not None:
        item["previous"] = {"roaming": before}
    return {"id": f"o-{action}", "items": [item]}


def _waits(catalog: ir.Catalog, order: dict[str, Any], engine: str) -> dict[str, tuple[str, str]]:
    result = Decomposer(catalog, engine).decompose(order)
    return {
        line.id: (line.action, line.wait)
        for request in result.requests
        for line in request.lines
        if line.parent_line is not None
    }


def test_the_catalog_compiles_without_w011(catalog: ir.Catalog) -> None:
    """Both rules say what deletes do, so W011 has nothing to ask."""
    assert compile_catalog("waits.om", CATALOG).diagnostics == []
    sim = next(r for r in catalog.rules if r.target == "Sim")
    assert (sim.wait, sim.waits) == (
        "none",
        {"add": "before_parent", "modify": "before_parent", "delete": "after_parent"},
    )
    assert [sim.wait_for(a) for a in ir.ACTIONS] == [
        "before_parent", "before_parent", "after_parent", "none",
    ]  # fmt: skip


def test_each_line_takes_the_wait_of_its_own_action(catalog: ir.Catalog, engine: str) -> None:
    added = _waits(catalog, _order("add", roaming=True), engine)
    assert added == {
        "1/Mobile/Sim": ("add", "before_parent"),
        "1/Mobile/Roaming": ("add", "after_parent"),
    }
    deleted = _waits(catalog, _order("delete", roaming=True), engine)
    assert deleted == {
        "1/Mobile/Sim": ("delete", "after_parent"),
        "1/Mobile/Roaming": ("delete", "before_parent"),
    }


def test_a_modify_reads_the_child_lines_action(catalog: ir.Catalog, engine: str) -> None:
    """Turning roaming off modifies the service and deletes its roaming line: the line's
    delete wait holds (it goes before the service's update), the SIM's noChange has none."""
    waits = _waits(catalog, _order("modify", roaming=False, before=True), engine)
    assert waits == {
        "1/Mobile/Sim": ("noChange", "none"),
        "1/Mobile/Roaming": ("delete", "before_parent"),
    }


def _after(catalog: ir.Catalog, order: dict[str, Any]) -> dict[str, list[str]]:
    plan = build_plan(catalog, Decomposer(catalog).decompose(order))
    return {item.id: sorted(item.deps) for item in plan.items}


def test_the_plan_deletes_in_the_reverse_order_of_adds(catalog: ir.Catalog) -> None:
    assert _after(catalog, _order("add", roaming=True)) == {
        "1/Mobile:activate": ["1/Mobile/Sim:assign"],
        "1/Mobile/Sim:assign": [],
        "1/Mobile/Roaming:enable": ["1/Mobile:activate"],
    }
    assert _after(catalog, _order("delete", roaming=True)) == {
        "1/Mobile:deactivate": ["1/Mobile/Roaming:disable"],
        "1/Mobile/Sim:release": ["1/Mobile:deactivate"],
        "1/Mobile/Roaming:disable": [],
    }


def test_tmf641_relationships_follow_the_lines_waits(catalog: ir.Catalog) -> None:
    d = Decomposer(catalog)
    order = _order("delete", roaming=False)
    valid = d.read(order)
    [payload] = service_orders(d.decompose(valid), valid, catalog)
    by_id = {i["id"]: i for i in payload["serviceOrderItem"]}
    # on delete the SIM waits for its service (after parent): it relies on it being gone
    assert by_id["1/Mobile/Sim"]["serviceOrderItemRelationship"] == [
        {"relationshipType": "dependency", "orderItem": {"itemId": "1/Mobile"}}
    ]
    assert "serviceOrderItemRelationship" not in by_id["1/Mobile"]


def test_explain_says_which_wait_a_rule_gives_the_source_s_lines(catalog: ir.Catalog) -> None:
    d = Decomposer(catalog)
    for action, wait in (("add", "before_parent"), ("delete", "after_parent")):
        order = d.read(_order(action, roaming=False))
        entries = explain(d.program, order, d.decompose(order))
        [verdict] = [v for e in entries for v in e.rules if v.target == "Sim"]
        assert (verdict.matched, verdict.wait) == (True, wait)
    text = render_text(entries)
    assert "matched   Mobile->Sim  [waits.om:11:18], after parent\n" in text


def test_the_explanation_names_a_rule_by_its_id_and_its_target_once() -> None:
    assert _rule_text("family Sellable->BillingAccount", "BillingAccount") == (
        "family Sellable->BillingAccount"
    )
    assert _rule_text("Tv->TvService#2", "TvService") == "Tv->TvService#2"
    assert _rule_text("fast_profile", "InternetService") == "fast_profile -> InternetService"


def test_explain_gives_the_wait_of_the_line_the_rule_made(catalog: ir.Catalog) -> None:
    """Turning roaming on modifies the service and adds its roaming line, which waits for the
    service (after parent on add); turning it off deletes it, before the service (before
    parent on delete).  The explanation said no wait, the one of the modify of the source."""
    d = Decomposer(catalog)
    for before, world, wait in (
        (False, "after", "after_parent"),
        (True, "before", "before_parent"),
    ):
        order = d.read(_order("modify", roaming=not before, before=before))
        result = d.decompose(order)
        [line] = [line for line in result.lines() if line.product == "Roaming"]
        assert line.wait == wait
        [verdict] = [
            v
            for e in explain(d.program, order, result)
            if e.source == "line 1/Mobile" and e.world == world
            for v in e.rules
            if v.target == "Roaming"
        ]
        assert (verdict.matched, verdict.wait) == (True, wait)
