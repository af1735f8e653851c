"""A callout item's request and response mappings: compiled once per catalog item, then used
for every attempt.

The request is built from the catalog alone: the system's base URL (or its environment
variable), the item's method and path (placeholders evaluated and percent-encoded), the body
from the item's ``request`` object over ``line``/``order``/``item``/``product``, and the
protocol headers.  Response mappings read ``body`` strictly: a missing field is a failure that
names its path.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from om_dsl import jsontext
from om_dsl.expr.evaluate import Compiled, EvalError, compile_expr
from om_dsl.ir import models as ir
from om_dsl.runtime.downstream.urls import path_text
from om_dsl.runtime.templates import TextTemplate

IDEMPOTENCY_KEY = "Idempotency-Key"
CORRELATION_ID = "X-Correlation-Id"
CALLBACK_URL = "X-Callback-Url"
PREFER = "Prefer"
RESPOND_ASYNC = "respond-async"
STRICT_BODY = frozenset({"body"})


class RequestError(Exception):
    """The request cannot be built; retrying would build the same one (permanent)."""


def idempotency_key(order_id: str, item_id: str, installation_id: str, key_from: int = 1) -> str:
    """The ``Idempotency-Key`` header of an item as submitted (never amended), sent from the
    store whose installation id is ``installation_id`` (``runtime.installation_id``), from
    attempt ``key_from`` on (1, or the attempt after the last definite failure): what a test
    or a simulator compares the requests it got with."""
    return idempotency_header(installation_id, f"{order_id}/{item_id}", key_from)


def idempotency_header(installation_id: str, key: str, key_from: int | None = 1) -> str:
    """The ``Idempotency-Key`` header of an item: the same for every attempt and after
    restarts while the outcome of the last one is unknown, another one from the attempt after
    one its system answered with a definite failure (``key_from``), and another one when an
    amendment runs the item again with new values.

    A hash of the store's installation id, of ``key_from`` and of the item's
    :attr:`ItemContext.idempotency_key` (``<order id>/<item id>``, with ``@<revision>`` for
    such a new run), so that it is header-safe whatever the ids contain, and so that another
    store (staging beside production, a store made anew) running an order with the same id
    sends other keys: a system that deduplicates by key gave the second order the first
    one's result.  The installation id is hex and ``key_from`` a number, so ``:`` separates
    them unambiguously.  ``key_from`` None: an item an older om_dsl started keeps the key it
    sent, unsalted, so that its system still recognises a repeat.
    """
    text = key if key_from is None else f"{installation_id}:{key_from}:{key}"
    digest = hashlib.sha256(text.encode()).hexdigest()
    return f"om-{digest[:40]}"


def correlation_id(order_id: str, item_id: str, attempt: int) -> str:
    """``<order id>/<item id>#<attempt>``, percent-encoded where a header could not carry it."""
    return quote(f"{order_id}/{item_id}#{attempt}", safe="/:#[]()._-~@!$&'*+,;=")


class CompiledCallout:
    """The closures of one catalog callout item."""

    __slots__ = ("path", "request", "response", "spec")

    def __init__(self, spec: ir.CalloutItem) -> None:
        self.spec = spec
        self.path = TextTemplate(spec.path_expr)
        self.request = compile_expr(spec.request) if spec.request is not None else None
        self.response = [(m.target, compile_expr(m.expr, STRICT_BODY)) for m in spec.response]

    def render_path(self, env: Mapping[str, Any]) -> str:
        """The path with every placeholder value percent-encoded whole.

        Raises:
            RequestError: a placeholder is null, or is ``.``/``..`` (it would change the path).
        """
        return self.path.render(env, "the path placeholder", _path_segment, RequestError)

    def body(self, env: Mapping[str, Any]) -> bytes | None:
        """The JSON request body, or None when the item declares none."""
        if self.request is None:
            return None
        value = _evaluate(self.request, env, "the request mapping")
        try:
            return json.dumps(value, default=_json_default, separators=(",", ":")).encode()
        except (TypeError, ValueError) as exc:
            raise RequestError(f"the request body is not JSON: {exc}") from None

    def outputs(self, env: Mapping[str, Any]) -> dict[str, Any]:
        """The item's outputs from ``env["body"]``.

        Raises:
            EvalError: a mapping failed; a missing field says its path (``body.port.id``).
        """
        return {name: _jsonable(fn(env)) for name, fn in self.response}


def _path_segment(value: Any, placeholder: str) -> str:
    if str(value) in (".", ".."):  # it would change the path
        raise RequestError(f"the path placeholder {{{placeholder}}} is {str(value)!r}")
    return path_text(value)


def _evaluate(fn: Compiled, env: Mapping[str, Any], what: str) -> Any:
    try:
        return fn(env)
    except EvalError as exc:
        raise RequestError(f"{what} failed: {exc}") from None


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not a JSON value")


def _jsonable(value: Any) -> Any:
    """Outputs are stored as JSON: dates become ISO text like in request bodies."""
    if isinstance(value, dt.date | dt.datetime | decimal.Decimal | set | frozenset | tuple):
        return _json_default(value)
    return value


MAX_ANSWER_BYTES = 1024 * 1024
"""The largest answer or callback body read (1 MiB): a callback over it is refused (413), and
a synchronous answer over it fails the attempt, read no further than that (a 5 MB answer
mapped whole into an output was stored, and printed by ``om status``)."""
MAX_ANSWER_TEXT = f"{MAX_ANSWER_BYTES / 2**20:g} MiB"

ANSWER_DEPTH = 256
"""Nesting a downstream answer or callback may have: generous (the runtime does not shape
them), but bounded, so that a hostile one is a clear failure, not a ``RecursionError``."""


def parse_body(raw: bytes) -> Any:
    """The JSON body of an answer (None when empty).

    Raises:
        ValueError: the body is not JSON the store can keep (:func:`om_dsl.jsontext.loads`:
            the message says why).
    """
    if not raw.strip():
        return None
    return jsontext.loads(raw, max_depth=ANSWER_DEPTH)
