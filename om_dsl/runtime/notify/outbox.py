"""The persisted outbox of notifications: one row per (event, listener URL).

Rows are added from the event log (``INSERT OR IGNORE`` on the event's sequence and the URL,
so reading the same events twice after a crash adds nothing) and stay ``pending`` until a
delivery gets a 2xx answer (``delivered``) or the attempts run out (``abandoned``).  The events
of one order go to one URL in order: only the oldest pending row of each (URL, order) pair is
due, so a listener never sees ``completed`` before ``inProgress``.  A TMF637 product event is
queued under the order that changed the product, and under the product too (``product_id``):
it is due when it is the oldest pending row of its (URL, order) and of its (URL, product), so
the events of one product reach one URL in order even when two orders changed it, and a
listener that keeps the latest state of a product never ends with a stale one.  A row that
is delivered or abandoned is no longer pending, so the next row of each of its queues is
free to go, as ever.  Rows an older om_dsl queued have no ``product_id``: their order's
queue alone, as then.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

from om_dsl.runtime.downstream.state import SideDb


class OutboxRow(NamedTuple):
    id: int
    event_seq: int
    url: str
    order_id: str
    event_type: str
    state_to: str | None
    event_json: str
    attempts: int
    next_at: float


class NewRow(NamedTuple):
    event_seq: int
    """The event-log row the event comes from, negative for a cancel request's event
    (:mod:`.cancels`): one row may make an order event and a cancel event, and (event_seq,
    url) is what keeps a re-read of the log from queueing an event twice."""
    url: str
    order_id: str
    event_type: str
    state_to: str | None
    event_json: str
    product_id: str | None = None
    """The product a TMF637 event is about (None: an order's event): the events of one
    product go to one URL in order, whichever order changed it."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """How one notification went (``runtime.notifications.deliveries()``)."""

    order_id: str
    url: str
    event_type: str
    state: str | None
    """The order state the event reports (a cancel request's event: the request's)."""
    status: str
    """``pending``, ``delivered`` or ``abandoned``."""
    attempts: int
    last_error: str | None
    delivered_at: float | None


_ROW = "id, event_seq, url, order_id, event_type, state_to, event_json, attempts, next_at"
_HEADS = (
    "(SELECT MIN(id) AS id FROM outbox WHERE state = 'pending' GROUP BY url, order_id) AS h "
    "JOIN outbox AS o ON o.id = h.id"
)
"""The head of each (URL, order) queue: its oldest pending row, the only one that may be sent.

:meth:`Outbox.due` and :meth:`Outbox.next_due` both read it, and only the heads that are also
:data:`_FIRST_OF_PRODUCT`, so what the notifier waits for is always what it may send.  The
grouping reads only the ``outbox_pending`` index (state, url, order_id, id) and the table only
for the heads, however many rows queue behind them."""
_FIRST_OF_PRODUCT = (
    "(o.product_id IS NULL OR o.id = (SELECT MIN(p.id) FROM outbox AS p WHERE "
    "p.state = 'pending' AND p.url = o.url AND p.product_id = o.product_id))"
)
"""A head that is no product's event, or the oldest pending row of its (URL, product): a
product's event waits for the earlier events of its product to that URL, queued by other
orders.  It cannot wait forever: whatever the queues, the oldest pending row of a URL is the
head of each of its own, so it is due; and an abandoned row no longer holds anything back.
It reads the ``outbox_by_product`` index (the pending product rows only)."""
_HEAD_ROW = ", ".join(f"o.{column}" for column in _ROW.split(", "))


STATES = ("pending", "delivered", "abandoned")
"""What becomes of a notification: waiting for its (next) attempt, delivered, given up."""


@dataclass(frozen=True, slots=True)
class Notification:
    """One row of the outbox as operators list it (``om notifications list``)."""

    event_id: str
    """The TMF event's ``eventId`` (``om-42``, ``om-42-cancel``): kept by a replay, so a
    listener that dedupes by it drops what it had."""
    order_id: str
    url: str
    event_type: str
    order_state: str | None
    state: str
    attempts: int
    last_error: str | None
    next_at: float | None
    """When the next attempt is due (a pending row only)."""
    delivered_at: float | None


@dataclass(frozen=True, slots=True)
class Wanted:
    """Which rows: each field given must match.  ``urls`` None is every listener; an empty
    collection is none (a listener named that no row has)."""

    state: str | None = None
    order_id: str | None = None
    urls: Collection[str] | None = None

    def where(self) -> tuple[str, tuple[Any, ...]]:
        terms, params = ["1"], []
        for column, value in (("state", self.state), ("order_id", self.order_id)):
            if value is not None:
                terms.append(f"{column} = ?")
                params.append(value)
        if self.urls is not None:
            terms.append(f"url IN ({', '.join('?' * len(self.urls)) or 'NULL'})")
            params.extend(sorted(self.urls))
        return " AND ".join(terms), tuple(params)


def event_id(event_seq: int) -> str:
    """The ``eventId`` of a row's event (:meth:`OrderViews.events`): an order event's is its
    log row's, a cancel request's (a negative ``event_seq``) has ``-cancel``."""
    return f"om-{-event_seq}-cancel" if event_seq < 0 else f"om-{event_seq}"


class Outbox:
    def __init__(self, side: SideDb) -> None:
        self._side = side

    def add(self, rows: Iterable[NewRow], now: float) -> None:
        with self._side.write() as db:
            db.executemany(
                "INSERT OR IGNORE INTO outbox (event_seq, url, order_id, event_type, state_to, "
                "event_json, product_id, attempts, next_at, state) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, 'pending')",
                [(*row, now) for row in rows],
            )

    def due(self, now: float, limit: int) -> list[OutboxRow]:
        """The oldest pending row of each (URL, order), when it is due, soonest first; a
        product's event only when it is the oldest pending one of its (URL, product) too."""
        rows = self._side.query(
            f"SELECT {_HEAD_ROW} FROM {_HEADS} "
            f"WHERE o.next_at <= ? AND {_FIRST_OF_PRODUCT} ORDER BY o.next_at, o.id LIMIT ?",
            (now, limit),
        )
        return [OutboxRow(*row) for row in rows]

    def next_due(self, busy: Collection[tuple[str, str]] = ()) -> float | None:
        """When the next row that :meth:`due` can return is due (None: no queue outside ``busy``).

        Only the head of each (URL, order) queue counts (a product's event: when it is the
        first of its product's queue too, as in :meth:`due`), and not the queues in ``busy`` (the
        notifier's deliveries in flight, whose rows stay pending until they are recorded):
        the rows behind a head, and a head being sent, are due long before they can be sent,
        and counting them had the notifier poll in a loop without sleeping, at 100% CPU,
        while a listener that cannot be reached was retried (about 18 minutes per order)."""
        rows = self._side.query(
            f"SELECT o.url, o.order_id, o.next_at FROM {_HEADS} WHERE {_FIRST_OF_PRODUCT} "
            "ORDER BY o.next_at, o.id LIMIT ?",
            (len(busy) + 1,),
        )
        return next((float(at) for url, order, at in rows if (url, order) not in busy), None)

    def delivered(self, row_id: int, attempts: int, now: float) -> None:
        self._update(row_id, "delivered", attempts, now, None, now)

    def retry(self, row_id: int, attempts: int, next_at: float, error: str) -> None:
        self._update(row_id, "pending", attempts, next_at, error, None)

    def abandon(self, row_id: int, attempts: int, now: float, error: str) -> None:
        self._update(row_id, "abandoned", attempts, now, error, None)

    def _update(
        self,
        row_id: int,
        state: str,
        attempts: int,
        next_at: float,
        error: str | None,
        delivered_at: float | None,
    ) -> None:
        with self._side.write() as db:
            db.execute(
                "UPDATE outbox SET state = ?, attempts = ?, next_at = ?, last_error = ?, "
                "delivered_at = ? WHERE id = ?",
                (state, attempts, next_at, error, delivered_at, row_id),
            )

    def counts(self) -> dict[str, int]:
        """How many rows are in each state (``pending``, ``delivered``, ``abandoned``), read
        from the ``outbox_pending`` index, whose first column is the state."""
        rows = self._side.query("SELECT state, COUNT(*) FROM outbox GROUP BY state")
        return {str(state): int(count) for state, count in rows}

    def urls(self) -> list[str]:
        """Every listener URL the outbox has rows for."""
        return [str(url) for (url,) in self._side.query("SELECT DISTINCT url FROM outbox")]

    def listed(
        self, wanted: Wanted, offset: int = 0, limit: int | None = None
    ) -> tuple[list[Notification], int]:
        """One page of the rows ``wanted``, oldest first, and how many match in all."""
        where, params = wanted.where()
        total = self._side.query(f"SELECT COUNT(*) FROM outbox WHERE {where}", params)[0][0]
        rows = self._side.query(
            "SELECT event_seq, order_id, url, event_type, state_to, state, attempts, "
            f"last_error, next_at, delivered_at FROM outbox WHERE {where} ORDER BY id "
            f"LIMIT {-1 if limit is None else int(limit)} OFFSET {int(offset)}",
            params,
        )
        return [_notification(*row) for row in rows], int(total)

    def replay(self, wanted: Wanted, now: float) -> dict[str, int]:
        """Abandoned rows ``wanted`` (its ``state`` aside) become pending again, with fresh
        attempts and due now, in one transaction; returns how many per order.  The row, its
        event's JSON and so its ``eventId`` stay: a listener that had it can drop it."""
        where, params = replace(wanted, state="abandoned").where()
        with self._side.write() as db:
            counts = db.execute(
                f"SELECT order_id, COUNT(*) FROM outbox WHERE {where} GROUP BY order_id "
                "ORDER BY MIN(id)",
                params,
            ).fetchall()
            db.execute(
                f"UPDATE outbox SET state = 'pending', attempts = 0, next_at = ? WHERE {where}",
                (now, *params),
            )
        return {str(order_id): int(count) for order_id, count in counts}

    def pending(self) -> int:
        return int(self._side.query("SELECT COUNT(*) FROM outbox WHERE state = 'pending'")[0][0])

    def deliveries(self, order_id: str | None = None) -> list[Delivery]:
        where, params = ("WHERE order_id = ?", (order_id,)) if order_id else ("", ())
        rows = self._side.query(
            "SELECT order_id, url, event_type, state_to, state, attempts, last_error, "
            f"delivered_at FROM outbox {where} ORDER BY id",
            params,
        )
        return [Delivery(*row) for row in rows]


def _notification(
    seq: int, order_id: str, url: str, kind: str, order_state: str | None, state: str,
    attempts: int, error: str | None, next_at: float, delivered_at: float | None,
) -> Notification:  # fmt: skip
    due = next_at if state == "pending" else None  # the others' next_at means nothing
    return Notification(event_id(seq), order_id, url, kind, order_state, state, attempts,
                        error, due, delivered_at)  # fmt: skip
