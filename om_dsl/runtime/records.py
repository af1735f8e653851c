"""``record`` statements at run time: what fulfilment produced, kept on inventory products.

A plan's ``record port_id = reserve_port.port_id`` sets, when the order completes, the
attribute ``port_id`` of the inventory products of the line's order items (those whose offer
declares it), in the transaction that records the products.  This module works out those
values (:func:`completed_values`) and refuses a bad one early (:func:`output_problem`).

A value is checked against the offer's attribute as an order's value is (type, range,
``values``, pattern) when the item whose outputs it reads completes: a bad output then fails
that item for good, as an output that is not JSON does, and the order is held where an
operator sees it (retry, complete the item with good outputs, or skip it).  Recording it
would have been silent: a later ``delete`` sends it to a system that refuses it.  A value
that is still bad at completion (a record that reads no output) is not recorded, and the
order's completion event says so.

A record whose value reads an item that did not complete (skipped by its ``when``, skipped by
an operator) records nothing; nor does a null value, nor a line an amendment superseded.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from om_dsl.expr.change import CHANGE_ROOT
from om_dsl.expr.evaluate import Compiled, EvalError, compile_expr
from om_dsl.expr.refs import refs
from om_dsl.ir import models as ir
from om_dsl.orders.inventory import ProductChange, Recorded
from om_dsl.orders.issues import show
from om_dsl.orders.values import Check, attribute_check
from om_dsl.runtime.states import ItemState

if TYPE_CHECKING:  # the live state holds a Recorder: no import of it at run time
    from om_dsl.runtime.live import LineRun


@dataclass(frozen=True, slots=True)
class RecordRule:
    """A compiled ``record``: its attribute, its value, and the items of its plan it reads."""

    name: str
    value: Compiled
    reads: frozenset[str]
    span: ir.SourceSpan


class Recorder:
    """The records of one catalog version, compiled on first use, and the checks of the
    offers' attributes they set."""

    __slots__ = ("_checks", "_enums", "_offers", "_rules", "catalog")

    def __init__(self, catalog: ir.Catalog) -> None:
        self.catalog = catalog
        self._rules: dict[tuple[str, str], tuple[RecordRule, ...]] | None = None
        self._offers = {o.name: o for o in catalog.offers}
        self._enums = {e.name: e.members for e in catalog.enums}
        self._checks: dict[tuple[str, str], Check | None] = {}

    def rules(self, product: str, action: str) -> tuple[RecordRule, ...]:
        """The records of the plan that ``product``'s lines run on ``action``."""
        if self._rules is None:
            self._rules = _compiled(self.catalog)
        return self._rules.get((product, action), ())

    def check(self, offering: str, name: str) -> Check | None:
        """The check of offer ``offering``'s attribute ``name``; None when it has none."""
        key = (offering, name)
        if key not in self._checks:
            offer = self._offers.get(offering)
            attr = next((a for a in offer.attributes if a.name == name), None) if offer else None
            self._checks[key] = None if attr is None else attribute_check(attr, self._enums)
        return self._checks[key]


def _compiled(catalog: ir.Catalog) -> dict[tuple[str, str], tuple[RecordRule, ...]]:
    out: dict[tuple[str, str], tuple[RecordRule, ...]] = {}
    for plan in catalog.plans:
        if plan.records:
            rules = tuple(_rule(record) for record in plan.records)
            out.update(((plan.product, action), rules) for action in plan.actions)
    return out


def _rule(record: ir.Record) -> RecordRule:
    reads = frozenset(r.path[0] for r in refs(record.value) if r.root == "item" and r.path)
    return RecordRule(record.name, compile_expr(record.value), reads, record.span)


def line_env(
    fields: Mapping[str, Any], line: LineRun, extra: tuple[str, dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The environment of a record of ``line``: what its plan's requests read (the line, the
    order, its items' outputs and its peers'); ``extra`` adds outputs of one item not stored
    yet (name, outputs)."""
    outputs = line.outputs()
    if extra is not None:
        outputs[extra[0]] = extra[1]
    return {
        "line": line.attributes,
        CHANGE_ROOT: line.change,
        "order": fields,
        "item": outputs,
        "product": line.product_outputs(),
    }


def _ran(line: LineRun, rule: RecordRule, done: str | None = None) -> bool:
    """Whether every item the record reads completed (``done`` is completing now)."""
    items = line.items
    return all(
        name == done or (name in items and items[name].state is ItemState.COMPLETED)
        for name in rule.reads
    )


def _targets(line: LineRun, changes: Mapping[str, ProductChange]) -> Iterator[ProductChange]:
    """The product changes of the line's order items: those that name a TMF product."""
    for item_id in line.source_items:
        change = changes.get(item_id)
        if change is not None:
            yield change


def output_problem(
    recorder: Recorder,
    fields: Mapping[str, Any],
    line: LineRun,
    item_name: str,
    outputs: dict[str, Any],
    changes: Mapping[str, ProductChange],
) -> str | None:
    """Why the outputs of ``line``'s item ``item_name``, about to complete, make a record of
    its line set a value its product's offer refuses; None when they do not (or no record
    reads them yet).  Only records whose other items completed already are evaluated."""
    if line.superseded:
        return None
    rules = [
        r for r in recorder.rules(line.product, line.action)
        if item_name in r.reads and _ran(line, r, item_name)
    ]  # fmt: skip
    env = line_env(fields, line, (item_name, outputs)) if rules else {}
    for rule in rules:
        for change in _targets(line, changes):
            problem = _problem(recorder, rule, env, change)[1]
            if problem is not None:
                return problem
    return None


def _problem(
    recorder: Recorder, rule: RecordRule, env: dict[str, Any], change: ProductChange
) -> tuple[Any, str | None]:
    """The value ``rule`` sets on ``change``'s product, and why the product's offer refuses
    it (None when it takes it, or when the offer does not declare the attribute)."""
    check = recorder.check(change.offering, rule.name)
    if check is None:
        return None, None
    try:
        value = rule.value(env)
    except EvalError as exc:
        return None, f"record {rule.name} (at {rule.span}) failed: {exc}"
    why = None if value is None else check(value)
    if why is None:
        return value, None
    return None, (
        f"record {rule.name} (at {rule.span}) would set {show(value, 60)} on product "
        f"{show(change.product_id)} ({change.offering}): {why}"
    )


def completed_values(
    recorder: Recorder,
    fields: Mapping[str, Any],
    lines: Mapping[str, LineRun],
    changes: Mapping[str, ProductChange],
) -> tuple[list[Recorded], list[str]]:
    """What a completing order records (in line order), and why any value is left out.

    ``changes``: the order's product changes by order item id (the items that name a TMF
    product)."""
    values: list[Recorded] = []
    problems: list[str] = []
    if not changes:
        return values, problems
    for line in lines.values():
        rules = recorder.rules(line.product, line.action)
        if not rules or line.superseded:
            continue
        env = line_env(fields, line)
        for rule in rules:
            if not _ran(line, rule):
                continue  # an item it reads did not run: nothing to record
            for change in _targets(line, changes):
                value, problem = _problem(recorder, rule, env, change)
                if problem is not None:
                    problems.append(f"not recorded: {problem}")
                elif value is not None:
                    values.append(Recorded(change.item_id, rule.name, value))
    return values, problems
