"""``POST /prune``: remove finished orders older than a retention period, as ``om prune``
does, for an admin token (:mod:`om_dsl.service.retention`)."""

from __future__ import annotations

from fastapi import APIRouter

from om_dsl.service import retention
from om_dsl.service.context import Svc, Who
from om_dsl.service.models import Prune, PruneAnswer
from om_dsl.service.routes.common import AUTH_JSON, DECLARED_QUERY, errors

router = APIRouter(
    tags=["operations"], dependencies=[*AUTH_JSON, *DECLARED_QUERY], responses=errors(400)
)


@router.post("/prune", response_model=PruneAnswer, responses=errors(409, 501))
def prune(svc: Svc, who: Who, body: Prune) -> dict[str, object]:
    """Remove the orders that finished longer ago than `olderThan`, with every row that
    belongs only to them, in transactions of at most 500 orders; `dryRun` says what would
    go.  The answer is `om prune --format json`'s report.  `--vacuum` is the CLI's only."""
    return retention.prune(svc, body, who.name)
