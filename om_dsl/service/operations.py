"""The operations API's data: manual tasks, systems and the event log, as JSON.

Item ids hold ``/`` and ``:`` (``order/AccessLine:install``), which cannot be one URL path
segment, so a task is addressed by an opaque id: the URL-safe base64 of ``order id`` and
``item id`` (and the attempt, after the first).  It is stable (the same task always has the
same id) and decodes back without a lookup table; an id that does not decode, or names an
attempt the item has left behind, is simply an unknown task (404).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any, NamedTuple

from om_dsl.errors import NotFound
from om_dsl.orders.issues import show
from om_dsl.runtime.downstream import SystemStatus, Task
from om_dsl.runtime.notify.tmf_text import iso
from om_dsl.runtime.store.base import EventRow
from om_dsl.service.context import Service

_SEP = "\x1f"
MAX_TASK_ID = 1024


class TaskRef(NamedTuple):
    order_id: str
    item_id: str
    attempt: int


def task_id(order_id: str, item_id: str, attempt: int = 1) -> str:
    """The task of one attempt of a manual item.  A first attempt's id is the one it always
    was; a later attempt (the item was retried, or amended and run again) gets its own, so
    an action on the old task's id is refused rather than finishing the new task."""
    raw = f"{order_id}{_SEP}{item_id}" + (f"{_SEP}{attempt}" if attempt != 1 else "")
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def task_ref(ident: str, sent: str | None = None) -> TaskRef:
    """The task an id names; NotFound when it is not one.

    ``sent`` is the id as the client wrote it in the URL (see
    :func:`om_dsl.service.routes.common.as_sent`), for the message: the server decodes a
    ``%FF`` that is not UTF-8 into U+FFFD, so the decoded id read "no task ��".
    """
    try:
        if len(ident) > MAX_TASK_ID:
            raise ValueError
        raw = base64.urlsafe_b64decode(ident + "=" * (-len(ident) % 4)).decode()
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise _no_task(ident, sent) from None
    parts = raw.split(_SEP)
    attempt = parts.pop() if len(parts) == 3 else "1"
    if len(parts) != 2 or not all(parts) or not attempt.isdigit() or attempt.startswith("0"):
        raise _no_task(ident, sent)
    return TaskRef(parts[0], parts[1], int(attempt))


def _no_task(ident: str, sent: str | None) -> NotFound:
    shown = show(sent if sent is not None else ident, 80)
    return NotFound(f"no task {shown}: a task id is one that GET /tasks lists")


def task_view(task: Task) -> dict[str, Any]:
    return {
        "id": task_id(task.order_id, task.item_id, task.attempt),
        "orderId": task.order_id,
        "itemId": task.item_id,
        "name": task.name,
        "queue": task.queue,
        "attempt": task.attempt,
        "createdAt": iso(task.created_at),
        "expectedBy": _iso(task.expected_by),
        "overdue": task.overdue,
        "claimedBy": task.claimed_by,
        "claimedAt": _iso(task.claimed_at),
        "state": task.state,
    }


def system_view(system: SystemStatus) -> dict[str, Any]:
    return {
        "name": system.name,
        "displayName": system.display_name,
        "offline": system.offline,
        "source": system.source,
        "changedAt": _iso(system.changed_at),
        "changedBy": system.changed_by,
        "reason": system.reason,
    }


def event_view(row: EventRow) -> dict[str, Any]:
    return {
        "seq": row.seq,
        "time": iso(row.ts),
        "kind": row.kind,
        "itemId": row.item_id,
        "fromState": row.from_state,
        "toState": row.to_state,
        "attempt": row.attempt,
        "detail": row.detail,
        "by": row.by,
        "reason": row.reason,
    }


def require_order(svc: Service, order_id: str) -> None:
    if not svc.runtime.has_order(order_id):
        raise NotFound(f"no product order {order_id}")


def _iso(ts: float | None) -> str | None:
    return iso(ts) if ts is not None else None
