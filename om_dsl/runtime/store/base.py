"""What the runtime persists, and the interface every store implements.

The runtime collects the state changes of one scheduler step in a :class:`WriteBatch` and hands
it to :meth:`Store.apply`, which commits it in **one transaction** together with the event-log
rows of those changes.  Nothing is acknowledged (a submit returning, an operator action
returning, a listener hearing of a change) before its batch is committed, so a crash loses only
work that nobody was told about.  The plan is written once, at submit; after that only the rows
of the items that changed are written (never the whole plan per step).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from itertools import groupby
from typing import Any, NamedTuple, Protocol

from om_dsl.errors import OrderValidationError
from om_dsl.orders.inventory import InventoryProduct, ProductChange, Recorded, busy_issues
from om_dsl.runtime.store.prune import PrunePolicy, PruneReport


@dataclass(slots=True)
class OrderRecord:
    """One order's own row: its lifecycle state and flags (items have their own rows)."""

    id: str
    catalog_hash: str
    state: str
    created_at: float
    updated_at: float
    cancelling: bool = False
    started: bool = False
    ponr: dict[str, str] = field(default_factory=dict)
    """Root order item -> the item whose start reached the point of no return."""
    external_id: str | None = None
    """The order's external id (TMF622 ``externalId``: a CPQ's quote id), as its current plan
    says: kept in the order's row, so that orders are found by it."""


class ItemRow(NamedTuple):
    """One item's execution state, keyed by (order id, idx: its position in the plan)."""

    idx: int
    item_id: str
    state: str
    attempt: int = 0
    failures: int = 0
    due_at: float | None = None
    started_at: float | None = None
    ended_at: float | None = None
    outputs: dict[str, Any] | None = None
    reason: str | None = None
    wait_key: str | None = None
    key_from: int | None = 1
    """The attempt from which the item's ``Idempotency-Key`` counts: 1, or the attempt after
    the last one its system answered with a definite failure (a new key, see
    :func:`~om_dsl.runtime.downstream.request.idempotency_header`).  None for a row an older
    om_dsl wrote: an item it started keeps the key it sent (unsalted) until it gets a new
    one."""


class EventRow(NamedTuple):
    """An append-only event-log row; ``seq`` orders the whole log."""

    seq: int
    ts: float
    order_id: str
    item_id: str | None
    kind: str
    from_state: str | None
    to_state: str | None
    attempt: int | None
    detail: str | None
    by: str | None = None
    """Who took the operator action the row records (a person's or an API client's name),
    when it was one: :class:`~om_dsl.runtime.events.Act`.  None in rows written before it was
    kept."""
    reason: str | None = None
    """The reason they gave with it (also said in ``detail``)."""


class FalloutRow(NamedTuple):
    """An item in fallout as a store finds it (:meth:`Store.fallout`): its order, the
    catalog version the order runs on, and what the item's row and plan item say."""

    order_id: str
    catalog_hash: str
    item_id: str
    name: str
    kind: str
    product: str
    attempt: int
    failures: int
    reason: str | None


HISTORY_MARK = "~"
"""In the id of every line an amendment superseded (``<line id>~<revision>``:
:mod:`om_dsl.runtime.revision`): a plan item whose line id lacks it is live, so the plan's
lines are read only for the items of such a line."""


class PlanItemOf(NamedTuple):
    """What a fallout row reads of a plan item
    (:class:`~om_dsl.runtime.plan.PlanItemInstance`), from its order's stored plan."""

    name: str
    kind: str
    product: str
    line_id: str


def fallout_rows(
    order_id: str,
    catalog_hash: str,
    failed: Sequence[tuple[ItemRow, PlanItemOf]],
    superseded: Callable[[], Collection[str]],
) -> list[FalloutRow]:
    """One order's items in fallout, from the rows of its ``fatally_failed`` items each with
    its plan item, less those of lines an amendment superseded (their work is history).
    ``superseded`` (the ids of such lines of the order's plan) is asked only when a line
    could be one (:data:`HISTORY_MARK`): reading them costs a second pass over the plan."""
    if any(HISTORY_MARK in spec.line_id for _, spec in failed):
        gone = superseded()
        failed = [(row, spec) for row, spec in failed if spec.line_id not in gone]
    return [
        FalloutRow(order_id, catalog_hash, row.item_id, spec.name, spec.kind, spec.product,
                   row.attempt, row.failures, row.reason)
        for row, spec in failed
    ]  # fmt: skip


