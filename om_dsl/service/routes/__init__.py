"""One router per resource; :data:`ROUTERS` is what the app includes, in this order."""

from __future__ import annotations

from fastapi import APIRouter

from om_dsl.runtime.inventory_view import INVENTORY_BASE
from om_dsl.service.routes import (
    callbacks,
    cancel_order,
    health,
    hub,
    identity,
    metrics,
    notifications,
    order_ops,
    product_inventory,
    product_order,
    retention,
    systems,
    tasks,
)

ROUTERS: tuple[APIRouter, ...] = (
    health.router,
    identity.router,
    product_order.router,
    order_ops.router,
    cancel_order.router,
    hub.router,
    tasks.router,
    systems.router,
    metrics.router,
    notifications.router,
    retention.router,
    callbacks.router,
)

TMF_BASE = "/tmf-api/productOrderingManagement/v4"
"""The base path of TMF622 v4's swagger, where a TMF client configured with the standard
URL sends its requests; the service answers there too, without a proxy to strip it."""

TMF_ROUTERS: tuple[APIRouter, ...] = (product_order.router, cancel_order.router, hub.router)
"""The TMF622 resources, also served at :data:`TMF_BASE` (the operations API is ours: it stays
at the root only)."""
INVENTORY_ROUTERS: tuple[APIRouter, ...] = (product_inventory.router, hub.product_router)
"""The TMF637 resources: the inventory and its hub."""
INVENTORY_BASES: tuple[str, ...] = tuple(
    f"{root}{base}"
    for root in ("", "/tmf-api")
    for base in (INVENTORY_BASE, "/productInventoryManagement/v4")
)
"""Where the TMF637 inventory and its hub are served: TMF637 v4's own base path
``productInventory/v4`` (the canonical one, first: the OpenAPI document lists it, ``href``s
name it) and the ``productInventoryManagement/v4`` om_dsl served first (kept for the clients
that use it), each at the root and below ``/tmf-api``, as a TMF client configured with the
standard URL sends them."""
