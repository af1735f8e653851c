"""TMF622 ``/productOrder``: create (201, acknowledged), retrieve (live states), list (state and
externalId filters, offset/limit paging with ``X-Total-Count``/``X-Result-Count``, ``fields``
selection), and amend (PATCH with the whole revised order)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from om_dsl.service import orders
from om_dsl.service.context import Svc, Who
from om_dsl.service.models import ProductOrder
from om_dsl.service.routes.common import (
    AUTH,
    DECLARED_QUERY,
    Fields,
    Limit,
    Offset,
    errors,
    page,
    page_size,
)

router = APIRouter(tags=["productOrder"], dependencies=AUTH)
CREATE_SCHEMA = {"$ref": "#/components/schemas/ProductOrder_Create"}
ORDER_BODY = {
    "requestBody": {
        "required": True,
        "description": "A TMF622 ProductOrder_Create (or a native order: docs/decomposition.md)",
        "content": {"application/json": {"schema": CREATE_SCHEMA}},
    }
}


IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Optional: a key of the client's for this create; the same key with the "
        "same order again answers 200 with the order it created, with another order 409",
    ),
]


@router.post(
    "/productOrder",
    status_code=201,
    response_model=ProductOrder,
    responses={
        200: {"model": ProductOrder, "description": "The order an Idempotency-Key created"},
        **errors(409),
    },
    openapi_extra=ORDER_BODY,
    summary="Create a product order",
)
async def create_product_order(
    request: Request, svc: Svc, who: Who, key: IdempotencyKey = None
) -> JSONResponse:
    body = await request.body()
    checked = orders.idempotency_key(key, len(request.headers.getlist("idempotency-key")))
    done = await run_in_threadpool(orders.create, svc, body, who.name, checked)
    headers = {"Location": done.view.get("href", "")}
    return JSONResponse(done.view, done.status, headers=headers)


PATCH_BODY = {
    "requestBody": {
        "required": True,
        "description": "The whole revised order (TMF622 ProductOrder or native); its id may be "
        "left out. Its productOrderItem list replaces the order's (docs/service.md)",
        "content": {
            "application/merge-patch+json": {"schema": CREATE_SCHEMA},
            "application/json": {"schema": CREATE_SCHEMA},
        },
    }
}


@router.patch(
    "/productOrder/{id}",
    response_model=ProductOrder,
    responses=errors(404, 409),
    openapi_extra=PATCH_BODY,
    summary="Amend a product order in flight",
)
async def patch_product_order(request: Request, svc: Svc, who: Who, id: str) -> JSONResponse:
    body = await request.body()
    return JSONResponse(await run_in_threadpool(orders.amend, svc, id, body, who.name))


ExternalId = Annotated[
    str | None,
    Query(min_length=1, max_length=1000, description="Only orders with this externalId (exact)"),
]


@router.get(
    "/productOrder",
    response_model=list[ProductOrder],
    responses=errors(),
    dependencies=DECLARED_QUERY,
)
def list_product_orders(
    svc: Svc,
    state: Annotated[
        str | None, Query(min_length=1, max_length=1000, description="e.g. completed,held")
    ] = None,
    externalId: ExternalId = None,
    offset: Offset = 0,
    limit: Limit = None,
    fields: Fields = None,
) -> JSONResponse:
    states = orders.parse_states(state)
    wanted = orders.Filter(states, externalId)
    views, total = orders.listing(svc, wanted, offset, page_size(svc, limit))
    return page(orders.selected_page(views, fields, ProductOrder), total)


@router.get(
    "/productOrder/{id}",
    response_model=ProductOrder,
    responses=errors(404),
    dependencies=DECLARED_QUERY,
)
def retrieve_product_order(svc: Svc, id: str, fields: Fields = None) -> JSONResponse:
    return JSONResponse(orders.selected(orders.view_of(svc, id), fields, ProductOrder))