class FalloutPage(NamedTuple):
    """A page of the items in fallout (:meth:`Store.fallout_page`), and how many match in all."""

    rows: list[FalloutRow]
    total: int


FalloutFound = tuple[str, str, int, str, int, int, "str | None"]
"""An item row in fallout as a store reads it before its plan: order id, catalog hash, position
in the plan, item id, attempt, failures, reason."""
ResolveFallout = Callable[[str, str, Sequence[FalloutFound]], list[FalloutRow]]
"""(order id, catalog hash, some of its rows in fallout) -> their :class:`FalloutRow`, less
those of superseded lines: what reads the order's plan."""


def fallout_page(
    found: Sequence[FalloutFound],
    resolve: ResolveFallout,
    item_pattern: str | None = None,
    product: str | None = None,
    offset: int = 0,
    limit: int | None = None,
) -> FalloutPage:
    """The page ``[offset, offset + limit)`` of the items in fallout, from the rows ``found``
    (orders in their order, each order's rows together, in plan order), reading as few
    plans as the count allows (``GET /fallout`` read every held order's plan, then sliced).

    The id pattern is matched on the rows (``fnmatchcase``, as
    :class:`~om_dsl.runtime.fallout.FalloutFilter` does); the product is in the plan, so a
    filter on it reads every candidate's plan.  Without one, only the plans of orders on the
    page are read, and those of orders with a row whose id has :data:`HISTORY_MARK` (a
    superseded line's items, ``<line id>~<revision>:<name>``, have it in their id: only
    those rows may be left out, so the count of any other order is its number of rows)."""
    if item_pattern is not None:
        found = [row for row in found if fnmatchcase(row[3], item_pattern)]
    orders = [(key, list(rows)) for key, rows in groupby(found, key=lambda row: row[:2])]
    resolved: dict[int, list[FalloutRow]] = {}
    sizes = []
    for n, ((order_id, catalog_hash), rows) in enumerate(orders):
        if product is not None or any(HISTORY_MARK in row[3] for row in rows):
            kept = resolve(order_id, catalog_hash, rows)
            resolved[n] = kept if product is None else [r for r in kept if r.product == product]
        sizes.append(len(resolved[n]) if n in resolved else len(rows))
    total = sum(sizes)
    end = total if limit is None else min(total, offset + limit)
    page: list[FalloutRow] = []
    start = 0
    for n, (((order_id, catalog_hash), rows), size) in enumerate(zip(orders, sizes, strict=True)):
        if start >= end:
            break
        if start + size > offset:
            low, high = max(0, offset - start), min(size, end - start)
            if n in resolved:
                page += resolved[n][low:high]
            else:  # every row is kept: read the plan for those on the page alone
                page += resolve(order_id, catalog_hash, rows[low:high])
        start += size
    return FalloutPage(page, total)


RowValues = tuple[Any, ...]
"""An :class:`ItemRow`'s values as a plain tuple, in the same order: what the runtime writes
(a named tuple per changed item per step costs more than the rest of the write)."""

NewEvent = tuple[
    float, str, str | None, str, str | None, str | None, int | None, str | None, str | None,
    str | None,
]  # fmt: skip
"""An event before the store numbers it: EventRow without ``seq``.  A store takes the eight
fields of earlier versions too (no one named): :func:`event_act` reads either."""


def event_act(event: tuple[Any, ...]) -> tuple[str | None, str | None]:
    """The (by, reason) of a :data:`NewEvent`, (None, None) for one without them."""
    return (event[8], event[9]) if len(event) > 9 else (None, None)


@dataclass(slots=True)
class NewOrder:
    record: OrderRecord
    plan_json: str
    items: list[RowValues]
    products: list[ProductChange] = field(default_factory=list)
    """What the order records in the product inventory once it completes (an amendment's
    replace the order's)."""


def claimed_products(batch: WriteBatch) -> list[NewOrder]:
    """The new and amended orders of ``batch`` that record products: the only ones the
    in-flight check (:func:`refuse_busy`) reads the store for."""
    return [new for new in (*batch.new_orders, *batch.amended) if new.products]


def refuse_busy(new: NewOrder, holders: dict[str, tuple[str, str]]) -> None:
    """Raise O075 when an unfinished order other than ``new``'s records one of its products.

    A store calls it inside the transaction (or under the lock) that writes ``new``, so two
    orders submitted at once for one product cannot both pass; ``holders`` is what the store
    found (:func:`om_dsl.orders.inventory.busy_issues`).

    Raises:
        OrderValidationError: O075, at each such item's ``product.id``; nothing is written.
    """
    issues = busy_issues(new.products, holders)
    if issues:
        raise OrderValidationError(issues)


