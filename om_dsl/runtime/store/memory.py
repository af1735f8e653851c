"""An in-process store for tests, benchmarks and embedders that need no durability.

It keeps exactly what :class:`~om_dsl.runtime.store.sqlite.SqliteStore` keeps (the plan as
JSON text, one row per item, the event log), so the runtime behaves the same on both; rows are
plain tuples to keep the per-item footprint small.
"""

from __future__ import annotations

import bisect
import copy
import dataclasses
import json
import threading
from collections import Counter
from collections.abc import Sequence
from typing import Any

from om_dsl.orders.inventory import (
    InventoryProduct,
    ProductChange,
    Recorded,
    apply_change,
    with_recorded,
)
from om_dsl.runtime.events import is_cancel_request
from om_dsl.runtime.states import ACTIVE_ORDER_STATES, ItemState, OrderState
from om_dsl.runtime.store.base import (
    EventRow,
    FalloutFound,
    FalloutPage,
    FalloutRow,
    ItemRow,
    NewEvent,
    NewOrder,
    OrderRecord,
    PlanItemOf,
    ProductFilter,
    RowValues,
    StoredOrder,
    WriteBatch,
    claimed_products,
    fallout_page,
    fallout_rows,
    new_installation_id,
    product_order,
    refuse_busy,
)
from om_dsl.runtime.store.product_log import product_rows
from om_dsl.runtime.store.prune import FINAL_STATES, NOTIFY_CURSOR, PrunePolicy, PruneReport

WAIT_KEY = ItemRow._fields.index("wait_key")
STATE = ItemRow._fields.index("state")
HELD = frozenset({OrderState.HELD.value})


