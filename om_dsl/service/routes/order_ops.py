"""Operations on one order, next to its TMF resource: the runtime's detailed status, the event
log, the live plan diagram, and the operator's actions on fallout (retry, skip, complete an
item; deliver a named event).  ``GET /fallout`` lists what needs an operator, and
``POST /fallout/retry`` retries it in bulk after an outage."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from om_dsl.runtime.fallout import FalloutFilter
from om_dsl.runtime.status import OrderStatus
from om_dsl.service import fallout, live_plan
from om_dsl.service.context import Svc, Who
from om_dsl.service.models import (
    MAX_TEXT,
    CompleteItem,
    Event,
    FalloutItem,
    FalloutRetried,
    FalloutRetry,
    ItemAction,
    Signal,
    Signalled,
    SkipItem,
)
from om_dsl.service.operations import event_view, require_order
from om_dsl.service.routes.common import (
    AUTH_JSON,
    DECLARED_QUERY,
    NO_CONTENT,
    Limit,
    Offset,
    errors,
    page,
    page_size,
)

router = APIRouter(
    tags=["operations"], dependencies=[*AUTH_JSON, *DECLARED_QUERY], responses=errors(400)
)
MAX_COLLAPSE = 1_000_000
SVG: dict[int | str, dict[str, Any]] = {
    200: {"content": {"image/svg+xml": {}}, "description": "The plan, coloured by state"}
}


@router.get("/productOrder/{id}/status", response_model=OrderStatus, responses=errors(404))
def order_status(svc: Svc, id: str) -> OrderStatus:
    return svc.runtime.status(id)


@router.get("/productOrder/{id}/events", response_model=list[Event], responses=errors(404))
def order_events(
    svc: Svc,
    id: str,
    afterSeq: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int | None, Query(ge=1, le=10_000)] = None,
) -> list[dict[str, Any]]:
    require_order(svc, id)
    return [event_view(row) for row in svc.runtime.events(id, afterSeq, limit)]


@router.get(
    "/productOrder/{id}/plan.svg",
    response_class=Response,
    responses={**SVG, **errors(404, 503)},
)
async def order_plan_svg(
    svc: Svc,
    id: str,
    collapse: Annotated[
        int | None,
        Query(ge=0, le=MAX_COLLAPSE, description="Draw each line of more items as one node"),
    ] = None,
) -> Response:
    svg = await run_in_threadpool(live_plan.plan_svg, svc, id, collapse)
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "no-store"})


# Each action is recorded with the client's name (the principal: a token's name, never the
# token) and the body's reason: who did it and why, in the order's event log.


@router.post("/productOrder/{id}/retry", **NO_CONTENT, responses=errors(404, 409))
def retry_item(svc: Svc, who: Who, id: str, body: ItemAction) -> None:
    svc.runtime.retry(id, body.itemId, by=who.name, reason=body.reason)


@router.post("/productOrder/{id}/skip", **NO_CONTENT, responses=errors(404, 409))
def skip_item(svc: Svc, who: Who, id: str, body: SkipItem) -> None:
    svc.runtime.skip(id, body.itemId, body.reason, force=body.force, by=who.name)


@router.post("/productOrder/{id}/complete", **NO_CONTENT, responses=errors(404, 409))
def complete_item(svc: Svc, who: Who, id: str, body: CompleteItem) -> None:
    svc.runtime.complete(id, body.itemId, body.outputs, by=who.name, reason=body.reason)


@router.post("/productOrder/{id}/signal", response_model=Signalled, responses=errors(404, 409))
def signal_order(svc: Svc, who: Who, id: str, body: Signal) -> dict[str, int]:
    count = svc.runtime.signal(body.event, id, body.payload, by=who.name, reason=body.reason)
    return {"completed": count}


Name = Annotated[str | None, Query(min_length=1, max_length=200)]
Text = Annotated[str | None, Query(min_length=1, max_length=MAX_TEXT)]


@router.get("/fallout", response_model=list[FalloutItem], responses=errors(404))
def list_fallout(
    svc: Svc,
    system: Name = None,
    orderId: Text = None,
    itemIdPattern: Text = None,
    product: Name = None,
    offset: Offset = 0,
    limit: Limit = None,
) -> JSONResponse:
    """A page of the items in fallout, with the counts of ``GET /productOrder``: after an
    outage there are thousands, and ``?limit=1`` was a 400.  The filter is the bulk retry's,
    so an operator lists what a retry would take before taking it."""
    wanted = FalloutFilter(system, orderId, itemIdPattern, product)
    views, total = fallout.listing(svc, wanted, offset, page_size(svc, limit))
    return page(views, total)


@router.post("/fallout/retry", response_model=FalloutRetried, responses=errors(404))
def retry_fallout(svc: Svc, who: Who, body: FalloutRetry) -> dict[str, Any]:
    """Retry in bulk (after an outage): one commit per order, each item recorded as a single
    retry is; items that moved meanwhile are refused one by one, the rest go on."""
    return fallout.retry(svc, body, who.name)
