"""Lifecycle events for in-process listeners: the same rows as the event log, after commit.

A listener hears of a change only once it is committed, in commit order, on the thread that
committed it (keep listeners quick: hand slow work to a queue).  A listener may act on the
runtime itself; what its action changes is heard after the event it is handling.  The event
log itself is the durable stream: a consumer that must not miss anything across restarts
(webhooks) reads ``store.events(after_seq=cursor)`` and keeps its cursor with
``store.set_cursor``.
"""

from __future__ import annotations

import logging
import threading
import unicodedata
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from om_dsl.errors import OmError
from om_dsl.runtime.states import OrderState
from om_dsl.runtime.store.base import EventRow, Store

log = logging.getLogger("om_dsl.runtime")

ORDER_CREATED = "order.created"
ORDER_STATE = "order.state"
ITEM_STATE = "item.state"
ORDER_PONR = "order.ponr"
CANCEL_REJECTED = "order.cancel_rejected"
ORDER_SIGNAL = "order.signal"
ORDER_AMENDED = "order.amended"
CANCEL_ACCEPTED_STATE = OrderState.ASSESSING_CANCELLATION.value
"""The order state an accepted cancel moves the order to."""
NO_CANCEL_REASON = "cancel requested"
"""What an accepted cancel's row says when the canceller gave no reason."""
UNGIVEN_CANCEL_REASONS = frozenset({NO_CANCEL_REASON, "cancel requested through the API"})
"""Details of an accepted cancel that are no one's reason: the runtime's default, and the one
the service recorded for a request without ``cancellationReason`` before it passed none."""


def given_cancel_reason(row: EventRow) -> str | None:
    """The reason the canceller gave, from an accepted cancel's row; None when it gave none.

    A row that names who cancelled (``by``, or a structured ``reason``) says it in words
    (``cancel requested by bob (operator): ...``): its ``reason`` is the reason then.  An older
    row had the reason alone as its detail."""
    if row.by is not None or row.reason is not None:
        return row.reason
    return None if row.detail in UNGIVEN_CANCEL_REASONS else row.detail


OPERATOR = "operator"
"""How an event's words mark an action taken by a person (or an API client), not by the
runtime: ``skipped by bob (operator)``."""


MAX_REASON_CHARS = 1000
"""The longest reason an operator action keeps (a reason is a line of the event log)."""
MAX_NAME_CHARS = 200
"""The longest name of who acts (``by``, a task's ``user``: part of a line of the event log)."""


class InvalidAct(OmError, ValueError):
    """A name or a reason an operator action cannot keep (a usage error, HTTP 400)."""


def reason_problem(reason: str | None) -> str | None:
    """What is wrong with ``reason`` as a line of the event log, or None.  A newline in one
    made `om events` print a row of the attacker's choosing ("... completed by admin"); a
    right-to-left override showed other words than grep saw."""
    if reason is None or (len(reason) <= MAX_REASON_CHARS and reason.isprintable()):
        return None
    return (
        f"a reason is one line of at most {MAX_REASON_CHARS} printable characters "
        "(no newline, tab or control character)"
    )


def name_problem(name: object, what: str = "a name") -> str | None:
    """What is wrong with ``name`` as who acts (``by``, a task's user), or None.

    The one check of every name an action records (the runtime's, the service's and `om`'s):
    a task claim took any name above U+001F, so a right-to-left override (U+202E) stored a
    claim by a name that displays as "alice", and the event row meant to record it was refused
    only after the claim was written.  The message names the problem (blank, too long, or the
    first character that is not printable, by its code point: it may not show)."""
    if name is None:
        return None
    if not isinstance(name, str) or not name.strip():
        return f"{what} is needed: 1 to {MAX_NAME_CHARS} printable characters, not blank"
    if len(name) > MAX_NAME_CHARS:
        return f"{what} has at most {MAX_NAME_CHARS} characters (this one has {len(name)})"
    bad = next((ch for ch in name if not ch.isprintable()), None)
    if bad is not None:
        return f"{what} is one line of printable characters, without {character_words(bad)}"
    return None


_KINDS = {
    "Cc": "a control character",
    "Cf": "a format character, such as a direction override",
    "Zl": "a line separator",
    "Zp": "a paragraph separator",
    "Zs": "a space other than ' '",
}
"""What a character that is not printable is, by Unicode category (a message names it: the
character itself may not show, or may turn the message around)."""


def character_words(ch: str) -> str:
    """``U+202E (a format character, such as a direction override)``: a character that does
    not print, named so that a message shows what it is."""
    kind = _KINDS.get(unicodedata.category(ch), "an unassigned or private character")
    return f"U+{ord(ch):04X} ({kind})"


