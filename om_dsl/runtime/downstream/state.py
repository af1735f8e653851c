"""The tables the outside world needs next to the orders: systems, tokens, tasks, hub, outbox.

They live in the order store itself when it is a :class:`SqliteStore` (same file, connection and
lock, so they are as durable as the orders and survive the same crashes), and in a private
in-memory SQLite database otherwise (a :class:`MemoryStore` keeps nothing across restarts
either).  One SQL implementation serves both, so the two cannot drift apart.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any, Protocol

from om_dsl.runtime.store.sqlite import immediate_transaction

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS systems (
      name TEXT PRIMARY KEY, offline INTEGER NOT NULL, changed_at REAL NOT NULL, changed_by TEXT,
      reason TEXT
    )""",
    """CREATE TABLE IF NOT EXISTS callback_tokens (
      hash TEXT PRIMARY KEY, order_id TEXT NOT NULL, item_id TEXT NOT NULL,
      attempt INTEGER NOT NULL, issued_at REAL NOT NULL, state TEXT NOT NULL, payload_json TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS callback_tokens_by_item ON callback_tokens (order_id, item_id)",
    """CREATE TABLE IF NOT EXISTS tasks (
      order_id TEXT NOT NULL, item_id TEXT NOT NULL, queue TEXT NOT NULL,
      attempt INTEGER NOT NULL, created_at REAL NOT NULL, expected_by REAL,
      claimed_by TEXT, claimed_at REAL, PRIMARY KEY (order_id, item_id)
    )""",
    "CREATE INDEX IF NOT EXISTS tasks_by_queue ON tasks (queue, created_at)",
    """CREATE TABLE IF NOT EXISTS task_attempts (
      order_id TEXT NOT NULL, item_id TEXT NOT NULL, queue TEXT NOT NULL,
      attempt INTEGER NOT NULL, created_at REAL NOT NULL, expected_by REAL,
      claimed_by TEXT, claimed_at REAL, PRIMARY KEY (order_id, item_id, attempt)
    )""",
    """CREATE TABLE IF NOT EXISTS subscriptions (
      id TEXT PRIMARY KEY, url TEXT NOT NULL, query TEXT, order_id TEXT, created_at REAL NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS subscriptions_by_order ON subscriptions (order_id)",
    """CREATE TABLE IF NOT EXISTS product_subscriptions (
      id TEXT PRIMARY KEY, url TEXT NOT NULL, query TEXT, order_id TEXT, created_at REAL NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS outbox (
      id INTEGER PRIMARY KEY, event_seq INTEGER NOT NULL, url TEXT NOT NULL,
      order_id TEXT NOT NULL, event_type TEXT NOT NULL, state_to TEXT, event_json TEXT NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0, next_at REAL NOT NULL, state TEXT NOT NULL,
      last_error TEXT, delivered_at REAL, product_id TEXT, UNIQUE (event_seq, url)
    )""",
    "CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (state, url, order_id, id)",
    "CREATE INDEX IF NOT EXISTS outbox_by_order ON outbox (order_id, id)",
)

ADDED_COLUMNS = (("systems", "reason", "TEXT"), ("outbox", "product_id", "TEXT"))
"""Columns added since their table was first made: an older store gets them when opened for
writing (one opened read-only is read with ``SELECT *``, so it needs none).  The outbox's
``product_id`` (the product a TMF637 event is about: :mod:`om_dsl.runtime.notify.outbox`) is
NULL in the rows an older om_dsl queued, which keep the order's queue alone."""

AFTER_COLUMNS = (
    "CREATE INDEX IF NOT EXISTS outbox_by_product ON outbox (url, product_id, id) "
    "WHERE state = 'pending' AND product_id IS NOT NULL",
)
"""Indexes on added columns: made once the columns are there (an older store's table has
them only after :func:`add_missing_columns`)."""


def add_missing_columns(db: sqlite3.Connection, added: tuple[tuple[str, str, str], ...]) -> None:
    """Give an older store's tables the ``(table, column, type)`` columns they lack.

    Adding a nullable column is the one change every older om_dsl still reads (it names the
    columns it selects), so tables grow this way rather than by migrations."""
    for table, column, kind in added:
        have = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        if column not in have:
            db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")


class SharedTables(Protocol):
    """What a store offers to host other modules' tables (``SqliteStore`` does)."""

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]: ...

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]: ...


class SideDb:
    """Writes in one transaction each, reads under the same lock; thread-safe."""

    def __init__(self, store: object) -> None:
        self._store_lock: AbstractContextManager[object] | None = None
        if _shares_tables(store):
            self._shared: SharedTables | None = store  # type: ignore[assignment]
            self._db: sqlite3.Connection | None = None
        else:
            self._shared = None
            self._db = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
            self._store_lock = getattr(store, "lock", None)  # a MemoryStore's
        self._lock = threading.RLock()
        self._read_only = bool(getattr(store, "read_only", False))
        if not self._read_only:  # a read-only store has them, or no orders
            with self.write() as db:
                for statement in SCHEMA:
                    db.execute(statement)
                add_missing_columns(db, ADDED_COLUMNS)
                for statement in AFTER_COLUMNS:
                    db.execute(statement)

    @property
    def durable(self) -> bool:
        """True when the tables live in the order store's file."""
        return self._shared is not None

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        if self._shared is not None:
            with self._shared.transaction() as db:
                yield db
            return
        assert self._db is not None
        with immediate_transaction(self._db, self._lock) as db:
            yield db

    @contextmanager
    def joint_write(self) -> Iterator[sqlite3.Connection]:
        """One write of these tables and of the order store: what is written here, and what
        the store's ``apply`` commits inside the block, are written together or not at all.

        - a :class:`SqliteStore` (the tables in its file): one transaction, the store's
          ``apply`` a savepoint of it (:func:`immediate_transaction`);
        - a :class:`MemoryStore`: under its lock (:attr:`MemoryStore.lock`), this database's
          transaction committed after ``apply``, rolled back when it raises; no reader of the
          store sees the one write without the other;
        - a host's store of neither kind: this database's transaction alone, rolled back when
          the store's ``apply`` raises (these tables are in memory then: a crash loses them
          whatever the store kept).

        The notifier records a delivery so (the outbox row marked and its ``notify.*`` event
        in the log): the two separate writes could be parted by a crash.
        """
        store_lock = self._store_lock if self._store_lock is not None else nullcontext()
        with store_lock, self.write() as db:
            yield db

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        if self._shared is not None:
            try:
                return self._shared.query(sql, params)
            except sqlite3.OperationalError as exc:
                # A store no runtime wrote to yet has none of these tables, and read-only
                # they are not made: nothing is in them (`om systems list` on it was exit 3).
                if self._read_only and "no such table" in str(exc):
                    return []
                raise
        assert self._db is not None
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def close(self) -> None:
        if self._db is not None:
            with self._lock:
                self._db.close()


def _shares_tables(store: object) -> bool:
    return callable(getattr(store, "transaction", None)) and callable(getattr(store, "query", None))
