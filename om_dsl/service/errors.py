"""Every error leaves the service as a TMF ``Error`` body, never as a traceback.

``{"code", "reason", "message", "status", "@type": "Error"}``, plus ``issues`` (each with a
``code``, a JSON ``path`` into the request and a ``message``) when an order or a request body
is invalid.  The exceptions of :mod:`om_dsl.errors` map to statuses here, in one table:
:class:`NotFound` 404, :class:`OperatorActionRejected` and :class:`IllegalTransition` 409,
order and request validation 400, :class:`RuntimeStopped` 503 (with ``Retry-After``: the
runtime's loop died and the service is exiting, so that its supervisor restarts it).  A store
that cannot be written or read now (a full disk, a read-only file, a database locked beyond the
busy timeout) is a 503 ``storeUnavailable`` with ``Retry-After``, logged in one line: it was a
500 with a traceback per request.  Anything else unexpected is logged with its traceback
(without the request body) and answered 500 with a generic message.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from om_dsl.errors import (
    DecompositionError,
    IllegalTransition,
    NotFound,
    OmError,
    OperatorActionRejected,
    OrderIssue,
    OrderValidationError,
    PlanError,
)
from om_dsl.runtime.runtime import RuntimeStopped
from om_dsl.runtime.store.sqlite import store_unavailable
from om_dsl.service.logs import masked
from om_dsl.service.request_issues import body_number_issues, request_issues, undecodable_issue

log = logging.getLogger("om_dsl.service")


class ApiError(Exception):
    """An error the service raises itself, with its HTTP status and TMF code."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        issues: Sequence[OrderIssue] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.issues = list(issues)
        self.headers = dict(headers or {})


class RefusedBeforeBody(HTTPException):
    """A request refused by the token check before its body was read: an HTTPException, the
    one kind FastAPI lets through from a body read (anything else became a 400 "error parsing
    the body"); :func:`_http_error` answers it with :attr:`error`
    (:mod:`om_dsl.service.token_first`)."""

    def __init__(self, error: ApiError) -> None:
        super().__init__(error.status, error.message, error.headers)
        self.error = error


REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    500: "Internal Server Error",
    501: "Not Implemented",
    503: "Service Unavailable",
}
RETRY_AFTER_S = 10
"""The ``Retry-After`` of a 503: the service cannot take the request now, and will soon."""
# (exception type, status, code); the first match wins, so subclasses come first.
_MAPPING: tuple[tuple[type[Exception], int, str], ...] = (
    (RuntimeStopped, 503, "runtimeStopped"),
    (OrderValidationError, 400, "invalidOrder"),
    (DecompositionError, 400, "decompositionFailed"),
    (PlanError, 400, "planFailed"),
    (NotFound, 404, "notFound"),
    (OperatorActionRejected, 409, "rejected"),
    (IllegalTransition, 409, "illegalTransition"),
    (OmError, 400, "invalidRequest"),
)


def error_body(
    status: int, code: str, message: str, issues: Sequence[OrderIssue] = ()
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "code": code,
        "reason": REASONS.get(status, "Error"),
        "message": message,
        "status": str(status),
    }
    if issues:
        body["issues"] = [issue.to_dict() for issue in issues]
    body["@type"] = "Error"
    return body


def error_response(
    status: int,
    code: str,
    message: str,
    issues: Sequence[OrderIssue] = (),
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(error_body(status, code, message, issues), status, headers=headers)


def install(app: FastAPI) -> None:
    """Register the handlers that turn every exception into a TMF error body."""
    app.add_exception_handler(ApiError, _api_error)  # type: ignore[arg-type]
    app.add_exception_handler(OmError, _om_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _invalid_request)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _http_error)  # type: ignore[arg-type]


async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
    return api_error_response(exc)


def api_error_response(exc: ApiError) -> JSONResponse:
    """The TMF error answer of ``exc`` (a 401 with ``WWW-Authenticate: Bearer``)."""
    headers = {**exc.headers, "WWW-Authenticate": "Bearer"} if exc.status == 401 else exc.headers
    return error_response(exc.status, exc.code, exc.message, exc.issues, headers or None)


