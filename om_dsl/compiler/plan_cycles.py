"""E062: the plan items of all products, joined by ``after``, ``depend`` and the waits of
chained rules (``after parent``, ``before parent``), must form a DAG for every action.

Each of those is an edge the plan builder wires for every order (om_dsl/runtime/builder.py),
so a cycle among them is a plan that no order can get.  Checked here, the designer reads it
once, at the declarations, instead of every order failing with "no plan".

A chained rule's wait joins two lines: under ``after parent`` every entry item (one with no
``after``) of the child's plan waits for every exit item (one nothing waits for) of the
parent's; ``before parent`` is the other way round.  A wait may hold for some actions only
(``before parent on add``): the child line's action chooses it.  As in the builder, the lines of
one rule share their action (actions flow down).  A parent without a plan for the action passes its
wait on to its own planned ancestor, as at run time.  :class:`ChainWaits` computes those
edges; the plan template view (om_dsl/render/template.py) draws them from it too.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from om_dsl.compiler.context import Context, back_span
from om_dsl.ir import models as ir

_T = TypeVar("_T")
Edge = tuple[str, str]
"""(waiter, awaited): ``Product.item`` names."""
ItemRef = tuple[str, str]
"""(product, item name): one plan item of the catalog."""


@dataclass(frozen=True, slots=True, eq=False)
class ChainWait:
    """A chained rule's wait, between two products, as the edges it makes under one action."""

    rule: ir.DecompositionRule
    parent: str
    child: str
    how: str
    """``after_parent`` or ``before_parent``."""
    actions: frozenset[str]
    """The child line's actions it holds for: all four unless the rule says ``on``."""

    def written(self) -> str:
        """As in the catalog: ``before parent``, with its ``on`` actions when it has some."""
        return _written(self.rule, self.how, self.actions)

    def describe(self) -> str:
        where = f"{self.parent} -> {self.child} at {self.rule.span}"
        return f"declared by `{self.written()}` of {where}"


@dataclass(frozen=True, slots=True)
class ChainWaits:
    """The waits of a catalog's chained rules, and what each product is made from.

    One source for every place that needs the item-level waits of ``after parent`` and
    ``before parent``: E062 here, and the plan template view (om_dsl/render/template.py), so
    the diagram shows exactly the edges the checker (and the plan builder) reason about.
    """

    waits: tuple[ChainWait, ...]
    makers: Mapping[str, Sequence[str]]
    """Technical product -> the technical products chain rules make it from."""
    links: Mapping[tuple[str, str], Mapping[str, frozenset[str]]]
    """(parent, child) technical products that a chain rule joins -> action of the child
    line -> the rules' waits for it (``none``, ``after_parent``, ``before_parent``): W006's
    hints."""

    @classmethod
    def of(
        cls,
        rules: Sequence[ir.DecompositionRule],
        sources: Sequence[Sequence[str]],
        technical: Collection[str],
    ) -> ChainWaits:
        """From the rules, the products each one applies to (``sources[i]`` for ``rules[i]``,
        families expanded) and the names of the technical products."""
        makers: dict[str, list[str]] = {}
        links: dict[tuple[str, str], dict[str, set[str]]] = {}
        waits: list[ChainWait] = []
        for rule, products in zip(rules, sources, strict=True):
            kinds = _kinds(rule)
            for source in products:
                if source in technical:
                    makers.setdefault(rule.target, []).append(source)
                    by_action = links.setdefault((source, rule.target), {})
                    for action in ir.ACTIONS:
                        by_action.setdefault(action, set()).add(rule.wait_for(action))
                waits.extend(
                    ChainWait(rule, source, rule.target, how, actions)
                    for how, actions in kinds.items()
                )
        frozen = {
            pair: {action: frozenset(w) for action, w in by_action.items()}
            for pair, by_action in links.items()
        }
        return cls(tuple(waits), makers, frozen)

    def edges(
        self, plans: Mapping[str, ir.Plan], action: str
    ) -> Iterator[tuple[ItemRef, ItemRef, ChainWait]]:
        """(waiter, awaited, wait) for each item-level edge under ``action``, whose plans
        ``plans`` holds by product: every entry item (one with no ``after``) of the waiting
        side waits for every exit item (one nothing waits for) of the awaited side.  As in
        the builder, the lines of one rule share their action (actions flow down), and a
        parent without a plan for the action passes its wait on to its planned ancestor."""
        for wait in self.waits:
            if action not in wait.actions:
                continue
            child = plans.get(wait.child)
            if child is None:
                continue
            for parent in _planned_ancestors(wait.parent, plans, self.makers):
                waiter, awaited = _ends(wait, child, plans[parent])
                for entry in _entries(waiter):
                    for exit_item in _exits(awaited):
                        yield entry, exit_item, wait


