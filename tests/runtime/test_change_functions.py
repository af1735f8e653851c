"""``changed(line.x)`` and ``previous(line.x)``: a modify plan does only what the order changes.

Orders go through the real decomposition (their ``previous`` becomes each line's ``changed``
and ``previous``), then the plan builder, then the runtime on a SQLite store.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from runtime_support import compile_text, states

from om_dsl.expr.change import CHANGE_ROOT, LINE_FUNCTIONS, line_change
from om_dsl.expr.evaluate import compile_expr
from om_dsl.ir import models as ir
from om_dsl.orders.decompose import decompose
from om_dsl.runtime import (
    HandlerRegistry,
    ItemContext,
    OrderPlan,
    Runtime,
    SqliteStore,
    build_plan,
)

LAB = """
offer Web {
  attribute speed: int default 100
  attribute ip: bool default false
  attribute label: string
}
cfs Line {
  attribute speed: int
  attribute ip: bool
  attribute label: string
}
decompose Web { -> Line { speed = speed; ip = ip; label = label } }
plan Line on add, modify, delete {
  auto shape handler "lab.shape" when changed(line.speed)
  auto assign handler "lab.ip" when changed(line.ip) and line.ip
  auto release handler "lab.ip" when changed(ip) and previous(ip) == true
  auto relabel handler "lab.label" when changed(line.label)
  auto report handler "lab.report" after shape
      when shape.to != null and previous(line.speed) != null
}
"""
ITEMS = ("shape", "assign", "release", "relabel", "report")


@pytest.fixture(scope="module")
def lab() -> ir.Catalog:
    return compile_text(LAB)


def order(action: str, previous: dict[str, Any] | None = None, **attributes: Any) -> Any:
    item: dict[str, Any] = {"id": "1", "product": "Web", "action": action}
    item["attributes"] = attributes
    if previous is not None:
        item["previous"] = previous
    return {"id": "O1", "account": "A1", "items": [item]}


def planned(catalog: ir.Catalog, data: Any) -> dict[str, str]:
    """Each item of the line: pending, or skipped at plan time."""
    plan: OrderPlan = build_plan(catalog, decompose(catalog, data))
    found = {i.name: i for i in plan.items}
    return {name: found[name].initial for name in ITEMS}


def running(**states_: str) -> dict[str, str]:
    return {name: states_.get(name, "skipped") for name in ITEMS}


def test_a_modify_runs_only_the_items_of_what_it_changes(lab: ir.Catalog) -> None:
    got = planned(lab, order("modify", {"speed": 100}, speed=500, ip=False, label="home"))
    assert got == running(shape="pending", report="pending")


def test_turning_an_attribute_off_reads_its_previous_value(lab: ir.Catalog) -> None:
    got = planned(lab, order("modify", {"ip": True}, speed=100, ip=False))
    assert got == running(release="pending", report="pending")
    got = planned(lab, order("modify", {"ip": False}, speed=100, ip=True))
    assert got == running(assign="pending", report="pending")


def test_a_modify_without_previous_values_changes_every_attribute(lab: ir.Catalog) -> None:
    """Without ``previous`` nobody knows what changed, so the work is redone, not missed;
    the earlier values are unknown (null), so ``release`` cannot tell the ip was on."""
    got = planned(lab, order("modify", None, speed=500, ip=True, label="home"))
    assert got == running(shape="pending", assign="pending", relabel="pending", report="pending")


def test_an_add_sets_every_attribute_that_has_a_value(lab: ir.Catalog) -> None:
    got = planned(lab, order("add", None, speed=500))  # ip defaults to false, no label
    assert got == running(shape="pending", report="pending")


def test_a_delete_changes_nothing(lab: ir.Catalog) -> None:
    assert planned(lab, order("delete", None, speed=500, ip=True)) == running(report="pending")


def registry(seen: dict[str, Any]) -> HandlerRegistry:
    handlers = HandlerRegistry()

    def shape(ctx: ItemContext) -> dict[str, Any]:
        seen["shape"] = (ctx.changed("speed"), ctx.previous("speed"), ctx.changed("label"))
        return {"to": ctx.line["speed"]}

    def record(ctx: ItemContext) -> dict[str, Any]:
        seen[ctx.name] = ctx.action
        return {}

    handlers.register("lab.shape", shape)
    for name in ("lab.ip", "lab.label", "lab.report"):
        handlers.register(name, record)
    return handlers


def test_handlers_and_ready_time_conditions_read_the_change_after_a_restart(
    lab: ir.Catalog, tmp_path: Path
) -> None:
    """The change is part of the stored plan: a runtime that starts on the store (another
    process, after a crash) still knows it, for handlers and for a condition decided when its
    item is ready (``report`` reads an output, so it waits until ``shape`` is done)."""
    db = tmp_path / "om.db"
    first = Runtime(lab, store=SqliteStore(db))
    first.submit(order("modify", {"speed": 100, "label": "old"}, speed=500, label="home"))
    first.close()
    seen: dict[str, Any] = {}
    second = Runtime(store=SqliteStore(db), handlers=registry(seen))
    second.run_until_idle()
    assert seen == {"shape": (True, 100, True), "relabel": "modify", "report": "modify"}
    assert states(second, "O1") == {
        "1/Line:shape": "completed",
        "1/Line:assign": "skipped",
        "1/Line:release": "skipped",
        "1/Line:relabel": "completed",
        "1/Line:report": "completed",
    }
    second.close()


ACTIONS = st.sampled_from(["add", "modify", "delete", "noChange"])
VALUES = st.none() | st.integers() | st.text(max_size=3) | st.booleans()


@given(
    action=ACTIONS,
    current=VALUES,
    earlier=VALUES,
    listed=st.booleans(),
    given_before=st.booleans(),
)
def test_an_unchanged_attribute_had_its_value_before(
    action: str, current: Any, earlier: Any, listed: bool, given_before: bool
) -> None:
    """Whatever the action: not ``changed(x)`` means ``previous(x) == x``; and nothing but an
    add or a modify changes anything."""
    previous = {"x": earlier} if given_before else {}
    change = line_change(action, ["x"] if listed else [], previous)
    changed = LINE_FUNCTIONS["changed"].impl(change, "x", current)
    before = LINE_FUNCTIONS["previous"].impl(change, "x", current)
    if not changed:
        assert before == current
    if action in ("delete", "noChange"):
        assert not changed
    if action == "add":
        assert before is None


def test_ir_from_elsewhere_with_another_argument_reads_as_unchanged() -> None:
    """The compiler allows only `line.x`; hand-written IR with something else must neither
    crash nor claim a change."""
    literal = ir.Lit(type="int", value=5)
    env = {"line": {"x": 1}, CHANGE_ROOT: line_change("add", [], {})}
    changed = ir.CallOp(type="bool", fn="changed", args=[literal])
    previous = ir.CallOp(type="int", fn="previous", args=[literal])
    assert compile_expr(changed)(env) is False
    assert compile_expr(previous)(env) == 5
