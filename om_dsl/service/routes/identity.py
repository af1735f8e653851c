"""``GET /whoami``: the client a token belongs to and its role.

A CRM team or an SRE wiring a new token had no way to check it short of calling a route and
reading the 403: this answers with what the service made of the token (its name and role, or
dev mode), never the token itself, to any valid token (the ``read`` role)."""

from __future__ import annotations

from fastapi import APIRouter

from om_dsl.service.context import Svc, Who
from om_dsl.service.models import WhoAmI
from om_dsl.service.roles import Role
from om_dsl.service.routes.common import AUTH, DECLARED_QUERY, errors

router = APIRouter(tags=["operations"], dependencies=[*AUTH, *DECLARED_QUERY])


@router.get("/whoami", response_model=WhoAmI, responses=errors(400))
def whoami(svc: Svc, who: Who) -> dict[str, object]:
    """The calling client's name and role, the roles it holds (its own and those below it),
    and whether the service runs in dev mode (no tokens: every caller on loopback is `dev`,
    an admin)."""
    return {
        "client": who.name,
        "role": str(who.role),
        "roles": [str(role) for role in Role if role <= who.role],
        "devMode": svc.tokens.dev_mode,
    }
