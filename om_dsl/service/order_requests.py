"""What the service remembers of each create request: the digest of the order's content and
the client's ``Idempotency-Key``, kept next to the orders so that a retry is told apart from a
clash across restarts.

A CRM that lost the answer to its ``POST /productOrder`` sends the same order again.  With the
same id (the client's, or the ``po-`` one made from the content) that is a 409 either way, but
the client must know whether its order is there (``duplicateOrder``: the same content) or
another order has the id (``orderIdClash``).  The runtime's store keeps the order's plan, not
what the client sent, and an amendment replaces the plan, so the digest of the create request
(:func:`om_dsl.orders.tmf622.content_digest`) is kept here, in one small table of the
runtime's store (the same file and lock, through
:class:`~om_dsl.runtime.downstream.state.SideDb`), as :mod:`.cancel_records` keeps cancel
requests.  It is written right after the order is stored: a process that dies between the two
leaves an order without a digest, which a later POST with its id is told is a clash (the
service cannot say otherwise), as are orders submitted before this table existed or outside
the service.

An ``Idempotency-Key`` names the order it created, per API client (two clients' keys never
meet): the same key with the same content is answered with that order, the same key with other
content is a 409.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any

from om_dsl.orders.tmf622 import content_digest, is_tmf622
from om_dsl.runtime.downstream.state import SideDb
from om_dsl.runtime.store.base import Store

SCHEMA = """CREATE TABLE IF NOT EXISTS order_requests (
  order_id TEXT PRIMARY KEY, digest TEXT NOT NULL, client TEXT, idempotency_key TEXT,
  created_at REAL NOT NULL
)"""
KEY_INDEX = """CREATE UNIQUE INDEX IF NOT EXISTS order_requests_by_key
  ON order_requests (client, idempotency_key) WHERE idempotency_key IS NOT NULL"""


def request_digest(data: Any) -> str:
    """The digest of an order's content: a TMF622 order's as :func:`content_digest` says
    (server-owned fields and note dates left out), a native order's whole body but its id."""
    if isinstance(data, dict) and is_tmf622(data):
        return content_digest(data)
    kept = {k: v for k, v in data.items() if k != "id"} if isinstance(data, dict) else data
    canonical = json.dumps(kept, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class KeyUse:
    """The order an idempotency key created, and the digest of the request that did."""

    order_id: str
    digest: str


class OrderRequests:
    """The create requests' digests and idempotency keys; thread-safe, as durable as the store."""

    def __init__(self, store: Store) -> None:
        self._side = SideDb(store)
        if not getattr(store, "read_only", False):
            with self._side.write() as db:
                db.execute(SCHEMA)
                db.execute(KEY_INDEX)

    def add(self, order_id: str, digest: str, client: str, key: str | None) -> None:
        """Record a created order's request; a key that named an order no longer stored names
        this one now."""
        with self._side.write() as db:
            if key is not None:
                db.execute(
                    "DELETE FROM order_requests WHERE client = ? AND idempotency_key = ?",
                    (client, key),
                )
            db.execute(
                "INSERT OR REPLACE INTO order_requests (order_id, digest, client, "
                "idempotency_key, created_at) VALUES (?, ?, ?, ?, ?)",
                (order_id, digest, client, key, time.time()),
            )

    def digest(self, order_id: str) -> str | None:
        """The digest of the request that created the order; None when unknown."""
        rows = self._side.query("SELECT digest FROM order_requests WHERE order_id = ?", (order_id,))
        return str(rows[0][0]) if rows else None

    def by_key(self, client: str, key: str) -> KeyUse | None:
        rows = self._side.query(
            "SELECT order_id, digest FROM order_requests WHERE client = ? AND idempotency_key = ?",
            (client, key),
        )
        return KeyUse(str(rows[0][0]), str(rows[0][1])) if rows else None
