"""TMF622 ``/hub``: register and unregister listeners of order events.  Deliveries go through
the runtime's persisted outbox (at least once, retried with backoff; docs/downstream.md)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from om_dsl.service import subscriptions
from om_dsl.service.context import Svc
from om_dsl.service.models import EventSubscription, EventSubscriptionInput
from om_dsl.service.routes.common import AUTH_JSON, NO_CONTENT, errors

router = APIRouter(tags=["events subscription"], dependencies=AUTH_JSON)


@router.post("/hub", status_code=201, response_model=EventSubscription, responses=errors())
def register_listener(svc: Svc, body: EventSubscriptionInput) -> JSONResponse:
    view = subscriptions.register(svc, body.callback, body.query)
    return JSONResponse(view, 201, headers={"Location": svc.href("hub", view["id"])})


@router.get("/hub", response_model=list[EventSubscription], responses=errors())
def list_listeners(svc: Svc) -> list[dict[str, Any]]:
    return [subscriptions.view(sub) for sub in svc.runtime.hub.list()]


@router.get("/hub/{id}", response_model=EventSubscription, responses=errors(404))
def retrieve_listener(svc: Svc, id: str) -> dict[str, Any]:
    return subscriptions.view(svc.runtime.hub.get(id))


@router.delete("/hub/{id}", **NO_CONTENT, responses=errors(404))
def unregister_listener(svc: Svc, id: str) -> Response:
    svc.runtime.hub.unregister(id)
    return Response(status_code=204)