def check_cross_cycles(
    ctx: Context, plans: list[ir.Plan], deps: list[ir.Dependency], chains: ChainWaits
) -> None:
    """E062 for each cycle that goes through a ``depend`` or a rule's wait (``after`` edges
    alone are E061's)."""
    if not _products_may_cycle(ctx, deps, chains):
        return
    found: dict[frozenset[str], tuple[list[str], list[Why], list[str]]] = {}
    for action in ir.ACTIONS:
        by_product = {p.product: p for p in plans if action in p.actions}
        graph, why = _graph(by_product, deps, chains, action)
        for cycle in ctx.cycles(graph):
            key = frozenset(cycle)
            if key in found:
                found[key][2].append(action)
                continue
            involved = [w for edge in itertools.pairwise(cycle) for w in why.get(edge, ())]
            if involved:
                found[key] = (cycle, involved, [action])
    for cycle, involved, actions in found.values():
        # at a `depend` when there is one: the rule's wait is rarely what is wrong
        involved.sort(key=lambda w: isinstance(w, ChainWait))
        _report(ctx, cycle, list({id(w): w for w in involved}.values()), actions)


def _kinds(rule: ir.DecompositionRule) -> dict[str, frozenset[str]]:
    """A rule's waits (``after_parent``, ``before_parent``) -> the actions each holds for."""
    if rule.waits is None:
        return {} if rule.wait == "none" else {rule.wait: frozenset(ir.ACTIONS)}
    found: dict[str, set[str]] = {}
    for action, how in rule.waits.items():
        if how != "none":
            found.setdefault(how, set()).add(action)
    return {how: frozenset(actions) for how, actions in found.items()}


def wait_clauses(rule: ir.DecompositionRule) -> list[str]:
    """A rule's waits as written: ``["before parent on add, modify", "after parent on
    delete"]``, ``["after parent"]``, or none."""
    return [_written(rule, how, actions) for how, actions in _kinds(rule).items()]


def _written(rule: ir.DecompositionRule, how: str, actions: Collection[str]) -> str:
    text = how.replace("_", " ")
    if rule.waits is None:
        return text
    if len(actions) == len(ir.ACTIONS):
        return f"{text} on *"
    return f"{text} on " + ", ".join(a for a in ir.ACTIONS if a in actions)


def chain_waits(ctx: Context, rules: Sequence[ir.DecompositionRule]) -> ChainWaits:
    """The catalog's chain waits, from the compiler's symbols (families expanded)."""
    technical = {p.name.value for p in ctx.symbols.technical()}
    families = ctx.symbols.families
    return ChainWaits.of(rules, [_sources(r, families) for r in rules], technical)


def _sources(rule: ir.DecompositionRule, families: Mapping[str, Sequence[str]]) -> Sequence[str]:
    return families.get(rule.source, []) if rule.source_is_family else [rule.source]


def _products_may_cycle(ctx: Context, deps: list[ir.Dependency], chains: ChainWaits) -> bool:
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
    for wait in chains.waits:
        for parent in _planned_ancestors(wait.parent, None, chains.makers):
            waiter, awaited = _ends(wait, wait.child, parent)
            graph.setdefault(waiter, []).append(awaited)
    return bool(ctx.cycles(graph))


def _ends(wait: ChainWait, child: _T, parent: _T) -> tuple[_T, _T]:
    """(the waiting side, the awaited side) of a wait, for its child's and parent's values."""
    return (child, parent) if wait.how == "after_parent" else (parent, child)


Why = ir.Dependency | ChainWait


def _graph(
    plans: dict[str, ir.Plan], deps: list[ir.Dependency], chains: ChainWaits, action: str
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
    for (waiter, waiter_item), (awaited, awaited_item), wait in chains.edges(plans, action):
        add((f"{waiter}.{waiter_item}", f"{awaited}.{awaited_item}"), wait)
    return graph, why


def _planned_ancestors(
    product: str, plans: Mapping[str, ir.Plan] | None, makers: Mapping[str, Sequence[str]]
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
        elif current in plans and _has_work(plans[current]):
            found.append(current)
            continue
        for maker in makers.get(current, ()):
            if maker not in seen:
                seen.add(maker)
                todo.append(maker)
    return sorted(found)


def _has_work(plan: ir.Plan) -> bool:
    """Whether lines of this plan get items to wait on: compensations alone are none, so the
    builder passes such a line's wait on to its ancestor, as for a line with no plan."""
    return any(not item.compensation for item in plan.items)


def _entries(plan: ir.Plan) -> list[ItemRef]:
    return [(plan.product, i.name) for i in plan.items if not i.after and not i.compensation]


def _exits(plan: ir.Plan) -> list[ItemRef]:
    items = [i for i in plan.items if not i.compensation]
    waited = {name for item in items for name in item.after}
    return [(plan.product, i.name) for i in items if i.name not in waited]


def _report(ctx: Context, cycle: list[str], involved: list[Why], actions: list[str]) -> None:
    first = involved[0]
    ctx.bag.error(
        "E062",
        "dependency cycle: " + " -> ".join(reversed(cycle)),
        back_span(first.rule.span if isinstance(first, ChainWait) else first.span),
        "each arrow reads 'runs before'",
        *(_declared(w) for w in involved[1:]),
        "in the plans of " + ", ".join(actions) + " lines",
        *_conditional(involved),
    )


def _conditional(involved: list[Why]) -> list[str]:
    """A `depend` with ``when`` still closes the cycle: its condition may hold in some order."""
    if any(isinstance(w, ir.Dependency) and w.when is not None for w in involved):
        return ["a `depend` with `when` counts too: its condition may hold for some lines"]
    return []


def _declared(why: Why) -> str:
    return why.describe() if isinstance(why, ChainWait) else f"declared by `depend` at {why.span}"
