"""What every route needs, built once per app: the runtime, the settings, the decomposer that
validates orders, the TMF views of orders, the token check and the client's side of cancel
requests.

Routes receive it as a FastAPI dependency (``svc: Svc``) and the principal (``who: Who``), so a
route is a few lines: read, call the runtime, shape the answer.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials

from om_dsl.orders.decompose import Decomposer
from om_dsl.runtime.notify.tmf import OrderViews
from om_dsl.runtime.notify.tmf_text import href
from om_dsl.runtime.runtime import Runtime
from om_dsl.service.auth import Principal, TokenCheck, bearer, check_role, proxied_for
from om_dsl.service.cancel_records import CancelRecord, CancelRecords
from om_dsl.service.config import ServiceConfig
from om_dsl.service.order_requests import OrderRequests
from om_dsl.service.roles import RouteRoles


@dataclass
class Service:
    runtime: Runtime
    config: ServiceConfig
    decomposer: Decomposer
    views: OrderViews
    tokens: TokenCheck
    base_url: str
    cancels: CancelRecords
    requests: OrderRequests
    cancel_lock: threading.Lock = field(default_factory=threading.Lock)
    """Cancel requests are found in the event log right after they are made; one at a time
    keeps two concurrent cancels of one order from reading each other's entry."""
    cancel_pending: dict[str, CancelRecord] = field(default_factory=dict)
    """Order id -> the cancel request being made for it (under :attr:`cancel_lock`): the
    views read it until the record is stored under its row's number."""
    key_lock: threading.Lock = field(default_factory=threading.Lock)
    """Creates with an ``Idempotency-Key`` run one at a time, from the key's look-up to its
    record: two requests with one key and different ids must not both create an order."""
    prune_lock: threading.Lock = field(default_factory=threading.Lock)
    """One ``POST /prune`` at a time: a second one while the first runs is refused (409),
    rather than both holding the store's write lock in turns."""

    def href(self, collection: str, ident: str) -> str:
        """The URL of a resource; the id is percent-encoded (one path segment)."""
        return href(f"{self.base_url}/{collection}", ident)


def service(request: Request) -> Service:
    found: Service = request.app.state.om_service
    return found


Svc = Annotated[Service, Depends(service)]


PRINCIPAL_STATE = "om_principal"
"""The request-state key under which :class:`~om_dsl.service.token_first.TokenFirst` keeps
the client it let in before the body was read."""


def principal(
    request: Request,
    svc: Svc,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """Who calls (a 401 or 403 :class:`~om_dsl.service.errors.ApiError` otherwise: no valid
    token, or one whose role is below the route's): the client the token check before the
    body found, or checked now."""
    state = request.scope.setdefault("state", {})
    known = state.get(PRINCIPAL_STATE)
    if not isinstance(known, Principal):
        known = state[PRINCIPAL_STATE] = _check(request, svc, credentials)
    return known


async def identify(request: Request) -> Principal:
    """:func:`principal` for a request no route has taken yet (the app's service is read
    from the app in its scope), from its headers alone."""
    return _check(request, service(request), await bearer(request))


def _check(
    request: Request, svc: Service, credentials: HTTPAuthorizationCredentials | None
) -> Principal:
    client = request.client.host if request.client else ""
    headers = request.headers
    who = svc.tokens.principal(credentials, client, headers.get("host"), headers.get("origin"),
                               proxied_for(headers))  # fmt: skip
    roles: RouteRoles = request.app.state.om_roles
    needed, path = roles.needed(request.scope.get("route"), request.method)
    check_role(who, needed, request.method, path)
    return who


Who = Annotated[Principal, Depends(principal)]
