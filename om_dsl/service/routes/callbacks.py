"""``POST /callbacks/{token}``: where downstream systems finish asynchronous callouts.

The runtime's :func:`~om_dsl.runtime.callback_server.handle_callback` does the work (the same
function behind the runtime's own listener); this route only makes it part of the service's
OpenAPI document.  No API token: the single-use, unguessable token in the path is the
credential, so an unknown or used one is a 404, never a 401.  Answers keep the runtime's
small JSON shape (``{"status", "result"}`` or ``{"error"}``): the callers are downstream
systems, not TMF clients.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from om_dsl.runtime.callback_server import handle_callback
from om_dsl.service.context import Svc
from om_dsl.service.models import CallbackAnswer

router = APIRouter(tags=["callbacks"])
PAYLOAD = {
    "requestBody": {
        "required": False,
        "description": "The system's result: a JSON object (empty for none)",
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}
ANSWERS: dict[int | str, dict[str, Any]] = {
    400: {
        "model": CallbackAnswer,
        "description": "The body is not a JSON object, not UTF-8 text (S010), or gives a key "
        "twice (S026)",
    },
    404: {"model": CallbackAnswer, "description": "An unknown or already used token"},
    409: {"model": CallbackAnswer, "description": "The item cannot take the result"},
    422: {
        "model": CallbackAnswer,
        "description": "The result cannot be mapped to the item's outputs (the attempt failed)",
    },
}


@router.post(
    "/callbacks/{token}",
    response_model=CallbackAnswer,
    responses=ANSWERS,
    openapi_extra=PAYLOAD,
    summary="Finish an asynchronous callout",
)
async def receive_callback(request: Request, svc: Svc, token: str) -> JSONResponse:
    body = await request.body()
    status, answer = await run_in_threadpool(handle_callback, svc.runtime.callback, token, body)
    return JSONResponse(answer, status)
