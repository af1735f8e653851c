"""The in-memory execution state of active orders: compact, slotted, index-based.

The immutable :class:`~om_dsl.runtime.plan.OrderPlan` is turned into these objects once (at
submit or when an order is loaded after a restart) and then dropped: the per-item footprint
must stay small (the benchmark budget is 2 KB per item, store included).  What every instance of
the same catalog item shares (the IR spec, its compiled conditions, its retry policy) lives once
in a :class:`Template`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from om_dsl.expr.change import line_change
from om_dsl.expr.evaluate import EvalError
from om_dsl.ir import models as ir
from om_dsl.orders.inventory import ProductChange
from om_dsl.runtime.conditions import Condition
from om_dsl.runtime.plan import OrderPlan, PlanItemInstance, PlanLine
from om_dsl.runtime.records import Recorder
from om_dsl.runtime.retry import effective_policy
from om_dsl.runtime.states import ITEM_TERMINAL, ItemState, OrderState
from om_dsl.runtime.templates import TextTemplate


class Template:
    """What all instances of one plan item of one catalog share."""

    __slots__ = (
        "compensation", "event", "kind", "name", "product", "retry", "spec", "until", "when",
    )  # fmt: skip

    def __init__(self, product: str, spec: Any, catalog: ir.Catalog) -> None:
        self.product = product
        self.name: str = spec.name
        self.kind: str = spec.kind
        self.spec = spec
        self.compensation: bool = spec.compensation
        self.retry = effective_policy(spec, catalog)
        self.when = _condition(spec.when, spec, "the condition")
        self.until = _condition(getattr(spec, "until", None), spec, "the until condition")
        event_expr = getattr(spec, "event_expr", None)
        self.event = TextTemplate(event_expr) if event_expr is not None else None


class Failed(Condition):
    """A condition that could not be evaluated when the plan was built: it fails its item."""

    __slots__ = ("reason",)

    def __init__(self, reason: str, span: ir.SourceSpan) -> None:
        self.reason = reason
        self.span = span
        self.what = "a depend's condition"

    def holds(self, env: Any) -> bool:
        raise EvalError(self.reason)


def _condition(expr: Any, spec: Any, what: str) -> Condition | None:
    if expr is None:
        return None
    return Condition(expr, spec.span, f"{what} of '{spec.name}'")


class CatalogRun:
    """A catalog version that orders are pinned to, with its templates built on first use."""

    __slots__ = ("catalog", "hash", "recorder", "templates")

    def __init__(self, catalog: ir.Catalog) -> None:
        self.catalog = catalog
        self.hash = catalog.content_hash
        self.templates: dict[tuple[str, str], Template] = {}
        self.recorder = Recorder(catalog)
        """The plans' ``record`` statements, compiled on first use."""

    def template(self, product: str, name: str) -> Template:
        found = self.templates.get((product, name))
        if found is None:
            found = Template(product, self._spec(product, name), self.catalog)
            self.templates[(product, name)] = found
        return found

    def _spec(self, product: str, name: str) -> Any:
        for plan in self.catalog.plans:
            if plan.product == product:
                for item in plan.items:
                    if item.name == name:
                        return item
        raise KeyError(f"catalog {self.hash[:19]} has no plan item {product}.{name}")


class LineRun:
    __slots__ = (
        "action", "attributes", "change", "id", "items", "peers", "product", "root_items",
        "source_items", "superseded",
    )  # fmt: skip

    def __init__(self, line: PlanLine) -> None:
        self.id = line.id
        self.product = line.product
        self.action = line.action
        self.attributes = line.attributes
        self.change = line_change(line.action, line.changed, line.previous)
        self.root_items = line.root_items
        self.source_items = line.source_items
        """The order items the line comes from: whose products its plan's records set."""
        self.superseded = line.superseded
        self.items: dict[str, ItemRun] = {}
        self.peers: tuple[LineRun, ...] = ()

    def outputs(self) -> dict[str, Any]:
        """``item`` in expressions: outputs of this line's completed items, by item name."""
        return {name: i.outputs for name, i in self.items.items() if i.outputs is not None}

    def product_outputs(self) -> dict[str, dict[str, Any]]:
        """``Product.item.x`` in expressions: outputs of peer lines, each product's from
        :meth:`nearest` (its first peer: the plan builder orders them closest first)."""
        found: dict[str, dict[str, Any]] = {}
        for peer in self.peers:
            if peer.product not in found:
                found[peer.product] = peer.outputs()
        return found

    def nearest(self, product: str) -> LineRun | None:
        """The peer line whose outputs ``Product.item.x`` reads for ``product``."""
        return next((peer for peer in self.peers if peer.product == product), None)


_INITIAL = {"pending": ItemState.PENDING, "skipped": ItemState.SKIPPED}


