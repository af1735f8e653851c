"""What the routers share: the auth dependency and the documented error answers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query

from om_dsl.service.context import principal
from om_dsl.service.models import Error

AUTH = [Depends(principal)]
Fields = Annotated[
    str | None, Query(max_length=1000, description="Comma-separated first-level attributes")
]
"""Router-level: every route of a router that lists it needs a valid API token."""


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the TMF error answers of the route itself (404, 409, 503); those
    that follow from its shape (400, 401, 403, 413) are added by :mod:`om_dsl.service.openapi`."""
    return {status: {"model": Error} for status in sorted(statuses)}
