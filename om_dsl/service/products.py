"""TMF637 products of the inventory: one product, and lists with filters and paging.

The list reads as ``GET /productOrder`` does (the same paging, ``fields`` selection and
headers: :mod:`om_dsl.service.orders`); the views are :func:`~om_dsl.runtime.inventory_view.
product_view`, read from the store: what a client sees is committed state.
"""

from __future__ import annotations

from typing import Any

from om_dsl.errors import NotFound, OrderIssue
from om_dsl.orders.inventory import STATUSES, InventoryProduct
from om_dsl.orders.issues import show
from om_dsl.runtime.inventory_view import INVENTORY_PATH, product_view
from om_dsl.runtime.states import comma_list
from om_dsl.runtime.store.base import ProductFilter
from om_dsl.service.context import Service
from om_dsl.service.errors import ApiError


def view_of(svc: Service, product_id: str) -> dict[str, Any]:
    """The product's view; NotFound (404) when the inventory does not know it."""
    inventory = svc.runtime.inventory  # None: a host's store that keeps no inventory
    found = None if inventory is None else inventory.product(product_id)
    if found is None:
        raise NotFound(f"no product {product_id} in the inventory")
    return _view(svc, found)


def listing(
    svc: Service, wanted: ProductFilter, offset: int, limit: int
) -> tuple[list[dict[str, Any]], int]:
    """One page of the products ``wanted`` (by start date, then id) and how many match."""
    store = svc.runtime.store
    if svc.runtime.inventory is None:  # a host's store that keeps none: no products
        return [], 0
    found = store.products(wanted, offset, limit)
    return [_view(svc, p) for p in found], store.count_products(wanted)


def _view(svc: Service, product: InventoryProduct) -> dict[str, Any]:
    base = f"{svc.base_url}{INVENTORY_PATH}"
    return product_view(product, base, f"{svc.base_url}/productOrder")


def parse_status(text: str | None) -> frozenset[str] | None:
    """``status=active,terminated``: TMF637 statuses, a comma-separated list as ``state=`` of
    ``GET /productOrder`` takes (:func:`~om_dsl.runtime.states.comma_list`); an unknown one
    is a 400 (S024) that lists them."""
    names = comma_list(text) if text else []
    for name in names:
        if name not in STATUSES:
            known = ", ".join(STATUSES)
            message = f"unknown product status {show(name)}; TMF637's statuses: {known}"
            issue = OrderIssue("S024", "query.status", message)
            raise ApiError(400, "invalidRequest", message, [issue])
    return frozenset(names) or None
