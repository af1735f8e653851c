"""TMF622 ``CancelProductOrder`` requests, kept in the runtime's event log rather than a table.

``runtime.cancel`` records every request it decides: an accepted one as the order's move to
``assessingCancellation`` (with the reason), a rejected one (after the point of no return) as
``order.cancel_rejected``.  A cancel request's id is ``cpo-<seq>``, the sequence number of that
event-log row, so requests are as durable as the log, and a request is read back with one
indexed lookup.  A row written after a restore adds the epoch it was written in
(``cpo-<seq>-<epoch>``: :func:`om_dsl.runtime.notify.cancels.request_id`), so that no id is
given twice: an id names the request made with it or none (404).  What the client said
(``cancellationReason``, ``requestedCancellationDate``) is kept under the same number
(:mod:`om_dsl.service.cancel_records`).

The request's TMF ``state`` (a task state) follows the order: ``inProgress`` while the order is
``assessingCancellation``/``pendingCancellation`` (or held on a failed compensation), ``done``
once it is ``cancelled``, ``terminatedWithError`` when the request was rejected;
``cancellationState`` says the same in the order's words (or ``rejected``).

A request rejected after the point of no return is a created task that failed, as TMF models
it: 201, its state ``terminatedWithError`` and ``rejectionReason`` saying why, readable at its
href like any other.  A request that the runtime refuses without recording it (the order is
finished, or already being cancelled) is a 409, and nothing is stored.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from om_dsl.errors import NotFound, OperatorActionRejected, OrderIssue
from om_dsl.runtime.events import (
    CANCEL_REJECTED,
    cancellation,
    is_cancel_request,
)
from om_dsl.runtime.notify import cancels
from om_dsl.runtime.notify.cancels import ClientFields
from om_dsl.runtime.notify.tmf_text import iso
from om_dsl.runtime.states import OrderState
from om_dsl.runtime.store.base import EventRow
from om_dsl.service.cancel_records import CancelRecord, CancelRecords
from om_dsl.service.context import Service
from om_dsl.service.errors import ApiError
from om_dsl.service.models import CancelProductOrderCreate

CLOCK_SKEW_S = 300
"""How far ahead a ``requestedCancellationDate`` may be and still mean "now"."""
ASSESSING = OrderState.ASSESSING_CANCELLATION.value
PENDING = OrderState.PENDING_CANCELLATION.value
CANCELLED = OrderState.CANCELLED.value
TYPE_FIELDS = {"baseType", "schemaLocation", "type_"}
"""The request's TMF type attributes (``@baseType``, ``@schemaLocation``, ``@type``), kept as
the client sent them: a CPQ's subclass of CancelProductOrder is shown back, as for an order."""


def request(svc: Service, body: CancelProductOrderCreate, by: str | None = None) -> dict[str, Any]:
    """Cancel the order now (compensations run in the background); returns the request.
    ``by``: the client's name, kept in the event-log row of the request.

    A request rejected after the point of no return is returned too (``terminatedWithError``).

    Raises:
        NotFound: no such order.
        OperatorActionRejected: the order is finished or already being cancelled (409; the
            message says which); nothing was recorded.
    """
    _refuse_later(body.requestedCancellationDate)
    order_id = body.productOrder.id
    types = body.model_dump(by_alias=True, include=TYPE_FIELDS, exclude_none=True)
    record = CancelRecord(body.cancellationReason, body.requestedCancellationDate, types)
    with svc.cancel_lock:
        svc.cancel_pending[order_id] = record  # for an event read before the record is added
        try:
            seq = _cancel(svc, order_id, body.cancellationReason, by)
            svc.cancels.add(seq, order_id, record)
        finally:
            del svc.cancel_pending[order_id]
    return get(svc, cancels.request_id(seq, cancels.epoch_of(svc.runtime.store, seq)))


def _refuse_later(requested: str | None) -> None:
    """Refuse a cancel asked for a later time: the runtime cancels at once, and carrying out
    at once a cancel a client scheduled for next week would be worse than saying no.  A time
    up to :data:`CLOCK_SKEW_S` ahead is "now" on a client whose clock runs fast (some CRMs
    send the time of the request).

    Raises:
        ApiError: 400, ``S022``, with the path ``body.requestedCancellationDate``.
    """
    if requested is None:
        return
    when = datetime.fromisoformat(requested.upper())  # checked by the model: RFC 3339
    ahead = (when - datetime.now(UTC)).total_seconds()
    if ahead > CLOCK_SKEW_S:
        message = (
            f"a cancellation for a later time ({requested}) cannot be scheduled: the order is "
            "cancelled when the request comes; leave requestedCancellationDate out, or send "
            "the request at that time"
        )
        issue = OrderIssue("S022", "body.requestedCancellationDate", message)
        raise ApiError(400, "invalidRequest", message, [issue])


