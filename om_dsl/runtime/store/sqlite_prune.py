"""Pruning a SQLite store: which tables hold an order's rows, and the batches that delete them.

Every table of the store file is either listed in :data:`ORDER_ROWS` (its rows belong to one
order, and go with it) or in :data:`KEPT_TABLES` (they do not); tests/runtime/test_prune.py
fails when a table is in neither, so a new table of order data cannot be forgotten here.

The candidates are read first, outside any write transaction (in WAL mode a reader holds up
no writer).  Then each batch is one ``BEGIN IMMEDIATE`` .. ``COMMIT``: it checks its orders
again (a notification may have been sent again meanwhile), raises the store's
:data:`~om_dsl.runtime.store.prune.LAST_EVENT_SEQ` to the newest event, and deletes every row
of its orders.  A prune killed half-way has committed whole batches and nothing of the one
under way: no order is ever half-pruned.  Between batches it pauses, so a service beside it
gets the write lock in between.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from time import sleep
from typing import Any, NamedTuple, Protocol

from om_dsl.runtime.store.prune import (
    FINAL_STATES,
    LAST_EVENT_SEQ,
    NOTIFY_CURSOR,
    PrunePolicy,
    PruneReport,
)

Read = Callable[[str, tuple[Any, ...]], list[Any]]


class Host(Protocol):
    """What pruning needs of the store (``SqliteStore`` has it): its write transactions and
    reads, on its one connection."""

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]: ...

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]: ...


class OrderRows(NamedTuple):
    """A table that holds rows of orders, and which rows: ``{ids}`` stands for the batch's
    order ids (as many ``?``)."""

    table: str
    where: str = "order_id IN ({ids})"


ORDER_ROWS = (
    OrderRows("event_acts", "seq IN (SELECT seq FROM events WHERE order_id IN ({ids}))"),
    OrderRows("product_versions", "seq IN (SELECT seq FROM events WHERE order_id IN ({ids}))"),
    OrderRows("events"),
    OrderRows("signals"),
    OrderRows("items"),
    OrderRows("plans"),
    OrderRows("order_products"),
    OrderRows("callback_tokens"),
    OrderRows("tasks"),
    OrderRows("task_attempts"),
    OrderRows("subscriptions"),
    OrderRows("outbox"),
    OrderRows("order_requests"),
    OrderRows("cancel_requests"),
    OrderRows("orders", "id IN ({ids})"),
)
"""Deleted in this order (``event_acts`` and ``product_versions`` read ``events``; the
order's own row last)."""

KEPT_TABLES = {
    "meta": "the store's own facts: schema version, installation id, event id epoch, backup "
    "mark, the last event seq issued",
    "catalogs": "catalog versions, shared by orders (a runtime keeps running on its own)",
    "cursors": "consumers' positions in the event log",
    "products": "the product inventory: what the network holds, not history",
    "systems": "the downstream systems' online/offline switch",
    "product_subscriptions": "TMF637 hub registrations: listeners of every product",
}
"""The tables whose rows belong to no single order, and why they stay."""


def prune_sqlite(store: Host, policy: PrunePolicy) -> PruneReport:
    """Prune ``store`` as :meth:`SqliteStore.prune` says."""
    report = PruneReport(dry_run=policy.dry_run)
    found = _candidates(store.query, policy)
    wanted = [row for row in found if not row.owed]
    report.kept_undelivered = len(found) - len(wanted)
    if policy.dry_run:
        for row in wanted:
            report.add(row.state, row.finished_at)
        report.bytes = _row_bytes(store.query, [row.id for row in wanted], policy.batch_size)
    else:
        _in_batches(store, [row.id for row in wanted], policy, report)
    return report


def _in_batches(store: Host, ids: list[str], policy: PrunePolicy, report: PruneReport) -> None:
    """One write transaction per batch, a pause between two; what went into ``report``."""
    free_before = _free_bytes(store.query)
    for number, chunk in enumerate(_chunks(ids, policy.batch_size)):
        if number and policy.pause_s:
            sleep(policy.pause_s)
        with store.transaction() as db:
            gone = _prune_batch(db, chunk, policy)
        report.batches += 1
        for row in gone:
            report.add(row.state, row.finished_at)
    report.bytes = max(0, _free_bytes(store.query) - free_before)


class Candidate(NamedTuple):
    id: str
    state: str
    finished_at: float
    owed: bool
    """It has notifications still owed (and the policy keeps such orders)."""


def _candidates(read: Read, policy: PrunePolicy) -> list[Candidate]:
    """The finished orders older than the cutoff, oldest first, each marked when kept for
    its notifications."""
    owed, params = _owed(read, policy)
    states = sorted(FINAL_STATES)
    rows = read(
        f"SELECT o.id, o.state, o.updated_at, {owed} FROM orders o "
        f"WHERE o.state IN ({_marks(states)}) AND o.updated_at < ? "
        "ORDER BY o.updated_at, o.id",
        (*params, *states, policy.finished_before),
    )
    return [Candidate(str(i), str(s), float(at), bool(kept)) for i, s, at, kept in rows]


def _prune_batch(
    db: sqlite3.Connection, ids: Sequence[str], policy: PrunePolicy
) -> list[Candidate]:
    """Delete the orders of ``ids`` that still qualify, all their rows; in the caller's write
    transaction.  Returns those deleted."""
    read: Read = lambda sql, params: db.execute(sql, params).fetchall()  # noqa: E731
    owed, params = _owed(read, policy)
    states = sorted(FINAL_STATES)
    rows = read(
        f"SELECT o.id, o.state, o.updated_at, 0 FROM orders o WHERE o.id IN ({_marks(ids)}) "
        f"AND o.state IN ({_marks(states)}) AND o.updated_at < ? AND NOT {owed}",
        (*ids, *states, policy.finished_before, *params),
    )
    gone = [Candidate(str(i), str(s), float(at), False) for i, s, at, _ in rows]
    if gone:
        _remember_last_seq(db)
        _delete(db, [row.id for row in gone])
    return gone


def _owed(read: Read, policy: PrunePolicy) -> tuple[str, tuple[Any, ...]]:
    """An SQL test of an order ``o`` that has notifications still owed: a row of the outbox
    not delivered (pending, abandoned), or an event after the notifier's cursor (not queued
    yet).  ``(0)`` when the policy prunes them anyway, or the store has neither."""
    if policy.include_undelivered:
        return "(0)", ()
    terms: list[str] = []
    params: list[Any] = []
    if "outbox" in _tables(read):
        terms.append(
            "EXISTS (SELECT 1 FROM outbox x WHERE x.order_id = o.id AND x.state != 'delivered')"
        )
    cursor = read("SELECT seq FROM cursors WHERE name = ?", (NOTIFY_CURSOR,))
    if cursor:  # no cursor: no notifier ever read this store's log, so nothing is owed
        terms.append("EXISTS (SELECT 1 FROM events e WHERE e.order_id = o.id AND e.seq > ?)")
        params.append(int(cursor[0][0]))
    return (f"({' OR '.join(terms)})" if terms else "(0)"), tuple(params)


def _remember_last_seq(db: sqlite3.Connection) -> None:
    """Keep the highest event seq issued in ``meta`` before events are deleted: the store
    numbers its next event after it (``SqliteStore.apply``)."""
    db.execute(
        "INSERT INTO meta (key, value) SELECT ?, COALESCE(MAX(seq), 0) FROM events WHERE 1 "
        "ON CONFLICT (key) DO UPDATE SET value = "
        "MAX(CAST(meta.value AS INTEGER), CAST(excluded.value AS INTEGER))",
        (LAST_EVENT_SEQ,),
    )


def _delete(db: sqlite3.Connection, ids: Sequence[str]) -> None:
    """Every row of these orders, in every table of :data:`ORDER_ROWS` the store has."""
    present = _tables(lambda sql, params: db.execute(sql, params).fetchall())
    for rows in ORDER_ROWS:
        if rows.table in present:
            where = rows.where.format(ids=_marks(ids))
            db.execute(f"DELETE FROM {rows.table} WHERE {where}", tuple(ids))


def _row_bytes(read: Read, ids: list[str], batch: int) -> int:
    """About the bytes of data the rows of these orders hold (each column's length; pages
    and indexes not counted): what a dry run says would go."""
    present = _tables(read)
    total = 0
    for rows in ORDER_ROWS:
        if rows.table not in present:
            continue
        columns = [str(column[1]) for column in read(f"PRAGMA table_info({rows.table})", ())]
        size = " + ".join(f"COALESCE(LENGTH(CAST({name} AS BLOB)), 0)" for name in columns)
        for chunk in _chunks(ids, batch):
            where = rows.where.format(ids=_marks(chunk))
            found = read(f"SELECT COALESCE(SUM({size}), 0) FROM {rows.table} WHERE {where}",
                         tuple(chunk))  # fmt: skip
            total += int(found[0][0])
    return total


def _free_bytes(read: Read) -> int:
    """The bytes of the file's free pages (reused before the file grows)."""
    pages = int(read("PRAGMA freelist_count", ())[0][0])
    return pages * int(read("PRAGMA page_size", ())[0][0])


def store_tables(read: Read) -> set[str]:
    """The tables of the store file (SQLite's own ``sqlite_*`` aside)."""
    return {name for name in _tables(read) if not name.startswith("sqlite_")}


def _tables(read: Read) -> set[str]:
    rows = read("SELECT name FROM sqlite_master WHERE type = 'table'", ())
    return {str(name) for (name,) in rows}


def _chunks(ids: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _marks(values: Sequence[object]) -> str:
    return ", ".join("?" * len(values))
