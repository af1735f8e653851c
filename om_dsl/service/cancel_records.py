"""What a client said in a cancel request: its ``cancellationReason`` and
``requestedCancellationDate``, kept next to the orders.

The runtime records the cancel itself in the order's event log (the move to
``assessingCancellation``, or ``order.cancel_rejected`` after the point of no return), and a
request's id is that row's sequence number (:mod:`om_dsl.service.cancellation`).  The event log
has no room for the client's own fields, and a rejected cancel records only why it was
rejected, so the service keeps them in one small table, keyed by the same sequence number, in
the runtime's store (the same file and lock as the orders, through
:class:`~om_dsl.runtime.downstream.state.SideDb`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from om_dsl.runtime.downstream.state import SideDb
from om_dsl.runtime.store.base import Store

SCHEMA = """CREATE TABLE IF NOT EXISTS cancel_requests (
  seq INTEGER PRIMARY KEY, order_id TEXT NOT NULL, reason TEXT, requested_date TEXT,
  created_at REAL NOT NULL
)"""


@dataclass(frozen=True, slots=True)
class CancelRecord:
    reason: str | None
    requested_date: str | None


class CancelRecords:
    """The client's fields of every cancel request; thread-safe, as durable as the store."""

    def __init__(self, store: Store) -> None:
        self._side = SideDb(store)
        with self._side.write() as db:
            db.execute(SCHEMA)

    def add(self, seq: int, order_id: str, reason: str | None, requested: str | None) -> None:
        with self._side.write() as db:
            db.execute(
                "INSERT OR REPLACE INTO cancel_requests VALUES (?, ?, ?, ?, ?)",
                (seq, order_id, reason, requested, time.time()),
            )

    def get(self, seq: int) -> CancelRecord | None:
        rows = self._side.query(
            "SELECT reason, requested_date FROM cancel_requests WHERE seq = ?", (seq,)
        )
        return CancelRecord(*rows[0]) if rows else None
