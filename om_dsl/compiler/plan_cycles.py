"""E062: the plan items of all products, joined by ``after``, ``depend`` and the waits of
chained rules (``after parent``, ``before parent``), must form a DAG for every action.

Each of those is an edge the plan builder wires for every order (om_dsl/runtime/builder.py),
so a cycle among them is a plan that no order can get.  Checked here, the designer reads it
once, at the declarations, instead of every order failing with "no plan".

A chained rule's wait joins two lines: under ``after parent`` every entry item (one with no
``after``) of the child's plan waits for every exit item (one nothing waits for) of the
parent's; ``before parent`` is the other way round.  As in the builder, the lines of one rule
share their action (actions flow down).  A parent without a plan for the action passes its
wait on to its own planned ancestor, as at run time.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TypeVar

from om_dsl.compiler.context import Context, back_span
from om_dsl.ir import models as ir

_T = TypeVar("_T")
Edge = tuple[str, str]
"""(waiter, awaited): ``Product.item`` names."""


@dataclass(frozen=True, slots=True, eq=False)
class _Wait:
    """A chained rule's wait, between two products, as the edges it makes under one action."""

    rule: ir.DecompositionRule
    parent: str
    child: str

    def describe(self) -> str:
        how = "after parent" if self.rule.wait == "after_parent" else "before parent"
        return f"declared by `{how}` of {self.parent} -> {self.child} at {self.rule.span}"


def check_cross_cycles(
    ctx: Context,
    plans: list[ir.Plan],
    deps: list[ir.Dependency],
    rules: list[ir.DecompositionRule],
) -> None:
    """E062 for each cycle that goes through a ``depend`` or a rule's wait (``after`` edges
    alone are E061's)."""
    waits = list(_waits(ctx, rules))
    makers = _makers(ctx, rules)
    if not _products_may_cycle(ctx, deps, waits, makers):
        return
    reported: set[frozenset[str]] = set()
    for action in ir.ACTIONS:
        by_product = {p.product: p for p in plans if action in p.actions}
        graph, why = _graph(by_product, deps, waits, makers)
        for cycle in ctx.cycles(graph):
            key = frozenset(cycle)
            involved = [w for edge in itertools.pairwise(cycle) for w in why.get(edge, ())]
            if key in reported or not involved:
                continue
            reported.add(key)
            # at a `depend` when there is one: the rule's wait is rarely what is wrong
            involved.sort(key=lambda w: isinstance(w, _Wait))
            _report(ctx, cycle, list({id(w): w for w in involved}.values()))


def _makers(ctx: Context, rules: list[ir.DecompositionRule]) -> dict[str, list[str]]:
    """Technical product -> the technical products chain rules make it from."""
    technical = {p.name.value for p in ctx.symbols.technical()}
    makers: dict[str, list[str]] = {}
    for rule in rules:
        for source in _sources(ctx, rule):
            if source in technical:
                makers.setdefault(rule.target, []).append(source)
    return makers


def _sources(ctx: Context, rule: ir.DecompositionRule) -> list[str]:
    return ctx.symbols.families.get(rule.source, []) if rule.source_is_family else [rule.source]


def _waits(ctx: Context, rules: list[ir.DecompositionRule]) -> Iterator[_Wait]:
    for rule in rules:
        if rule.wait == "none":
            continue
        parents = (
            ctx.symbols.families.get(rule.source, []) if rule.source_is_family else [rule.source]
        )
        for parent in parents:
            yield _Wait(rule, parent, rule.target)