def product_order(product: InventoryProduct) -> tuple[float, str]:
    """How inventory lists are sorted: by start date (none first), then id."""
    return (product.start_date or 0.0, product.id)


def any_of(wanted: str | frozenset[str]) -> frozenset[str]:
    """The values a filter's term accepts: one, or any of several."""
    return frozenset((wanted,)) if isinstance(wanted, str) else wanted


@dataclass(frozen=True, slots=True)
class ProductFilter:
    """Which inventory products to list: each field None for any, else an exact match."""

    id: str | None = None
    status: str | frozenset[str] | None = None
    """One status, or any of several (``?status=active,terminated``)."""
    offering_id: str | None = None
    account: str | None = None
    customer: str | None = None

    def matches(self, product: InventoryProduct) -> bool:
        return all(
            wanted is None or getattr(product, name) in any_of(wanted)
            for name, wanted in self.terms()
        )

    def terms(self) -> list[tuple[str, str | frozenset[str] | None]]:
        """(field, wanted) of each term, as the SQLite store's columns are named."""
        return [
            ("id", self.id),
            ("status", self.status),
            ("offering_id", self.offering_id),
            ("account", self.account),
            ("customer", self.customer),
        ]


@dataclass(slots=True)
class StoredOrder:
    """Everything needed to resume an order after a restart."""

    record: OrderRecord
    plan_json: str
    items: list[ItemRow]
    signals: dict[str, Any]


@dataclass(slots=True)
class WriteBatch:
    """The changes of one scheduler step (or one API call), committed together."""

    catalogs: dict[str, str] = field(default_factory=dict)
    new_orders: list[NewOrder] = field(default_factory=list)
    amended: list[NewOrder] = field(default_factory=list)
    """Orders whose plan an amendment replaced: the new plan and all of its item rows replace
    the old ones (before ``orders`` and ``items`` of the same batch are applied)."""
    orders: dict[str, OrderRecord] = field(default_factory=dict)
    items: dict[tuple[str, int], RowValues] = field(default_factory=dict)
    events: list[NewEvent] = field(default_factory=list)
    signals: list[tuple[str, str, Any, float]] = field(default_factory=list)
    completed: list[str] = field(default_factory=list)
    """Orders that reached ``completed`` in this batch: their product changes are recorded
    in the inventory in the same commit (at the time of their row's ``updated_at``)."""
    recorded: dict[str, list[Recorded]] = field(default_factory=dict)
    """Completed order -> the values its plans' ``record`` statements set on its products,
    applied with its product changes (:func:`~om_dsl.orders.inventory.with_recorded`)."""

    def order_ids(self) -> set[str]:
        """Every order this batch holds a change of (rows, events or signals)."""
        ids = {*self.orders, *(order_id for order_id, _ in self.items)}
        ids.update(new.record.id for new in (*self.new_orders, *self.amended))
        ids.update(event[1] for event in self.events)
        ids.update(signal[0] for signal in self.signals)
        return ids

    def __bool__(self) -> bool:
        return bool(
            self.catalogs
            or self.new_orders
            or self.amended
            or self.orders
            or self.items
            or self.events
            or self.signals
        )


def new_installation_id() -> str:
    """A store's installation id: random, made once when the store is (see
    :attr:`Store.installation_id`)."""
    return secrets.token_hex(16)


