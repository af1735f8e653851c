"""TMF622 ``CancelProductOrder`` resources and their events.

A cancel request is the event-log row that recorded it (see :func:`is_cancel_request`): an
accepted one is the order's move to ``assessingCancellation``, a rejected one (after the point
of no return) an ``order.cancel_rejected`` row, and ``cpo-<seq>`` is its id (``cpo-<seq>-<epoch>``
for a row written after a restore: :func:`request_id`).  The service shows
it at ``GET /cancelProductOrder/{id}``, and the notifier tells listeners of it, as TMF622's
hub does:

- ``CancelProductOrderCreateEvent`` from the request's own row: ``inProgress`` for an accepted
  request, ``terminatedWithError`` with its ``rejectionReason`` for a rejected one;
- ``CancelProductOrderStateChangeEvent`` from the order's move to ``cancelled``: the request is
  ``done`` then, with its ``effectiveCancellationDate``.

A CRM that cancels from its own screen used to hear of it only through the order's state
changes, and could not tell which of its requests an event answered.  The view is one
function for both the service's answers and the events, so they agree.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from om_dsl.runtime.events import (
    CANCEL_ACCEPTED_STATE,
    CANCEL_REJECTED,
    ORDER_STATE,
    given_cancel_reason,
    is_cancel_request,
)
from om_dsl.runtime.notify.tmf_text import event_id, href, iso, typed
from om_dsl.runtime.states import OrderState
from om_dsl.runtime.store.base import EventRow, Store

PREFIX = "cpo-"
CANCEL_TYPE = "CancelProductOrder"
CREATE_EVENT = "CancelProductOrderCreateEvent"
STATE_CHANGE_EVENT = "CancelProductOrderStateChangeEvent"
EVENT_TYPES = (CREATE_EVENT, STATE_CHANGE_EVENT)
TASK_STATES = ("inProgress", "done", "terminatedWithError")
"""The TMF ``TaskStateType`` values a request of om_dsl takes (a hub ``state`` filter on a
cancel event matches them)."""
CANCELLED = OrderState.CANCELLED.value

ClientFields = Callable[[EventRow], tuple[dict[str, Any], dict[str, Any]] | None]
"""Request row -> (what the client asked with: ``cancellationReason``,
``requestedCancellationDate``; its ``@type`` fields), or None when nobody kept them (a cancel
by ``om cancel`` or a host: the log's reason is used)."""


_REQUEST_ID = re.compile(r"cpo-([0-9]{1,18})(?:-([0-9a-f]{1,64}))?")
"""What :func:`request_id` makes (a seq fits SQLite's 64-bit integers in 18 digits)."""


def request_id(seq: int, epoch: str = "") -> str:
    """The id of the request the log's row ``seq`` records: ``cpo-<seq>``, and
    ``cpo-<seq>-<epoch>`` when the row was written after a restore (``epoch``:
    :func:`epoch_of`).  A restore rewinds the sequence: a request made after it took the
    number of one the restored store lost, whose id a client may hold.  The epoch is the
    row's, not the store's: a request the backup holds keeps the id it was given."""
    return f"{PREFIX}{seq}-{epoch}" if epoch else f"{PREFIX}{seq}"


def parse_request_id(text: str) -> tuple[int, str] | None:
    """(seq, epoch) of an id :func:`request_id` makes; None for any other text."""
    found = _REQUEST_ID.fullmatch(text)
    return (int(found[1]), found[2] or "") if found else None


def epoch_of(store: Store, seq: int) -> str:
    """The epoch the row ``seq`` was written in (:meth:`Store.epoch_of`); ``""`` from a
    host's store without it."""
    find = getattr(store, "epoch_of", None)
    return str(find(seq)) if callable(find) else ""


def request_view(
    request: EventRow,
    progress: Mapping[str, Any],
    *,
    own_base: str | None = None,
    order_base: str | None = None,
    client: ClientFields | None = None,
    epoch: str = "",
) -> dict[str, Any]:
    """The ``CancelProductOrder`` of the request row ``request``, its ``progress``
    (:func:`progress_at`, or the service's "now") over the accepted request's state.
    ``own_base``/``order_base``: the bases of its ``href`` and its order's (none when None);
    ``epoch``: the one the row was written in (:func:`epoch_of`)."""
    ident = request_id(request.seq, epoch)
    view: dict[str, Any] = {"id": ident}
    if own_base:
        view["href"] = href(own_base, ident)
    kept = client(request) if client is not None else None
    asked, types = kept if kept is not None else (_logged_reason(request), {})
    view.update(asked)
    order: dict[str, Any] = {"id": request.order_id}
    if order_base:
        order["href"] = href(order_base, request.order_id)
    view["productOrder"] = {**order, "@referredType": "ProductOrder"}
    if request.kind == CANCEL_REJECTED:
        view.update(state="terminatedWithError", cancellationState="rejected")
        view["rejectionReason"] = request.detail
    else:
        view.update(progress)
    view.update(types)
    return typed(view, CANCEL_TYPE)


def _logged_reason(request: EventRow) -> dict[str, Any]:
    reason = given_cancel_reason(request) if request.kind == ORDER_STATE else None
    return {"cancellationReason": reason} if reason else {}


def progress_at(at: EventRow) -> dict[str, Any]:
    """An accepted request's state right after the event-log row ``at``: in progress while the
    order assesses it, ``done`` once the order is cancelled (the row ``at`` says so)."""
    if at.kind == ORDER_STATE and at.to_state == CANCELLED:
        return {"state": "done", "cancellationState": CANCELLED,
                "effectiveCancellationDate": iso(at.ts)}  # fmt: skip
    return {"state": "inProgress", "cancellationState": CANCEL_ACCEPTED_STATE}


def request_of(store: Store, row: EventRow) -> tuple[EventRow, str] | None:
    """The request a row makes an event of, and the event's type: the request itself when the
    row records one, the order's last accepted request when the row cancels the order."""
    if is_cancel_request(row.kind, row.to_state):
        return row, CREATE_EVENT
    if row.kind != ORDER_STATE or row.to_state != CANCELLED:
        return None
    found = None
    for event in store.events(order_id=row.order_id):  # an order's log, read once per cancel
        if event.seq >= row.seq:
            break
        if event.kind == ORDER_STATE and event.to_state == CANCEL_ACCEPTED_STATE:
            found = event
    return (found, STATE_CHANGE_EVENT) if found is not None else None


def event_of(
    row: EventRow, event_type: str, view: dict[str, Any], epoch: str = ""
) -> dict[str, Any]:
    """The TMF event; its ``eventId`` is the row's, marked apart from the order event the same
    row may make (``om-42`` and ``om-42-cancel``; after a restore, with the store's ``epoch``:
    ``om-42-<epoch>-cancel``), so redeliveries keep it."""
    return {
        "eventId": event_id(row.seq, epoch, "-cancel"),
        "eventTime": iso(row.ts),
        "eventType": event_type,
        "title": f"cancel request {view['id']} of order {row.order_id} is {view['state']}",
        "event": {"cancelProductOrder": view},
    }
