"""A product of the inventory as a TMF637 ``Product``: what ``om serve`` answers at
``/productInventory/v4/product`` and ``om products --format json`` prints.

Written with the helpers of the TMF622 order views (:mod:`.notify.tmf_text`: hrefs with the
id percent-encoded, ISO 8601 times, ``@type`` last), so that both resources read alike.
"""

from __future__ import annotations

from typing import Any

from om_dsl.orders.inventory import InventoryProduct, OrderItemRef
from om_dsl.runtime.notify.tmf_text import href, iso, typed

PRODUCT_TYPE = "Product"
INVENTORY_BASE = "/productInventory/v4"
"""TMF637 v4's base path (its swagger's, below ``/tmf-api``, where CTK clients look): the
canonical one, that ``href``s name."""
INVENTORY_PATH = f"{INVENTORY_BASE}/product"
"""Where the service lists products, below its base URL (TMF637 v4)."""


def product_view(
    product: InventoryProduct, base: str | None = None, order_base: str | None = None
) -> dict[str, Any]:
    """The TMF637 Product; ``base`` and ``order_base`` (the URLs of the product and order
    collections) add the ``href``s, which a view without a service leaves out."""
    view: dict[str, Any] = {"id": product.id}
    if base is not None:
        view["href"] = href(base, product.id)
    view["name"] = product.name or product.offering
    view["status"] = product.status
    view["isBundle"] = product.is_bundle
    if product.start_date is not None:
        view["startDate"] = iso(product.start_date)
    if product.termination_date is not None:
        view["terminationDate"] = iso(product.termination_date)
    view["productOffering"] = _offering(product)
    view["productCharacteristic"] = [
        {"name": name, "value": value} for name, value in product.attributes.items()
    ]
    if product.account is not None:
        view["billingAccount"] = {"id": product.account, "@referredType": "BillingAccount"}
    if product.customer is not None:
        party = {"id": product.customer, "role": "Customer", "@referredType": "Customer"}
        view["relatedParty"] = [party]
    view["productOrderItem"] = [_order_item(ref, order_base) for ref in product.order_items]
    return typed(view, PRODUCT_TYPE)


def _offering(product: InventoryProduct) -> dict[str, Any]:
    offering: dict[str, Any] = {}
    if product.offering_id is not None:
        offering["id"] = product.offering_id
    offering["name"] = product.name or product.offering
    offering["@referredType"] = "ProductOffering"
    return offering


def _order_item(ref: OrderItemRef, order_base: str | None) -> dict[str, Any]:
    item: dict[str, Any] = {"productOrderId": ref.order_id}
    if order_base is not None:
        item["productOrderHref"] = href(order_base, ref.order_id)
    item["orderItemId"] = ref.item_id
    item["orderItemAction"] = ref.action
    item["@referredType"] = "ProductOrder"
    return item
