"""Item and order lifecycles: the states, named state sets, and the table of legal transitions.

Every state change in the runtime goes through :func:`check_item` or :func:`check_order`, so a
transition that the tables below do not list is a bug and raises :class:`IllegalTransition`
instead of silently corrupting an order.  docs/runtime.md renders the same tables.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from om_dsl.errors import IllegalTransition


class ItemState(StrEnum):
    PENDING = "pending"
    READY = "ready"
    RUNNING = "running"
    WAITING = "waiting"
    COMPLETED = "completed"
    FAILED = "failed"
    """Failed, and a retry is scheduled (the item row holds the due time)."""
    FATALLY_FAILED = "fatally_failed"
    """Retries exhausted or a permanent failure: an operator must retry, skip or complete."""
    SKIPPED = "skipped"
    DISCARDED = "discarded"
    """Never ran: the order was cancelled or completed before it was needed."""
    CANCELLED = "cancelled"
    """Started (or failed) but stopped by an order cancel."""
    ON_HOLD = "on_hold"


class OrderState(StrEnum):
    """TMF622 ProductOrder states."""

    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "inProgress"
    HELD = "held"
    PENDING = "pending"
    COMPLETED = "completed"
    FAILED = "failed"
    PARTIAL = "partial"
    CANCELLED = "cancelled"
    ASSESSING_CANCELLATION = "assessingCancellation"
    PENDING_CANCELLATION = "pendingCancellation"
    REJECTED = "rejected"


IS = ItemState
OS = OrderState


ITEM_STATE_WORDS = {
    ItemState.READY: "ready to run",
    ItemState.FATALLY_FAILED: "failed for good",
    ItemState.ON_HOLD: "on hold",
}
"""The item states whose names are no words, as messages to people say them."""


def item_state_words(state: str) -> str:
    """An item state in a message to people (``fatally_failed`` is a name, not a word)."""
    return ITEM_STATE_WORDS.get(ItemState(state), state)


def order_state_text(state: str, cancelling: bool) -> str:
    """An order's state for people: ``held (cancelling)`` for a cancel held on a failed
    compensation, which ``held`` alone hides (the other cancel states say it)."""
    return f"{state} (cancelling)" if cancelling and state == OrderState.HELD else state


def parse_order_states(text: str) -> frozenset[str]:
    """``completed,held`` -> those order states: the filter of ``GET /productOrder?state=``
    and ``om orders --state``, read one way.

    Raises:
        ValueError: a name that is no order state; the message lists the states.
    """
    return order_states(comma_list(text))


def comma_list(text: str) -> list[str]:
    """``completed, held,`` -> ``["completed", "held"]``: how a filter of several values is
    written (``?state=``, ``?status=``, ``--state``), read one way for all of them."""
    return [name.strip() for name in text.split(",") if name.strip()]


def order_states(states: Iterable[str]) -> frozenset[str]:
    """Order states given as any collection of their names (``["held", "pending"]``, a set,
    ``OrderState`` members): ``Runtime.orders(states=...)`` took only a frozenset, and a list
    or a single name was compared letter by letter.

    Raises:
        TypeError: a single text (``"held"``) where a collection is meant.
        ValueError: a name that is no order state; the message lists the states.
    """
    if isinstance(states, str):
        raise TypeError(f"states is a collection of order states, e.g. [{states!r}], not the "
                        f"text {states!r}")  # fmt: skip
    found = frozenset(states)
    unknown = sorted(map(str, found - set(OrderState)))
    if unknown:
        known = ", ".join(sorted(OrderState))
        raise ValueError(f"unknown state(s) {', '.join(unknown)}; use {known}")
    return found


# ---- named item state sets --------------------------------------------------------------------

ITEM_TERMINAL = frozenset({IS.COMPLETED, IS.SKIPPED, IS.DISCARDED, IS.CANCELLED})
"""No transition leaves these states."""
ITEM_SATISFIED = frozenset({IS.COMPLETED, IS.SKIPPED})
"""States that let the items depending on this one run."""
ITEM_ACTIVE = frozenset({IS.READY, IS.RUNNING, IS.FAILED})
"""The runtime will move these forward by itself (an order with any is inProgress)."""
ITEM_BLOCKED = frozenset({IS.WAITING, IS.ON_HOLD})
"""Only something outside (an event, a callback, a person, a system) moves these."""
ITEM_ATTENTION = frozenset({IS.FATALLY_FAILED})
"""Fallout: an operator must act (the order is held)."""
ITEM_OPERATOR_RETRY = frozenset({IS.FATALLY_FAILED, IS.FAILED})
ITEM_OPERATOR_RESOLVE = frozenset({IS.FATALLY_FAILED, IS.FAILED, IS.WAITING, IS.ON_HOLD})
"""States in which an operator may skip an item or complete it with outputs."""

ITEM_TRANSITIONS: dict[ItemState, frozenset[ItemState]] = {
    IS.PENDING: frozenset({IS.READY, IS.SKIPPED, IS.DISCARDED, IS.FATALLY_FAILED}),
    IS.READY: frozenset({IS.RUNNING, IS.DISCARDED}),
    IS.RUNNING: frozenset(
        {IS.COMPLETED, IS.WAITING, IS.FAILED, IS.FATALLY_FAILED, IS.ON_HOLD, IS.READY, IS.CANCELLED}
    ),
    IS.WAITING: frozenset({IS.COMPLETED, IS.FAILED, IS.FATALLY_FAILED, IS.SKIPPED, IS.CANCELLED}),
    IS.FAILED: frozenset({IS.READY, IS.COMPLETED, IS.SKIPPED, IS.CANCELLED}),
    IS.FATALLY_FAILED: frozenset({IS.READY, IS.COMPLETED, IS.SKIPPED, IS.CANCELLED}),
    IS.ON_HOLD: frozenset({IS.READY, IS.COMPLETED, IS.SKIPPED, IS.CANCELLED}),
    IS.COMPLETED: frozenset(),
    IS.SKIPPED: frozenset(),
    IS.DISCARDED: frozenset(),
    IS.CANCELLED: frozenset(),
}

# ---- named order state sets -------------------------------------------------------------------

ORDER_TERMINAL = frozenset({OS.COMPLETED, OS.FAILED, OS.PARTIAL, OS.CANCELLED, OS.REJECTED})
ORDER_CANCELLABLE = frozenset({OS.ACKNOWLEDGED, OS.IN_PROGRESS, OS.PENDING, OS.HELD})
"""States from which a cancel request is assessed (it may still be rejected after PONR)."""
ORDER_CANCELLING = frozenset({OS.ASSESSING_CANCELLATION, OS.PENDING_CANCELLATION})
ACTIVE_ORDER_STATES = frozenset(s.value for s in OrderState if s not in ORDER_TERMINAL)
"""The values of the states of an unfinished order (``held`` too: it may go on)."""

ORDER_TRANSITIONS: dict[OrderState, frozenset[OrderState]] = {
    OS.ACKNOWLEDGED: frozenset(
        {OS.IN_PROGRESS, OS.PENDING, OS.HELD, OS.COMPLETED, OS.ASSESSING_CANCELLATION, OS.REJECTED}
    ),
    OS.IN_PROGRESS: frozenset(
        {OS.PENDING, OS.HELD, OS.COMPLETED, OS.ASSESSING_CANCELLATION, OS.FAILED, OS.PARTIAL}
    ),
    OS.PENDING: frozenset({OS.IN_PROGRESS, OS.HELD, OS.COMPLETED, OS.ASSESSING_CANCELLATION}),
    OS.HELD: frozenset(
        {
            OS.IN_PROGRESS,
            OS.PENDING,
            OS.COMPLETED,
            OS.ASSESSING_CANCELLATION,
            OS.PENDING_CANCELLATION,
            OS.FAILED,
            OS.PARTIAL,
        }
    ),
    OS.ASSESSING_CANCELLATION: frozenset({OS.PENDING_CANCELLATION}),
    OS.PENDING_CANCELLATION: frozenset({OS.CANCELLED, OS.HELD}),
    OS.COMPLETED: frozenset(),
    OS.FAILED: frozenset(),
    OS.PARTIAL: frozenset(),
    OS.CANCELLED: frozenset(),
    OS.REJECTED: frozenset(),
}


def check_item(item_id: str, old: ItemState, new: ItemState) -> None:
    """Raise :class:`IllegalTransition` unless the item lifecycle allows ``old -> new``."""
    if new not in ITEM_TRANSITIONS[old]:
        raise IllegalTransition(f"item {item_id}: {old.value} -> {new.value} is not allowed")


def check_order(order_id: str, old: OrderState, new: OrderState) -> None:
    """Raise :class:`IllegalTransition` unless the order lifecycle allows ``old -> new``."""
    if new not in ORDER_TRANSITIONS[old]:
        raise IllegalTransition(f"order {order_id}: {old.value} -> {new.value} is not allowed")
