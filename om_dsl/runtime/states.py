"""Item and order lifecycles: the states, named state sets, and the table of legal transitions.

Every state change in the runtime goes through :func:`check_item` or :func:`check_order`, so a
transition that the tables below do not list is a bug and raises :class:`IllegalTransition`
instead of silently corrupting an order.  docs/runtime.md renders the same tables.
"""

from __future__ import annotations

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


I = ItemState
O = OrderState

# ---- named item state sets --------------------------------------------------------------------

ITEM_TERMINAL = frozenset({I.COMPLETED, I.SKIPPED, I.DISCARDED, I.CANCELLED})
"""No transition leaves these states."""
ITEM_SATISFIED = frozenset({I.COMPLETED, I.SKIPPED})
"""States that let the items depending on this one run."""
ITEM_ACTIVE = frozenset({I.READY, I.RUNNING, I.FAILED})
"""The runtime will move these forward by itself (an order with any is inProgress)."""
ITEM_BLOCKED = frozenset({I.WAITING, I.ON_HOLD})
"""Only something outside (an event, a callback, a person, a system) moves these."""
ITEM_ATTENTION = frozenset({I.FATALLY_FAILED})
"""Fallout: an operator must act (the order is held)."""
ITEM_OPERATOR_RETRY = frozenset({I.FATALLY_FAILED, I.FAILED})
ITEM_OPERATOR_RESOLVE = frozenset({I.FATALLY_FAILED, I.FAILED, I.WAITING, I.ON_HOLD})
"""States in which an operator may skip an item or complete it with outputs."""

ITEM_TRANSITIONS: dict[ItemState, frozenset[ItemState]] = {
    I.PENDING: frozenset({I.READY, I.SKIPPED, I.DISCARDED, I.FATALLY_FAILED}),
    I.READY: frozenset({I.RUNNING, I.DISCARDED}),
    I.RUNNING: frozenset(
        {I.COMPLETED, I.WAITING, I.FAILED, I.FATALLY_FAILED, I.ON_HOLD, I.READY, I.CANCELLED}
    ),
    I.WAITING: frozenset({I.COMPLETED, I.FAILED, I.FATALLY_FAILED, I.SKIPPED, I.CANCELLED}),
    I.FAILED: frozenset({I.READY, I.COMPLETED, I.SKIPPED, I.CANCELLED}),
    I.FATALLY_FAILED: frozenset({I.READY, I.COMPLETED, I.SKIPPED, I.CANCELLED}),
    I.ON_HOLD: frozenset({I.READY, I.COMPLETED, I.SKIPPED, I.CANCELLED}),
    I.COMPLETED: frozenset(),
    I.SKIPPED: frozenset(),
    I.DISCARDED: frozenset(),
    I.CANCELLED: frozenset(),
}

# ---- named order state sets -------------------------------------------------------------------

ORDER_TERMINAL = frozenset({O.COMPLETED, O.FAILED, O.PARTIAL, O.CANCELLED, O.REJECTED})
ORDER_CANCELLABLE = frozenset({O.ACKNOWLEDGED, O.IN_PROGRESS, O.PENDING, O.HELD})
"""States from which a cancel request is assessed (it may still be rejected after PONR)."""
ORDER_CANCELLING = frozenset({O.ASSESSING_CANCELLATION, O.PENDING_CANCELLATION})

ORDER_TRANSITIONS: dict[OrderState, frozenset[OrderState]] = {
    O.ACKNOWLEDGED: frozenset(
        {O.IN_PROGRESS, O.PENDING, O.HELD, O.COMPLETED, O.ASSESSING_CANCELLATION, O.REJECTED}
    ),
    O.IN_PROGRESS: frozenset(
        {O.PENDING, O.HELD, O.COMPLETED, O.ASSESSING_CANCELLATION, O.FAILED, O.PARTIAL}
    ),
    O.PENDING: frozenset({O.IN_PROGRESS, O.HELD, O.COMPLETED, O.ASSESSING_CANCELLATION}),
    O.HELD: frozenset(
        {
            O.IN_PROGRESS,
            O.PENDING,
            O.COMPLETED,
            O.ASSESSING_CANCELLATION,
            O.PENDING_CANCELLATION,
            O.FAILED,
            O.PARTIAL,
        }
    ),
    O.ASSESSING_CANCELLATION: frozenset({O.PENDING_CANCELLATION}),
    O.PENDING_CANCELLATION: frozenset({O.CANCELLED, O.HELD}),
    O.COMPLETED: frozenset(),
    O.FAILED: frozenset(),
    O.PARTIAL: frozenset(),
    O.CANCELLED: frozenset(),
    O.REJECTED: frozenset(),
}


def check_item(item_id: str, old: ItemState, new: ItemState) -> None:
    """Raise :class:`IllegalTransition` unless the item lifecycle allows ``old -> new``."""
    if new not in ITEM_TRANSITIONS[old]:
        raise IllegalTransition(f"item {item_id}: {old.value} -> {new.value} is not allowed")


def check_order(order_id: str, old: OrderState, new: OrderState) -> None:
    """Raise :class:`IllegalTransition` unless the order lifecycle allows ``old -> new``."""
    if new not in ORDER_TRANSITIONS[old]:
        raise IllegalTransition(f"order {order_id}: {old.value} -> {new.value} is not allowed")
