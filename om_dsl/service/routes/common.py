"""What the routers share: the auth dependency and the documented error answers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query
from fastapi.responses import JSONResponse

from om_dsl.service.context import Service, principal
from om_dsl.service.models import Error

AUTH = [Depends(principal)]
Fields = Annotated[
    str | None, Query(max_length=1000, description="Comma-separated first-level attributes")
]
"""Router-level: every route of a router that lists it needs a valid API token."""
MAX_OFFSET = 2**31
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip (TMF paging)")]
Limit = Annotated[
    int | None, Query(ge=1, le=MAX_OFFSET, description="Page size (capped by the service)")
]


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the TMF error answers of the route itself (404, 409, 503); those
    that follow from its shape (400, 401, 403, 413) are added by :mod:`om_dsl.service.openapi`."""
    return {status: {"model": Error} for status in sorted(statuses)}


def page_size(svc: Service, limit: int | None) -> int:
    """A list request's page: the client's ``limit``, or the service's default, capped."""
    return min(limit or svc.config.default_page, svc.config.max_page)


def page(body: list[dict[str, Any]], total: int) -> JSONResponse:
    """A TMF list answer: the page, with ``X-Total-Count`` (all that match) and
    ``X-Result-Count`` (what this page holds)."""
    headers = {"X-Total-Count": str(total), "X-Result-Count": str(len(body))}
    return JSONResponse(body, headers=headers)
