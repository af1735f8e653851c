"""What the routers share: the auth dependency and the documented error answers."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Query, Request
from fastapi.dependencies.models import Dependant
from fastapi.responses import JSONResponse, Response

from om_dsl.errors import OrderIssue
from om_dsl.orders.body_text import body_text_issues
from om_dsl.orders.issues import show
from om_dsl.service.context import Service, principal
from om_dsl.service.errors import invalid_request
from om_dsl.service.models import Error
from om_dsl.service.orders import refuse_unknown_parameters
from om_dsl.service.request_issues import body_number_issues


async def sound_numbers(request: Request) -> None:
    """A body FastAPI reads (with a model) is UTF-8 text, gives no key twice in one object
    (S010, S026: :func:`body_text_issues`) and holds no number JSON lacks or an order could
    not hold: ``NaN``, ``Infinity``, ``1e999``, an integer of more than 30 digits (400, O004,
    the order's check).  Python's reader takes them all, so ``{"outputs": {"x": NaN}}``
    reached the runtime and came back a 409 "rejected", and in a TMF extension field it was
    ignored; a UTF-16 body was taken, and a repeated key's last value.

    A dependency after the token check (an unknown client learns nothing about its body);
    the routes that read their raw body (orders, callbacks) check it with their own reader.
    """
    body = await request.body()
    issues = body_text_issues(body) or body_number_issues(body)
    if issues:
        raise invalid_request(issues)


LISTS = frozenset({"state", "status", "fields"})
"""Query parameters that take several values, as one comma-separated list."""


async def single_values(request: Request) -> None:
    """Each query parameter the route reads is given once (400, S019, naming it).

    Starlette keeps every value of a repeated parameter, and FastAPI reads the last, so
    ``state=completed&state=held`` listed the held orders alone: a wrong answer to a client
    that meant both.  A parameter the route does not read is left to the route (the list's
    S016), and a route's own parameters are known from its signature, so one check serves
    every route.
    """
    query = request.query_params
    issues = [_repeated(name, query.getlist(name)) for name in sorted(_route_query(request))
              if len(query.getlist(name)) > 1]  # fmt: skip
    if issues:
        raise invalid_request(issues)


def declared_query(request: Request) -> None:
    """A query parameter the route does not declare is a 400 (S016), as on the TMF lists: a
    typo (``/tasks?queu=field_techs``) was ignored and answered with every task.  The names
    are read from the route's own declaration, so they cannot drift from it."""
    refuse_unknown_parameters(request.query_params, _route_query(request))


def _route_query(request: Request) -> list[str]:
    """The query parameters the request's route (and its dependencies) reads."""
    dependant = getattr(request.scope.get("route"), "dependant", None)
    return _query_names(dependant) if isinstance(dependant, Dependant) else []


def _query_names(dependant: Dependant) -> list[str]:
    """The query parameters of a route (or dependency) and of its dependencies."""
    names = [param.alias for param in dependant.query_params]
    for sub in dependant.dependencies:
        names += _query_names(sub)
    return list(dict.fromkeys(names))


def _repeated(name: str, values: list[str]) -> OrderIssue:
    message = f"query parameter {name} is given {len(values)} times; give it once"
    if name in LISTS:
        joined = show(f"{name}={','.join(values)}")
        message += f", with its values as one comma-separated list: {joined}"
    return OrderIssue("S019", f"query.{name}", message)


AUTH = [Depends(principal), Depends(single_values)]
"""Router-level: every route of a router that lists it needs a valid API token, and takes
each of its query parameters once (:func:`single_values`, after the token check)."""
AUTH_JSON = [*AUTH, Depends(sound_numbers)]
"""Router-level, for the routers whose routes read a body with a model: the token, then
:func:`sound_numbers`."""
DECLARED_QUERY = [Depends(declared_query)]
"""Router-level (after the token): :func:`declared_query`.  Such a router declares the 400
for every route (``responses=errors(400)``): a route without parameters refuses any."""
Fields = Annotated[
    str | None,
    Query(min_length=1, max_length=1000, description="Comma-separated first-level attributes"),
]
NO_CONTENT: dict[str, Any] = {"status_code": 204, "response_class": Response}
"""A route that answers 204: no body and no ``Content-Type`` (RFC 9110).  FastAPI's default
response class, JSON, empties the body of a 204 but kept ``content-type: application/json``."""
MAX_OFFSET = 2**31
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip (TMF paging)")]
Limit = Annotated[
    int | None, Query(ge=1, le=MAX_OFFSET, description="Page size (capped by the service)")
]


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the TMF error answers of the route itself (404, 409, 503); those
    that follow from its shape (400, 401, 403, 413) are added by :mod:`om_dsl.service.openapi`."""
    return {status: {"model": Error} for status in sorted(statuses)}


SENT_SAFE = "!$&'()*+,;=:@%"
"""What stays as it is when a path segment is shown (RFC 3986's sub-delimiters, ``:`` and
``@``, and ``%`` to keep the client's escapes); anything else is percent-escaped."""


def as_sent(request: Request, name: str) -> str:
    """The path parameter ``name`` as the client wrote it in the URL, escapes and all, for a
    message that quotes it: the decoded value can be garbage (uvicorn decodes a ``%FF`` that
    is not UTF-8 into U+FFFD) or hold control characters.

    Read from the raw path, counting from its end (a parameter holds no ``/``, and a proxy's
    prefix comes first); the decoded value, escaped, when the raw path is not there.
    """
    template = getattr(request.scope.get("route"), "path", "").split("/")
    raw = request.scope.get("raw_path")
    marker = "{" + name + "}"
    if marker in template and isinstance(raw, bytes):
        from_end = len(template) - template.index(marker)
        segments = raw.split(b"/")
        if len(segments) >= from_end:
            return quote(segments[-from_end], safe=SENT_SAFE)
    return quote(str(request.path_params.get(name, "")), safe=SENT_SAFE)


def page_size(svc: Service, limit: int | None) -> int:
    """A list request's page: the client's ``limit``, or the service's default, capped."""
    return min(limit or svc.config.default_page, svc.config.max_page)


def page(body: list[dict[str, Any]], total: int) -> JSONResponse:
    """A TMF list answer: the page, with ``X-Total-Count`` (all that match) and
    ``X-Result-Count`` (what this page holds)."""
    headers = {"X-Total-Count": str(total), "X-Result-Count": str(len(body))}
    return JSONResponse(body, headers=headers)
