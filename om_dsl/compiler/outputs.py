"""Reads of item outputs must be ordered after the item that produces them.

``activate`` reading ``reserve_port.port_id`` only works if ``reserve_port`` has run by then;
otherwise the value is silently null at run time.  Within a plan that is an error (E051);
across products the order can also come from parent/child links, so a missing ``depend`` is a
warning (W006).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from om_dsl.compiler.context import Context, back_span
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
    ctx: Context, product: str, items: list[Any], readers: list[str] | None = None
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
                        ctx.product_reads.append((reader, item, ref))
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
    _add_chain_waits(waits, chains, plans)
    for product, item, ref in ctx.product_reads:
        if not _ordered(product, item, ref, waits, edges):
            _report_cross(ctx, product, item, ref.path[0], ref.path[1], chains)


def _add_chain_waits(
    waits: dict[tuple[str, str], list[tuple[str, str]]], chains: ChainWaits, plans: list[ir.Plan]
) -> None:
    """A chained rule's wait (``before parent``: each parent line waits for its own children)
    orders a read as a `depend` does: the same edges E062 and the plan builder use."""
    if not chains.waits:
        return
    for action in ir.ACTIONS:
        by_product = {p.product: p for p in plans if action in p.actions}
        for (waiter, item), (awaited, source), _ in chains.edges(by_product, action):
            pairs = waits.setdefault((waiter, awaited), [])
            if (item, source) not in pairs:
                pairs.append((item, source))


def _waits(deps: list[ir.Dependency]) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """(product, after_product) -> its (item, after_item) pairs: the `depend`s between two
    products, found without scanning every `depend` for every read (quadratic at 100k lines)."""
    out: dict[tuple[str, str], list[tuple[str, str]]] = {}
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


def _ordered(
    product: str,
    item: Any,
    ref: ir.Ref,
    waits: dict[tuple[str, str], list[tuple[str, str]]],
    edges: _ItemEdges,
) -> bool:
    """A `depend` makes this item (or one before it) wait for the read item (or one after it)."""
    other, source = ref.path[0], ref.path[1]
    pairs = waits.get((product, other))
    if not pairs:
        return False
    mine = _closure(item.name, edges.predecessors(product))
    theirs = _closure(source, edges.successors(other))
    return any(waiter in mine and awaited in theirs for waiter, awaited in pairs)


def _report_cross(
    ctx: Context, product: str, item: Any, other: str, source: str, chains: ChainWaits
) -> None:
    broken = ctx.symbols.broken
    if broken.completes(product) or broken.completes(other):
        return  # the `depend` that orders them (or a plan) may be the one with a syntax error
    ctx.bag.warning(
        "W006",
        f"item '{item.name}' of {product} reads outputs of {other}.{source}, "
        "but no `depend` makes it wait for them",
        back_span(item.span),
        *_cross_hints(product, f"{product}.{item.name}", other, f"{other}.{source}", chains),
    )


def _cross_hints(product: str, reader: str, other: str, read: str, chains: ChainWaits) -> list[str]:
    """The fix: a `depend`, or the wait of a rule that chains the two products.  When that
    rule already waits the other way (the other product's lines wait for this one's), a
    `depend` would close a cycle (E062): only swapping the rule's wait can order the read."""
    as_parent = chains.links.get((product, other), frozenset())  # `other` made from ours
    as_child = chains.links.get((other, product), frozenset())  # ours made from `other`
    against = "after_parent" in as_parent or "before_parent" in as_child
    if against:
        rule, now, then = (
            (f"{product} -> {other}", "after parent", "before parent")
            if "after_parent" in as_parent
            else (f"{other} -> {product}", "before parent", "after parent")
        )
        return [
            f"`decompose {rule}` has `{now}`, so {other} lines wait for {product} lines: "
            f"a `depend` would be a cycle; replace `{now}` with `{then}` to read {read} here, "
            f"or read it in {other}'s plan"
        ]
    hints = [
        f"add: depend {reader} after {read}",
        "without it the value is null whenever this item runs first",
    ]
    if as_parent:
        hints.append(
            f"or, as {other} lines are made from {product} lines, `before parent` on "
            f"`decompose {product} -> {other}`: each {product} line then waits for its own "
            f"{other} lines (a `depend` within root waits for every {other} line of the root item)"
        )
    elif as_child:
        hints.append(
            f"or, as {product} lines are made from {other} lines, `after parent` on "
            f"`decompose {other} -> {product}`: each {product} line then waits for its own parent"
        )
    return hints
