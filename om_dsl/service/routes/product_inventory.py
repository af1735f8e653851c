"""TMF637 ``/productInventory/v4/product``: the product inventory, read only (list with
filters, offset/limit paging with ``X-Total-Count``/``X-Result-Count`` and ``fields``, as
``/productOrder``; retrieve one product).  The paths are relative to the bases the app mounts
this router at (:data:`om_dsl.service.routes.INVENTORY_BASES`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from om_dsl.runtime.store.base import ProductFilter
from om_dsl.service import orders, products
from om_dsl.service.context import Svc
from om_dsl.service.models import Product
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

router = APIRouter(tags=["product"], dependencies=AUTH)


def _exact(what: str, alias: str | None = None) -> Any:
    """An exact-match filter of the list (``alias``: its TMF name, a path such as
    ``productOffering.id``)."""
    return Query(alias=alias, min_length=1, max_length=1000, description=f"Only this {what}")


Id = Annotated[str | None, _exact("product id")]
Status = Annotated[
    str | None,
    _exact("status, or several as a comma-separated list (TMF637: active, terminated, ...)"),
]
OfferingId = Annotated[str | None, _exact("offering id", "productOffering.id")]
AccountId = Annotated[str | None, _exact("billing account", "billingAccount.id")]
PartyId = Annotated[str | None, _exact("customer (related party)", "relatedParty.id")]


PRODUCT = "/product"


@router.get(
    PRODUCT,
    response_model=list[Product],
    responses=errors(),
    dependencies=DECLARED_QUERY,
    summary="List the products of the inventory",
)
def list_products(
    svc: Svc,
    id: Id = None,
    status: Status = None,
    offering: OfferingId = None,
    account: AccountId = None,
    party: PartyId = None,
    offset: Offset = 0,
    limit: Limit = None,
    fields: Fields = None,
) -> JSONResponse:
    wanted = ProductFilter(id, products.parse_status(status), offering, account, party)
    views, total = products.listing(svc, wanted, offset, page_size(svc, limit))
    return page(orders.selected_page(views, fields, Product), total)


@router.get(
    PRODUCT + "/{id}",
    response_model=Product,
    responses=errors(404),
    dependencies=DECLARED_QUERY,
    summary="Retrieve a product of the inventory",
)
def retrieve_product(svc: Svc, id: str, fields: Fields = None) -> JSONResponse:
    return JSONResponse(orders.selected(products.view_of(svc, id), fields, Product))