async def _om_error(_request: Request, exc: OmError) -> JSONResponse:
    status, code = classify(exc)
    issues = getattr(exc, "issues", ())
    headers = {"Retry-After": str(RETRY_AFTER_S)} if status == 503 else None
    return error_response(status, code, _message(exc, issues), issues, headers)


def classify(exc: OmError) -> tuple[int, str]:
    for kind, status, code in _MAPPING:
        if isinstance(exc, kind):
            return status, code
    return 400, "invalidRequest"


def _message(exc: OmError, issues: Sequence[OrderIssue]) -> str:
    if isinstance(exc, OrderValidationError):
        return f"the order is invalid: {len(issues)} problem(s); first: {issues[0]}"
    return short_ids(str(exc)) if isinstance(exc, NotFound) else str(exc)


SHOWN_ID_CHARS = 64
"""How much of an id a 404's message quotes: a known id is at most 200 characters, and one
that is not known can be as long as a URL."""
_LONG_WORD = re.compile(rf"(\S{{{SHOWN_ID_CHARS}}})\S+?([:;,)]?)(?=\s|$)")


def short_ids(message: str) -> str:
    """``message`` with each run of more than :data:`SHOWN_ID_CHARS` characters without a
    blank (an id it quotes) cut to that many, then ``…`` (and the punctuation that ended the
    run, ``no task 'AAA…: ...``): a 404 for ``GET /productOrder/<60,000 characters>`` echoed
    them all, whichever layer (service, runtime, renderer) worded it."""
    return _LONG_WORD.sub(r"\1…\2", message)


async def _invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
    issues = request_issues(exc.errors(), _body_model(request), exc.body)
    return _invalid(issues)


def _invalid(issues: Sequence[OrderIssue]) -> JSONResponse:
    return api_error_response(invalid_request(issues))


def invalid_request(issues: Sequence[OrderIssue]) -> ApiError:
    """The 400 of a request (not an order) with ``issues``, as FastAPI's own checks get it."""
    message = f"the request is invalid: {len(issues)} problem(s); first: {issues[0]}"
    return ApiError(400, "invalidRequest", message, issues)


def _body_model(request: Request) -> type[BaseModel] | None:
    """The model the route reads its body with (None for a route without one)."""
    field = getattr(request.scope.get("route"), "body_field", None)
    model = getattr(getattr(field, "field_info", None), "annotation", None)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


_HTTP_CODES = {404: "notFound", 405: "methodNotAllowed", 413: "payloadTooLarge"}


async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
    if isinstance(exc, RefusedBeforeBody):
        return api_error_response(exc.error)
    if exc.status_code == 400:  # only FastAPI's body parser raises it: JSON could not decode
        # An integer of more than 4,300 digits is one reason: said as for an order (O004).
        numbers = body_number_issues(await request.body())
        return _invalid(numbers or [undecodable_issue(exc.__cause__)])
    code = _HTTP_CODES.get(exc.status_code, "httpError")
    message = str(exc.detail) if exc.detail else REASONS.get(exc.status_code, "error")
    headers = exc.headers
    if exc.status_code == 405:
        headers = {**(headers or {}), "Allow": _allowed_methods(request)}
        message = _not_allowed(request) or message
    return error_response(exc.status_code, code, message, headers=headers)


_ORDER_PATH = re.compile(r"/productOrder(/[^/]+)?$")
CANCEL_HINT = (
    "an order is not deleted but cancelled: POST /cancelProductOrder "
    '{"productOrder": {"id": "...", "@referredType": "ProductOrder"}}'
)


