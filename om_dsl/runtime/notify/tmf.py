"""TMF622 v4 events about orders: ``ProductOrderCreateEvent``,
``ProductOrderStateChangeEvent`` (the completion event is the state change to ``completed``)
and ``ProductOrderAttributeValueChangeEvent`` for an amendment (its ``fieldPath`` names the
attributes the revision changed: :func:`field_path`).

The shape follows the TMF622 swagger: ``eventId``, ``eventTime``, ``eventType``, ``title``,
``event: {productOrder: {...}}``.  The product order carries its id, state, dates and one
``productOrderItem`` per order item with the state its plan items imply, nested items inside
their bundle as the client sent them.  ``eventId`` is derived from the event-log sequence (and,
after a restore, the store's event id epoch: :func:`~.tmf_text.event_id`), so a redelivered
event has the same id and a listener can drop duplicates (delivery is at least once).  The
``href`` percent-encodes the id as one path segment (:func:`href`), so any stored id can be
read back at its href.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from om_dsl.runtime.events import (
    ITEM_STATE,
    ORDER_AMENDED,
    ORDER_CREATED,
    ORDER_STATE,
    cancellation,
)
from om_dsl.runtime.notify import cancels
from om_dsl.runtime.notify.tmf_text import event_id, href, iso, typed
from om_dsl.runtime.plan import OrderPlan
from om_dsl.runtime.revision import ATTRIBUTES_CHANGED
from om_dsl.runtime.states import OrderState
from om_dsl.runtime.store.base import EventRow, Store

CREATE_EVENT = "ProductOrderCreateEvent"
STATE_CHANGE_EVENT = "ProductOrderStateChangeEvent"
ATTRIBUTE_CHANGE_EVENT = "ProductOrderAttributeValueChangeEvent"
EVENT_TYPES = {
    ORDER_CREATED: CREATE_EVENT,
    ORDER_STATE: STATE_CHANGE_EVENT,
    ORDER_AMENDED: ATTRIBUTE_CHANGE_EVENT,
}
PLAN_CACHE = 256
ORDER_TYPE = "ProductOrder"
ITEM_TYPE = "ProductOrderItem"
NESTED = "productOrderItem"
CANCELLED = OrderState.CANCELLED.value


def field_path(detail: str | None) -> str:
    """An amendment event's ``fieldPath``: the attributes its revision changed, as its log row
    names them last (``...; attributes changed: description, externalId``), comma-separated;
    ``productOrderItem`` for a row written before revisions named them."""
    text = detail or ""
    at = text.rfind(ATTRIBUTES_CHANGED)
    if at < 0:
        return NESTED
    names = text[at + len(ATTRIBUTES_CHANGED) :].split(";", 1)[0]  # then: "; amended by X"
    return ",".join(n.strip() for n in names.split(","))


@dataclass(frozen=True, slots=True)
class OrderShape:
    """What a product order view needs from an order's plan (cached: only an amendment changes
    a plan, and its event drops the entry)."""

    fields: dict[str, Any]
    items: tuple[tuple[str, str, tuple[int, ...]], ...]
    """(order item id, action, indexes of its plan items)."""
    plan_items: tuple[tuple[str, str], ...] = ()
    """(id, initial state) of each plan item, by index: where an event's states start."""
    history: dict[str, tuple[int, ...]] = field(default_factory=dict)
    """Order item id -> indexes of the plan items of its superseded lines (an amendment's
    history, compensations included): work that ran for it, or still undoes."""
    client: dict[str, Any] = field(default_factory=dict)
    """The TMF622 order's fields as its client sent them (shown back, under ours)."""
    client_items: dict[str, dict[str, Any]] = field(default_factory=dict)