def _cancel(svc: Service, order_id: str, reason: str | None, by: str | None) -> int:
    """Ask the runtime to cancel; the sequence number of the row that recorded the request.
    No reason is passed when the client gave none: the order's ``cancellationReason`` is the
    one recorded, and the runtime's default is no one's reason."""
    before = _last_seq(svc, order_id)
    try:
        svc.runtime.cancel(order_id, reason, by=by)
    except OperatorActionRejected:
        seq = _recorded(svc, order_id, before)
        if seq is None:  # refused without a record: not a cancel request that exists
            raise
        return seq
    seq = _recorded(svc, order_id, before)
    if seq is None:
        raise NotFound(f"the cancellation of order {order_id} is not in the event log")
    return seq


def _last_seq(svc: Service, order_id: str) -> int:
    rows = svc.runtime.events(order_id)
    return rows[-1].seq if rows else 0


def _recorded(svc: Service, order_id: str, after: int) -> int | None:
    """The request the runtime recorded after ``after`` (the cancel lock keeps it ours)."""
    rows = svc.runtime.events(order_id, after)
    return next((row.seq for row in rows if _is_request(row)), None)


def get(svc: Service, request_id: str) -> dict[str, Any]:
    return _view(svc, _row(svc, request_id))


def listing(svc: Service, offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    """One page of every cancel request (oldest first, whoever made it: the service, ``om
    cancel`` or the library), and how many there are."""
    store = svc.runtime.store
    views = [_view(svc, row) for row in store.cancel_requests(offset, limit)]
    return views, store.count_cancel_requests()


def _view(svc: Service, row: EventRow) -> dict[str, Any]:
    """The request as it is now (its events show it as it was then, see
    :mod:`om_dsl.runtime.notify.cancels`)."""
    progress = _progress(svc, row) if row.kind != CANCEL_REJECTED else {}
    return svc.views.cancel_request(row, progress)


def client_fields(records: CancelRecords, pending: dict[str, CancelRecord]) -> ClientFields:
    """What the client of each request asked with, as the views read it: its reason and
    requested date, and its ``@type`` fields; None for a request the service did not take
    (``om cancel``, a host: the event log's reason is shown).

    ``pending``: order id -> the record of the request being made for it.  The notifier may
    read the request's row before the service has stored the record under the row's number
    (it is known only once the row is written): the event then lacked the client's reason."""

    def fields(row: EventRow) -> tuple[dict[str, Any], dict[str, Any]] | None:
        record = records.get(row.seq) or pending.get(row.order_id)
        if record is None:
            return None
        found = {
            "cancellationReason": record.reason,
            "requestedCancellationDate": record.requested_date,
        }
        asked = {name: value for name, value in found.items() if value is not None}
        return asked, dict(record.types)

    return fields


def _row(svc: Service, request_id: str) -> EventRow:
    found = cancels.parse_request_id(request_id)
    row = _request_row(svc, *found) if found is not None else None
    if row is None:
        raise NotFound(f"no cancelProductOrder {request_id}")
    return row


def _request_row(svc: Service, seq: int, epoch: str) -> EventRow | None:
    """The row of the request ``cpo-<seq>[-<epoch>]``: a request row written in ``epoch``.
    One of another epoch took the seq of a request a restore lost: not the one asked for."""
    rows = svc.runtime.events(after_seq=seq - 1, limit=1)
    if not rows or rows[0].seq != seq or not _is_request(rows[0]):
        return None
    return rows[0] if cancels.epoch_of(svc.runtime.store, seq) == epoch else None


def _is_request(row: EventRow) -> bool:
    return is_cancel_request(row.kind, row.to_state)


def _progress(svc: Service, row: EventRow) -> dict[str, Any]:
    record = svc.runtime.store.order(row.order_id)
    state = record.state if record is not None else PENDING
    found: dict[str, Any] = {}
    if state == CANCELLED and record is not None:
        found.update(state="done", cancellationState=CANCELLED)
        at = cancellation(svc.runtime.store, row.order_id).at  # the order's cancellationDate
        found["effectiveCancellationDate"] = iso(at if at is not None else record.updated_at)
    else:
        found.update(state="inProgress", cancellationState=state if state == ASSESSING else PENDING)
    return found
