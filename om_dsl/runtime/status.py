"""The status of an order as the store has it: what ``runtime.status`` and ``om status`` show.

Read from the store, not from memory, so it shows only committed state and works from any
process (a CLI next to a running service, an HTTP thread).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict, computed_field

from om_dsl.errors import NotFound
from om_dsl.runtime.events import cancellation
from om_dsl.runtime.item_ids import meant
from om_dsl.runtime.plan import OrderPlan, PlanItemInstance
from om_dsl.runtime.states import ItemState, OrderState
from om_dsl.runtime.store.base import ItemRow, OrderRecord, Store, StoredOrder
from om_dsl.runtime.store.sqlite import StoreError

FAILED = ItemState.FAILED.value


class ItemStatus(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    line_id: str
    product: str
    name: str
    kind: str
    state: str
    attempt: int
    failures: int
    deps: tuple[str, ...]
    started_at: float | None
    ended_at: float | None
    due_at: float | None
    """When the pending retry or the timeout of the current attempt is due."""
    expected_by: float | None
    """First start + the item's ``expect`` duration: its due date."""
    overdue: bool
    ponr: bool
    compensation_of: tuple[str, ...]
    reason: str | None
    outputs: dict[str, Any] | None
    superseded: int = 0
    """The amendment that replaced the item's line (0: it is live): its work is history, kept
    under the id ``<line id>~<revision>``."""
    max_attempts: int | None = None
    """For a failed item (a retry is due): the attempts one retry budget allows, its first
    and the retries of its policy (an operator's retry gives a fresh budget)."""
    attempts_left: int | None = None
    """For a failed item: the attempts its budget still allows, the one due at ``due_at``
    included (``om status``: "2 of 5 attempts left")."""


class OrderStatus(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    state: str
    catalog_hash: str
    created_at: float
    updated_at: float
    cancelling: bool
    ponr: dict[str, str]
    """Root order items whose point of no return was reached -> the item that reached it."""
    counts: dict[str, int]
    items: tuple[ItemStatus, ...]
    revision: int = 0
    """The order's amendments so far (0: as submitted)."""
    cancel_reason: str | None = None
    """For an order being or having been cancelled: the reason given with the cancel."""
    cancelled_at: float | None = None
    """When the order became ``cancelled``."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def ponr_reached(self) -> bool:
        return bool(self.ponr)

    def item(self, item_id: str) -> ItemStatus:
        """The item with this id.

        Raises:
            NotFound: the order has no such item (as the operator actions say).
        """
        for item in self.items:
            if item.id == item_id:
                return item
        hint = meant(item_id, (item.id for item in self.items))
        raise NotFound(f"order {self.id} has no item {item_id!r}" + (f" ({hint})" if hint else ""))


MaxAttempts = Callable[[str, str, str], int | None]
"""(catalog hash, product, plan item name) -> the attempts one retry budget allows."""


def order_status(
    store: Store, order_id: str, now: float, max_attempts: MaxAttempts | None = None
) -> OrderStatus:
    """Raises NotFound for an unknown order.  ``max_attempts``: read for failed items only
    (the retry policy is the catalog's, which status does not load otherwise)."""
    stored = store.load_order(order_id)
    if stored is None:
        raise NotFound(f"no order {order_id}")
    plan = stored_plan(stored, _read_plan)
    replaced = {line.id: line.superseded for line in plan.lines if line.superseded}
    items = tuple(
        _item(spec, row, now, replaced.get(spec.line_id, 0))
        for spec, row in zip(plan.items, stored.items, strict=True)
    )
    if max_attempts is not None:
        items = _with_budgets(items, stored.record.catalog_hash, max_attempts)
    status = _order(stored.record, items, plan.revision)
    rec = stored.record
    if rec.cancelling or rec.state == OrderState.CANCELLED:  # read the log only then: rare
        found = cancellation(store, order_id)
        status = status.model_copy(update={"cancel_reason": found.reason, "cancelled_at": found.at})
    return status


def _with_budgets(
    items: tuple[ItemStatus, ...], catalog_hash: str, max_attempts: MaxAttempts
) -> tuple[ItemStatus, ...]:
    """The failed items with how many attempts their retry budget allows and has left: an
    operator saw when the next one was due only as an epoch in JSON."""
    found = []
    for item in items:
        allowed = (
            max_attempts(catalog_hash, item.product, item.name) if item.state == FAILED else None
        )
        if allowed is None:
            found.append(item)
            continue
        left = max(allowed - item.failures, 0)
        found.append(item.model_copy(update={"max_attempts": allowed, "attempts_left": left}))
    return tuple(found)


def stored_plan(
    stored: StoredOrder, read: Callable[[str], OrderPlan] = OrderPlan.model_validate_json
) -> OrderPlan:
    """The order's plan as stored; a damaged one (edited by hand, a bad disk) is a StoreError
    naming the order, not a validation traceback."""
    order_id = stored.record.id
    try:
        plan = read(stored.plan_json)
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        first = str(exc).splitlines()[0]
        raise StoreError(f"the store is damaged: order {order_id}: its plan ({first})") from None
    if len(plan.items) != len(stored.items):
        raise StoreError(
            f"the store is damaged: order {order_id} has {len(stored.items)} item rows "
            f"for a plan of {len(plan.items)} items"
        )
    return plan


@lru_cache(maxsize=8)
def _read_plan(plan_json: str) -> OrderPlan:
    """A plan as the status reads it, parsed once while it does not change (only an amendment
    changes it): parsing was a third of each ``status()`` of a large order (7,000 items:
    110 ms), and an HTTP client or an operator polls it.  The plans handed out here are only
    read; the runner parses its own."""
    return OrderPlan.model_validate_json(plan_json)


def _order(rec: OrderRecord, items: tuple[ItemStatus, ...], revision: int) -> OrderStatus:
    counts: dict[str, int] = {}
    for item in items:
        counts[item.state] = counts.get(item.state, 0) + 1
    return OrderStatus(
        id=rec.id,
        state=rec.state,
        catalog_hash=rec.catalog_hash,
        created_at=rec.created_at,
        updated_at=rec.updated_at,
        cancelling=rec.cancelling,
        ponr=rec.ponr,
        counts=dict(sorted(counts.items())),
        items=items,
        revision=revision,
    )


def _item(spec: PlanItemInstance, row: ItemRow, now: float, superseded: int) -> ItemStatus:
    expected = None
    if spec.expect_ms is not None and row.started_at is not None:
        expected = row.started_at + spec.expect_ms / 1000
    finished = row.ended_at if row.ended_at is not None else now
    # the store's rows and the plan are checked when read: validating each of them again
    # was half of a status() (about 23 us per item)
    return ItemStatus.model_construct(
        id=spec.id,
        line_id=spec.line_id,
        product=spec.product,
        name=spec.name,
        kind=spec.kind,
        state=row.state,
        attempt=row.attempt,
        failures=row.failures,
        deps=spec.deps,
        started_at=row.started_at,
        ended_at=row.ended_at,
        due_at=row.due_at,
        expected_by=expected,
        overdue=expected is not None and finished > expected,
        ponr=spec.ponr,
        compensation_of=spec.compensation_of,
        superseded=superseded,
        reason=row.reason,
        outputs=row.outputs,
    )
