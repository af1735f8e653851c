"""One router per resource; :data:`ROUTERS` is what the app includes, in this order."""

from __future__ import annotations

from fastapi import APIRouter

from om_dsl.service.routes import (
    callbacks,
    cancel_order,
    health,
    hub,
    order_ops,
    product_order,
    systems,
    tasks,
)

ROUTERS: tuple[APIRouter, ...] = (
    health.router,
    product_order.router,
    order_ops.router,
    cancel_order.router,
    hub.router,
    tasks.router,
    systems.router,
    callbacks.router,
)