class OrderViews:
    """TMF622 ``ProductOrder`` views and events, read from the store."""

    def __init__(self, store: Store, href_base: str | None = None) -> None:
        self._store = store
        self._href_base: str | None = None
        self.href_base = href_base
        self.cancel_base: str | None = None
        """The base of a cancel request's ``href`` (``<base>/cpo-12``): the service's
        ``/cancelProductOrder``; no ``href`` when None."""
        self.cancel_fields: cancels.ClientFields | None = None
        """What the clients of cancel requests asked with (the service keeps it); the reason
        the event log has when None."""
        self._shapes: OrderedDict[str, OrderShape] = OrderedDict()
        self._epoch = 0
        """Counts amendments seen: a shape read across one is not cached (it may be stale)."""
        self._lock = threading.Lock()

    @property
    def href_base(self) -> str | None:
        """The base of each order's ``href`` (``<base>/<id>``); no ``href`` when None.  The
        service sets its own URL here (``<public url>/productOrder``), so that what it
        answers and what the notifier sends, both made here, carry the same href."""
        return self._href_base

    @href_base.setter
    def href_base(self, value: str | None) -> None:
        self._href_base = value.rstrip("/") if value else None

    def events(self, row: EventRow) -> list[dict[str, Any]]:
        """Every TMF event an event-log row makes: the order's (:meth:`event`), then the
        cancel request's (:meth:`cancel_event`); a cancel makes both."""
        return [e for e in (self.event(row), self.cancel_event(row)) if e is not None]

    def cancel_event(self, row: EventRow) -> dict[str, Any] | None:
        """The ``CancelProductOrder`` event a row makes (see :mod:`.cancels`), or None."""
        found = cancels.request_of(self._store, row)
        if found is None:
            return None
        request, event_type = found
        view = self.cancel_request(request, cancels.progress_at(row))
        return cancels.event_of(row, event_type, view, self._store.event_id_epoch)

    def cancel_request(self, request: EventRow, progress: dict[str, Any]) -> dict[str, Any]:
        """The ``CancelProductOrder`` of a request row, at ``progress``: the one view of the
        service's answers and of the events."""
        return cancels.request_view(
            request, progress, own_base=self.cancel_base, order_base=self._href_base,
            client=self.cancel_fields, epoch=cancels.epoch_of(self._store, request.seq),
        )  # fmt: skip

    def event(self, row: EventRow) -> dict[str, Any] | None:
        """The TMF event for an event-log row, or None when the row is no order event."""
        if row.kind == ORDER_AMENDED:
            self.forget(row.order_id)
        event_type = EVENT_TYPES.get(row.kind)
        if event_type is None:
            return None
        last_state, item_states = self._states_at(row)
        state = row.to_state or last_state
        order = self.product_order(row.order_id, state, row.ts, item_states)
        if order is None:
            return None
        event: dict[str, Any] = {
            "eventId": event_id(row.seq, self._store.event_id_epoch),
            "eventTime": iso(row.ts),
            "eventType": event_type,
            "title": f"order {row.order_id} is {state}",
            "event": {"productOrder": order},
        }
        if row.kind == ORDER_AMENDED:  # what the revision did, from its log row
            event.update(
                title=f"order {row.order_id} was amended", description=row.detail or "",
                fieldPath=field_path(row.detail),
            )  # fmt: skip
        return event

    def product_order(
        self,
        order_id: str,
        state: str | None = None,
        at: float | None = None,
        item_states: dict[int, str] | None = None,
    ) -> dict[str, Any] | None:
        """The order as TMF622 shows it, or None for an unknown order.  ``state`` and
        ``item_states`` (plan item index -> state) override the stored ones: an event shows
        the order as it was at that event.

        The view's own dicts are new, but the client's values in it (``note``, each item's
        ``product``, ...) are the cached plan's, not copies: change a copy of them, never the
        view's in place."""
        record = self._store.order(order_id)
        shape = self._shape(order_id)
        if record is None or shape is None:
            return None
        state = state or record.state
        rows = item_states
        if rows is None:
            current = self._current_states(order_id, shape)
            if current is None:
                return None
            shape, rows = current
        view: dict[str, Any] = {"id": order_id}
        if self._href_base:
            view["href"] = href(self._href_base, order_id)
        view.update(shape.client)
        # what the client wrote wins: its requestedStartDate has the time, the field its day
        view.update({k: v for k, v in _fields(shape.fields).items() if k not in shape.client})
        view["state"] = state
        view["orderDate"] = iso(record.created_at)
        if state == "completed":
            view["completionDate"] = iso(at if at is not None else record.updated_at)
        if state == CANCELLED:
            view.update(self._cancellation_fields(order_id, at))
        states = {
            item_id: item_state([rows[i] for i in idxs], state, record.cancelling,
                                [rows[i] for i in shape.history.get(item_id, ())])
            for item_id, _, idxs in shape.items
        }  # fmt: skip
        view["productOrderItem"] = _item_views(shape, states)
        return typed(view, ORDER_TYPE)

    def _cancellation_fields(self, order_id: str, at: float | None) -> dict[str, str]:
        """TMF622's ``cancellationDate`` (``at``, an event's time, or when the log says the
        order was cancelled) and ``cancellationReason`` (the canceller's, if it gave one)."""
        found = cancellation(self._store, order_id)
        when = at if at is not None else found.at
        fields = {"cancellationDate": iso(when)} if when is not None else {}
        if found.reason is not None:
            fields["cancellationReason"] = found.reason
        return fields

    def _states_at(self, row: EventRow) -> tuple[str | None, dict[int, str] | None]:
        """The order's state and its plan item states right after ``row``, in one fold over
        the order's log: the last state the log gave the order (an amendment's row gives it
        none), and the plan's initial item states with every ``item.state`` row up to it.
        An event used to carry the states of the moment it was read, so a create event read
        late showed items already completed.  Order events are few per order, so this fold
        is rare."""
        shape = self._shape(row.order_id)
        index: dict[str, int] = {}
        states: dict[int, str] | None = None
        if shape is not None and shape.plan_items:
            index = {item_id: idx for idx, (item_id, _) in enumerate(shape.plan_items)}
            states = {idx: initial for idx, (_, initial) in enumerate(shape.plan_items)}
        order_state = None
        for event in self._store.events(order_id=row.order_id):
            if event.seq > row.seq:
                break
            if event.kind in (ORDER_CREATED, ORDER_STATE) and event.to_state:
                order_state = event.to_state
            idx = index.get(event.item_id or "")
            if (
                states is not None
                and event.kind == ITEM_STATE
                and idx is not None
                and event.to_state
            ):
                states[idx] = event.to_state
        return order_state, states

    def forget(self, order_id: str) -> None:
        """Drop the cached shape of an order whose plan an amendment replaced."""
        with self._lock:
            self._shapes.pop(order_id, None)
            self._epoch += 1

    def _current_states(
        self, order_id: str, shape: OrderShape
    ) -> tuple[OrderShape, dict[int, str]] | None:
        """The item rows' states, read after the shape: if an amendment came in between (the
        rows are not the shape's items), both are read again together.  None when the order
        is gone meanwhile (``om prune`` beside the service)."""
        rows = self._store.items(order_id)
        ids = [item_id for item_id, _ in shape.plan_items]
        if len(rows) != len(ids) or any(ids[row.idx] != row.item_id for row in rows):
            self.forget(order_id)
            stored = self._store.load_order(order_id)
            if stored is None:
                return None
            shape, rows = (
                _shape_of(OrderPlan.model_validate_json(stored.plan_json)),
                stored.items,
            )
        return shape, {row.idx: row.state for row in rows}

    def _shape(self, order_id: str) -> OrderShape | None:
        with self._lock:
            shape = self._shapes.get(order_id)
            if shape is not None:
                self._shapes.move_to_end(order_id)
                return shape
            epoch = self._epoch
        stored = self._store.load_order(order_id)
        if stored is None:
            return None
        shape = _shape_of(OrderPlan.model_validate_json(stored.plan_json))
        with self._lock:
            if epoch == self._epoch:  # no amendment meanwhile: the shape may be cached
                self._shapes[order_id] = shape
                if len(self._shapes) > PLAN_CACHE:
                    self._shapes.popitem(last=False)
        return shape


