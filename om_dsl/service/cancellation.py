"""TMF622 ``CancelProductOrder`` requests, kept in the runtime's event log rather than a table.

``runtime.cancel`` records every request it decides: an accepted one as the order's move to
``assessingCancellation`` (with the reason), a rejected one (after the point of no return) as
``order.cancel_rejected``.  A cancel request's id is ``cpo-<seq>``, the sequence number of that
event-log row, so requests are as durable as the log, need no table of their own, and a request
is read back with one indexed lookup.

The request's TMF ``state`` (a task state) follows the order: ``inProgress`` while the order is
``assessingCancellation``/``pendingCancellation`` (or held on a failed compensation), ``done``
once it is ``cancelled``, ``terminatedWithError`` when the request was rejected;
``cancellationState`` says the same in the order's words (or ``rejected``).  A rejected request
is answered 409 when it is made (the reason is in the error body).
"""

from __future__ import annotations

from typing import Any

from om_dsl.errors import NotFound
from om_dsl.runtime.events import CANCEL_REJECTED, ORDER_STATE
from om_dsl.runtime.notify.tmf import iso
from om_dsl.runtime.states import OrderState
from om_dsl.runtime.store.base import EventRow
from om_dsl.service.context import Service
from om_dsl.service.models import CancelProductOrderCreate

PREFIX = "cpo-"
ASSESSING = OrderState.ASSESSING_CANCELLATION.value
PENDING = OrderState.PENDING_CANCELLATION.value
CANCELLED = OrderState.CANCELLED.value
DEFAULT_REASON = "cancel requested through the API"


def request(svc: Service, body: CancelProductOrderCreate) -> dict[str, Any]:
    """Cancel the order now (compensations run in the background).

    Raises:
        NotFound: no such order.
        OperatorActionRejected: the point of no return was reached, or the order is finished
            or already being cancelled (409; the message says which).
    """
    order_id = body.productOrder.id
    with svc.cancel_lock:
        svc.runtime.cancel(order_id, body.cancellationReason or DEFAULT_REASON)
        seq = _accepted_seq(svc, order_id)
    view = get(svc, f"{PREFIX}{seq}")
    if body.requestedCancellationDate:
        view["requestedCancellationDate"] = body.requestedCancellationDate
    return view


def _accepted_seq(svc: Service, order_id: str) -> int:
    """The event that recorded the accepted cancel (an order is cancelled once at most)."""
    for row in reversed(svc.runtime.events(order_id)):
        if row.kind == ORDER_STATE and row.to_state == ASSESSING:
            return row.seq
    raise NotFound(f"the cancellation of order {order_id} is not in the event log")


def get(svc: Service, request_id: str) -> dict[str, Any]:
    row = _row(svc, request_id)
    view: dict[str, Any] = {
        "id": request_id,
        "href": svc.href("cancelProductOrder", request_id),
        "productOrder": {
            "id": row.order_id,
            "href": svc.href("productOrder", row.order_id),
            "@referredType": "ProductOrder",
        },
    }
    if row.kind == CANCEL_REJECTED:
        view.update(state="terminatedWithError", cancellationState="rejected")
        view["rejectionReason"] = row.detail
    else:
        view.update(_progress(svc, row))
    view["@type"] = "CancelProductOrder"
    return view


def _row(svc: Service, request_id: str) -> EventRow:
    seq = request_id.removeprefix(PREFIX)
    valid = seq.isascii() and seq.isdigit() and len(seq) <= 18  # SQLite integers are 64-bit
    rows = svc.runtime.events(after_seq=int(seq) - 1, limit=1) if valid else []
    if not rows or rows[0].seq != int(seq) or not _is_request(rows[0]):
        raise NotFound(f"no cancelProductOrder {request_id}")
    return rows[0]


def _is_request(row: EventRow) -> bool:
    return row.kind == CANCEL_REJECTED or (row.kind == ORDER_STATE and row.to_state == ASSESSING)


def _progress(svc: Service, row: EventRow) -> dict[str, Any]:
    record = svc.runtime.store.order(row.order_id)
    state = record.state if record is not None else PENDING
    found: dict[str, Any] = {"cancellationReason": row.detail}
    if state == CANCELLED and record is not None:
        found.update(state="done", cancellationState=CANCELLED)
        found["effectiveCancellationDate"] = iso(record.updated_at)
    else:
        found.update(state="inProgress", cancellationState=state if state == ASSESSING else PENDING)
    return found
