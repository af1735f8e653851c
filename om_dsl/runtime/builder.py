"""Build the plan of one order from its decomposition: select, instantiate, wire, check.

For each fulfillment line the plan declared for (technical product, line action) is
instantiated; ``when`` conditions that read only line and order data are decided here.  Then
the edges are wired: intra-plan ``after``, cross-product ``depend`` within its scope, the waits
between parent and child lines, and the reverse order of compensations.  The instance graph must
be acyclic: a cycle is reported with its path and the DSL spans of the declarations that made it.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from om_dsl.errors import PlanError
from om_dsl.expr.change import CHANGE_ROOT, line_change
from om_dsl.expr.evaluate import EvalError
from om_dsl.graphs import find_cycles
from om_dsl.ir import models as ir
from om_dsl.orders.models import Decomposition, FulfillmentLine, Order
from om_dsl.runtime.conditions import Condition, DependConditions, is_plan_time
from om_dsl.runtime.plan import OrderPlan, PlanItemInstance, PlanLine, WhenAt
from om_dsl.runtime.scopes import LineScopes

Edge = tuple[str, str]
Why = str | ir.Dependency | tuple[str, Any]
"""Why an edge exists: text, a ``depend``, or (plan product, item spec) for an ``after``.
Formatted only when a cycle is reported: building a plan must not format a message per edge."""


class PlanCycleError(PlanError):
    """The instance graph of an order has a cycle; ``cycle`` is the closed path of item ids."""

    def __init__(self, order_id: str, cycle: list[str], steps: list[str]) -> None:
        self.cycle = cycle
        self.steps = steps
        lines = "\n".join(f"  {step}" for step in steps)
        super().__init__(
            f"the plan of order {order_id} has a dependency cycle: "
            f"{' -> '.join(cycle)} (each arrow reads 'waits for')\n{lines}"
        )


@dataclass(slots=True)
class _Draft:
    """An item instance while the plan is being built (mutable until frozen into the plan)."""

    id: str
    line: FulfillmentLine
    spec: Any
    deps: dict[str, None] = field(default_factory=dict)
    when: WhenAt = "none"
    skip_reason: str | None = None
    fails: str | None = None
    """Why the item fails when it becomes ready (a `depend` condition failed to evaluate)."""
    compensation_of: list[str] = field(default_factory=list)


def build_plan(
    catalog: ir.Catalog, decomposition: Decomposition, order: Order | None = None
) -> OrderPlan:
    """The plan an order gets: deterministic ids, wired edges, no cycles.

    A ``when`` that reads only the line and the order is decided here (the item starts
    ``skipped`` when it is false); one that fails here (a division by zero) is left to run
    time, where it fails its item with the reason, as conditions on outputs do.

    Raises:
        PlanError: the plan has a cycle (:class:`PlanCycleError`).
    """
    return _Builder(catalog, decomposition, order).build()


class _Builder:
    def __init__(self, catalog: ir.Catalog, work: Decomposition, order: Order | None) -> None:
        self.catalog = catalog
        self.work = work
        self.order_fields = order.order_fields() if order else {"id": work.order_id}
        self.order_items = tuple((i.id, i.action) for i in order.items) if order else ()
        self.client = (order.client, order.client_items) if order else ({}, {})
        self.lines = work.lines()
        self.line_by_id = {line.id: line for line in self.lines}
        self.scopes = LineScopes(work, order, self.lines)
        self.plans = {(p.product, a): p for p in catalog.plans for a in p.actions}
        self.drafts: dict[str, _Draft] = {}
        self.by_line: dict[str, dict[str, _Draft]] = {}
        self.why: dict[Edge, Why] = {}
        self.conditions: dict[int, Condition] = {}
        self.depend_conditions = DependConditions(self.order_fields)

    def build(self) -> OrderPlan:
        wanted = self.work.catalog_hash
        if wanted and self.catalog.content_hash and wanted != self.catalog.content_hash:
            raise PlanError(
                f"order {self.work.order_id} was decomposed with another catalog version "
                f"({wanted[:19]}) than the one planning it ({self.catalog.content_hash[:19]})"
            )
        for line in self.lines:
            self._instantiate(line)
        self._wire_dependencies()
        self._wire_parents()
        self._wire_compensations()
        self._check_cycles()
        return self._freeze()

    # ---- instantiation ------------------------------------------------------------------------

    def _instantiate(self, line: FulfillmentLine) -> None:
        plan = self.plans.get((line.product, line.action))
        if plan is None:
            return
        undone = {i.undo: i.name for i in plan.items if i.undo}
        table = self.by_line.setdefault(line.id, {})
        for spec in plan.items:
            if spec.compensation and spec.name not in undone:
                continue  # never named by an undo: it can never run (the compiler warns)
            draft = _Draft(f"{line.id}:{spec.name}", line, spec)
            table[spec.name] = draft
            self.drafts[draft.id] = draft
        for spec in plan.items:
            if spec.name in table:
                self._local_edges(table, table[spec.name], plan)

    def _local_edges(self, table: dict[str, _Draft], draft: _Draft, plan: ir.Plan) -> None:
        spec = draft.spec
        for name in spec.after:
            if name in table:
                self._edge(draft.id, table[name].id, (plan.product, spec))
        if spec.undo and spec.undo in table:
            table[spec.undo].compensation_of.append(draft.id)
        if spec.when is not None:
            self._decide_when(draft)

    def _decide_when(self, draft: _Draft) -> None:
        spec = draft.spec
        if not is_plan_time(spec.when):
            draft.when = "ready"
            return
        line = draft.line
        env = {
            "line": line.attributes,
            CHANGE_ROOT: line_change(line.action, line.changed, line.previous),
            "order": self.order_fields,
        }
        condition = self._condition(spec)
        try:
            holds = condition.holds(env)
        except EvalError:
            # decided when the item is ready instead, where a failure fails that item (with
            # the reason, for an operator to act on) rather than refusing the whole order
            draft.when = "ready"
            return
        draft.when = "plan"
        if not holds:
            draft.skip_reason = f"its condition (when, at {spec.span}) is false"

    def _condition(self, spec: Any) -> Condition:
        found = self.conditions.get(id(spec))
        if found is None:
            found = Condition(spec.when, spec.span, f"the condition of '{spec.name}'")
            self.conditions[id(spec)] = found
        return found

    def _edge(self, waiter: str, waited: str, why: Why) -> None:
        if waiter == waited:
            return
        self.drafts[waiter].deps.setdefault(waited, None)
        self.why.setdefault((waiter, waited), why)

    # ---- cross-product and parent/child edges ------------------------------------------------

    def _wire_dependencies(self) -> None:
        for dep in self.catalog.dependencies:
            for line in self.lines:
                waiter = self._item_of(line, dep.product, dep.item)
                if waiter is not None:
                    self._wire_one(dep, line, waiter)

    def _wire_one(self, dep: ir.Dependency, line: FulfillmentLine, waiter: _Draft) -> None:
        for other in self.scopes.lines_in_scope(line, dep.within, dep.after_product):
            waited = self.by_line.get(other.id, {}).get(dep.after_item)
            if waited is None or waited.spec.compensation:
                continue
            if self._links(dep, line, other, waiter):
                self._edge(waiter.id, waited.id, dep)

    def _links(
        self, dep: ir.Dependency, line: FulfillmentLine, other: FulfillmentLine, waiter: _Draft
    ) -> bool:
        """Whether ``dep`` links ``line`` (waiting) to ``other`` (always, without a condition).

        A condition that fails to evaluate (a division by zero) links the pair, so nothing
        runs out of order, and fails the waiting item when it becomes ready, with the reason,
        as a failing `when` of the item itself does: an operator acts on it rather than the
        whole order being refused.
        """
        try:
            return self.depend_conditions.holds(dep, line, other)
        except EvalError as exc:
            if waiter.fails is None:
                waiter.fails = f"{exc} (for line {other.id})"
            return True

    def _item_of(self, line: FulfillmentLine, product: str, name: str) -> _Draft | None:
        if line.product != product:
            return None
        draft = self.by_line.get(line.id, {}).get(name)
        return None if draft is None or draft.spec.compensation else draft

    def _wire_parents(self) -> None:
        for child in self.lines:
            if child.parent_line is None or child.wait == "none":
                continue
            parent = self._planned_ancestor(child)
            if parent is None or child.id not in self.by_line:
                continue
            rule = f" ({child.rules[0]} at {child.rule_spans[0]})" if child.rule_spans else ""
            if child.wait == "after_parent":
                why = f"line {child.id} waits after its parent line {parent.id}{rule}"
                self._join(after=parent, before=child, why=why)
            else:
                why = f"line {parent.id} waits for its child line {child.id}{rule}"
                self._join(after=child, before=parent, why=why)

    def _planned_ancestor(self, line: FulfillmentLine) -> FulfillmentLine | None:
        """The nearest ancestor with items: a parent without a plan does not break the wait."""
        seen: set[str] = set()
        current = self.line_by_id.get(line.parent_line or "")
        while current is not None and current.id not in seen:
            if self.by_line.get(current.id):
                return current
            seen.add(current.id)
            current = self.line_by_id.get(current.parent_line or "")
        return None

    def _join(self, after: FulfillmentLine, before: FulfillmentLine, why: str) -> None:
        """Every entry item of ``before``'s line waits for every exit item of ``after``'s."""
        exits = _exits(self.by_line.get(after.id, {}))
        for entry in _entries(self.by_line.get(before.id, {})):
            for exit_item in exits:
                self._edge(entry.id, exit_item.id, why)

    # ---- compensations -----------------------------------------------------------------------

    def _wire_compensations(self) -> None:
        """A compensation waits for the compensations of the items that ran after its own."""
        comp_of = {orig: d for d in self.drafts.values() for orig in d.compensation_of}
        if not comp_of:
            return
        dependents: dict[str, list[str]] = {}
        for draft in self.drafts.values():
            for dep in draft.deps:
                dependents.setdefault(dep, []).append(draft.id)
        for draft in list(self.drafts.values()):
            for orig in draft.compensation_of:
                for later in _nearest(orig, dependents, comp_of):
                    why = f"compensation {draft.id} undoes {orig}, which ran before {later}"
                    self._edge(draft.id, comp_of[later].id, why)

    # ---- checking and freezing ---------------------------------------------------------------

    def _check_cycles(self) -> None:
        graph = {d.id: list(d.deps) for d in self.drafts.values()}
        cycles = find_cycles(graph)
        if cycles:
            cycle = cycles[0]
            steps = [
                f"{a} waits for {b}: {_describe(self.why.get((a, b), 'a declared edge'), b)}"
                for a, b in itertools.pairwise(cycle)
            ]
            raise PlanCycleError(self.work.order_id, cycle, steps)

    def _freeze(self) -> OrderPlan:
        peers = self._peers()
        lines = tuple(_plan_line(line, peers, line.id in self.by_line) for line in self.lines)
        items = tuple(_instance(d) for d in self.drafts.values())
        return OrderPlan(
            order_id=self.work.order_id,
            catalog_hash=self.catalog.content_hash or self.work.catalog_hash,
            order_fields=self.order_fields,
            order_items=self.order_items,
            client=self.client[0],
            client_items=self.client[1],
            lines=lines,
            items=items,
        )

    def _peers(self) -> dict[str, dict[str, None]]:
        """Lines whose outputs a line may read: linked by an edge, or parent and child."""
        peers: dict[str, dict[str, None]] = {line.id: {} for line in self.lines}
        for draft in self.drafts.values():
            for dep in draft.deps:
                other = self.drafts[dep].line.id
                if other != draft.line.id:
                    peers[draft.line.id].setdefault(other, None)
                    peers[other].setdefault(draft.line.id, None)
        for line in self.lines:
            if line.parent_line in peers:
                peers[line.id].setdefault(line.parent_line, None)
                peers[line.parent_line].setdefault(line.id, None)
        kinship = _Kinship(self.line_by_id)
        return {line: kinship.nearest_first(line, found) for line, found in peers.items()}


class _Kinship:
    """Orders a line's peers closest first, as ``Product.item.x`` reads the first line of a
    product: lines of its own family tree (chains of technical rules) by how many parent
    links apart they are (its parent or child, then a sibling, then a cousin...), then lines
    from the same order item, then the rest, each in plan order.

    Edges alone did not say which line was meant: with ``depend Service.activate after
    Sim.assign_sim`` in a bundle, each service waits for every line's SIM, and both lines of a
    two-line bundle read the first line's ICCID.  One level down (a radius profile reading
    the port of its own access line, among two access lines of one item), kin had to be more
    than ancestors and descendants.
    """

    def __init__(self, by_id: Mapping[str, FulfillmentLine]) -> None:
        self.by_id = by_id
        self._chains: dict[str, tuple[str, ...]] = {}

    def nearest_first(self, line_id: str, peers: dict[str, None]) -> dict[str, None]:
        if len(peers) < 2:
            return peers
        sources = set(self.by_id[line_id].source_items)
        mine = {ancestor: n for n, ancestor in enumerate(self.chain(line_id))}

        def rank(peer: str) -> tuple[int, int]:
            for n, ancestor in enumerate(self.chain(peer)):
                if ancestor in mine:  # their nearest common ancestor
                    return 0, mine[ancestor] + n
            return (1 if sources.intersection(self.by_id[peer].source_items) else 2), 0

        return dict.fromkeys(sorted(peers, key=rank))

    def chain(self, line_id: str) -> tuple[str, ...]:
        """The line and its ancestors, nearest first."""
        found = self._chains.get(line_id)
        if found is None:
            chain = [line_id]
            up = self.by_id[line_id].parent_line
            while up is not None and up in self.by_id and up not in chain:
                chain.append(up)
                up = self.by_id[up].parent_line
            found = self._chains[line_id] = tuple(chain)
        return found


def _describe(why: Why, waited: str) -> str:
    if isinstance(why, str):
        return why
    if isinstance(why, ir.Dependency):
        return (
            f"`depend {why.product}.{why.item} after {why.after_product}.{why.after_item} "
            f"within {why.within}` at {why.span}"
        )
    product, spec = why
    name = waited.rsplit(":", 1)[-1]
    return f"`after {name}` in the plan of {product} at {spec.span}"


def _entries(table: dict[str, _Draft]) -> list[_Draft]:
    return [d for d in table.values() if not d.spec.compensation and not d.spec.after]


def _exits(table: dict[str, _Draft]) -> list[_Draft]:
    waited = {name for d in table.values() if not d.spec.compensation for name in d.spec.after}
    return [d for d in table.values() if not d.spec.compensation and d.spec.name not in waited]


def _nearest(start: str, dependents: dict[str, list[str]], comp_of: dict[str, _Draft]) -> list[str]:
    """Items with an undo that run after ``start``, with no other such item in between."""
    found: dict[str, None] = {}
    seen = {start}
    queue = deque(dependents.get(start, ()))
    while queue:
        node = queue.popleft()
        if node in seen:
            continue
        seen.add(node)
        if node in comp_of and comp_of[node] is not comp_of[start]:
            found.setdefault(node, None)
        else:
            queue.extend(dependents.get(node, ()))
    return list(found)


def _plan_line(line: FulfillmentLine, peers: dict[str, dict[str, None]], planned: bool) -> PlanLine:
    return PlanLine(
        id=line.id,
        product=line.product,
        action=line.action,
        scope=line.scope,
        request=line.request,
        root_items=tuple(line.root_items),
        source_items=tuple(line.source_items),
        parent_line=line.parent_line,
        wait=line.wait,
        attributes=line.attributes,
        changed=tuple(line.changed),
        previous=line.previous,
        peers=tuple(peers.get(line.id, ())),
        planned=planned,
    )


def _instance(draft: _Draft) -> PlanItemInstance:
    spec = draft.spec
    return PlanItemInstance(
        id=draft.id,
        line_id=draft.line.id,
        request_id=draft.line.request,
        product=draft.line.product,
        name=spec.name,
        kind=spec.kind,
        deps=tuple(draft.deps),
        ponr=spec.point_of_no_return,
        root_items=tuple(draft.line.root_items),
        compensation_of=tuple(draft.compensation_of),
        expect_ms=spec.expect_ms,
        timeout_ms=spec.timeout_ms,
        when=draft.when,
        initial="skipped" if draft.skip_reason else "pending",
        skip_reason=draft.skip_reason,
        fails=draft.fails,
        span=spec.span,
    )