def _item_views(shape: OrderShape, states: dict[str, str]) -> list[dict[str, Any]]:
    """The order's items as the client sent them: a bundle's nested items inside it, in its
    ``productOrderItem`` (the list of their ids :func:`~om_dsl.orders.tmf622.client_fields`
    kept), each item once; every other item at the top, in the order's order."""
    echo = shape.client_items
    actions = {item_id: action for item_id, action, _ in shape.items}
    nested = {part for item_id in actions for part in _parts(echo.get(item_id, {}))}

    def one(item_id: str) -> dict[str, Any]:
        fields = echo.get(item_id, {})
        view = {"id": item_id, **fields, "action": actions[item_id], "state": states[item_id]}
        if NESTED in fields:
            view[NESTED] = [one(part) for part in _parts(fields) if part in actions]
        return typed(view, ITEM_TYPE)

    return [one(item_id) for item_id, _, _ in shape.items if item_id not in nested]


def every_item(order: dict[str, Any]) -> list[dict[str, Any]]:
    """Every item view of an order view, nested ones after their bundle (document order)."""
    found: list[dict[str, Any]] = []
    stack = list(reversed(order.get(NESTED, [])))
    while stack:
        item = stack.pop()
        found.append(item)
        stack.extend(reversed(item.get(NESTED, [])))
    return found


def _parts(fields: dict[str, Any]) -> list[str]:
    """The ids of the items a bundle item nested, as kept (none for any other item)."""
    parts = fields.get(NESTED)
    return [p for p in parts if isinstance(p, str)] if isinstance(parts, list) else []


