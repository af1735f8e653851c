"""TMF622 ``/cancelProductOrder``: cancel an order (201; after its point of no return the
request is created ``terminatedWithError``, with the reason), or be refused when the order is
finished or already being cancelled (409); read a request's progress back, or list them all
(offset/limit paging with ``X-Total-Count``/``X-Result-Count``, ``fields`` selection)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from om_dsl.service import cancellation
from om_dsl.service.context import Svc, Who
from om_dsl.service.models import CancelProductOrder, CancelProductOrderCreate
from om_dsl.service.orders import selected, selected_page
from om_dsl.service.routes.common import (
    AUTH_JSON,
    DECLARED_QUERY,
    Fields,
    Limit,
    Offset,
    errors,
    page,
    page_size,
)

router = APIRouter(tags=["cancelProductOrder"], dependencies=AUTH_JSON)


@router.post(
    "/cancelProductOrder",
    status_code=201,
    response_model=CancelProductOrder,
    responses=errors(404, 409),
)
def create_cancel_product_order(svc: Svc, who: Who, body: CancelProductOrderCreate) -> JSONResponse:
    view = cancellation.request(svc, body, who.name)
    return JSONResponse(view, 201, headers={"Location": view["href"]})


@router.get("/cancelProductOrder/{id}", response_model=CancelProductOrder, responses=errors(404))
def retrieve_cancel_product_order(svc: Svc, id: str, fields: Fields = None) -> JSONResponse:
    return JSONResponse(selected(cancellation.get(svc, id), fields, CancelProductOrder))


@router.get(
    "/cancelProductOrder",
    response_model=list[CancelProductOrder],
    responses=errors(),
    dependencies=DECLARED_QUERY,
)
def list_cancel_product_orders(
    svc: Svc, offset: Offset = 0, limit: Limit = None, fields: Fields = None
) -> JSONResponse:
    views, total = cancellation.listing(svc, offset, page_size(svc, limit))
    return page(selected_page(views, fields, CancelProductOrder), total)
