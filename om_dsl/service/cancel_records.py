"""What a client said in a cancel request: its ``cancellationReason``,
``requestedCancellationDate`` and the TMF type attributes it sent (``@type``, ``@baseType``,
``@schemaLocation``: a CPQ's own subclass of ``CancelProductOrder``), kept next to the orders.

The runtime records the cancel itself in the order's event log (the move to
``assessingCancellation``, or ``order.cancel_rejected`` after the point of no return), and a
request's id is that row's sequence number (:mod:`om_dsl.service.cancellation`).  The event log
has no room for the client's own fields, and a rejected cancel records only why it was
rejected, so the service keeps them in one small table, keyed by the same sequence number, in
the runtime's store (the same file and lock as the orders, through
:class:`~om_dsl.runtime.downstream.state.SideDb`).  A table made before the type attributes
were kept gets their column when the service opens the store.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from om_dsl.runtime.downstream.state import SideDb, add_missing_columns
from om_dsl.runtime.store.base import Store

SCHEMA = """CREATE TABLE IF NOT EXISTS cancel_requests (
  seq INTEGER PRIMARY KEY, order_id TEXT NOT NULL, reason TEXT, requested_date TEXT,
  created_at REAL NOT NULL, types_json TEXT
)"""
ADDED_COLUMNS = (("cancel_requests", "types_json", "TEXT"),)
"""Columns added since the table was first made: an older store gets them when opened."""


@dataclass(frozen=True, slots=True)
class CancelRecord:
    reason: str | None
    requested_date: str | None
    types: dict[str, str] = field(default_factory=dict)
    """The client's ``@type``, ``@baseType`` and ``@schemaLocation``, those it sent."""


class CancelRecords:
    """The client's fields of every cancel request; thread-safe, as durable as the store."""

    def __init__(self, store: Store) -> None:
        self._side = SideDb(store)
        with self._side.write() as db:
            db.execute(SCHEMA)
            add_missing_columns(db, ADDED_COLUMNS)

    def add(self, seq: int, order_id: str, record: CancelRecord) -> None:
        types = json.dumps(record.types) if record.types else None
        with self._side.write() as db:
            db.execute(
                "INSERT OR REPLACE INTO cancel_requests (seq, order_id, reason, requested_date, "
                "created_at, types_json) VALUES (?, ?, ?, ?, ?, ?)",
                (seq, order_id, record.reason, record.requested_date, time.time(), types),
            )

    def get(self, seq: int) -> CancelRecord | None:
        rows = self._side.query(
            "SELECT reason, requested_date, types_json FROM cancel_requests WHERE seq = ?", (seq,)
        )
        if not rows:
            return None
        reason, requested, types = rows[0]
        return CancelRecord(reason, requested, json.loads(types) if types else {})
