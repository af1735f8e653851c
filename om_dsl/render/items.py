"""What a plan item is, in words: shared by every plan view (template, whole order, live).

An item's label says what it does in the words of its kind (the system and method of a
callout, the queue of a manual task, the event of a wait); its tooltip tells the whole story
(documentation, request and response mappings, retries, where it is declared).
"""

from __future__ import annotations

from collections.abc import Sequence

from om_dsl.expr.refs import refs
from om_dsl.expr.unparse import unparse
from om_dsl.ir import models as ir
from om_dsl.render.text import shorten

Item = ir.AutoItem | ir.CalloutItem | ir.ManualItem | ir.MilestoneItem | ir.WaitItem
# How far a dependency reaches, in the words an architect reads on the edge.
WITHIN = {"root": "same root item", "order": "same order", "relies_on": "same reliesOn group"}
# The label of a chained rule's wait between a parent line and its child line, by its wait.
PARENT_WAIT = {"after_parent": "after parent line", "before_parent": "before child line"}
CONDITION_WIDTH = 40
"""How much of a conditional ``depend``'s condition its edge label shows (all on hover)."""


def item_details(catalog: ir.Catalog, item: Item) -> list[str]:
    """Label lines: what the item does, its condition, whether it is a compensation."""
    details = what(catalog, item)
    if item.when is not None:
        details.append(f"when {unparse(item.when)}")
    if item.compensation:
        details.append("compensation")
    return details


def what(catalog: ir.Catalog, item: Item) -> list[str]:
    """What the item does, in the words of its kind."""
    if isinstance(item, ir.CalloutItem):
        mode = " (async)" if item.is_async else ""
        return [f"{item.system} {item.method} {item.path}{mode}"]
    if isinstance(item, ir.ManualItem):
        queue = next((q for q in catalog.queues if q.name == item.queue), None)
        return [f"queue {(queue.display_name if queue else None) or item.queue}"]
    if isinstance(item, ir.AutoItem):
        return [f"handler {item.handler}"]
    if isinstance(item, ir.WaitItem) and item.event:
        return [f"event {item.event}"]
    if isinstance(item, ir.WaitItem) and item.until is not None:
        return [f"until {unparse(item.until)}"]
    return []


def item_tooltip(product: str, item: Item, records: Sequence[ir.Record] = ()) -> str:
    """The whole story of an item, for the hover text of an SVG (``records``: those of its
    plan, which say where its outputs are kept)."""
    lines = [f"{product}.{item.name} ({item.kind})"]
    if item.doc:
        lines.append(item.doc)
    if isinstance(item, ir.CalloutItem):
        lines.append(
            f"{item.system} {item.method} {item.path}" + (" async" if item.is_async else "")
        )
        if item.request is not None:
            lines.append(f"request {unparse(item.request)}")
        lines += [f"response {m.target} = {unparse(m.expr)}" for m in item.response]
    if item.when is not None:
        lines.append(f"when {unparse(item.when)}")
    if item.retry is not None:
        lines.append(f"retry {item.retry.kind} max {item.retry.max_retries}")
    if item.undo:
        lines.append(f"undone by {item.undo}")
    lines += [f"{text} on the inventory product" for text in record_texts(records, item.name)]
    lines.append(f"declared at {item.span}")
    return "\n".join(lines)


def record_texts(records: Sequence[ir.Record], item: str | None = None) -> list[str]:
    """``record port_id = reserve_port.port_id`` for each record (of those reading ``item``
    when it is given)."""
    return [
        f"record {r.name} = {unparse(r.value)}"
        for r in records
        if item is None
        or any(ref.root == "item" and ref.path[:1] == [item] for ref in refs(r.value))
    ]


def find_item(catalog: ir.Catalog, product: str, item: str, action: str) -> Item | None:
    """The item named ``item`` in ``product``'s plans, preferring the plan for ``action``."""
    found = find_plan_item(catalog, product, item, action)
    return None if found is None else found[1]


def find_plan_item(
    catalog: ir.Catalog, product: str, item: str, action: str
) -> tuple[ir.Plan, Item] | None:
    """:func:`find_item` with the plan it is in (whose records say where its outputs are
    kept)."""
    plans = sorted(
        (p for p in catalog.plans if p.product == product), key=lambda p: action not in p.actions
    )
    return next(((p, i) for p in plans for i in p.items if i.name == item), None)


def depend_tooltip(dep: ir.Dependency) -> str:
    """What a ``depend`` edge says on hover: the declaration, and its doc comment (why)."""
    head = f"depend {dep.product}.{dep.item} after {dep.after_product}.{dep.after_item}"
    when = f" when {unparse(dep.when)}" if dep.when is not None else ""
    return f"{head} within {dep.within}{when}" + (f"\n{dep.doc}" if dep.doc else "")


def depend_label(dep: ir.Dependency) -> str:
    """A ``depend`` edge's label on plan diagrams: its scope, and its condition if any."""
    if dep.when is None:
        return WITHIN[dep.within]
    return f"{WITHIN[dep.within]}\nwhen {shorten(unparse(dep.when), CONDITION_WIDTH)}"


def planned_actions(catalog: ir.Catalog, product: str) -> list[str]:
    """The actions a product has plans for, in the language's order (add, modify, delete,
    noChange), whatever order its plans were declared in."""
    planned = {a for p in catalog.plans if p.product == product for a in p.actions}
    return [a for a in ir.ACTIONS if a in planned]
