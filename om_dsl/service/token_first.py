"""The API token is checked before a request body is read.

FastAPI reads and parses the body of a route that takes a model before it resolves the
route's dependencies, the token check among them: without a token, ``POST /hub`` (say) waited
for the whole declared body, so a client with no credential could hold a connection for as
long as it trickled one (``POST /productOrder``, which reads its body in the route, answered
401 at once).

This ASGI middleware hands the app a ``receive`` that, before the first part of the body is
read, checks the token of a route that needs one (the route FastAPI's own routing chose,
which it writes into the request's scope): a refusal (401, dev mode's 403, or the 403 of a
token whose role is below the route's: :mod:`om_dsl.service.roles`) stops the read
with :class:`RefusedBeforeBody`, answered as the TMF error it is, with ``Connection: close``
(the body is never read).  A client let in is kept in the request's state, so that the route's
own dependency does not check it again.
"""

from __future__ import annotations

from fastapi.dependencies.models import Dependant
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from om_dsl.service.context import PRINCIPAL_STATE, identify, principal
from om_dsl.service.errors import ApiError, RefusedBeforeBody


class TokenFirst:
    """ASGI middleware: see the module docstring."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._needs: dict[int, bool] = {}
        """Whether each route (by id: routes live as long as the app) needs the token."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        checked = False

        async def token_first() -> Message:
            nonlocal checked
            if not checked:
                checked = True
                await self._check(scope)
            return await receive()

        await self.app(scope, token_first, send)

    async def _check(self, scope: Scope) -> None:
        """The token of a route that needs one, unless the route's dependency checked it."""
        state = scope.setdefault("state", {})
        if PRINCIPAL_STATE in state or not self._guarded(scope.get("route")):
            return
        try:
            state[PRINCIPAL_STATE] = await identify(Request(scope))
        except ApiError as exc:
            raise RefusedBeforeBody(exc) from None

    def _guarded(self, route: object) -> bool:
        """Whether ``route`` needs the token (:func:`needs_token`), remembered."""
        if route is None:
            return False
        key = id(route)
        if key not in self._needs:
            self._needs[key] = needs_token(route)
        return self._needs[key]


def needs_token(route: object) -> bool:
    """Whether ``route`` needs an API token: its dependencies (its router's too) hold
    :func:`~om_dsl.service.context.principal`."""
    dependant = getattr(route, "dependant", None)
    return isinstance(dependant, Dependant) and _uses_principal(dependant)


def _uses_principal(dependant: Dependant) -> bool:
    return any(sub.call is principal or _uses_principal(sub) for sub in dependant.dependencies)
