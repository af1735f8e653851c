"""Retention: what pruning finished orders removes, keeps, and reports (``om prune``).

A store keeps every order forever unless told otherwise: some 23 KB each in SQLite (its row,
plan, items, event log, notifications, callout tokens...), gigabytes a year at a few thousand
orders a day, and the operator views slow down with it.  :meth:`Store.prune` removes the
orders that finished (a final state: nothing moves them again) before a cutoff, with every
row that belongs only to them, and keeps what must outlive them:

- **the product inventory**: products are what the network holds, not history; a product's
  ``order_items`` keep naming the orders that touched it (ids, which may name pruned orders);
- **event ids**: the next event's ``seq`` never goes back, even when the newest events were
  pruned (a store remembers the last one it issued: :data:`LAST_EVENT_SEQ`), so an
  ``eventId`` (``om-<seq>``) or a cancel request's id is never issued twice;
- **notifications still owed**: an order with a notification pending or abandoned in the
  outbox, or with events the notifier has not read yet, stays unless
  :attr:`PrunePolicy.include_undelivered` (its listeners would never hear of it otherwise).

What goes with an order also goes for the service: its create request's digest and
``Idempotency-Key`` (a client that replays the same POST after the prune creates the order
again: keys are honoured for as long as their order is kept, so retention must outlast a
client's retries), its cancel requests, its hub listeners, its manual tasks and callback tokens.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from om_dsl.runtime.states import ORDER_TERMINAL

FINAL_STATES = frozenset(state.value for state in ORDER_TERMINAL)
"""The order states nothing leaves (``completed``, ``cancelled``, ``failed``, ``partial``,
``rejected``): only orders in one of them are pruned.  A ``held`` order, in fallout or not,
is unfinished: an operator may still move it."""

NOTIFY_CURSOR = "notify"
"""The event-log cursor of the notifier (:mod:`om_dsl.runtime.notify.notifier`): events after
it are not queued for any listener yet.  Named here, where the store reads it."""

LAST_EVENT_SEQ = "last_event_seq"
"""The ``meta`` row in which a pruned SQLite store remembers the highest event ``seq`` it ever
issued: the next event is numbered after it, even when the events at the top were pruned.
An older om_dsl ignores the row (and may reuse those numbers: prune with the version that
runs the store)."""

BATCH_ORDERS = 500
"""Orders per write transaction: one batch holds the store's write lock for a few tens of
milliseconds, so a service beside the prune waits no longer than for a busy step."""

PAUSE_S = 0.05
"""The pause after each batch: a writer waiting in SQLite's busy handler (which sleeps in
steps of up to 100 ms) gets the lock between two batches instead of starving behind them."""


@dataclass(frozen=True, slots=True)
class PrunePolicy:
    """Which finished orders to prune, and how.

    Attributes:
        finished_before: epoch seconds; an order goes when its final transition (its row's
            last change) is before it.
        include_undelivered: prune orders with notifications not yet delivered (pending or
            abandoned in the outbox, or events the notifier has not read) too.
        dry_run: change nothing; the report says what would go.
        batch_size: orders per write transaction (:data:`BATCH_ORDERS`).
        pause_s: the pause between two batches (:data:`PAUSE_S`).
    """

    finished_before: float
    include_undelivered: bool = False
    dry_run: bool = False
    batch_size: int = BATCH_ORDERS
    pause_s: float = PAUSE_S

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, not {self.batch_size}")
        if self.pause_s < 0:
            raise ValueError(f"pause_s must be 0 or more, not {self.pause_s}")


@dataclass(slots=True)
class PruneReport:
    """What a prune removed (or, in a dry run, would remove)."""

    dry_run: bool
    states: dict[str, int] = field(default_factory=dict)
    """Orders pruned, by final state."""
    oldest: float | None = None
    """The earliest final transition among them (epoch seconds); None when none went."""
    newest: float | None = None
    kept_undelivered: int = 0
    """Finished orders older than the cutoff kept for their notifications still owed (0 with
    ``include_undelivered``)."""
    bytes: int = 0
    """A dry run: about the bytes of their rows' data.  A prune: the bytes of the pages it
    freed in the file (reused by new orders; ``VACUUM`` hands them back to the file system).
    0 for a memory store."""
    batches: int = 0
    """Write transactions committed (0 in a dry run)."""

    @property
    def orders(self) -> int:
        """How many orders went (or would go)."""
        return sum(self.states.values())

    def add(self, state: str, finished_at: float) -> None:
        """Count one order, finished at ``finished_at``, as pruned."""
        self.states[state] = self.states.get(state, 0) + 1
        self.oldest = finished_at if self.oldest is None else min(self.oldest, finished_at)
        self.newest = finished_at if self.newest is None else max(self.newest, finished_at)


def report_json(
    report: PruneReport, cutoff: float, seconds: float, sizes: tuple[int, int] | None = None
) -> dict[str, object]:
    """A prune's report for scripts, one shape for ``om prune --format json`` and the
    service's ``POST /prune``: the CLI's spelling (snake case, epoch seconds).

    Args:
        report: what the prune did.
        cutoff: ``finished_before`` of its policy.
        seconds: how long it took.
        sizes: the store's bytes before and after ``--vacuum`` (None: no vacuum).
    """
    return {
        "dry_run": report.dry_run,
        "finished_before": cutoff,
        "orders": report.orders,
        "states": dict(sorted(report.states.items())),
        "oldest": report.oldest,
        "newest": report.newest,
        "kept_undelivered": report.kept_undelivered,
        "bytes": report.bytes,
        "transactions": report.batches,
        "seconds": round(seconds, 3),
        "vacuum": None if sizes is None else {"before": sizes[0], "after": sizes[1]},
    }