def _not_allowed(request: Request) -> str | None:
    """What a 405 says besides "Method Not Allowed", when a client is likely to have meant
    something the API does another way: ``DELETE /productOrder/{id}`` (TMF622 defines a
    DELETE, which this service leaves out: an order is cancelled, with its compensations)."""
    if request.method == "DELETE" and _ORDER_PATH.search(request.scope.get("path", "")):
        return f"DELETE is not allowed here: {CANCEL_HINT}"
    return None


def _allowed_methods(request: Request) -> str:
    """Every method the path takes, for a 405's ``Allow``.

    Starlette names only the methods of the first route whose path matches, so
    ``PUT /productOrder/X`` said ``Allow: PATCH`` although GET and DELETE work there too.
    """
    table: MethodTable = request.app.state.om_methods
    return ", ".join(table.allowed(request.scope.get("path", "")))


class MethodTable:
    """The methods of each route path, gathered when the app is built (FastAPI keeps its
    included routes in private structures, so they are not read back at request time)."""

    def __init__(self) -> None:
        self._paths: list[tuple[re.Pattern[str], frozenset[str]]] = []

    def add(self, routers: Iterable[APIRouter], prefix: str = "") -> None:
        for router in routers:
            for route in router.routes:
                methods = getattr(route, "methods", None)
                if methods:
                    regex, _, _ = compile_path(prefix + getattr(route, "path", ""))
                    self._paths.append((regex, frozenset(methods)))

    def allowed(self, path: str) -> list[str]:
        methods: set[str] = set()
        for regex, taken in self._paths:
            if regex.match(path):
                methods |= taken
        return sorted(methods)


class CatchAll:
    """The last resort, as an ASGI middleware: an exception no handler took becomes a 500 TMF
    error, logged with its traceback (never shown to the client).

    Starlette's own last resort re-raises after answering, and uvicorn then drops the
    connection, so a client's next request on that keep-alive connection fails too; this one
    answers and carries on.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception as exc:
            if _disconnected(exc):  # no one to answer, and nothing went wrong here
                log.info("%s %s: the client disconnected before its request body was read",
                         scope.get("method"), request_path(scope))  # fmt: skip
                return
            unavailable = store_unavailable(exc)
            _log_unexpected(scope, exc, unavailable)
            if started:
                raise
            await _last_resort(unavailable)(scope, receive, send)


INTERNAL = "internal error; the service log has the details"
UNAVAILABLE = (
    "the order store cannot be written or read now; try again later (the service log says why)"
)


def _disconnected(exc: BaseException) -> bool:
    """Whether ``exc`` is, or was caused by, Starlette's ``ClientDisconnect``: the client
    went away while its body was read (FastAPI turns that into a 400 whose handler reads the
    body again).  Thousands of them were logged as internal errors with a traceback."""
    seen: BaseException | None = exc
    for _ in range(10):  # a chain of causes is short; a loop of them must not hang
        if seen is None:
            return False
        if isinstance(seen, ClientDisconnect):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _last_resort(unavailable: bool) -> JSONResponse:
    if unavailable:
        headers = {"Retry-After": str(RETRY_AFTER_S)}
        return error_response(503, "storeUnavailable", UNAVAILABLE, headers=headers)
    return error_response(500, "internalError", INTERNAL)


def _log_unexpected(scope: Scope, exc: Exception, unavailable: bool) -> None:
    """One line for a store that cannot be used now (a traceback per request said nothing
    more, many times); a traceback for anything else, which is a bug."""
    where = f"{scope.get('method')} {request_path(scope)}"
    if unavailable:
        log.error("the store cannot be used, answered 503 on %s: %s", where, exc)
    else:
        log.error("internal error on %s: %s: %s", where, type(exc).__name__, exc, exc_info=exc)


def request_path(scope: Scope) -> str:
    """The request's route (``/productOrder/{id}``), or its path when no route matched, for a
    log line; a callback's token is masked: it is a credential.  The route alone used to be
    named, and was unknown (``?``) for any request that failed before or outside a route."""
    route = getattr(scope.get("route"), "path", None)
    return route if isinstance(route, str) else masked(str(scope.get("path", "?")))