class MemoryStore:
    """Thread-safe; lost when the process ends."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._catalogs: dict[str, str] = {}
        self._orders: dict[str, OrderRecord] = {}
        self._plans: dict[str, str] = {}
        self._items: dict[str, list[RowValues]] = {}
        self._events: list[NewEvent | None] = []
        """The event log; an event's ``seq`` is its position + 1 (not stored: memory).  A
        pruned order's events leave None behind: the positions, and so the seqs, stay."""
        self._by_order: dict[str, list[int]] = {}
        """Each order's event positions, as the SQLite store's ``events_by_order`` index: one
        order's events are read without scanning every order's."""
        self._cancel_requests: list[int] = []
        """Positions of the events that record cancel requests, as the SQLite store's partial
        index ``events_cancel_requests``."""
        self._signals: dict[str, dict[str, Any]] = {}
        self._waiting: dict[str, set[tuple[str, int]]] = {}
        self._cursors: dict[str, int] = {}
        self._changes: dict[str, list[ProductChange]] = {}
        """Each order's product changes, recorded in ``_products`` when it completes."""
        self._products: dict[str, InventoryProduct] = {}
        self._versions: dict[int, InventoryProduct] = {}
        """Event seq -> the product as that inventory row left it (:mod:`.product_log`)."""
        self._installation_id = new_installation_id()

    @property
    def installation_id(self) -> str:
        """Random per store object: another ``MemoryStore`` is another installation."""
        return self._installation_id

    @property
    def event_id_epoch(self) -> str:
        """Always ``""``: a memory store cannot be backed up, so it is never restored."""
        return ""

    def epoch_of(self, seq: int) -> str:
        """Always ``""``, as :attr:`event_id_epoch`."""
        return ""

    # ---- writing ------------------------------------------------------------------------------

    @property
    def lock(self) -> threading.RLock:
        """The lock every read and write of the store holds.  Held across a write of other
        tables and :meth:`apply` (:meth:`SideDb.joint_write
        <om_dsl.runtime.downstream.state.SideDb.joint_write>`: an outbox row and its
        ``notify.*`` event), no reader of the store sees one without the other."""
        return self._lock

    def apply(self, batch: WriteBatch) -> int:
        with self._lock:
            first = len(self._events) + 1
            self._catalogs.update(batch.catalogs)
            self._refuse(batch)
            for new in batch.new_orders:
                self._orders[new.record.id] = dataclasses.replace(new.record)
                self._plans[new.record.id] = new.plan_json
                self._items[new.record.id] = list(new.items)
                self._changes[new.record.id] = list(new.products)
                for row in new.items:
                    if row[WAIT_KEY] is not None:
                        self._index(new.record.id, None, row)
            for new in batch.amended:
                self._replace(new)
            for record in batch.orders.values():
                self._orders[record.id] = dataclasses.replace(record, ponr=dict(record.ponr))
            items = self._items
            for (order_id, idx), row in batch.items.items():
                rows = items[order_id]
                if row[WAIT_KEY] is not None or rows[idx][WAIT_KEY] is not None:
                    self._index(order_id, rows[idx], row)
                rows[idx] = row
            for order_id, event, payload, _ts in batch.signals:
                self._signals.setdefault(order_id, {})[event] = payload
            versions: list[tuple[NewEvent, InventoryProduct]] = []
            for order_id in batch.completed:
                versions += self._record_products(order_id, batch.recorded.get(order_id, ()))
            self._log(batch.events)
            self._log_products(versions)
            return first

    def _log_products(self, versions: list[tuple[NewEvent, InventoryProduct]]) -> None:
        """The inventory's rows, after the batch's own, each with its product's version."""
        for seq, (_row, product) in enumerate(versions, len(self._events) + 1):
            self._versions[seq] = product
        self._log([row for row, _product in versions])

    def _log(self, events: list[NewEvent]) -> None:
        """Append to the event log and to its two indexes (by order, cancel requests)."""
        for position, new_event in enumerate(events, len(self._events)):
            self._by_order.setdefault(new_event[1], []).append(position)
            if is_cancel_request(new_event[3], new_event[5]):  # kind, to_state
                self._cancel_requests.append(position)
        self._events.extend(events)

    def _refuse(self, batch: WriteBatch) -> None:
        """What the batch may not write, refused before anything is: an existing order id,
        a product an unfinished order changes already (O075)."""
        for new in batch.new_orders:
            if new.record.id in self._orders:
                raise KeyError(f"order {new.record.id} already exists")
        for new in claimed_products(batch):
            refuse_busy(new, self._holders(new))

    def _holders(self, new: NewOrder) -> dict[str, tuple[str, str]]:
        """Product id -> (order id, state) of the unfinished orders but ``new``'s that record
        one of ``new``'s products (the caller holds the lock)."""
        wanted = {change.product_id for change in new.products}
        found: dict[str, tuple[str, str]] = {}
        for order_id, changes in self._changes.items():
            state = self._orders[order_id].state
            if order_id == new.record.id or state not in ACTIVE_ORDER_STATES:
                continue
            for change in changes:
                if change.product_id in wanted:
                    found.setdefault(change.product_id, (order_id, state))
        return found

    def _record_products(
        self, order_id: str, recorded: Sequence[Recorded]
    ) -> list[tuple[NewEvent, InventoryProduct]]:
        """A completed order's product changes, with the values its records set, into the
        inventory; the log rows that say what changed, each with the product after it."""
        ts = self._orders[order_id].updated_at
        versions = []
        for change in self._changes.get(order_id, ()):
            found = self._products.get(change.product_id)
            full = with_recorded(change, recorded)
            after = self._products[change.product_id] = apply_change(found, full, order_id, ts)
            versions += [(row, after) for row in product_rows(found, after, full, order_id, ts)]
        return versions

    def product_version(self, seq: int) -> InventoryProduct | None:
        """The product as the inventory event-log row ``seq`` left it (None: no such row)."""
        with self._lock:
            found = self._versions.get(seq)
            return None if found is None else _copy(found)

    def order_products(self, order_id: str) -> list[ProductChange]:
        """What the order records in the inventory once it completes."""
        with self._lock:
            return list(self._changes.get(order_id, ()))

    def _replace(self, new: NewOrder) -> None:
        """An amendment: the order's plan and every item row are new (indexes too)."""
        order_id = new.record.id
        self._changes[order_id] = list(new.products)
        for row in self._items[order_id]:
            if row[WAIT_KEY] is not None:
                self._waiting.get(row[WAIT_KEY], set()).discard((order_id, row[0]))
        self._plans[order_id] = new.plan_json
        self._items[order_id] = list(new.items)
        for row in new.items:
            if row[WAIT_KEY] is not None:
                self._index(order_id, None, row)

    def _index(self, order_id: str, old: RowValues | None, new: RowValues) -> None:
        key = (order_id, new[0])
        if old is not None and old[WAIT_KEY] is not None and old[WAIT_KEY] != new[WAIT_KEY]:
            self._waiting.get(old[WAIT_KEY], set()).discard(key)
        if new[WAIT_KEY] is not None:
            self._waiting.setdefault(new[WAIT_KEY], set()).add(key)

    # ---- reading ------------------------------------------------------------------------------

    def has_catalog(self, content_hash: str) -> bool:
        with self._lock:
            return content_hash in self._catalogs

    def load_catalog(self, content_hash: str) -> str:
        with self._lock:
            return self._catalogs[content_hash]

    def has_order(self, order_id: str) -> bool:
        with self._lock:
            return order_id in self._orders

    def order(self, order_id: str) -> OrderRecord | None:
        with self._lock:
            record = self._orders.get(order_id)
            return dataclasses.replace(record, ponr=dict(record.ponr)) if record else None

    def orders(
        self,
        states: frozenset[str] | None = None,
        offset: int = 0,
        limit: int | None = None,
        external_id: str | None = None,
    ) -> list[OrderRecord]:
        with self._lock:
            found = [
                r
                for r in self._orders.values()
                if (states is None or r.state in states)
                and (external_id is None or r.external_id == external_id)
            ]
        found.sort(key=lambda r: (r.created_at, r.id))
        end = None if limit is None else offset + limit
        return [dataclasses.replace(r, ponr=dict(r.ponr)) for r in found[offset:end]]

    def load_order(self, order_id: str) -> StoredOrder | None:
        with self._lock:
            record = self.order(order_id)
            if record is None:
                return None
            return StoredOrder(
                record,
                self._plans[order_id],
                [ItemRow._make(row) for row in self._items[order_id]],
                dict(self._signals.get(order_id, {})),
            )

    def items(self, order_id: str) -> list[ItemRow]:
        with self._lock:
            return [ItemRow._make(row) for row in self._items.get(order_id, ())]

    def events(
        self, order_id: str | None = None, after_seq: int = 0, limit: int | None = None
    ) -> list[EventRow]:
        with self._lock:
            if order_id is None:
                found = [
                    EventRow(seq, *event)
                    for seq, event in enumerate(self._events[after_seq:], after_seq + 1)
                    if event is not None
                ]
            else:
                positions = self._by_order.get(order_id, [])
                start = bisect.bisect_left(positions, after_seq)  # seq > after_seq
                found = [self._row(p) for p in positions[start:]]
        return found if limit is None else found[:limit]

    def cancel_requests(self, offset: int = 0, limit: int | None = None) -> list[EventRow]:
        end = None if limit is None else offset + limit
        with self._lock:
            return [self._row(p) for p in self._cancel_requests[offset:end]]

    def _row(self, position: int) -> EventRow:
        """The event at ``position`` (one the indexes list: never a pruned one)."""
        event = self._events[position]
        assert event is not None, position
        return EventRow(position + 1, *event)

    def count_cancel_requests(self) -> int:
        with self._lock:
            return len(self._cancel_requests)

    def count_orders(self) -> dict[str, int]:
        with self._lock:
            return dict(Counter(record.state for record in self._orders.values()))

    def count_items(self, order_states: frozenset[str]) -> dict[str, int]:
        state = ItemRow._fields.index("state")
        with self._lock:
            return dict(Counter(row[state] for order_id, rows in self._items.items()
                                if self._orders[order_id].state in order_states
                                for row in rows))  # fmt: skip

    def find_waiting(self, wait_key: str, order_id: str | None = None) -> list[tuple[str, str]]:
        with self._lock:
            keys = sorted(self._waiting.get(wait_key, ()))
            return [
                (oid, self._items[oid][idx][1])
                for oid, idx in keys
                if order_id is None or oid == order_id
            ]

    def fallout(self, order_id: str | None = None) -> list[FalloutRow]:
        """As :meth:`SqliteStore.fallout`: only the plans of orders with items in fallout
        are read."""
        return self.fallout_page(order_id).rows

    def fallout_page(
        self,
        order_id: str | None = None,
        item_pattern: str | None = None,
        product: str | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> FalloutPage:
        """As :meth:`SqliteStore.fallout_page`: the item rows first, then only the plans of
        the orders on the page."""
        with self._lock:
            if order_id is None:
                records = self.orders(HELD)
            else:
                records = [r for r in (self._orders.get(order_id),) if r is not None]
            found: list[FalloutFound] = [
                (record.id, record.catalog_hash, row[0], row[1], row[3], row[4], row[9])
                for record in records
                for row in self._items[record.id]
                if row[STATE] == ItemState.FATALLY_FAILED
            ]
            return fallout_page(found, self._fallout_of, item_pattern, product, offset, limit)

    def _fallout_of(
        self, order_id: str, catalog_hash: str, found: Sequence[FalloutFound]
    ) -> list[FalloutRow]:
        """Rows of one order in fallout, with their plan items (the caller holds the lock)."""
        plan = json.loads(self._plans[order_id])
        failed = [(ItemRow(idx, item_id, ItemState.FATALLY_FAILED.value, attempt, failures,
                           reason=reason), _plan_item(plan["items"][idx]))
                  for _, _, idx, item_id, attempt, failures, reason in found]  # fmt: skip
        return fallout_rows(order_id, catalog_hash, failed,
                            lambda: {line["id"] for line in plan.get("lines", ())
                                     if line.get("superseded")})  # fmt: skip

    def get_cursor(self, name: str) -> int:
        with self._lock:
            return self._cursors.get(name, 0)

    def set_cursor(self, name: str, seq: int) -> None:
        with self._lock:
            self._cursors[name] = seq

    def product(self, product_id: str) -> InventoryProduct | None:
        with self._lock:
            found = self._products.get(product_id)
        return None if found is None else _copy(found)

    def products(
        self, wanted: ProductFilter | None = None, offset: int = 0, limit: int | None = None
    ) -> list[InventoryProduct]:
        wanted = wanted or ProductFilter()
        with self._lock:
            found = [_copy(p) for p in self._products.values() if wanted.matches(p)]
        found.sort(key=product_order)
        end = None if limit is None else offset + limit
        return found[offset:end]

    def count_products(self, wanted: ProductFilter | None = None) -> int:
        return len(self.products(wanted))

    # ---- retention ------------------------------------------------------------------------------

    def prune(self, policy: PrunePolicy) -> PruneReport:
        """As :meth:`SqliteStore.prune`, for what this store holds (a runtime on a memory
        store keeps its outbox, tasks and tokens in a private database of its own, which this
        does not reach: their rows are lost with the process anyway).  An order with events
        the notifier has not read is kept (unless ``include_undelivered``); ``bytes`` is 0."""
        report = PruneReport(dry_run=policy.dry_run)
        with self._lock:
            found = sorted(
                (r for r in self._orders.values()
                 if r.state in FINAL_STATES and r.updated_at < policy.finished_before),
                key=lambda r: (r.updated_at, r.id),
            )  # fmt: skip
        wanted = [r for r in found if policy.include_undelivered or not self._unread(r.id)]
        report.kept_undelivered = len(found) - len(wanted)
        for start in range(0, len(wanted), policy.batch_size):
            chunk = wanted[start : start + policy.batch_size]
            for record in chunk:
                report.add(record.state, record.updated_at)
            if not policy.dry_run:
                self._drop([record.id for record in chunk])
                report.batches += 1
        return report

    def _unread(self, order_id: str) -> bool:
        """Whether the notifier has not read all of the order's events yet (it has a cursor:
        a store whose log no notifier read owes nobody anything)."""
        with self._lock:
            cursor = self._cursors.get(NOTIFY_CURSOR)
            positions = self._by_order.get(order_id, [])
            return cursor is not None and bool(positions) and positions[-1] + 1 > cursor

    def _drop(self, order_ids: list[str]) -> None:
        """Every row of these orders; their events leave None in the log (seqs stay)."""
        with self._lock:
            dropped: set[int] = set()
            for order_id in order_ids:
                for row in self._items.pop(order_id, ()):
                    if row[WAIT_KEY] is not None:
                        self._waiting.get(row[WAIT_KEY], set()).discard((order_id, row[0]))
                for table in (self._orders, self._plans, self._signals, self._changes):
                    table.pop(order_id, None)
                for position in self._by_order.pop(order_id, ()):
                    self._events[position] = None
                    self._versions.pop(position + 1, None)
                    dropped.add(position)
            self._cancel_requests = [p for p in self._cancel_requests if p not in dropped]

    def close(self) -> None:
        return None


def _plan_item(spec: dict[str, Any]) -> PlanItemOf:
    return PlanItemOf(spec["name"], spec["kind"], spec["product"], spec["line_id"])


def _copy(product: InventoryProduct) -> InventoryProduct:
    """A caller's own copy, as a SQLite store's rows are: a host that edited the attributes
    of a product it read changed the inventory itself."""
    return dataclasses.replace(product, attributes=copy.deepcopy(product.attributes))