class ItemRun:
    """One item's execution state; ``idx`` is its position in the plan and its store key."""

    __slots__ = (
        "attempt",
        "blockers",
        "comp_of",
        "dependents",
        "deps",
        "due",
        "ended",
        "expect_ms",
        "failures",
        "id",
        "idx",
        "key_from",
        "line",
        "outputs",
        "ponr",
        "reason",
        "revision",
        "started",
        "state",
        "timeout_ms",
        "tpl",
        "wait_key",
        "when",
    )

    def __init__(self, idx: int, spec: PlanItemInstance, tpl: Template, line: LineRun) -> None:
        self.idx = idx
        self.id = spec.id
        self.tpl = tpl
        self.line = line
        self.deps: tuple[int, ...] = ()
        self.dependents: list[int] = []
        self.blockers = 0
        self.state = _INITIAL[spec.initial]
        self.attempt = 0
        self.failures = 0
        self.due: float | None = None
        self.started: float | None = None
        self.ended: float | None = None
        self.outputs: dict[str, Any] | None = None
        self.reason = spec.skip_reason
        self.wait_key: str | None = None
        self.key_from: int | None = 1
        """The attempt the item's idempotency key counts from (see ``ItemRow.key_from``)."""
        self.comp_of: tuple[int, ...] = ()
        self.ponr = spec.ponr
        self.timeout_ms = spec.timeout_ms
        self.expect_ms = spec.expect_ms
        self.revision = spec.revision
        # checked when the item becomes ready: a condition the plan builder did not decide
        # (it reads outputs, or it failed at plan time and so fails the item now)
        self.when = tpl.when if spec.when == "ready" else None
        if spec.fails is not None:  # a `depend`'s condition failed: the item fails now
            self.when = Failed(spec.fails, spec.span)

    @property
    def must_end(self) -> bool:
        """The order is not done before this item is: a normal item, or a compensation that
        undoes work of a line an amendment superseded (it runs now, not only on cancel)."""
        return not self.comp_of or bool(self.line.superseded)


class OrderRun:
    """An active order: its items, lines, lifecycle flags and per-state counters."""

    __slots__ = (
        "by_id",
        "cancelling",
        "catalog",
        "changes",
        "counts",
        "created",
        "fields",
        "id",
        "items",
        "lines",
        "pollers",
        "ponr",
        "signals",
        "started",
        "state",
        "undo_of",
        "unfinished",
    )

    def __init__(self, plan: OrderPlan, catalog: CatalogRun) -> None:
        self.id = plan.order_id
        self.catalog = catalog
        self.fields = plan.order_fields
        self.state = OrderState.ACKNOWLEDGED
        self.cancelling = False
        self.started = False
        self.created = 0.0
        self.ponr: dict[str, str] = {}
        """Root order item -> the id of the item whose start reached the point of no return."""
        self.signals: dict[str, Any] = {}
        """Events signalled to this order (sticky facts): event -> payload."""
        self.pollers: set[int] = set()
        """Waiting items whose kind is asked again when outputs of the order change."""
        self.undo_of: dict[int, int] = {}
        """Item idx -> the idx of the compensation that undoes it."""
        self.changes: dict[str, ProductChange] | None = None
        """Order item id -> what it records in the inventory on completion, for the plans'
        records; None until needed (see ``Engine.product_changes``)."""
        self.lines = {line.id: LineRun(line) for line in plan.lines}
        self.items = [self._item(i, spec) for i, spec in enumerate(plan.items)]
        self.by_id = {item.id: item for item in self.items}
        self._link(plan)
        self.counts: dict[ItemState, int] = {}
        self.unfinished = 0
        self.recount()

    def recount(self) -> None:
        """Per-state counters and the number of unfinished normal items, from scratch."""
        self.counts = dict.fromkeys(ItemState, 0)
        for item in self.items:
            self.counts[item.state] += 1
        self.unfinished = sum(1 for i in self.items if i.must_end and i.state not in ITEM_TERMINAL)

    def _item(self, idx: int, spec: PlanItemInstance) -> ItemRun:
        line = self.lines[spec.line_id]
        item = ItemRun(idx, spec, self.catalog.template(spec.product, spec.name), line)
        line.items[spec.name] = item
        return item

    def _link(self, plan: OrderPlan) -> None:
        index = {spec.id: n for n, spec in enumerate(plan.items)}.__getitem__
        items = self.items
        for item, spec in zip(items, plan.items, strict=True):
            if spec.deps:
                item.deps = deps = tuple(map(index, spec.deps))
                for dep in deps:
                    items[dep].dependents.append(item.idx)
            if spec.compensation_of:
                item.comp_of = tuple(map(index, spec.compensation_of))
                for original in item.comp_of:
                    self.undo_of[original] = item.idx
        for line in plan.lines:
            self.lines[line.id].peers = tuple(self.lines[p] for p in line.peers)

    def release(self) -> None:
        """Break the line <-> item reference cycles, so a finished order is freed at once
        (by reference counting) instead of at the garbage collector's next full pass."""
        for line in self.lines.values():
            line.items = {}
            line.peers = ()

    def normal_items(self) -> Iterable[ItemRun]:
        """Items that are not compensations (the order's work)."""
        return (i for i in self.items if not i.comp_of)

    def compensations(self) -> Iterable[ItemRun]:
        return (i for i in self.items if i.comp_of)

    def order_outputs(self) -> dict[str, Any]:
        return {i.id: i.outputs for i in self.items if i.outputs is not None}