def _products_may_cycle(
    ctx: Context, deps: list[ir.Dependency], waits: list[_Wait], makers: dict[str, list[str]]
) -> bool:
    """Whether the ``depend``s and waits could close a cycle.  ``after`` edges stay inside a
    product, so such a cycle, read product by product, is a cycle of these edges (or one
    within a product).  Most catalogs have none, and this check of a few hundred edges spares
    building and walking the graph of every plan item four times (1-2% of a compile).  A
    wait may reach past its parent to any product the parent is made from (see
    :func:`_planned_ancestors`)."""
    graph: dict[str, list[str]] = {}
    for dep in deps:
        if dep.product == dep.after_product:
            return True
        graph.setdefault(dep.product, []).append(dep.after_product)
    for wait in waits:
        for parent in _planned_ancestors(wait.parent, None, makers):
            waiter, awaited = _ends(wait, wait.child, parent)
            graph.setdefault(waiter, []).append(awaited)
    return bool(ctx.cycles(graph))


def _ends(wait: _Wait, child: _T, parent: _T) -> tuple[_T, _T]:
    """(the waiting side, the awaited side) of a wait, for its child's and parent's values."""
    return (child, parent) if wait.rule.wait == "after_parent" else (parent, child)


Why = ir.Dependency | _Wait


def _graph(
    plans: dict[str, ir.Plan],
    deps: list[ir.Dependency],
    waits: list[_Wait],
    makers: dict[str, list[str]],
) -> tuple[dict[str, list[str]], dict[Edge, list[Why]]]:
    """The items of one action's plans, with their edges and what declared each one."""
    graph: dict[str, list[str]] = {  # compensations run on cancel only: no wait reaches them
        f"{plan.product}.{item.name}": [f"{plan.product}.{name}" for name in item.after]
        for plan in plans.values()
        for item in plan.items
        if not item.compensation
    }
    why: dict[Edge, list[Why]] = {}

    def add(edge: Edge, because: Why) -> None:
        if edge[0] in graph and edge[1] in graph:
            graph[edge[0]].append(edge[1])
            why.setdefault(edge, []).append(because)

    for dep in deps:
        add((f"{dep.product}.{dep.item}", f"{dep.after_product}.{dep.after_item}"), dep)
    for wait in waits:
        child = plans.get(wait.child)
        if child is None:
            continue
        for parent in _planned_ancestors(wait.parent, plans, makers):
            waiter, awaited = _ends(wait, child, plans[parent])
            for entry in _entries(waiter):
                for exit_item in _exits(awaited):
                    add((entry, exit_item), wait)
    return graph, why


def _planned_ancestors(
    product: str, plans: dict[str, ir.Plan] | None, makers: dict[str, list[str]]
) -> list[str]:
    """``product`` when it has a plan for the action; else the nearest products with one that
    chain rules make it from: a parent line without items passes its wait on to its own
    planned ancestor (the plan builder's ``_planned_ancestor``).  Without ``plans``: the
    product and every product it may be made from."""
    found: list[str] = []
    seen = {product}
    todo = [product]
    while todo:
        current = todo.pop()
        if plans is None:
            found.append(current)
        elif current in plans:
            found.append(current)
            continue
        for maker in makers.get(current, ()):
            if maker not in seen:
                seen.add(maker)
                todo.append(maker)
    return sorted(found)


def _entries(plan: ir.Plan) -> list[str]:
    return [f"{plan.product}.{i.name}" for i in plan.items if not i.after and not i.compensation]


def _exits(plan: ir.Plan) -> list[str]:
    items = [i for i in plan.items if not i.compensation]
    waited = {name for item in items for name in item.after}
    return [f"{plan.product}.{i.name}" for i in items if i.name not in waited]


def _report(ctx: Context, cycle: list[str], involved: list[Why]) -> None:
    first = involved[0]
    ctx.bag.error(
        "E062",
        "dependency cycle: " + " -> ".join(reversed(cycle)),
        back_span(first.rule.span if isinstance(first, _Wait) else first.span),
        "each arrow reads 'runs before'",
        *(_declared(w) for w in involved[1:]),
    )


def _declared(why: Why) -> str:
    return why.describe() if isinstance(why, _Wait) else f"declared by `depend` at {why.span}"
