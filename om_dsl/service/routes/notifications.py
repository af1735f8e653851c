"""``/notifications``: the outbox's notifications (``?state=abandoned``: those given up), and
``POST /notifications/retry``, which sends abandoned ones again after a listener's outage.

A listener down longer than the attempts' backoff (12 attempts, some 7 to 14 minutes) lost
those events for good.  The runtime's notifier does the work (``retry_abandoned``: the rows
become pending with fresh attempts, keep their ``eventId``, and this service's notifier sends
them at its next step); the routes read the filter and shape the answers.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from om_dsl.errors import OrderIssue
from om_dsl.runtime.downstream.urls import shown
from om_dsl.runtime.notify.outbox import Notification
from om_dsl.runtime.notify.tmf_text import iso
from om_dsl.service.context import Svc, Who
from om_dsl.service.errors import ApiError, invalid_request
from om_dsl.service.models import MAX_TEXT, NotificationRetried, NotificationRetry, NotificationView
from om_dsl.service.routes.common import (
    AUTH_JSON,
    DECLARED_QUERY,
    Limit,
    Offset,
    errors,
    page,
    page_size,
)

router = APIRouter(
    tags=["notifications"], dependencies=[*AUTH_JSON, *DECLARED_QUERY], responses=errors(400)
)
Text = Annotated[str | None, Query(min_length=1, max_length=MAX_TEXT)]


@router.get("/notifications", response_model=list[NotificationView], responses=errors())
def list_notifications(
    svc: Svc,
    state: Annotated[str | None, Query(description="pending, delivered or abandoned")] = None,
    orderId: Text = None,
    listener: Text = None,
    offset: Offset = 0,
    limit: Limit = None,
) -> JSONResponse:
    try:
        found, total = svc.runtime.notifications.listed(
            state, orderId, listener, offset, page_size(svc, limit)
        )
    except ValueError as exc:  # an unknown state
        issue = OrderIssue("S002", "query.state", str(exc))
        raise ApiError(400, "invalidRequest", issue.message, [issue]) from None
    return page([_view(row) for row in found], total)


@router.post("/notifications/retry", response_model=NotificationRetried, responses=errors())
def retry_notifications(svc: Svc, who: Who, body: NotificationRetry) -> dict[str, int]:
    """An empty filter is a 400 (S025) unless ``all``, as for ``POST /fallout/retry``."""
    if body.orderId is None and body.listener is None and not body.all:
        message = ('name the notifications to send again (orderId, listener), or send "all": '
                   "true to send every abandoned one again")  # fmt: skip
        raise invalid_request([OrderIssue("S025", "body", message)])
    count = svc.runtime.notifications.retry_abandoned(
        body.orderId, body.listener, by=who.name, reason=body.reason
    )
    return {"retried": count}


def _view(row: Notification) -> dict[str, Any]:
    """A row as the API shows it: the listener's URL as logs show it (a token in its query
    stays out of answers, as out of the log)."""
    return {
        "eventId": row.event_id,
        "eventType": row.event_type,
        "orderId": row.order_id,
        "orderState": row.order_state,
        "listener": shown(row.url),
        "state": row.state,
        "attempts": row.attempts,
        "lastError": row.last_error,
        "nextAttemptAt": iso(row.next_at) if row.next_at is not None else None,
        "deliveredAt": iso(row.delivered_at) if row.delivered_at is not None else None,
    }
