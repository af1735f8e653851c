"""Reads of item outputs must be ordered after the item that produces them.

``activate`` reading ``reserve_port.port_id`` only works if ``reserve_port`` has run by then;
otherwise the value is silently null at run time.  Within a plan that is an error (E051);
across products the order can also come from parent/child links, so a missing ``depend`` is a
warning (W006).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from om_dsl.compiler.context import Context, ProductRead, back_span
from om_dsl.compiler.plan_cycles import ChainWaits
from om_dsl.expr.refs import item_exprs, refs
from om_dsl.ir import models as ir


def _closure(start: str, edges: dict[str, list[str]]) -> set[str]:
    """``start`` and everything reachable from it."""
    seen = {start}
    stack = [start]
    while stack:
        for nxt in edges.get(stack.pop(), []):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def _after_edges(items: list[Any]) -> dict[str, list[str]]:
    """Item -> the items it runs after.

    A compensation item runs after the item it undoes, so it inherits that item's past.
    """
    after = {i.name: list(i.after) for i in items}
    for item in items:
        if item.undo:
            after.setdefault(item.undo, []).append(item.name)
    return after


def check_plan_outputs(
    ctx: Context,
    product: str,
    items: list[Any],
    actions: Sequence[str],
    readers: list[str] | None = None,
) -> None:
    """E051: an item reads outputs of an item of its own plan that does not run before it.

    ``product`` names the plan's owner in messages; ``readers`` are the products whose lines
    run it (a family plan's members), for the cross-product reads (W006).

    What has completed before an item (the closure of its `after` edges) is worked out only
    for an item that reads another item's outputs: most items read none, and finding it for
    every item of every plan cost more than the rest of the check.
    """
    names = {i.name for i in items}
    after: dict[str, list[str]] | None = None
    for item in items:
        sources: list[str] = []
        # not a wait's `until`: it is evaluated again as outputs change, so waiting for
        # another item's outputs is exactly its job
        for expr in item_exprs(item, until=False):
            for ref in refs(expr):
                if ref.root == "item":
                    if ref.path[0] in names:
                        sources.append(ref.path[0])
                elif ref.root == "product":  # for check_cross_outputs
                    for reader in [product] if readers is None else readers:
                        ctx.product_reads.append(ProductRead(reader, item, ref, tuple(actions)))
        if not sources:
            continue
        after = after if after is not None else _after_edges(items)
        before = _closure(item.name, after)
        for source in sources:
            if source == item.name or source not in before:
                _report_unordered(ctx, product, item, source)


def _report_unordered(ctx: Context, product: str, item: Any, source: str) -> None:
    if source == item.name:  # `after c` on c itself would be a cycle (E061): no such hint
        ctx.bag.error(
            "E051",
            f"item '{item.name}' of {product} reads its own outputs, which do not exist "
            "before it has run",
            back_span(item.span),
            "an item cannot read its own outputs: a response maps `body`; elsewhere read "
            "attributes, or the outputs of items it comes after",
        )
        return
    ctx.bag.error(
        "E051",
        f"item '{item.name}' of {product} reads outputs of '{source}', "
        "which does not run before it",
        back_span(item.span),
        f"add `after {source}` to '{item.name}'",
    )


def check_cross_outputs(
    ctx: Context, plans: list[ir.Plan], deps: list[ir.Dependency], chains: ChainWaits
) -> None:
    """W006: reading another product's item outputs without a `depend` (or a chained rule's
    wait) that orders them.

    The reads are those that :func:`check_plan_outputs` gathered from ``plans``; ``chains``
    give the chain waits, and which products are made from which, for a hint that a chain's
    wait may be meant.
    """
    edges = _ItemEdges(plans)
    waits = _waits(deps)
    chained = _chain_waits(chains, plans)
    holders = _holders(plans)
    for read in ctx.product_reads:
        # the actions whose lines run the reader while the read item exists to wait for
        theirs = holders.get((read.ref.path[0], read.ref.path[1]), frozenset())
        relevant = [a for a in read.actions if a in theirs] or list(read.actions)
        unordered = _unordered(read, relevant, waits, chained, edges)
        if unordered:
            _report_cross(ctx, read, chains, unordered, relevant)


Waits = dict[tuple[str, str], list[tuple[str, str]]]
"""(product, after_product) -> its (item, after_item) pairs."""


def _chain_waits(chains: ChainWaits, plans: list[ir.Plan]) -> dict[str, Waits]:
    """Action -> the pairs a chained rule's wait orders under it (``before parent``: each
    parent line waits for its own children), as a `depend` does: the same edges E062 and the
    plan builder use.  Per action, since a wait may hold for some actions only."""
    out: dict[str, Waits] = {}
    if not chains.waits:
        return out
    for action in ir.ACTIONS:
        by_product = {p.product: p for p in plans if action in p.actions}
        waits: Waits = {}
        for (waiter, item), (awaited, source), _ in chains.edges(by_product, action):
            pairs = waits.setdefault((waiter, awaited), [])
            if (item, source) not in pairs:
                pairs.append((item, source))
        out[action] = waits
    return out


def _holders(plans: list[ir.Plan]) -> dict[tuple[str, str], frozenset[str]]:
    """(product, item) -> the actions of the plans that hold the item."""
    found: dict[tuple[str, str], set[str]] = {}
    for plan in plans:
        for item in plan.items:
            found.setdefault((plan.product, item.name), set()).update(plan.actions)
    return {key: frozenset(actions) for key, actions in found.items()}


def _waits(deps: list[ir.Dependency]) -> Waits:
    """(product, after_product) -> its (item, after_item) pairs: the `depend`s between two
    products, found without scanning every `depend` for every read (quadratic at 100k lines)."""
    out: Waits = {}
    for d in deps:
        out.setdefault((d.product, d.after_product), []).append((d.item, d.after_item))
    return out


class _ItemEdges:
    """Per product: item -> the items it runs after, and item -> the items that run after it
    (over all of the product's plans).

    Each table is made when a read first needs it: only the products on either side of a
    cross-product read that a `depend` joins (a quarter of them at most in a large catalog)
    are asked for, and making both tables for every plan cost as much as the reads' check.
    """

    def __init__(self, plans: list[ir.Plan]) -> None:
        self._plans: dict[str, list[ir.Plan]] = {}
        for plan in plans:
            self._plans.setdefault(plan.product, []).append(plan)
        self._preds: dict[str, dict[str, list[str]]] = {}
        self._succ: dict[str, dict[str, list[str]]] = {}

    def predecessors(self, product: str) -> dict[str, list[str]]:
        return self._table(self._preds, product, _add_predecessors)

    def successors(self, product: str) -> dict[str, list[str]]:
        return self._table(self._succ, product, _add_successors)

    def _table(
        self,
        cache: dict[str, dict[str, list[str]]],
        product: str,
        add: Callable[[dict[str, list[str]], Any], None],
    ) -> dict[str, list[str]]:
        table = cache.get(product)
        if table is None:
            table = cache[product] = {}
            for plan in self._plans.get(product, []):
                for item in plan.items:
                    add(table, item)
        return table


def _add_predecessors(table: dict[str, list[str]], item: Any) -> None:
    table.setdefault(item.name, []).extend(item.after)


def _add_successors(table: dict[str, list[str]], item: Any) -> None:
    for dep in item.after:
        table.setdefault(dep, []).append(item.name)


def _unordered(
    read: ProductRead,
    actions: list[str],
    waits: Waits,
    chained: dict[str, Waits],
    edges: _ItemEdges,
) -> list[str]:
    """The ``actions`` under which no `depend` and no chain wait makes this item (or one
    before it) wait for the read item (or one after it).  The two closures are made once, and
    only when some wait joins the two products."""
    product, other, source = read.product, read.ref.path[0], read.ref.path[1]
    declared = waits.get((product, other), [])
    closures: tuple[set[str], set[str]] | None = None
    out: list[str] = []
    for action in actions:
        pairs = declared + chained.get(action, {}).get((product, other), [])
        if pairs:
            if closures is None:
                closures = (
                    _closure(read.item.name, edges.predecessors(product)),
                    _closure(source, edges.successors(other)),
                )
            mine, theirs = closures
            if any(waiter in mine and awaited in theirs for waiter, awaited in pairs):
                continue
        out.append(action)
    return out


def _report_cross(
    ctx: Context, read: ProductRead, chains: ChainWaits, unordered: list[str], relevant: list[str]
) -> None:
    product, item, ref = read.product, read.item, read.ref
    other, source = ref.path[0], ref.path[1]
    broken = ctx.symbols.broken
    if broken.completes(product) or broken.completes(other):
        return  # the `depend` that orders them (or a plan) may be the one with a syntax error
    where = "" if unordered == relevant else " on " + ", ".join(unordered)
    ctx.bag.warning(
        "W006",
        f"item '{item.name}' of {product} reads outputs of {other}.{source}, "
        f"but no `depend` makes it wait for them{where}",
        back_span(item.span),
        *_cross_hints(
            _Pair(product, other, chains, unordered), f"{product}.{item.name}", f"{other}.{source}"
        ),
    )


@dataclass(frozen=True, slots=True)
class _Pair:
    """The reading product and the read one, with what chain rules between them wait for
    under the actions whose read is unordered."""

    product: str
    other: str
    chains: ChainWaits
    actions: list[str]

    def by_action(self, parent: str, child: str) -> Mapping[str, frozenset[str]]:
        """Action -> the waits of the rules that make ``child`` from ``parent``."""
        return self.chains.links.get((parent, child), {})

    def waits(self, parent: str, child: str) -> set[str]:
        """Those waits under ``actions`` (empty when no rule joins the two)."""
        by_action = self.by_action(parent, child)
        return {w for a in self.actions for w in by_action.get(a, ())}

    def clause(self, how: str, parent: str, child: str, now: str | None = None) -> str:
        """``how`` as the hint should write it.  When the rules wait for some actions only
        (``on``), with ``on`` and the unordered actions (with ``now``, those of them where that
        wait holds): a wait without ``on`` would undo the designer's choice for the rest."""
        by_action = self.by_action(parent, child)
        if len(set(by_action.values())) <= 1:
            return how
        actions = [a for a in self.actions if now is None or now in by_action.get(a, ())]
        return f"{how} on " + ", ".join(actions)


def _cross_hints(pair: _Pair, reader: str, read: str) -> list[str]:
    """The fix: a `depend`, or the wait of a rule that chains the two products.  When that
    rule already waits the other way (the other product's lines wait for this one's), a
    `depend` would close a cycle (E062): only swapping the rule's wait can order the read."""
    product, other = pair.product, pair.other
    as_parent = pair.waits(product, other)  # `other` made from ours
    as_child = pair.waits(other, product)  # ours made from `other`
    if "after_parent" in as_parent or "before_parent" in as_child:
        parent, child, kind, now, then = (
            (product, other, "after_parent", "after parent", "before parent")
            if "after_parent" in as_parent
            else (other, product, "before_parent", "before parent", "after parent")
        )
        now, then = pair.clause(now, parent, child, kind), pair.clause(then, parent, child, kind)
        return [
            f"`decompose {parent} -> {child}` has `{now}`, so {other} lines wait for {product} "
            f"lines: a `depend` would be a cycle; replace `{now}` with `{then}` to read {read} "
            f"here, or read it in {other}'s plan"
        ]
    hints = [
        f"add: depend {reader} after {read}",
        "without it the value is null whenever this item runs first",
    ]
    if as_parent:
        hints.append(
            f"or, as {other} lines are made from {product} lines, "
            f"`{pair.clause('before parent', product, other)}` on "
            f"`decompose {product} -> {other}`: each {product} line then waits for its own "
            f"{other} lines (a `depend` within root waits for every {other} line of the root item)"
        )
    elif as_child:
        hints.append(
            f"or, as {product} lines are made from {other} lines, "
            f"`{pair.clause('after parent', other, product)}` on "
            f"`decompose {other} -> {product}`: each {product} line then waits for its own parent"
        )
    return hints
