"""``/fallout``: the items whose retries are spent, found by system, order, item or product,
and retried in bulk after an outage (``POST /fallout/retry``).

The runtime finds and retries them (``Runtime.fallout``, ``Runtime.retry_fallout``: one
commit per order, each item recorded with the client's name and reason as a single retry
is); this module reads the client's filter and shapes the answers.
"""

from __future__ import annotations

import logging
from typing import Any

from om_dsl.errors import NotFound, OrderIssue
from om_dsl.runtime.fallout import BulkRetry, FalloutFilter, FalloutItem
from om_dsl.service.context import Service
from om_dsl.service.errors import ApiError, invalid_request
from om_dsl.service.models import FalloutRetry

log = logging.getLogger("om_dsl.service")
MAX_LISTED = 100
"""Items a bulk retry's answer names (its counts are of all of them): thousands of ids
would make an answer nobody reads."""


def checked(svc: Service, wanted: FalloutFilter, where: str) -> FalloutFilter:
    """``wanted``, once its system is known: a system no catalog declares is a 400 (S021,
    at ``<where>.system``) that suggests a close name, as a misspelt queue is, where it
    would have matched nothing."""
    if wanted.system is not None:
        try:
            svc.runtime.systems.status(wanted.system)
        except NotFound as exc:
            issue = OrderIssue("S021", f"{where}.system", str(exc))
            raise ApiError(400, "invalidRequest", issue.message, [issue]) from None
    return wanted


def listing(
    svc: Service, wanted: FalloutFilter, offset: int, limit: int
) -> tuple[list[dict[str, Any]], int]:
    """The page ``[offset, offset + limit)`` of the items in fallout that ``wanted`` matches,
    as JSON, and how many match in all.  The store pages it (``Runtime.fallout_page``): every
    item was listed, reading every held order's plan, then sliced."""
    items, total = svc.runtime.fallout_page(checked(svc, wanted, "query"), offset, limit)
    return [view(item) for item in items], total


def retry(svc: Service, body: FalloutRetry, by: str) -> dict[str, Any]:
    """Retry the items the body names; an empty filter without ``all`` is a 400 (S025)."""
    wanted = FalloutFilter(body.system, body.orderId, body.itemIdPattern, body.product)
    if wanted.empty and not body.all:
        message = ("name the items to retry (system, orderId, itemIdPattern, product), or "
                   'send "all": true to retry every item in fallout')  # fmt: skip
        raise invalid_request([OrderIssue("S025", "body", message)])
    done = svc.runtime.retry_fallout(checked(svc, wanted, "body"), by=by, reason=body.reason)
    _log(done, by)
    return retried_view(done)


def _log(done: BulkRetry, by: str) -> None:
    """One line per bulk retry (each item's row is in its order's event log)."""
    orders = len({item.order_id for item in done.retried})
    log.info("bulk retry by %s: %d item(s) of %d order(s) retried, %d refused",
             by, len(done.retried), orders, len(done.refused))  # fmt: skip


def retried_view(done: BulkRetry) -> dict[str, Any]:
    return {
        "retried": len(done.retried),
        "items": [_ref(item) for item in done.retried[:MAX_LISTED]],
        "refused": len(done.refused),
        "refusedItems": [{**_ref(item), "reason": why} for item, why in done.refused[:MAX_LISTED]],
    }


def _ref(item: FalloutItem) -> dict[str, str]:
    return {"orderId": item.order_id, "itemId": item.item_id}


def view(item: FalloutItem) -> dict[str, Any]:
    return {
        "orderId": item.order_id,
        "itemId": item.item_id,
        "name": item.name,
        "kind": item.kind,
        "product": item.product,
        "system": item.system,
        "attempt": item.attempt,
        "failures": item.failures,
        "reason": item.reason,
    }
