"""One router per resource; :data:`ROUTERS` is what the app includes, in this order."""

from __future__ import annotations

from fastapi import APIRouter

from om_dsl.service.routes import (
    callbacks,
    cancel_order,
    health,
    hub,
    metrics,
    notifications,
    order_ops,
    product_inventory,
    product_order,
    systems,
    tasks,
)

ROUTERS: tuple[APIRouter, ...] = (
    health.router,
    product_order.router,
    product_inventory.router,
    order_ops.router,
    cancel_order.router,
    hub.router,
    tasks.router,
    systems.router,
    metrics.router,
    notifications.router,
    callbacks.router,
)

TMF_BASE = "/tmf-api/productOrderingManagement/v4"
"""The base path of TMF622 v4's swagger, where a TMF client configured with the standard
URL sends its requests; the service answers there too, without a proxy to strip it."""

TMF_ROUTERS: tuple[APIRouter, ...] = (product_order.router, cancel_order.router, hub.router)
TMF_INVENTORY_BASE = "/tmf-api"
"""The TMF637 product inventory is served at ``/tmf-api`` too (its own paths already hold
``productInventoryManagement/v4``)."""
TMF_INVENTORY_ROUTERS: tuple[APIRouter, ...] = (product_inventory.router,)
"""The TMF622 resources, also served at :data:`TMF_BASE` (the operations API is ours: it stays
at the root only)."""
