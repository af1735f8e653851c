"""The hubs: register and unregister listeners of events.  TMF622's ``/hub`` (order events)
and TMF637's ``/hub`` below the inventory's bases (product events) are made by one function
(:func:`hub_router`): the same checks, answers and roles, each over its own registrations
(:mod:`om_dsl.runtime.notify.hub`).  Deliveries go through the runtime's persisted outbox (at
least once, retried with backoff; docs/downstream.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from om_dsl.runtime.inventory_view import INVENTORY_BASE
from om_dsl.runtime.notify.hub import Hub
from om_dsl.service import subscriptions
from om_dsl.service.context import Service, Svc
from om_dsl.service.models import EventSubscription, EventSubscriptionInput
from om_dsl.service.routes.common import AUTH_JSON, NO_CONTENT, errors

HUB = "/hub"


def hub_router(hub_of: Callable[[Service], Hub], location: str, tag: str) -> APIRouter:
    """The four routes of a hub: ``hub_of`` picks the service's hub, ``location`` is the
    path below the service's URL that a new registration's ``Location`` names."""
    router = APIRouter(tags=[tag], dependencies=AUTH_JSON)

    @router.post(HUB, status_code=201, response_model=EventSubscription, responses=errors())
    def register_listener(svc: Svc, body: EventSubscriptionInput) -> JSONResponse:
        view = subscriptions.register(hub_of(svc), body.callback, body.query)
        return JSONResponse(view, 201, headers={"Location": svc.href(location, view["id"])})

    @router.get(HUB, response_model=list[EventSubscription], responses=errors())
    def list_listeners(svc: Svc) -> list[dict[str, Any]]:
        return [subscriptions.view(sub) for sub in hub_of(svc).list()]

    @router.get(HUB + "/{id}", response_model=EventSubscription, responses=errors(404))
    def retrieve_listener(svc: Svc, id: str) -> dict[str, Any]:
        return subscriptions.view(hub_of(svc).get(id))

    @router.delete(HUB + "/{id}", **NO_CONTENT, responses=errors(404))
    def unregister_listener(svc: Svc, id: str) -> Response:
        hub_of(svc).unregister(id)
        return Response(status_code=204)

    return router


router = hub_router(lambda svc: svc.runtime.hub, "hub", "events subscription")
"""TMF622's: listeners of order events."""
product_router = hub_router(
    lambda svc: svc.runtime.product_hub, f"{INVENTORY_BASE.lstrip('/')}/hub", "product events"
)
"""TMF637's: listeners of product events, below the inventory's bases (registrations of
their own: a TMF622 listener never hears of products)."""
