"""The embedded default store: one SQLite file in WAL mode, one writer connection.

Each :class:`~om_dsl.runtime.store.base.WriteBatch` is one ``BEGIN IMMEDIATE ... COMMIT``: the
item rows that changed, the order rows, and their event-log rows, all or nothing.  With
``synchronous=NORMAL`` (the default) a committed batch survives a crash of the process (the WAL
is written before COMMIT returns); ``synchronous="FULL"`` also survives a power cut, at the
price of an fsync per commit.

Catalogs are stored by content hash, so an order submitted under one catalog version still runs
with that version after a restart with a newer catalog.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from fnmatch import fnmatchcase
from itertools import groupby
from pathlib import Path
from typing import Any, Literal

from om_dsl.errors import OmError
from om_dsl.orders.inventory import (
    InventoryProduct,
    ProductChange,
    apply_change,
    change_from_json,
    change_to_json,
    product_from_json,
    with_recorded,
)
from om_dsl.runtime.events import CANCEL_ACCEPTED_STATE, CANCEL_REJECTED, ORDER_STATE
from om_dsl.runtime.states import ACTIVE_ORDER_STATES, ItemState, OrderState
from om_dsl.runtime.store.base import (
    HISTORY_MARK,
    EventRow,
    FalloutPage,
    FalloutRow,
    ItemRow,
    NewEvent,
    NewOrder,
    OrderRecord,
    PlanItemOf,
    ProductFilter,
    ResolveFallout,
    RowValues,
    StoredOrder,
    WriteBatch,
    any_of,
    claimed_products,
    event_act,
    fallout_page,
    fallout_rows,
    new_installation_id,
    refuse_busy,
)
from om_dsl.runtime.store.product_log import product_rows
from om_dsl.runtime.store.prune import LAST_EVENT_SEQ, PrunePolicy, PruneReport
from om_dsl.runtime.store.restore import (
    BACKUP_MARK,
    EPOCH_STARTS,
    EVENT_ID_EPOCH,
    BackupMark,
    EpochStarts,
    StoreIsBackup,
    epoch_at,
    new_epoch,
    starts_from_json,
    starts_json,
)
from om_dsl.runtime.store.sqlite_prune import prune_sqlite

SCHEMA_VERSION = 1
FATALLY_FAILED = ItemState.FATALLY_FAILED.value
INSTALLATION_ID = "installation_id"
"""The ``meta`` row of the store's installation id (:attr:`SqliteStore.installation_id`)."""
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS catalogs (
  hash TEXT PRIMARY KEY, ir_json TEXT NOT NULL, stored_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS orders (
  id TEXT PRIMARY KEY,
  catalog_hash TEXT NOT NULL REFERENCES catalogs (hash),
  state TEXT NOT NULL,
  cancelling INTEGER NOT NULL DEFAULT 0,
  started INTEGER NOT NULL DEFAULT 0,
  ponr_json TEXT NOT NULL DEFAULT '{}',
  created_at REAL NOT NULL,
  updated_at REAL NOT NULL,
  external_id TEXT
);
CREATE INDEX IF NOT EXISTS orders_by_state ON orders (state, created_at);
{external_id_index};
CREATE TABLE IF NOT EXISTS plans (
  order_id TEXT PRIMARY KEY REFERENCES orders (id), plan_json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS items (
  order_id TEXT NOT NULL REFERENCES orders (id),
  idx INTEGER NOT NULL,
  item_id TEXT NOT NULL,
  state TEXT NOT NULL,
  attempt INTEGER NOT NULL DEFAULT 0,
  failures INTEGER NOT NULL DEFAULT 0,
  due_at REAL,
  started_at REAL,
  ended_at REAL,
  outputs_json TEXT,
  reason TEXT,
  wait_key TEXT,
  key_from INTEGER,
  PRIMARY KEY (order_id, idx)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS items_by_wait_key ON items (wait_key) WHERE wait_key IS NOT NULL;
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY,
  ts REAL NOT NULL,
  order_id TEXT NOT NULL,
  item_id TEXT,
  kind TEXT NOT NULL,
  from_state TEXT,
  to_state TEXT,
  attempt INTEGER,
  detail TEXT
);
CREATE INDEX IF NOT EXISTS events_by_order ON events (order_id, seq);
{cancel_index};
CREATE TABLE IF NOT EXISTS signals (
  order_id TEXT NOT NULL REFERENCES orders (id),
  event TEXT NOT NULL,
  payload_json TEXT NOT NULL,
  ts REAL NOT NULL,
  PRIMARY KEY (order_id, event)
);
CREATE TABLE IF NOT EXISTS cursors (name TEXT PRIMARY KEY, seq INTEGER NOT NULL);
{acts_table};
{inventory_tables};
"""

_CANCEL_REQUESTS = (
    f"(kind = '{CANCEL_REJECTED}' OR (kind = '{ORDER_STATE}' AND to_state = "
    f"'{CANCEL_ACCEPTED_STATE}'))"
)
"""Rows that record cancel requests (:func:`~om_dsl.runtime.events.is_cancel_request` in SQL,
from the same constants)."""
_CANCEL_INDEX = (
    f"CREATE INDEX IF NOT EXISTS events_cancel_requests ON events (seq) WHERE {_CANCEL_REQUESTS}"
)
"""A partial index: it holds only the few request rows, so listing them reads no other row,
and every other event's insert pays only the test of the condition."""
_EXTERNAL_ID_INDEX = (
    "CREATE INDEX IF NOT EXISTS orders_by_external_id ON orders (external_id, created_at) "
    "WHERE external_id IS NOT NULL"
)
"""Orders by external id (a CPQ's quote id), for ``orders(external_id=...)``; partial: most
orders of a store may have none."""
ACTS = "event_acts"
"""Who took the operator action an event-log row records, and why (``EventRow.by`` and
``reason``), one row per such event, by its ``seq``.  A table of its own, not columns of
``events``: an older om_dsl reads ``SELECT * FROM events`` into rows of nine fields, and still
opens a store this version has written to."""
_ACTS_TABLE = (
    f"CREATE TABLE IF NOT EXISTS {ACTS} (seq INTEGER PRIMARY KEY, actor TEXT, reason TEXT)"
)
PRODUCTS = "products"
"""The product inventory (TMF637 Products: :mod:`om_dsl.orders.inventory`), one row per
product instance: the columns its lists filter on, and the whole product as JSON.  With
:data:`ORDER_PRODUCTS`, tables of their own that an older om_dsl never reads."""
ORDER_PRODUCTS = "order_products"
"""What each order records in the inventory when it completes (written at submit, replaced
by an amendment)."""
PRODUCT_VERSIONS = "product_versions"
"""The product as each inventory event-log row (``product.created``, ...) left it, by the
row's seq: what its TMF637 event shows (:mod:`.product_log`); pruned with the row."""
_INVENTORY_TABLES = (
    f"CREATE TABLE IF NOT EXISTS {ORDER_PRODUCTS} (order_id TEXT NOT NULL, pos INTEGER NOT "
    "NULL, change_json TEXT NOT NULL, PRIMARY KEY (order_id, pos)) WITHOUT ROWID;\n"
    f"CREATE TABLE IF NOT EXISTS {PRODUCTS} (id TEXT PRIMARY KEY, status TEXT NOT NULL, "
    "offering_id TEXT, account TEXT, customer TEXT, start_date REAL, product_json TEXT NOT "
    "NULL);\n"
    f"CREATE TABLE IF NOT EXISTS {PRODUCT_VERSIONS} (seq INTEGER PRIMARY KEY, product_json "
    "TEXT NOT NULL)"
)
SCHEMA = (
    SCHEMA.replace("{inventory_tables}", _INVENTORY_TABLES)
    .replace("{cancel_index}", _CANCEL_INDEX)
    .replace("{external_id_index}", _EXTERNAL_ID_INDEX)
    .replace("{acts_table}", _ACTS_TABLE)
)
_ADDED_INDEXES = {
    "events_cancel_requests": _CANCEL_INDEX,
    "orders_by_external_id": _EXTERNAL_ID_INDEX,
}
"""Indexes added since the first store schema: a store made before gets them when opened."""

_TABLES = frozenset(
    ("meta", "catalogs", "orders", "plans", "items", "events", "signals", "cursors")
)
"""Om's own tables (other modules may add theirs to the same file)."""

_ITEM_COLUMNS = (
    "idx, item_id, state, attempt, failures, due_at, started_at, ended_at, outputs_json, "
    "reason, wait_key, key_from"
)
KEY_FROM = "key_from"
"""The items' column of the attempt their idempotency key counts from (``ItemRow.key_from``):
NULL in the rows of an older om_dsl, which has no such column (it is added when a store is
opened for writing)."""
_ORDER_COLUMNS = (
    "id, catalog_hash, state, created_at, updated_at, cancelling, started, ponr_json, external_id"
)
NO_EXTERNAL_ID = ""
"""An order's ``external_id`` in its row when it has none: NULL is left for "not known", the
rows an older version wrote (:meth:`SqliteStore._upgrade` fills those)."""
_ABSENT_COLUMN = "NULL"
"""What a read-only store made before a column (``external_id``, ``key_from``) reads instead of
it (a read-only store is not upgraded)."""
_EVENT_COLUMNS = (
    "e.seq, e.ts, e.order_id, e.item_id, e.kind, e.from_state, e.to_state, e.attempt, e.detail"
)
_EVENTS_WITH_ACTS = (
    f"SELECT {_EVENT_COLUMNS}, a.actor, a.reason FROM events e LEFT JOIN {ACTS} a USING (seq)"
)
_EVENTS_WITHOUT_ACTS = f"SELECT {_EVENT_COLUMNS}, NULL, NULL FROM events e"
"""The event log of a read-only store made before :data:`ACTS`: no row names anyone."""


_NEXT_SEQ = (
    "SELECT MAX(COALESCE((SELECT MAX(seq) FROM events), 0), "
    "COALESCE((SELECT CAST(value AS INTEGER) FROM meta WHERE key = ?), 0)) + 1"
)
"""The ``seq`` of the next event: after the newest in the log, and after the newest a prune
removed (:data:`~om_dsl.runtime.store.prune.LAST_EVENT_SEQ`), so that no eventId is issued
twice.  Two lookups by key, in the write transaction."""

_FALLOUT = (
    "SELECT o.id, o.catalog_hash, i.idx, i.item_id, i.attempt, i.failures, i.reason "
    "FROM orders o JOIN items i ON i.order_id = o.id "
    "WHERE {which} ORDER BY o.created_at, o.id, i.idx"
)
"""The rows of the items in fallout, with their orders' (held orders through
``orders_by_state``, then their items by key).  Measured on 5,000 held orders of 16 items: a
partial index of the items in fallout, or ``orders (state, created_at, id)``, changed
nothing (SQLite sorts each ``created_at`` apart, so a first page stops early: 0.1 ms; the
count, 11 ms, is one key search per order whatever the index)."""
_FALLOUT_COUNT = (
    "SELECT COUNT(*), COALESCE(SUM(instr(i.item_id, ?) > 0), 0) "
    "FROM orders o JOIN items i ON i.order_id = o.id WHERE {which}"
)
"""How many rows :data:`_FALLOUT` finds, and how many of them may be superseded work (their
id has :data:`HISTORY_MARK`): one pass, the second query only when there are some."""
_PLAN_PRODUCT = (
    "json_extract((SELECT plan_json FROM plans WHERE order_id = o.id), "
    "'$.items[' || i.idx || '].product')"
)
"""The product of a row's plan item (``FalloutRow.product``), read by SQLite: a page of a
product's fallout is counted and cut by the query too (each candidate's plan is parsed,
by SQLite, once)."""
FNMATCH = "om_fnmatch"
"""The SQL function of an item-id pattern: :func:`fnmatch.fnmatchcase`, as
:class:`~om_dsl.runtime.fallout.FalloutFilter` matches (``GLOB`` differs: ``[!a]``)."""
MAX_LEFT_OUT = 400
"""Rows of superseded lines in fallout that a paged query names to leave out (two parameters
each, under SQLite's oldest bound of 999); more, and the page is cut from the whole list."""
_FALLOUT_PLAN_ITEMS = (
    "SELECT s.key, json_extract(s.value, '$.name'), json_extract(s.value, '$.kind'), "
    "json_extract(s.value, '$.product'), json_extract(s.value, '$.line_id') "
    "FROM plans p, json_each(p.plan_json, '$.items') s "
    "WHERE p.order_id = ?1 AND s.key IN (SELECT idx FROM items WHERE order_id = ?1 AND state = ?2)"
)
"""The plan items of one order's items in fallout: its plan is parsed once, by SQLite (half
the time of ``json.loads`` of the whole text, measured), and only those items are read out."""
_SUPERSEDED_LINES = (
    "SELECT json_extract(l.value, '$.id') FROM plans p, json_each(p.plan_json, '$.lines') l "
    "WHERE p.order_id = ? AND json_extract(l.value, '$.superseded') > 0"
)


@contextmanager
def immediate_transaction(
    db: sqlite3.Connection, lock: threading.RLock
) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` .. ``COMMIT`` under ``lock``, rolled back on any exception.

    The one way om_dsl writes SQLite (the store and the side tables of an in-memory world):
    the write lock is taken up front, so a transaction never fails half-way on a busy
    database, and an error or a crash leaves nothing half-written.

    Inside a transaction this thread has open on ``db`` (``lock`` is held by it: no other
    thread can have one open), it is a savepoint of that transaction instead: its writes
    commit with the outer ones or not at all, and an exception undoes its own.  So a write of
    other tables and the store's :meth:`~SqliteStore.apply` can be one commit (the outbox's
    row and its ``notify.*`` event: :meth:`SideDb.joint_write
    <om_dsl.runtime.downstream.state.SideDb.joint_write>`); it used to fail ("cannot start a
    transaction within a transaction").
    """
    with lock:
        if db.in_transaction:
            yield from _savepoint(db)
            return
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            # SQLite may have rolled back already (a full disk, an I/O error): a second
            # ROLLBACK would fail and hide the error that says what happened.
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")


def _savepoint(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A nested write of :func:`immediate_transaction`: a savepoint, released into the outer
    transaction, or rolled back to (and released) on any exception."""
    db.execute("SAVEPOINT om_nested")
    try:
        yield db
    except BaseException:
        if db.in_transaction:  # SQLite may have rolled the whole transaction back already
            db.execute("ROLLBACK TO om_nested")
            db.execute("RELEASE om_nested")
        raise
    db.execute("RELEASE om_nested")


_UNAVAILABLE = frozenset(
    {
        sqlite3.SQLITE_FULL,  # database or disk is full
        sqlite3.SQLITE_READONLY,  # a read-only file, folder or filesystem
        sqlite3.SQLITE_CANTOPEN,  # unable to open database file (its -wal or -shm too)
        sqlite3.SQLITE_BUSY,  # database is locked, beyond the busy timeout
        sqlite3.SQLITE_LOCKED,
        sqlite3.SQLITE_IOERR,  # disk I/O error
    }
)


def store_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says that the store cannot be written or read *now* (a full disk, a
    read-only file or filesystem, a database locked beyond the busy timeout, a file that cannot
    be opened, an I/O error), rather than that om_dsl has a bug: such a request is worth trying
    again later, and a host answers it so (``om serve``: 503 with ``Retry-After``).  Nothing of
    the failed write stays: every write is one transaction, rolled back."""
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    return isinstance(code, int) and code & 0xFF in _UNAVAILABLE


class StoreError(OmError):
    """The database cannot be used (wrong schema version, not a database, not an om store,
    a damaged row): the message names the file, or the order, item or catalog."""


class SqliteStore:
    """Durable store in one SQLite file (``":memory:"`` works too, for tests).

    A new or empty file becomes a store; an existing om store is opened as it is; any other
    SQLite database is refused without being touched (no tables added, journal mode kept).
    A backup copy (``om backup``) is opened read-only unless ``restored``: it is left byte for
    byte as it is, and a write to it raises :class:`StoreIsBackup`.
    """

    def __init__(
        self,
        path: str | Path,
        synchronous: Literal["NORMAL", "FULL"] = "NORMAL",
        read_only: bool = False,
        *,
        restored: bool = False,
    ) -> None:
        self.path = str(path)
        self.copy_mark = None if read_only or restored else _unrestored_copy(self.path)
        """What ``om backup`` wrote into the file, when it is a backup copy opened neither
        read-only nor as a restore: it is then opened as ``read_only`` (see
        :meth:`_refuse_writes`)."""
        self.read_only = read_only or self.copy_mark is not None
        """Opened for reading only (``om status``, ``om tasks list``...): nothing is created or
        changed, not even the journal mode, so it works on a store the user may only read;
        every write raises :class:`StoreError`."""
        self.restored = restored
        """The file is a backup put in place of its store (a restore): the runtime that runs
        it accepts it (:meth:`accept_restore`) instead of refusing a backup copy
        (:mod:`om_dsl.runtime.store.restore`).  Nothing else changes with it."""
        self._event_id_epoch = ""
        self._epoch_starts: EpochStarts = ()
        self._external_id = "external_id"
        """The column of the orders' external ids, or :data:`_ABSENT_COLUMN`."""
        self._key_from = KEY_FROM
        """The items' :data:`KEY_FROM` column, or :data:`_ABSENT_COLUMN`."""
        self._events = _EVENTS_WITH_ACTS
        """How the event log is read: with :data:`ACTS`, unless the store lacks it."""
        self._installation_id: str | None = None
        self._lock = threading.RLock()
        try:
            self._db = _read_only(self.path) if read_only else _connect(self.path)
        except sqlite3.DatabaseError as exc:
            raise self._unusable(exc) from None
        try:
            self._setup(synchronous)
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise self._unusable(exc) from None
        except StoreError:
            self._db.close()
            raise

    def _unusable(self, exc: sqlite3.DatabaseError) -> StoreError:
        why = _file_problem(self.path, exc, self.read_only)
        reason = f"{why} ({exc})" if why else str(exc)
        return StoreError(f"cannot use {self.path} as an om store: {reason}")

    def _setup(self, synchronous: str) -> None:
        self._db.execute("PRAGMA busy_timeout=10000")
        self._refuse_foreign()  # before any pragma or table could change someone else's file
        if not self.read_only:
            self._refuse_unwritable()
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(f"PRAGMA synchronous={synchronous}")
            if not _TABLES.issubset(self._tables()):
                self._create_schema()
            self._upgrade()
        elif not _TABLES.issubset(self._tables()):
            raise StoreError(f"{self.path} is not an om store yet (it has no orders)")
        else:
            self._read_absent_columns()
        row = self._db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        if row is None or int(row[0]) != SCHEMA_VERSION:
            found = "no" if row is None else row[0]
            raise StoreError(
                f"{self.path} has store schema {found}; this om_dsl reads {SCHEMA_VERSION}"
            )
        self._installation_id = self._meta(INSTALLATION_ID)
        self._event_id_epoch = self._meta(EVENT_ID_EPOCH) or ""
        self._epoch_starts = self._read_starts(self._meta(EPOCH_STARTS))

    def _refuse_unwritable(self) -> None:
        """SQLite opens a file this account may only read as read-only, in silence: a
        service started on a store in a writable folder but owned by another account passed
        every check, said ready, and answered 503 to every order ("attempt to write a
        readonly database").  Said at start instead."""
        file = Path(self.path).absolute()
        if self.path.startswith("file:") or not file.is_file():
            return
        if not os.access(file, os.W_OK):
            problem = f"permission denied: {file} is read-only for this account"
            raise StoreError(f"cannot use {self.path} as an om store: {problem}")

    def _meta(self, key: str) -> str | None:
        rows = self._query("SELECT value FROM meta WHERE key = ?", (key,))
        return str(rows[0][0]) if rows else None

    @property
    def installation_id(self) -> str:
        """Made with the store, kept in its ``meta`` table (see :attr:`Store.installation_id`);
        a store made before it existed gets one when it is first opened for writing.

        Raises:
            StoreError: the store is open read-only and has none yet (nothing is sent from
                such a store: it runs no callouts).
        """
        if self._installation_id is None:
            raise StoreError(
                f"{self.path} has no installation id yet: an older om_dsl made it, and it was "
                "not opened for writing since"
            )
        return self._installation_id

    @property
    def event_id_epoch(self) -> str:
        """Kept in ``meta`` since the store's last accepted restore; ``""`` if never restored
        (see :attr:`Store.event_id_epoch`)."""
        return self._event_id_epoch

    def epoch_of(self, seq: int) -> str:
        """The event id epoch the log's row ``seq`` was written in: ``""`` before the first
        restore (and for every row of a store never restored), else the epoch of the restore
        it came after (:data:`~om_dsl.runtime.store.restore.EPOCH_STARTS`)."""
        return epoch_at(self._epoch_starts, seq)

    def _read_starts(self, text: str | None) -> EpochStarts:
        starts = () if text is None else starts_from_json(text)
        if starts is None:
            raise StoreError(f"the store is damaged: {self.path}: its meta row {EPOCH_STARTS} "
                             "is not a list of [seq, epoch]")  # fmt: skip
        return starts

    def backup_mark(self) -> BackupMark | None:
        """What ``om backup`` wrote into this store, if it is a copy not yet accepted as a
        restore (read now: another process may have accepted it since it was opened)."""
        text = self._meta(BACKUP_MARK)
        return None if text is None else BackupMark.from_json(text)

    def accept_restore(self) -> BackupMark | None:
        """Accept this backup copy as the store (a restore): its mark goes and a new event id
        epoch starts, in one transaction, so no event after the restore reuses an id that
        the original store (or an earlier restore of the same backup) issued; where it
        starts in the log is noted with the earlier ones (:meth:`epoch_of`).  Returns the
        mark, or None when the store had none (nothing changes then).  The runner calls it,
        holding the runner lock."""
        with self._write() as db:
            found = db.execute("SELECT value FROM meta WHERE key = ?", (BACKUP_MARK,)).fetchone()
            if found is None:
                return None
            epoch = new_epoch()
            first = int(db.execute(_NEXT_SEQ, (LAST_EVENT_SEQ,)).fetchone()[0])
            starts = (*self._read_starts(self._meta(EPOCH_STARTS)), (first, epoch))
            db.execute("DELETE FROM meta WHERE key = ?", (BACKUP_MARK,))
            db.executemany(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                [(EVENT_ID_EPOCH, epoch), (EPOCH_STARTS, starts_json(starts))],
            )
        self._event_id_epoch, self._epoch_starts = epoch, starts
        return BackupMark.from_json(str(found[0]))

    def _upgrade(self) -> None:
        """A store made by an older om_dsl lacks what was added since (the schema version
        stays: only columns, indexes and ``meta`` rows were added, which older versions
        ignore): the orders' ``external_id`` column, filled from each order's plan, the
        indexes, and the installation id.  An older version may still add orders to an
        upgraded store, leaving their ``external_id`` NULL (this version writes ``''`` for
        "none"), so NULLs are filled at every opening.  The checks read, so that opening a
        current store takes no write lock."""
        rows = self._db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
        indexes = {name for (name,) in rows}
        missing = [sql for name, sql in _ADDED_INDEXES.items() if name not in indexes]
        has_columns = self._has_external_ids() and self._has_key_from()
        has_id = self._meta(INSTALLATION_ID) is not None
        tables = self._tables()
        has_tables = {ACTS, PRODUCTS, ORDER_PRODUCTS, PRODUCT_VERSIONS} <= tables
        if (
            not missing
            and has_columns
            and has_id
            and has_tables
            and not self._unknown_external_ids()
        ):
            return
        with self._write() as db:
            db.execute(_ACTS_TABLE)
            for statement in _INVENTORY_TABLES.split(";"):
                db.execute(statement)
            if not self._has_external_ids():  # again: another process may have added it
                db.execute("ALTER TABLE orders ADD COLUMN external_id TEXT")
            if not self._has_key_from():  # its rows' keys: those the older version sent
                db.execute(f"ALTER TABLE items ADD COLUMN {KEY_FROM} INTEGER")
            _fill_external_ids(db)
            for sql in missing:
                db.execute(sql)
            _add_installation_id(db)

    def _read_absent_columns(self) -> None:
        """A read-only store made by an older om_dsl is not upgraded: the columns it lacks
        read as NULL (its orders have no external id; its items the keys that version sent)."""
        if not self._has_external_ids():
            self._external_id = _ABSENT_COLUMN
        if not self._has_key_from():
            self._key_from = _ABSENT_COLUMN
        if ACTS not in self._tables():
            self._events = _EVENTS_WITHOUT_ACTS

    def _has_key_from(self) -> bool:
        columns = self._db.execute("PRAGMA table_info(items)").fetchall()
        return any(column[1] == KEY_FROM for column in columns)

    def _unknown_external_ids(self) -> bool:
        """Whether an order's row has no word on its external id (an older version wrote it)."""
        found = self._db.execute("SELECT 1 FROM orders WHERE external_id IS NULL LIMIT 1")
        return found.fetchone() is not None

    def _has_external_ids(self) -> bool:
        columns = self._db.execute("PRAGMA table_info(orders)").fetchall()
        return any(column[1] == "external_id" for column in columns)

    def _tables(self) -> set[str]:
        rows = self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {str(name) for (name,) in rows}

    def _refuse_foreign(self) -> None:
        """A database with tables but without om's ``meta`` table belongs to something else."""
        tables = self._tables()
        if tables and "meta" not in tables:
            raise StoreError(f"{self.path} is a SQLite database but not an om store")

    def _create_schema(self) -> None:
        """The tables, and the schema version, in one transaction (a crash leaves none)."""
        with self._write() as db:
            self._refuse_foreign()  # another program may have written the file meanwhile
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
            db.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)",
                (SCHEMA_VERSION,),
            )
            _add_installation_id(db)

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        """One read transaction: what several queries read is the store as of one commit."""
        with self._lock:
            self._db.execute("BEGIN")
            try:
                yield self._db
            finally:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")  # it wrote nothing: ending it is all

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        self._refuse_writes()
        return immediate_transaction(self._db, self._lock)

    def _refuse_writes(self) -> None:
        """Raise when nothing may be written.

        A backup copy opened to write (not as a restore) is opened as read-only, as `om
        serve`, `om run` and `om resume` read it before they refuse it: opening it to write
        switched its journal mode to WAL (a header write: its checksum no longer held), and
        an older copy's schema was upgraded, before anything refused it.  A write to it is
        refused as the copy it is (:class:`StoreIsBackup`), the runtime's run and claim as
        ever.

        Raises:
            StoreIsBackup: the store is such a copy.
            StoreError: the store is open read-only.
        """
        if self.copy_mark is not None:
            raise StoreIsBackup(self.path, self.copy_mark, 0, action="written")
        if self.read_only:
            raise StoreError(f"{self.path} is open read-only: nothing can be changed")

    # ---- writing ------------------------------------------------------------------------------

    def apply(self, batch: WriteBatch) -> int:
        with self._write() as db:
            first = int(db.execute(_NEXT_SEQ, (LAST_EVENT_SEQ,)).fetchone()[0])
            _write_catalogs(db, batch)
            for new in claimed_products(batch):
                refuse_busy(new, _holders(db, new))
            _write_new_orders(db, batch)
            _write_amended(db, batch)
            _write_orders(db, batch)
            _write_items(db, batch)
            _write_signals(db, batch)
            versions = _record_products(db, batch)
            events = [*batch.events, *(row for row, _product in versions)]
            db.executemany(
                "INSERT INTO events (seq, ts, order_id, item_id, kind, from_state, to_state, "
                "attempt, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                ((seq, *event[:8]) for seq, event in enumerate(events, first)),
            )
            db.executemany(
                f"INSERT INTO {ACTS} (seq, actor, reason) VALUES (?, ?, ?)",
                (
                    (seq, *act)
                    for seq, act in enumerate(map(event_act, batch.events), first)
                    if act != (None, None)
                ),
            )
            _write_versions(db, versions, first + len(batch.events))
            return first

    # ---- reading ------------------------------------------------------------------------------

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def has_catalog(self, content_hash: str) -> bool:
        return bool(self._query("SELECT 1 FROM catalogs WHERE hash = ?", (content_hash,)))

    def load_catalog(self, content_hash: str) -> str:
        rows = self._query("SELECT ir_json FROM catalogs WHERE hash = ?", (content_hash,))
        if not rows:
            raise KeyError(content_hash)
        text = str(rows[0][0])
        _json(text, f"catalog {content_hash[:19]}")  # damaged: say which, whoever parses it
        return text

    def has_order(self, order_id: str) -> bool:
        return bool(self._query("SELECT 1 FROM orders WHERE id = ?", (order_id,)))

    def order(self, order_id: str) -> OrderRecord | None:
        rows = self._query(f"SELECT {self._columns()} FROM orders WHERE id = ?", (order_id,))
        return _record(rows[0]) if rows else None

    def orders(
        self,
        states: frozenset[str] | None = None,
        offset: int = 0,
        limit: int | None = None,
        external_id: str | None = None,
    ) -> list[OrderRecord]:
        terms: list[str] = []
        params: list[str] = []
        if states is not None:
            terms.append(f"state IN ({', '.join('?' * len(states))})")
            params += sorted(states)
        if external_id is not None:
            terms.append(f"{self._external_id} = ?")
            params.append(external_id)
        where = f"WHERE {' AND '.join(terms)}" if terms else ""
        sql = (
            f"SELECT {self._columns()} FROM orders {where} ORDER BY created_at, id "
            f"LIMIT {-1 if limit is None else int(limit)} OFFSET {int(offset)}"
        )
        return [_record(row) for row in self._query(sql, tuple(params))]

    def _columns(self) -> str:
        """The order row's columns to read (:data:`_ORDER_COLUMNS`, as this store has them)."""
        return _ORDER_COLUMNS.replace("external_id", self._external_id)

    def load_order(self, order_id: str) -> StoredOrder | None:
        with self._lock:
            record = self.order(order_id)
            if record is None:
                return None
            plan = self._query("SELECT plan_json FROM plans WHERE order_id = ?", (order_id,))
            if not plan:  # pruned by another process between the two reads (om prune)
                return None
            signals = self._query(
                "SELECT event, payload_json FROM signals WHERE order_id = ? ORDER BY event",
                (order_id,),
            )
            return StoredOrder(
                record,
                str(plan[0][0]),
                self.items(order_id),
                {
                    event: _json(payload, f"order {order_id}: signal '{event}'")
                    for event, payload in signals
                },
            )

    def items(self, order_id: str) -> list[ItemRow]:
        columns = _ITEM_COLUMNS.replace(KEY_FROM, self._key_from)
        rows = self._query(
            f"SELECT {columns} FROM items WHERE order_id = ? ORDER BY idx", (order_id,)
        )
        return [_item_row(order_id, row) for row in rows]

    def events(
        self, order_id: str | None = None, after_seq: int = 0, limit: int | None = None
    ) -> list[EventRow]:
        where, params = "e.seq > ?", [after_seq]
        if order_id is not None:
            where += " AND e.order_id = ?"
            params.append(order_id)  # type: ignore[arg-type]
        bound = -1 if limit is None else int(limit)
        sql = f"{self._events} WHERE {where} ORDER BY e.seq LIMIT {bound}"
        return [EventRow(*row) for row in self._query(sql, tuple(params))]

    def cancel_requests(self, offset: int = 0, limit: int | None = None) -> list[EventRow]:
        bound = -1 if limit is None else int(limit)
        sql = (
            f"{self._events} WHERE {_CANCEL_REQUESTS} ORDER BY e.seq "
            f"LIMIT {bound} OFFSET {int(offset)}"
        )
        return [EventRow(*row) for row in self._query(sql, ())]

    def count_cancel_requests(self) -> int:
        rows = self._query(f"SELECT COUNT(*) FROM events WHERE {_CANCEL_REQUESTS}", ())
        return int(rows[0][0])

    def count_orders(self) -> dict[str, int]:
        rows = self._query("SELECT state, COUNT(*) FROM orders GROUP BY state", ())
        return {str(state): int(count) for state, count in rows}

    def count_items(self, order_states: frozenset[str]) -> dict[str, int]:
        """Through ``orders_by_state`` to the unfinished orders, then their items by key."""
        marks = ", ".join("?" * len(order_states))
        rows = self._query(
            "SELECT i.state, COUNT(*) FROM orders AS o JOIN items AS i ON i.order_id = o.id "
            f"WHERE o.state IN ({marks}) GROUP BY i.state",
            tuple(sorted(order_states)),
        )
        return {str(state): int(count) for state, count in rows}

    def fallout(self, order_id: str | None = None) -> list[FalloutRow]:
        """See :meth:`Store.fallout`: one query for the rows in fallout, then one per order
        with some for their plan items, in one read transaction (an amendment another
        process commits in between renumbers an order's items)."""
        return self.fallout_page(order_id).rows

    def fallout_page(
        self,
        order_id: str | None = None,
        item_pattern: str | None = None,
        product: str | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> FalloutPage:
        """See :meth:`Store.fallout_page`, in one read transaction.  The page is the
        query's (:func:`_paged_fallout`): the order, state, id pattern and product are its
        terms, one pass counts the rows, ``LIMIT``/``OFFSET`` cuts them, and only the plans
        of the orders on the page are read into rows, besides those of orders with rows of
        superseded lines in fallout (their id has :data:`HISTORY_MARK`: they are left out by
        name).  A product is read from the plan by SQLite (``json_extract``).  A plan that
        cannot be read there, or too much history to name, has the page cut from the whole
        list (:func:`fallout_page`), which says what is damaged."""
        terms = ["o.state = ?" if order_id is None else "o.id = ?", "i.state = ?"]
        params: list[Any] = [OrderState.HELD.value if order_id is None else order_id,
                             FATALLY_FAILED]  # fmt: skip
        if item_pattern is not None:
            terms.append(f"{FNMATCH}(i.item_id, ?)")
            params.append(item_pattern)
        which = " AND ".join(terms)
        with self._reading() as db:

            def resolve(oid: str, catalog_hash: str, rows: Sequence[Any]) -> list[FalloutRow]:
                return _order_fallout(db, oid, catalog_hash, rows)

            if offset or limit is not None:  # a page, not the whole list
                with suppress(sqlite3.OperationalError):  # a damaged plan: said below
                    page = _paged_fallout(db, which, params, product, resolve, offset, limit)
                    if page is not None:
                        return page
            found = db.execute(_FALLOUT.format(which=which), params).fetchall()
            return fallout_page(found, resolve, None, product, offset, limit)

    def find_waiting(self, wait_key: str, order_id: str | None = None) -> list[tuple[str, str]]:
        sql = "SELECT order_id, item_id FROM items WHERE wait_key = ?"
        params: tuple[str, ...] = (wait_key,)
        if order_id is not None:
            sql, params = sql + " AND order_id = ?", (wait_key, order_id)
        return [(str(o), str(i)) for o, i in self._query(sql + " ORDER BY order_id, idx", params)]

    def get_cursor(self, name: str) -> int:
        rows = self._query("SELECT seq FROM cursors WHERE name = ?", (name,))
        return int(rows[0][0]) if rows else 0

    def set_cursor(self, name: str, seq: int) -> None:
        with self._write() as db:
            db.execute(
                "INSERT INTO cursors (name, seq) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET seq = excluded.seq",
                (name, seq),
            )

    def order_products(self, order_id: str) -> list[ProductChange]:
        """What the order records in the inventory once it completes."""
        if not self._has_inventory():
            return []
        with self._lock:
            return _changes(self._db, order_id)

    def product(self, product_id: str) -> InventoryProduct | None:
        if not self._has_inventory():
            return None
        rows = self._query(f"SELECT product_json FROM {PRODUCTS} WHERE id = ?", (product_id,))
        return _product(rows[0][0]) if rows else None

    def products(
        self, wanted: ProductFilter | None = None, offset: int = 0, limit: int | None = None
    ) -> list[InventoryProduct]:
        if not self._has_inventory():
            return []
        where, params = _product_terms(wanted)
        bound = -1 if limit is None else int(limit)
        sql = (
            f"SELECT product_json FROM {PRODUCTS} {where} ORDER BY COALESCE(start_date, 0), id "
            f"LIMIT {bound} OFFSET {int(offset)}"
        )
        return [_product(text) for (text,) in self._query(sql, params)]

    def count_products(self, wanted: ProductFilter | None = None) -> int:
        if not self._has_inventory():
            return 0
        where, params = _product_terms(wanted)
        return int(self._query(f"SELECT COUNT(*) FROM {PRODUCTS} {where}", params)[0][0])

    def product_version(self, seq: int) -> InventoryProduct | None:
        """The product as the inventory event-log row ``seq`` left it (None: no such row, or
        a read-only store an older om_dsl made)."""
        if self.read_only and PRODUCT_VERSIONS not in self._tables():
            return None
        rows = self._query(f"SELECT product_json FROM {PRODUCT_VERSIONS} WHERE seq = ?", (seq,))
        return _product(rows[0][0]) if rows else None

    def _has_inventory(self) -> bool:
        """Whether the store has the inventory (a read-only store an older om_dsl made has
        not: it has no products)."""
        return not self.read_only or PRODUCTS in self._tables()

    # ---- tables of other modules (downstream state: systems, tokens, tasks, outbox) ----------

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction on the store's connection, for tables that other modules add
        next to the orders (they share the file, the lock and the durability of the store)."""
        with self._write() as db:
            yield db

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        """A read on the store's connection, for tables that other modules add."""
        return self._query(sql, params)

    # ---- retention ------------------------------------------------------------------------------

    def prune(self, policy: PrunePolicy) -> PruneReport:
        """Remove the orders that finished before ``policy.finished_before``, every row that
        belongs only to them (see :mod:`om_dsl.runtime.store.prune` for what stays), in
        write transactions of ``policy.batch_size`` orders: safe beside a process that runs
        the store, and no order is half-removed if this one is killed.

        Raises:
            StoreError: the store is open read-only.
            StoreIsBackup: the store is a copy made by ``om backup`` and was not opened as a
                restore (``restored=True``); nothing is changed (a dry run is read as any).
        """
        if not policy.dry_run:
            self._refuse_backup()
            self._refuse_writes()
        return prune_sqlite(self, policy)

    def _refuse_backup(self) -> None:
        mark = None if self.restored else self.backup_mark()
        if mark is not None:
            raise StoreIsBackup(self.path, mark, 0, action="pruned")

    def vacuum(self) -> tuple[int, int]:
        """Rewrite the file without its free pages (``VACUUM``), then empty the write-ahead
        log into it: the space pruned orders left goes back to the file system.  Returns the
        store's size in bytes (file and log) before and after.

        It holds the write lock for as long as it rewrites the whole file: run it while
        nothing else writes the store (``om prune --vacuum`` holds the runner lock)."""
        self._refuse_writes()
        before = self._size()
        with self._lock:
            self._db.execute("VACUUM")
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        return before, self._size()

    def _size(self) -> int:
        """The file's size and its write-ahead log's, in bytes (0 for ``:memory:``)."""
        return sum(
            os.path.getsize(name)
            for name in (self.path, f"{self.path}-wal")
            if not self.path.startswith(("file:", ":memory:")) and os.path.exists(name)
        )

    def backup_to(self, target: sqlite3.Connection) -> None:
        """Copy the whole database into ``target`` with SQLite's online backup API, in one
        step: one read transaction, so the copy is the store as of one commit, the WAL's
        commits included (``om backup``: :mod:`om_dsl.runtime.store.backup`).  In WAL mode a
        reader does not block writers, so whoever runs the store goes on meanwhile; a backup
        in several steps would start again at every write of another connection."""
        with self._lock:
            self._db.backup(target)

    def close(self) -> None:
        with self._lock:
            self._db.close()


_FILE_ERRORS = frozenset(
    {sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PERM, sqlite3.SQLITE_IOERR}
)


def _file_problem(path: str, exc: sqlite3.DatabaseError, read_only: bool) -> str | None:
    """Why the file system keeps SQLite from opening the store at ``path``, in words; None
    when it is not the file system (or nothing is found).

    SQLite says only "unable to open database file" (or "attempt to write a readonly
    database") whatever the cause; an operator starting `om serve` needs to know whether the
    folder is missing, the file system is read-only, or the account may not write there.  A
    store is a file and, beside it, its ``-wal`` and ``-shm`` files: the folder must be
    writable too, unless the store is only read.
    """
    code = getattr(exc, "sqlite_errorcode", None)
    if path == ":memory:" or path.startswith("file:") or not isinstance(code, int):
        return None
    if code & 0xFF not in _FILE_ERRORS:
        return None
    file = Path(path).absolute()
    folder = file.parent
    if not folder.exists():
        return f"the folder {folder} does not exist"
    if not folder.is_dir():
        return f"{folder} is not a folder"
    if file.is_dir():
        return f"{file} is a folder, not a file"
    if not read_only and os.statvfs(folder).f_flag & os.ST_RDONLY:
        return f"{folder} is on a read-only file system"
    return _permission_problem(file, read_only)


def _permission_problem(file: Path, read_only: bool) -> str | None:
    """What this account may not do to the store's file or folder (None: it may do it all)."""
    if file.exists() and not os.access(file, os.R_OK):
        return f"permission denied: {file} cannot be read by this account"
    if read_only:
        return None
    if file.exists() and not os.access(file, os.W_OK):
        return f"permission denied: {file} is read-only for this account"
    if not os.access(file.parent, os.W_OK | os.X_OK):
        return (
            f"permission denied: this account may not write in the folder {file.parent} "
            "(the store's -wal and -shm files go there)"
        )
    return None


def _connect(target: str, uri: bool = False) -> sqlite3.Connection:
    db = sqlite3.connect(target, uri=uri, isolation_level=None, check_same_thread=False)
    db.create_function(FNMATCH, 2, _fnmatch, deterministic=True)
    return db


def _fnmatch(name: object, pattern: object) -> bool:
    return isinstance(name, str) and isinstance(pattern, str) and fnmatchcase(name, pattern)


def _unrestored_copy(path: str) -> BackupMark | None:
    """The mark of the file at ``path`` if it is a backup copy (``om backup``), read with the
    file opened read-only; None for any other file, or one that is no readable om store (the
    opening says what is wrong with it)."""
    if path == ":memory:" or path.startswith("file:") or not Path(path).is_file():
        return None
    try:
        db = _read_only(path)
    except sqlite3.DatabaseError:
        return None
    try:
        row = db.execute("SELECT value FROM meta WHERE key = ?", (BACKUP_MARK,)).fetchone()
    except sqlite3.DatabaseError:
        return None
    finally:
        db.close()
    return None if row is None else BackupMark.from_json(str(row[0]))


def _read_only(path: str) -> sqlite3.Connection:
    """A read-only connection to the store at ``path``.

    A WAL database needs its ``-shm`` file even to be read.  When nobody has the store open
    there is none, and a user who may not write the folder cannot create it: SQLite then
    refuses ``mode=ro``.  With no ``-wal`` file either, no process is writing the store (the
    last one to close checkpointed it and removed both), so the file alone is the whole store
    and ``immutable=1`` reads it without the ``-shm``.
    """
    uri = Path(path).absolute().as_uri() + "?mode=ro"
    db = _connect(uri, uri=True)
    try:
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return db
    except sqlite3.OperationalError:
        db.close()
        if Path(f"{path}-wal").exists():
            raise
    return _connect(uri + "&immutable=1", uri=True)


def _add_installation_id(db: sqlite3.Connection) -> None:
    """A new installation id, unless the store has one (another process may have just given
    it one: the first one written stays)."""
    db.execute(
        "INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)",
        (INSTALLATION_ID, new_installation_id()),
    )


def _write_catalogs(db: sqlite3.Connection, batch: WriteBatch) -> None:
    db.executemany(
        "INSERT OR IGNORE INTO catalogs (hash, ir_json, stored_at) VALUES (?, ?, ?)",
        ((content_hash, text, time.time()) for content_hash, text in batch.catalogs.items()),
    )


def _write_new_orders(db: sqlite3.Connection, batch: WriteBatch) -> None:
    for new in batch.new_orders:
        r = new.record
        db.execute(
            f"INSERT INTO orders ({_ORDER_COLUMNS}) VALUES ({', '.join('?' * 9)})",
            _order_values(r),
        )
        db.execute("INSERT INTO plans (order_id, plan_json) VALUES (?, ?)", (r.id, new.plan_json))
        _insert_items(db, r.id, new.items)
        _insert_changes(db, new)


def _insert_changes(db: sqlite3.Connection, new: NewOrder) -> None:
    db.executemany(
        f"INSERT INTO {ORDER_PRODUCTS} (order_id, pos, change_json) VALUES (?, ?, ?)",
        (
            (new.record.id, pos, json.dumps(change_to_json(change), sort_keys=True))
            for pos, change in enumerate(new.products)
        ),
    )


_BUSY_CHUNK = 500
"""Product ids per query of :func:`_holders` (SQLite limits the parameters of one)."""


def _holders(db: sqlite3.Connection, new: NewOrder) -> dict[str, tuple[str, str]]:
    """Product id -> (order id, state) of the unfinished orders but ``new``'s that record one
    of ``new``'s products, read in the transaction that writes ``new``."""
    wanted = sorted({change.product_id for change in new.products})
    states = sorted(ACTIVE_ORDER_STATES)
    found: dict[str, tuple[str, str]] = {}
    for start in range(0, len(wanted), _BUSY_CHUNK):
        chunk = wanted[start : start + _BUSY_CHUNK]
        rows = db.execute(
            f"SELECT json_extract(p.change_json, '$.product_id'), p.order_id, o.state "
            f"FROM {ORDER_PRODUCTS} p JOIN orders o ON o.id = p.order_id "
            f"WHERE o.state IN ({', '.join('?' * len(states))}) AND p.order_id != ? "
            f"AND json_extract(p.change_json, '$.product_id') IN ({', '.join('?' * len(chunk))}) "
            "ORDER BY p.order_id",
            (*states, new.record.id, *chunk),
        ).fetchall()
        for product_id, order_id, state in rows:
            found.setdefault(str(product_id), (str(order_id), str(state)))
    return found


def _record_products(
    db: sqlite3.Connection, batch: WriteBatch
) -> list[tuple[NewEvent, InventoryProduct]]:
    """The product changes of the orders the batch completes, into the inventory (the same
    transaction as the completion); the log rows that say what changed (:mod:`.product_log`),
    each with the product after it."""
    versions: list[tuple[NewEvent, InventoryProduct]] = []
    for order_id in batch.completed:
        ts = batch.orders[order_id].updated_at
        recorded = batch.recorded.get(order_id, ())
        for change in (with_recorded(c, recorded) for c in _changes(db, order_id)):
            found = db.execute(
                f"SELECT product_json FROM {PRODUCTS} WHERE id = ?", (change.product_id,)
            ).fetchone()
            before = None if found is None else _product(found[0])
            product = apply_change(before, change, order_id, ts)
            _write_product(db, product)
            versions += [(row, product) for row in product_rows(before, product, change,
                                                                order_id, ts)]  # fmt: skip
    return versions


def _write_versions(
    db: sqlite3.Connection, versions: list[tuple[NewEvent, InventoryProduct]], first: int
) -> None:
    """Each inventory row's product, by the row's seq (``first``: the first one's)."""
    db.executemany(
        f"INSERT INTO {PRODUCT_VERSIONS} (seq, product_json) VALUES (?, ?)",
        ((seq, json.dumps(product.to_json(), sort_keys=True))
         for seq, (_row, product) in enumerate(versions, first)),
    )  # fmt: skip


def _changes(db: sqlite3.Connection, order_id: str) -> list[ProductChange]:
    """What the order records in the inventory once it completes, in its items' order."""
    rows = db.execute(
        f"SELECT change_json FROM {ORDER_PRODUCTS} WHERE order_id = ? ORDER BY pos",
        (order_id,),
    ).fetchall()
    return [change_from_json(_json(t, f"order {order_id}: a product change")) for (t,) in rows]


def _write_product(db: sqlite3.Connection, p: InventoryProduct) -> None:
    db.execute(
        f"INSERT OR REPLACE INTO {PRODUCTS} (id, status, offering_id, account, customer, "
        "start_date, product_json) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (p.id, p.status, p.offering_id, p.account, p.customer, p.start_date,
         json.dumps(p.to_json(), sort_keys=True)),
    )  # fmt: skip


def _product(text: str) -> InventoryProduct:
    data = _json(text, "a product of the inventory")
    try:
        return product_from_json(data)
    except TypeError as exc:
        raise StoreError(f"the store is damaged: a product of the inventory: {exc}") from None


def _product_terms(wanted: ProductFilter | None) -> tuple[str, tuple[str, ...]]:
    """The WHERE clause of a product filter, and its parameters."""
    terms = [
        (name, sorted(any_of(value)))
        for name, value in (wanted or ProductFilter()).terms()
        if value is not None
    ]
    if not terms:
        return "", ()
    where = " AND ".join(f"{name} IN ({', '.join('?' * len(values))})" for name, values in terms)
    return f"WHERE {where}", tuple(value for _, values in terms for value in values)


def _insert_items(db: sqlite3.Connection, order_id: str, rows: list[RowValues]) -> None:
    db.executemany(
        f"INSERT INTO items (order_id, {_ITEM_COLUMNS}) VALUES ({', '.join('?' * 13)})",
        ((order_id, *_item_values(row)) for row in rows),
    )


def _write_amended(db: sqlite3.Connection, batch: WriteBatch) -> None:
    for new in batch.amended:
        order_id = new.record.id
        db.execute(f"DELETE FROM {ORDER_PRODUCTS} WHERE order_id = ?", (order_id,))
        _insert_changes(db, new)
        db.execute("UPDATE plans SET plan_json = ? WHERE order_id = ?", (new.plan_json, order_id))
        db.execute("DELETE FROM items WHERE order_id = ?", (order_id,))
        _insert_items(db, order_id, new.items)


def _write_orders(db: sqlite3.Connection, batch: WriteBatch) -> None:
    db.executemany(
        "UPDATE orders SET catalog_hash = ?, state = ?, created_at = ?, updated_at = ?, "
        "cancelling = ?, started = ?, ponr_json = ?, external_id = ? WHERE id = ?",
        ((*_order_values(r)[1:], r.id) for r in batch.orders.values()),
    )


def _write_items(db: sqlite3.Connection, batch: WriteBatch) -> None:
    db.executemany(
        "UPDATE items SET state = ?, attempt = ?, failures = ?, due_at = ?, started_at = ?, "
        "ended_at = ?, outputs_json = ?, reason = ?, wait_key = ?, key_from = ? "
        "WHERE order_id = ? AND idx = ?",
        ((*_item_values(row)[2:], order_id, idx) for (order_id, idx), row in batch.items.items()),
    )


def _write_signals(db: sqlite3.Connection, batch: WriteBatch) -> None:
    db.executemany(
        "INSERT INTO signals (order_id, event, payload_json, ts) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (order_id, event) DO UPDATE SET payload_json = excluded.payload_json, "
        "ts = excluded.ts",
        ((o, e, json.dumps(p), ts) for o, e, p, ts in batch.signals),
    )


def _order_values(r: OrderRecord) -> tuple[Any, ...]:
    return (
        r.id,
        r.catalog_hash,
        r.state,
        r.created_at,
        r.updated_at,
        int(r.cancelling),
        int(r.started),
        json.dumps(r.ponr, sort_keys=True),
        r.external_id if r.external_id is not None else NO_EXTERNAL_ID,
    )


def _fill_external_ids(db: sqlite3.Connection) -> None:
    """The ``external_id`` of each order whose row has none (NULL: written by a version before
    the column), from its plan; ``''`` when the plan has none, so that it is read only once."""
    rows = db.execute(
        "SELECT o.id, p.plan_json FROM orders o LEFT JOIN plans p ON p.order_id = o.id "
        "WHERE o.external_id IS NULL"
    ).fetchall()
    found = [(_plan_external_id(plan_json or "") or NO_EXTERNAL_ID, oid) for oid, plan_json in rows]
    db.executemany("UPDATE orders SET external_id = ? WHERE id = ?", found)


def _plan_external_id(plan_json: str) -> str | None:
    """A stored plan's ``order_fields.external_id``; None for none, or for a plan that cannot
    be read (the order says so itself when it is loaded: an upgrade is not the place)."""
    try:
        plan = json.loads(plan_json)
    except (ValueError, RecursionError):
        return None
    fields = plan.get("order_fields") if isinstance(plan, dict) else None
    found = fields.get("external_id") if isinstance(fields, dict) else None
    return found if isinstance(found, str) else None


def _json(text: str, what: str) -> Any:
    """A JSON column's value; a damaged one (edited by hand, a bad disk) is a StoreError that
    says which row, not a JSONDecodeError from deep inside a command."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise StoreError(f"the store is damaged: {what} is not valid JSON ({exc})") from None


def _record(row: Any) -> OrderRecord:
    oid, catalog_hash, state, created, updated, cancelling, started, ponr, external_id = row
    points = _json(ponr, f"order {oid}: its point of no return")
    return OrderRecord(
        oid,
        catalog_hash,
        state,
        created,
        updated,
        bool(cancelling),
        bool(started),
        points,
        external_id or None,
    )


def _paged_fallout(
    db: sqlite3.Connection,
    which: str,
    params: list[Any],
    product: str | None,
    resolve: ResolveFallout,
    offset: int,
    limit: int | None,
) -> FalloutPage | None:
    """The page of the rows ``which`` finds of ``product``, less those of superseded lines,
    paged by the query; None when there are too many of those to name
    (:data:`MAX_LEFT_OUT`)."""
    if product is not None:
        which, params = f"{which} AND {_PLAN_PRODUCT} = ?", [*params, product]
    counted = db.execute(_FALLOUT_COUNT.format(which=which), (HISTORY_MARK, *params))
    count, history = counted.fetchone()
    marked: list[Any] = []
    if history:
        marked_sql = _FALLOUT.format(which=f"{which} AND instr(i.item_id, ?) > 0")
        marked = db.execute(marked_sql, (*params, HISTORY_MARK)).fetchall()
    left_out: list[tuple[str, int]] = []
    for (oid, catalog_hash), group in groupby(marked, key=lambda row: row[:2]):
        rows = list(group)
        kept = {row.item_id for row in resolve(oid, catalog_hash, rows)}
        left_out += [(oid, row[2]) for row in rows if row[3] not in kept]
    if len(left_out) > MAX_LEFT_OUT:
        return None
    if left_out:
        which += f" AND (o.id, i.idx) NOT IN (VALUES {', '.join(['(?, ?)'] * len(left_out))})"
        params = [*params, *(value for pair in left_out for value in pair)]
    bound = -1 if limit is None else int(limit)
    found = db.execute(f"{_FALLOUT.format(which=which)} LIMIT {bound} OFFSET {int(offset)}",
                       params).fetchall()  # fmt: skip
    page = [row for (oid, catalog_hash), group in groupby(found, key=lambda row: row[:2])
            for row in resolve(oid, catalog_hash, list(group))]  # fmt: skip
    return FalloutPage(page, int(count) - len(left_out))


def _order_fallout(
    db: sqlite3.Connection, order_id: str, catalog_hash: str, found: Iterable[Any]
) -> list[FalloutRow]:
    """One order's items in fallout, from the rows :data:`_FALLOUT` found for it."""
    failed = [ItemRow(idx, item_id, FATALLY_FAILED, attempt, failures, reason=reason)
              for _, _, idx, item_id, attempt, failures, reason in found]  # fmt: skip
    specs = _plan_items(db, order_id)
    for row in failed:
        if row.idx not in specs:
            raise StoreError(f"the store is damaged: order {order_id}: its plan has no item "
                             f"{row.idx} (the row of {row.item_id})")  # fmt: skip
    return fallout_rows(order_id, catalog_hash, [(row, specs[row.idx]) for row in failed],
                        lambda: _superseded_lines(db, order_id))  # fmt: skip


def _plan_items(db: sqlite3.Connection, order_id: str) -> dict[int, PlanItemOf]:
    """Position -> plan item of the order's items in fallout (:data:`_FALLOUT_PLAN_ITEMS`)."""
    try:
        rows = db.execute(_FALLOUT_PLAN_ITEMS, (order_id, FATALLY_FAILED)).fetchall()
    except sqlite3.OperationalError:
        valid = db.execute("SELECT json_valid(plan_json) FROM plans WHERE order_id = ?",
                           (order_id,)).fetchone()  # fmt: skip
        if valid is None or valid[0]:
            raise
        raise StoreError(
            f"the store is damaged: order {order_id}: its plan is not valid JSON"
        ) from None
    found = {int(idx): PlanItemOf(*fields) for idx, *fields in rows}
    if not all(isinstance(field, str) for spec in found.values() for field in spec):
        raise StoreError(f"the store is damaged: order {order_id}: an item of its plan lacks "
                         f"{', '.join(PlanItemOf._fields)}")  # fmt: skip
    return found


def _superseded_lines(db: sqlite3.Connection, order_id: str) -> set[str]:
    """The ids of the lines of the order's plan that an amendment superseded."""
    return {str(line_id) for (line_id,) in db.execute(_SUPERSEDED_LINES, (order_id,))}


def _item_values(row: RowValues) -> tuple[Any, ...]:
    outputs = row[8]
    if outputs is None:
        text = None
    else:
        text = json.dumps(outputs, separators=(",", ":")) if outputs else "{}"
    return (*row[:8], text, row[9], row[10], row[11])


def _item_row(order_id: str, row: Any) -> ItemRow:
    idx, item_id, state, attempt, failures, due, started, ended, outputs, reason, key, since = row
    what = f"order {order_id}: the outputs of item {item_id}"
    values = None if outputs is None else _json(outputs, what)
    if values is not None and not isinstance(values, dict):
        raise StoreError(f"the store is damaged: {what} is not a JSON object")
    return ItemRow(idx, item_id, state, attempt, failures, due, started, ended, values, reason, key,
                   since)  # fmt: skip