def _shape_of(plan: OrderPlan) -> OrderShape:
    """The order's items with their actions and plan items.  The items and actions are the
    order's own (``plan.order_items``): an item that produced no line used to be left out,
    and an item showed the action of its first line.  A plan stored without them falls back
    to what its lines say.  After an amendment, they are the revised order's."""
    actions: dict[str, str] = dict(plan.order_items)
    members: dict[str, list[int]] = {item_id: [] for item_id in actions}
    lines = {line.id: line for line in plan.lines if not line.superseded}
    for line in lines.values():
        for item_id in (*line.source_items, *line.root_items):
            actions.setdefault(item_id, line.action)
            members.setdefault(item_id, [])
    history: dict[str, list[int]] = {}
    every = {line.id: line for line in plan.lines}
    for idx, spec in enumerate(plan.items):
        owner = lines.get(spec.line_id)
        if owner is None:  # what an amendment superseded is history: it counts apart
            old = every[spec.line_id]
            for item_id in dict.fromkeys((*old.source_items, *old.root_items)):
                history.setdefault(item_id, []).append(idx)
            continue
        if spec.is_compensation:
            continue
        for item_id in dict.fromkeys((*owner.source_items, *owner.root_items)):
            members[item_id].append(idx)
    # the client's order (the order's own items, as submitted); others after, by id
    known = [i for i, _ in plan.order_items if i in members]
    listed = set(known)
    others = sorted((i for i in members if i not in listed), key=_natural)
    items = tuple((i, actions[i], tuple(members[i])) for i in (*known, *others))
    plan_items = tuple((spec.id, spec.initial) for spec in plan.items)
    kept = {i: tuple(idxs) for i, idxs in history.items() if i in members}
    return OrderShape(
        dict(plan.order_fields), items, plan_items, kept, plan.client, plan.client_items
    )


def _natural(item_id: str) -> tuple[tuple[int, int, str], ...]:
    """``1.2`` before ``1.10``."""
    parts = item_id.replace(".", " . ").split()
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts)


def _fields(fields: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for ours, tmf in (("external_id", "externalId"), ("category", "category"),
                      ("priority", "priority"), ("requested_start_date", "requestedStartDate"),
                      ("requested_completion_date", "requestedCompletionDate")):  # fmt: skip
        if fields.get(ours) is not None:
            found[tmf] = fields[ours]
    return found


CANCELLATION_STATES = frozenset({"assessingCancellation", "pendingCancellation", "cancelled"})
"""Order states that are also TMF item states: a cancel covers the whole order."""
DONE_STATES = frozenset({"completed", "skipped", "discarded", "cancelled"})
MOVING = frozenset({"ready", "running", "failed"})
"""Plan item states the runtime moves by itself (a retry due is one): the order is
``inProgress`` while any item is in one (``engine.derive_state``), and so is an order item."""
WAITING_ON_OTHERS = frozenset({"waiting", "on_hold"})
"""Plan item states only people, events, callbacks or an operator move: a manual task, a
``wait`` for a signal, an async callout's callback, a system taken offline.  An order whose
unfinished items are all such (or wait for them) is ``pending``; an order item is too."""


def item_state(
    states: list[str], order_state: str, cancelling: bool = False, history: Sequence[str] = ()
) -> str:
    """The TMF ProductOrderItem state that the states of its plan items imply.

    A cancel covers the whole order, so while the order is being cancelled, and once it is,
    every item reports the order's state: items that had completed were undone by their
    compensations, so ``completed`` would be wrong.  An order held on a failed compensation
    (``cancelling``) holds its items.  ``history`` are the states of the item's work that an
    amendment superseded: work ran for the item, so it is no longer ``acknowledged``; an undo
    still to do keeps it in progress, and a failed one holds it.

    Started and unfinished, an item is ``inProgress`` while the runtime moves any of its
    work (:data:`MOVING`), and ``pending`` when its remaining work waits for people, a signal
    or a callback (:data:`WAITING_ON_OTHERS`), or the whole order does (``pending``): the
    rule ``engine.derive_state`` applies to the order, applied to the item.  An item waiting
    for a technician used to say ``inProgress`` under a ``pending`` order.
    """
    if order_state in CANCELLATION_STATES:
        return order_state
    if "fatally_failed" in (*states, *history) or (cancelling and order_state == "held"):
        return "held"
    if not states:
        return order_state
    undoing = any(s not in DONE_STATES for s in history)
    if all(s in DONE_STATES for s in states) and not undoing:
        if any(s in ("cancelled", "discarded") for s in states) and "completed" not in states:
            return "cancelled"
        return "completed"
    if all(s == "pending" for s in states) and not history:
        return "acknowledged"
    if any(s in MOVING for s in (*states, *history)):
        return "inProgress"
    if order_state == "pending" or any(s in WAITING_ON_OTHERS for s in states):
        return "pending"
    return "inProgress"
