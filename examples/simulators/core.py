"""Request/reply value types shared by every simulator server.

Handlers never touch sockets: they get a parsed :class:`Request` and return a status and a JSON
body, or raise :class:`HttpError`. That keeps the system modules tiny and guarantees that every
answer, including errors, is JSON (never an HTML page or a Python traceback).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

Json = Any
"""Any value that ``json.loads`` can return."""

JsonObject = dict[str, Json]

MUTATING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

IDEMPOTENCY_KEY = "Idempotency-Key"
CORRELATION_ID = "X-Correlation-Id"
CALLBACK_URL = "X-Callback-Url"
SIM_FAULT = "X-Sim-Fault"
PREFER = "Prefer"

SENSITIVE_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key"})
REDACTED = "***"


class HttpError(Exception):
    """Raised anywhere below a handler to answer with a JSON error body."""

    def __init__(self, status: int, error: str, **detail: Json) -> None:
        super().__init__(error)
        self.status = status
        self.body: JsonObject = {"error": error, **detail}


@dataclass(frozen=True)
class Reply:
    """What the HTTP layer writes back; ``drop`` closes the socket without an answer."""

    status: int
    body: Json = None
    headers: tuple[tuple[str, str], ...] = ()
    drop: bool = False

    @property
    def ok(self) -> bool:
        """True for 2xx, the only answers that count as an applied effect."""
        return 200 <= self.status < 300


@dataclass
class Request:
    """One parsed HTTP request; the JSON body is decoded lazily so admin calls stay cheap."""

    method: str
    path: str
    query: dict[str, str]
    headers: list[tuple[str, str]]
    raw_body: bytes = b""
    params: dict[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        """Case-insensitive header lookup (HTTP header names are case-insensitive)."""
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None

    @cached_property
    def body(self) -> Json:
        """The decoded JSON body, ``None`` when empty; invalid JSON is a 400, not a crash."""
        if not self.raw_body.strip():
            return None
        try:
            return json.loads(self.raw_body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise HttpError(400, "invalid JSON body", detail=str(exc)) from None

    def json_object(self) -> JsonObject:
        """The body as an object: handlers index fields without type checks of their own."""
        body = self.body
        if body is None:
            return {}
        if not isinstance(body, dict):
            raise HttpError(400, "JSON body must be an object")
        return body

    def redacted_headers(self) -> dict[str, str]:
        """Headers for the request log, with credentials replaced so logs never leak secrets."""
        return {
            key: (REDACTED if key.lower() in SENSITIVE_HEADERS else value)
            for key, value in self.headers
        }

    def logged_body(self) -> Json:
        """The body for logs: JSON when it parses, else the raw text (bad JSON is logged too)."""
        try:
            return self.body
        except HttpError:
            return self.raw_body.decode("utf-8", "replace")


def require(body: JsonObject, *names: str) -> None:
    """Answer 400 listing every missing field at once, like a form validator would."""
    missing = [name for name in names if body.get(name) in (None, "")]
    if missing:
        raise HttpError(400, "missing required fields", fields=missing)
