"""`om plan CATALOG ORDER`: the plan an order would get, without running anything."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Annotated

import typer
from rich.table import Table

from om_dsl.cli.app import app, fail, one_of, write_text
from om_dsl.cli.common import CatalogArg, load_catalog_and_spans
from om_dsl.cli.order_args import (
    InstalledBaseOption,
    decomposer_or_fail,
    installed_base_or_fail,
    read_order_bytes,
    validate_and_decompose,
)
from om_dsl.consoles import boxes_for, text_console, text_of
from om_dsl.errors import PlanError
from om_dsl.expr.evaluate import EvalError
from om_dsl.ir.models import Catalog, Dependency
from om_dsl.orders.installed_base import InstalledBase
from om_dsl.orders.models import Decomposition, Order
from om_dsl.runtime.builder import build_plan
from om_dsl.runtime.conditions import DependConditions
from om_dsl.runtime.plan import OrderPlan, PlanItemInstance, PlanLine

FORMATS = ("json", "table", "text")


@app.command("plan")
def plan_cmd(
    catalog: CatalogArg,
    order: Annotated[
        str, typer.Argument(help="The order: TMF622 ProductOrder or native JSON ('-' = stdin).")
    ],
    fmt: Annotated[str, typer.Option("--format", help="table (or text) or json")] = "table",
    output: Annotated[str | None, typer.Option("-o", "--output", help="Write here.")] = None,
    installed_base: InstalledBaseOption = None,
) -> None:
    """Show the plan (items, dependencies, conditions, PONR) an order would get."""
    one_of(fmt, FORMATS, "format")
    ir, spans = load_catalog_and_spans(catalog)
    installed = installed_base_or_fail(installed_base, ir)
    plan = plan_for(ir, *read_and_decompose(ir, order, installed))
    if fmt == "json":
        text = plan.model_dump_json(indent=2) + "\n"
    else:
        text = plan_table(plan, spans, ir)
        text = boxes_for(text, sys.stdout) if output in (None, "-") else text
    write_text(text, output)


def read_and_decompose(
    catalog: Catalog, source: str, installed: InstalledBase | None = None
) -> tuple[Order, Decomposition]:
    """Read, validate and decompose the order at ``source`` (exits with its issues if bad)."""
    raw = read_order_bytes(source)
    return validate_and_decompose(decomposer_or_fail(catalog, "compiled"), raw, installed)


def plan_for(catalog: Catalog, order: Order, work: Decomposition) -> OrderPlan:
    try:
        return build_plan(catalog, work, order)
    except PlanError as exc:
        fail(f"no plan for order {order.id}: {exc}", lines=True)


def plan_table(
    plan: OrderPlan, where: Callable[[str], str] = str, catalog: Catalog | None = None
) -> str:
    """One row per item: what it is, what it waits for, and its flags (plain text); ``where``
    names a span as the reader can open it (:func:`~om_dsl.cli.common.load_catalog_and_spans`).
    With ``catalog``, a note follows for each `depend` that links nothing in this order although
    both of its items are in it (:func:`unlinked_depends`)."""
    console = text_console()
    planned = sum(1 for line in plan.lines if line.planned)
    console.print(
        f"order {plan.order_id}: {len(plan.items)} item(s) on {planned} of {len(plan.lines)} "
        f"line(s), catalog {plan.catalog_hash[:19]}",
        markup=False,
        highlight=False,
    )
    table = Table(show_lines=False, title_justify="left")
    for column in ("item", "kind", "waits for", "flags", "declared at"):
        table.add_column(column, overflow="fold")
    for item in plan.items:
        table.add_row(item.id, item.kind, "\n".join(item.deps), _flags(item), where(str(item.span)))
    console.print(table)
    unplanned = [f"{line.id} ({line.action})" for line in plan.lines if not line.planned]
    if unplanned:
        console.print("lines without a plan: " + ", ".join(unplanned), markup=False)
    for note in unlinked_depends(plan, catalog, where) if catalog is not None else []:
        console.print(note, markup=False, highlight=False)
    return text_of(console)


def unlinked_depends(
    plan: OrderPlan, catalog: Catalog, where: Callable[[str], str] = str
) -> list[str]:
    """A note for each item that a `depend` names as waiting, in an order that also has the item
    it waits for, but that waits for none of them: its scope (`within`) kept them apart."""
    by_name: dict[tuple[str, str], list[PlanItemInstance]] = {}
    for item in plan.items:
        if not item.is_compensation:
            by_name.setdefault((item.product, item.name), []).append(item)
    notes = []
    lines = {line.id: line for line in plan.lines}
    conditions = DependConditions(plan.order_fields)
    for dep in catalog.dependencies:
        waited = by_name.get((dep.after_product, dep.after_item), [])
        ids = {item.id for item in waited}
        for item in by_name.get((dep.product, dep.item), []) if waited else []:
            if ids.isdisjoint(item.deps) and _would_link(conditions, lines, dep, item, waited):
                notes.append(
                    f"note: {item.id} waits for no {dep.after_product}.{dep.after_item}, "
                    f"though the order has {waited[0].id}: `depend {dep.product}.{dep.item} "
                    f"after {dep.after_product}.{dep.after_item}` ({where(str(dep.span))}) "
                    f"links only lines within one {_WITHIN[dep.within]}"
                )
    return notes


_WITHIN = {"root": "root order item", "order": "order", "relies_on": "reliesOn group"}


def _would_link(
    conditions: DependConditions,
    lines: dict[str, PlanLine],
    dep: Dependency,
    item: PlanItemInstance,
    waited: list[PlanItemInstance],
) -> bool:
    """Whether the `depend`'s condition (if any) holds for the item's line and one of the
    waited items' lines, whatever their scope: a pair that its condition leaves unlinked
    does not wait "for nothing".  A condition that fails to evaluate counts as holding."""
    line = lines[item.line_id]
    for other in waited:
        try:
            if conditions.holds(dep, line, lines[other.line_id]):
                return True
        except EvalError:
            return True
    return False


def _flags(item: PlanItemInstance) -> str:
    flags = []
    if item.initial == "skipped":
        flags.append("skipped (when false)")
    elif item.when == "ready":
        flags.append("when: decided at run time")
    if item.fails is not None:
        flags.append("fails when ready: a depend's condition failed")
    if item.ponr:
        flags.append("point of no return")
    if item.compensation_of:
        flags.append("undoes " + ", ".join(item.compensation_of))
    if item.expect_ms is not None:
        flags.append(f"expect {_duration(item.expect_ms)}")
    if item.timeout_ms is not None:
        flags.append(f"timeout {_duration(item.timeout_ms)}")
    return "\n".join(flags)


def _duration(ms: int) -> str:
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if ms >= size and ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"
