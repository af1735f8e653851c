"""The write buffer of the engine: what changed since the last commit.

Transitions only mark an item dirty and append an event tuple; the rows are built once per
commit from the items' current values, so an item that moves twice in one step (ready, then
running) is written once, with both transitions in the event log.
"""

from __future__ import annotations

from typing import Any

from om_dsl.orders.inventory import Recorded
from om_dsl.runtime.events import NOBODY, Act
from om_dsl.runtime.live import ItemRun, OrderRun
from om_dsl.runtime.store.base import NewEvent, NewOrder, OrderRecord, RowValues, WriteBatch


class Journal:
    __slots__ = (
        "amended", "catalogs", "completed", "events", "items", "new_orders", "orders",
        "recorded", "signals", "touched",
    )  # fmt: skip

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self.catalogs: dict[str, str] = {}
        self.new_orders: list[NewOrder] = []
        self.amended: list[NewOrder] = []
        self.orders: dict[str, OrderRun] = {}
        """Orders whose own row changed (state, flags, PONR): written at the commit."""
        self.touched: dict[str, OrderRun] = {}
        """Orders with any change: their state is derived again before the commit."""
        self.items: dict[ItemRun, str] = {}
        """Changed items -> their order id (keyed by the object: no key tuple per change)."""
        self.events: list[NewEvent] = []
        self.signals: list[tuple[str, str, Any, float]] = []
        self.completed: list[str] = []
        """Orders that completed: the store records their products with the commit."""
        self.recorded: dict[str, list[Recorded]] = {}
        """Completed order -> the values its plans' records set on its products."""

    def __bool__(self) -> bool:
        return bool(
            self.events
            or self.items
            or self.orders
            or self.new_orders
            or self.amended
            or self.signals
        )

    def event(
        self,
        ts: float,
        order_id: str,
        item_id: str | None,
        kind: str,
        old: str | None = None,
        new: str | None = None,
        attempt: int | None = None,
        detail: str | None = None,
        act: Act = NOBODY,
    ) -> None:
        """``act``: who took the operator action the row records, and why (none named for
        the runtime's own moves)."""
        row = (ts, order_id, item_id, kind, old, new, attempt, detail, act.by, act.reason)
        self.events.append(row)

    def batch(self, now: float) -> WriteBatch:
        """The batch to commit; the journal is empty afterwards."""
        batch = WriteBatch(
            catalogs=self.catalogs,
            new_orders=self.new_orders,
            amended=self.amended,
            orders={oid: record(order, now) for oid, order in self.orders.items()},
            items={(oid, item.idx): item_row(item) for item, oid in self.items.items()},
            events=self.events,
            signals=self.signals,
            completed=self.completed,
            recorded=self.recorded,
        )
        self._reset()
        return batch


def record(order: OrderRun, now: float) -> OrderRecord:
    return OrderRecord(
        id=order.id,
        catalog_hash=order.catalog.hash,
        state=order.state.value,
        created_at=order.created,
        updated_at=now,
        cancelling=order.cancelling,
        started=order.started,
        ponr=dict(order.ponr),
        external_id=order.fields.get("external_id"),
    )


def item_row(item: ItemRun) -> RowValues:
    """The values of the item's :class:`~om_dsl.runtime.store.base.ItemRow`, in its order."""
    return (
        item.idx,
        item.id,
        item.state,
        item.attempt,
        item.failures,
        item.due,
        item.started,
        item.ended,
        item.outputs,
        item.reason,
        item.wait_key,
        item.key_from,
    )
