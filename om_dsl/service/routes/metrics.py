"""``GET /metrics``: Prometheus's text format, with the token of the other read routes (the
counts say how much business the service does; a scraper sends a bearer token)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from om_dsl.service.context import Svc
from om_dsl.service.metrics import CONTENT_TYPE, exposition
from om_dsl.service.routes.common import AUTH, DECLARED_QUERY, errors

router = APIRouter(tags=["operations"], dependencies=[*AUTH, *DECLARED_QUERY])
TEXT: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/plain": {}}, "description": "Prometheus text exposition format 0.0.4"}
}


@router.get("/metrics", response_class=Response, responses={**TEXT, **errors(400)})
def metrics(svc: Svc) -> Response:
    return Response(exposition(svc.runtime), media_type=CONTENT_TYPE)