@dataclass(frozen=True, slots=True)
class Act:
    """Who took an operator action, and why: kept in its event-log rows as fields (``by``,
    ``reason``: ``om events --format json``, the service's event views) and in their words,
    so that the text still says a person did it.  Neither is required: a host calling the
    runtime without them gets the words it always had (``retried by an operator``)."""

    by: str | None = None
    """The person or API client (the service's principal; ``om``'s ``--user``): a name,
    never a credential."""
    reason: str | None = None

    def __post_init__(self) -> None:
        problem = reason_problem(self.reason)
        if problem is not None:
            raise InvalidAct(problem)
        problem = name_problem(self.by)
        if problem is not None:
            raise InvalidAct(problem)

    def words(self, done: str) -> str:
        """``skipped by bob (operator): it never happened``; ``retried by an operator``."""
        who = f"by {self.by} ({OPERATOR})" if self.by else f"by an {OPERATOR}"
        return f"{done} {who}: {self.reason}" if self.reason else f"{done} {who}"

    def __bool__(self) -> bool:
        return self.by is not None or self.reason is not None


NOBODY = Act()
"""No one named, no reason given (the runtime's own moves, or a host that gave neither)."""


def is_cancel_request(kind: str, to_state: str | None) -> bool:
    """Whether an event-log row records a cancel request the runtime decided: accepted (the
    order's move to ``assessingCancellation``) or rejected after the point of no return.  The
    row's ``seq`` is the request's identity (TMF622 ``CancelProductOrder`` ``cpo-<seq>``), so
    the log is the one list of requests, whoever made them (service, CLI or library)."""
    return kind == CANCEL_REJECTED or (kind == ORDER_STATE and to_state == CANCEL_ACCEPTED_STATE)


@dataclass(frozen=True, slots=True)
class Cancellation:
    """How an order was cancelled, as its event log says: whoever cancelled it (the service,
    ``om cancel``, a host's ``runtime.cancel``)."""

    at: float | None
    """When the order became ``cancelled`` (None: it is not, or not yet)."""
    reason: str | None
    """The reason given with the accepted cancel (None: none was given)."""


def cancellation(store: Store, order_id: str) -> Cancellation:
    """The order's :class:`Cancellation`, read from its event log (a cancel is rare, and its
    rows are the order's own: read only for an order being or having been cancelled)."""
    at = reason = None
    for row in store.events(order_id=order_id):
        if row.kind == ORDER_STATE and row.to_state == CANCEL_ACCEPTED_STATE:
            reason = given_cancel_reason(row)
        elif row.kind == ORDER_STATE and row.to_state == OrderState.CANCELLED.value:
            at = row.ts
    return Cancellation(at, reason)


@dataclass(frozen=True, slots=True)
class LifecycleEvent:
    """One committed change.  ``kind`` is one of the ``ORDER_*``/``ITEM_*`` constants."""

    seq: int
    ts: float
    kind: str
    order_id: str
    item_id: str | None = None
    from_state: str | None = None
    to_state: str | None = None
    attempt: int | None = None
    detail: str | None = None
    by: str | None = None
    """Who took the operator action this row records (see :class:`Act`)."""
    reason: str | None = None
    """The reason they gave."""

    @property
    def completed(self) -> bool:
        """The order reached ``completed`` (TMF622's completion notification)."""
        return self.kind == ORDER_STATE and self.to_state == "completed"

    @classmethod
    def from_row(cls, row: EventRow) -> LifecycleEvent:
        return cls(
            row.seq,
            row.ts,
            row.kind,
            row.order_id,
            row.item_id,
            row.from_state,
            row.to_state,
            row.attempt,
            row.detail,
            row.by,
            row.reason,
        )


Listener = Callable[[LifecycleEvent], None]


class Listeners:
    """Registered listeners and the ordered hand-off of committed events to them."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._pending: deque[LifecycleEvent] = deque()
        self._lock = threading.Lock()
        self._deliverer: int | None = None
        """The thread delivering now, if any."""

    def add(self, listener: Listener) -> Callable[[], None]:
        """Register; the returned function unregisters (a second call does nothing)."""
        self._listeners.append(listener)
        return lambda: discard(self._listeners, listener)

    def __bool__(self) -> bool:
        return bool(self._listeners)

    def queue(self, events: Iterable[LifecycleEvent]) -> None:
        """Called under the engine lock right after a commit: fixes the delivery order."""
        self._pending.extend(events)

    def deliver(self) -> None:
        """Called after the engine lock is released; one deliverer at a time keeps order.

        A listener may act on the runtime (signal, complete, submit): its events are queued
        behind the current one and delivered by the loop already running on this thread.
        Waiting for the lock here instead deadlocked that thread for good.
        """
        if self._deliverer == threading.get_ident():
            return
        with self._lock:
            self._deliverer = threading.get_ident()
            try:
                while self._pending:
                    event = self._pending.popleft()
                    for listener in list(self._listeners):
                        _call(listener, event)
            finally:
                self._deliverer = None


def _call(listener: Listener, event: LifecycleEvent) -> None:
    try:
        listener(event)
    except Exception:  # a listener's bug must never stop the runtime
        log.exception("lifecycle listener %r failed on %s", listener, event.kind)


def discard(listeners: list[Any], listener: Any) -> None:
    """Unregister once: an unsubscribe function called twice raised ValueError."""
    if listener in listeners:
        listeners.remove(listener)