class Store(Protocol):
    """Durable (SQLite) or in-process (memory) home of orders, items and the event log.

    Thread-safe: every method may be called from any thread.
    """

    @property
    def installation_id(self) -> str:
        """A random id made when the store was created, and kept with it (a copy of a SQLite
        store file keeps it too): the ``Idempotency-Key`` of callouts is salted with it, so
        that two stores (staging and production, a store reset) running an order with the
        same id never send the same key, while one store sends the same key on every attempt
        and after every restart."""
        ...

    @property
    def event_id_epoch(self) -> str:
        """The token that tells apart the events of a restored store from those its original
        (or an earlier restore of the same backup) issued with the same sequence numbers:
        ``""`` for a store never restored (its eventIds are ``om-<seq>``), a random token
        made when a restore was accepted (``om-<seq>-<epoch>``; see
        :func:`om_dsl.runtime.notify.tmf_text.event_id`)."""
        ...

    def epoch_of(self, seq: int) -> str:
        """The event id epoch the log's row ``seq`` was written in: ``""`` for the rows
        before the store's first restore, else the :attr:`event_id_epoch` of the restore
        that came before it.  A cancel request's id carries it (``cpo-<seq>-<epoch>``), so
        that a restore, which rewinds the sequence, never gives a second request the id of
        one it lost.  Optional: without it, every row counts as before any restore."""
        ...

    def apply(self, batch: WriteBatch) -> int:
        """Commit the batch atomically; return the ``seq`` of its first event."""
        ...

    def has_catalog(self, content_hash: str) -> bool: ...

    def load_catalog(self, content_hash: str) -> str:
        """The IR JSON of a catalog version (KeyError when unknown)."""
        ...

    def has_order(self, order_id: str) -> bool: ...

    def order(self, order_id: str) -> OrderRecord | None: ...

    def orders(
        self,
        states: frozenset[str] | None = None,
        offset: int = 0,
        limit: int | None = None,
        external_id: str | None = None,
    ) -> list[OrderRecord]:
        """Orders by creation (then id), optionally only in the given states, and only those
        whose external id is exactly ``external_id``."""
        ...

    def load_order(self, order_id: str) -> StoredOrder | None: ...

    def items(self, order_id: str) -> list[ItemRow]: ...

    def events(
        self, order_id: str | None = None, after_seq: int = 0, limit: int | None = None
    ) -> list[EventRow]: ...

    def cancel_requests(self, offset: int = 0, limit: int | None = None) -> list[EventRow]:
        """The event-log rows that record cancel requests, oldest first, across all orders
        (see :func:`om_dsl.runtime.events.is_cancel_request`)."""
        ...

    def count_cancel_requests(self) -> int: ...

    def find_waiting(self, wait_key: str, order_id: str | None = None) -> list[tuple[str, str]]:
        """(order id, item id) of items whose row carries this wait key."""
        ...

    def get_cursor(self, name: str) -> int:
        """A consumer's position in the event log (0 when new): for at-least-once delivery."""
        ...

    def set_cursor(self, name: str, seq: int) -> None: ...

    def order_products(self, order_id: str) -> list[ProductChange]:
        """What the order records in the inventory once it completes (the plans' records
        set their values on these products).  Optional, as the inventory is: without it,
        records record nothing."""
        ...

    def product(self, product_id: str) -> InventoryProduct | None:
        """The inventory's product instance with this id (TMF637 Product), or None."""
        ...

    def product_version(self, seq: int) -> InventoryProduct | None:
        """The product as the inventory's event-log row ``seq`` (``product.created``, ...)
        left it, or None: what its TMF637 event shows.  Optional, as the inventory is."""
        ...

    def products(
        self, wanted: ProductFilter | None = None, offset: int = 0, limit: int | None = None
    ) -> list[InventoryProduct]:
        """Inventory products by start date, then id."""
        ...

    def count_products(self, wanted: ProductFilter | None = None) -> int: ...

    def count_orders(self) -> dict[str, int]:
        """How many orders are in each state (states with none left out): one ``GROUP BY``,
        for metrics scraped every few seconds, rather than loading the orders."""
        ...

    def count_items(self, order_states: frozenset[str]) -> dict[str, int]:
        """How many items of the orders in ``order_states`` are in each state (the items of
        unfinished orders: a finished order's history does not grow the count's cost)."""
        ...

    def fallout(self, order_id: str | None = None) -> list[FalloutRow]:
        """The items in ``fatally_failed`` that no amendment superseded, of the held orders
        (by creation, then id), or of the one order ``order_id`` whatever its state; each
        order's in plan order.  It reads the item rows in fallout and their plan items only,
        not every item of those orders (``GET /fallout`` after an outage: thousands of held
        orders).  Optional: without it, the runtime reads each order's whole status."""
        ...

    def fallout_page(
        self,
        order_id: str | None = None,
        item_pattern: str | None = None,
        product: str | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> FalloutPage:
        """A page of what :meth:`fallout` finds, of the items whose id matches the shell-style
        ``item_pattern`` and whose product is ``product``, and how many match in all
        (:func:`fallout_page`): ``GET /fallout`` with thousands of held orders read every
        plan to answer a page.  Optional: without it, the runtime slices :meth:`fallout`."""
        ...

    def prune(self, policy: PrunePolicy) -> PruneReport:
        """Remove the orders that finished before ``policy.finished_before`` and every row
        that belongs only to them; keep the inventory, never reuse an event seq, and keep
        orders with notifications still owed unless ``policy.include_undelivered``
        (:mod:`om_dsl.runtime.store.prune`).  Optional: a host's store without it still runs
        (it keeps every order)."""
        ...

    def close(self) -> None: ...
