"""``/health`` (the process answers and its runtime has not died) and ``/ready`` (the runtime's
loop runs and the store answers): for load balancers and orchestrators, so no token is needed
and nothing is revealed.

A runtime whose loop stopped on an error makes ``/health`` a 503 too: the process is about to
exit (``om serve`` does, so that its supervisor restarts it), and a liveness probe that kept
answering 200 kept a dead service in place."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from om_dsl.service.context import Svc
from om_dsl.service.models import Health

router = APIRouter(tags=["health"])


STOPPED = "the runtime stopped on an error"


@router.get(
    "/health",
    response_model=Health,
    response_model_exclude_none=True,
    responses={503: {"model": Health}},
)
def health(svc: Svc) -> JSONResponse:
    if svc.runtime.failure is not None:
        return JSONResponse({"status": "unavailable", "detail": STOPPED}, 503)
    return JSONResponse({"status": "ok"})


@router.get("/ready", response_model=Health, responses={503: {"model": Health}})
def ready(svc: Svc) -> JSONResponse:
    problem = _problem(svc)
    if problem:
        return JSONResponse({"status": "unavailable", "detail": problem}, 503)
    return JSONResponse({"status": "ready"})


def _problem(svc: Svc) -> str | None:
    if svc.runtime.failure is not None:
        return STOPPED
    if svc.config.start_runtime and not svc.runtime.running:
        return "the runtime is not running"
    try:
        svc.runtime.orders(limit=1)
    except Exception:  # any store failure means not ready; the reason stays in the log
        return "the store does not answer"
    return None
