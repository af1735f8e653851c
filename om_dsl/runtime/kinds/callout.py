"""``callout`` items: an HTTP request to a system declared in the catalog.

One attempt = one request.  What comes back becomes an outcome the runtime understands:

* 2xx: the response mappings give the item's outputs (a missing field fails the attempt, and
  so does an answer over :data:`~om_dsl.runtime.downstream.request.MAX_ANSWER_BYTES`, read
  no further);
* 202 to an ``async`` callout: the item waits for the callback (``runtime.callback``), which
  carries an unguessable single-use token in its URL; a synchronous 2xx completes it at once;
* a status the system lists as ``permanent``: fallout at once (fatally failed, order held);
* any other status, a timeout, a refused connection: a failed attempt, retried by the item's
  policy, else the system's;
* the system is offline: the item is held until it comes back online.

Every request carries the item's ``Idempotency-Key`` (salted with the store's installation id;
the same on every attempt and after restarts while the last attempt's outcome is unknown, a new
one once its system answered with a failure: see :class:`~om_dsl.runtime.outcomes.Failed`) and
an ``X-Correlation-Id`` naming the attempt.
Credentials come from environment variables at call time.  Whatever is kept from an answer or
a callback (reasons, outputs, early callback payloads) is redacted of them first, in every form,
and only then shortened (see :mod:`~om_dsl.runtime.downstream.redaction`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from om_dsl.expr.evaluate import EvalError
from om_dsl.ir import models as ir
from om_dsl.oneline import one_line, shorten
from om_dsl.runtime.context import ItemContext
from om_dsl.runtime.downstream.auth import Credentials, MissingSecret, catalog_secrets, credentials
from om_dsl.runtime.downstream.http import Answer, ClientPool, TransportFailure, send
from om_dsl.runtime.downstream.redaction import excerpt, redact, redact_value
from om_dsl.runtime.downstream.request import (
    CALLBACK_URL,
    CORRELATION_ID,
    IDEMPOTENCY_KEY,
    MAX_ANSWER_TEXT,
    PREFER,
    RESPOND_ASYNC,
    CompiledCallout,
    RequestError,
    correlation_id,
    idempotency_header,
    parse_body,
)
from om_dsl.runtime.downstream.systems import Systems, find_system, hold_key
from om_dsl.runtime.downstream.tokens import CallbackTokens
from om_dsl.runtime.downstream.urls import UrlError, base_url, join, shown
from om_dsl.runtime.kinds.base import ItemKind
from om_dsl.runtime.outcomes import Completed, Failed, OnHold, Outcome, Waiting

FAILED_STATUSES = frozenset({"failed", "failure", "error", "rejected"})
"""Values of a callback's ``status`` or ``state`` (in any case) that report a failure."""
FAILURE_CHARS = 500
"""How much of the reason a failed callback gives is kept."""


@dataclass(frozen=True, slots=True)
class Call:
    """One prepared attempt."""

    system: ir.System
    compiled: CompiledCallout
    label: str
    base: str
    url: str
    body: bytes | None
    headers: dict[str, str]
    timeout_s: float
    secrets: tuple[str, ...]
    token: str | None


CALLBACKS_KEY = "callbacks"
"""What async callouts are held under while the runtime has no callback endpoint: serving one
(``runtime.serve_callbacks()``, or setting ``runtime.callbacks.base_url``) releases them."""


class NoCallbackEndpoint(RequestError):
    """An async callout started before the host served a callback endpoint.  Failing the
    item for good (as before) could strand an order past its point of no return for a
    set-up mistake; it is held instead, and released once an endpoint exists."""


class CalloutKind(ItemKind):
    """Args:
    systems: the systems registry (offline switches).
    tokens: where callback tokens are issued.
    callback_base: the base URL that callbacks reach (``<base>/callbacks/<token>``), or None
        when no callback endpoint is served (async callouts are then held, see
        :data:`CALLBACKS_KEY`).
    environ: where URLs and credentials are read from (``os.environ`` by default).
    installation_id: the store's installation id (``store.installation_id``), which salts
        every ``Idempotency-Key``; read at each call.
    """

    def __init__(
        self,
        systems: Systems,
        tokens: CallbackTokens,
        callback_base: Callable[[], str | None],
        environ: Mapping[str, str] | None = None,
        *,
        installation_id: Callable[[], str],
    ) -> None:
        self.systems = systems
        self.tokens = tokens
        self.callback_base = callback_base
        self.installation_id = installation_id
        self.environ: Mapping[str, str] = environ if environ is not None else os.environ
        self._compiled: dict[tuple[str, str, str], CompiledCallout] = {}
        self._pool = ClientPool()

    # ---- the ItemKind interface ---------------------------------------------------------------

    async def start(self, ctx: ItemContext) -> Outcome:
        spec: ir.CalloutItem = ctx.spec
        system = find_system(ctx.catalog, spec.system)
        if self.systems.offline(system):
            return OnHold(self.systems.offline_words(system.name), key=hold_key(system.name))
        outcome = await self._call(ctx, spec, system)
        if not isinstance(outcome, OnHold):  # held: no call was made
            self.systems.callouts.add(system.name, _outcome_word(outcome))
        return outcome

    async def _call(self, ctx: ItemContext, spec: ir.CalloutItem, system: ir.System) -> Outcome:
        try:
            call = self._prepare(ctx, spec, system)
        except NoCallbackEndpoint as exc:  # the host's set-up, not the item: hold, never fail
            return OnHold(f"{self._label(ctx, spec, system)}: {exc}", key=CALLBACKS_KEY)
        except (RequestError, UrlError, MissingSecret) as exc:
            return Failed(f"{self._label(ctx, spec, system)}: {exc}", permanent=True)
        client = self._pool.client(system.name, call.base, call.timeout_s)
        request = client.build_request(spec.method, call.url, headers=call.headers,
                                       content=call.body)  # fmt: skip
        try:
            answer = await send(client, request, call.timeout_s)
        except TransportFailure as exc:
            reason = f"{redact(call.label, call.secrets)}: {excerpt(str(exc), call.secrets)}"
            return Failed(reason, unsure=exc.unsure)
        return self._answer(ctx, call, answer)

    def resolve(self, ctx: ItemContext, payload: Mapping[str, Any]) -> Outcome:
        """The callback of an async callout: a reported failure, or the body to map."""
        spec: ir.CalloutItem = ctx.spec
        system = find_system(ctx.catalog, spec.system)
        label = f"the callback of {self._label(ctx, spec, system)}"
        secrets = self._secrets(ctx.catalog)
        clean = redact_value(dict(payload), secrets)
        failure = callback_failure(clean)
        if failure is not None:
            return Failed(f"{label} reports a failure: {failure}", definite=True)
        return _map(ctx, self._compile(ctx, spec), label, clean, secrets)

    def timed_out(self, ctx: ItemContext, reason: str) -> str:
        """Which request timed out, and what is known of it: nothing (an operator reading
        ``timed out after 3000 ms`` could not tell that the work may still be done)."""
        spec: ir.CalloutItem = ctx.spec
        system = find_system(ctx.catalog, spec.system)
        label = self._label(ctx, spec, system)
        if spec.is_async:  # the token stays valid: see om_dsl.runtime.downstream.callbacks
            return (
                f"{label}: {reason} with no callback; its outcome is unknown ({system.name} "
                "may still do it, and a late callback still completes the item)"
            )
        return f"{label}: {reason}; its outcome is unknown (the request may have taken effect)"

    def scrub(self, ctx: ItemContext, payload: Mapping[str, Any]) -> Mapping[str, Any]:
        """The callback payload without the credentials in use."""
        cleaned: Mapping[str, Any] = redact_value(dict(payload), self._secrets(ctx.catalog))
        return cleaned

    def cancel(self, ctx: ItemContext) -> None:
        self.tokens.void(ctx.order_id, ctx.item_id)

    def renamed(self, order_id: str, item_id: str, new_item_id: str) -> None:
        self.tokens.move(order_id, item_id, new_item_id)

    async def aclose(self) -> None:
        await self._pool.aclose()

    # ---- preparing ----------------------------------------------------------------------------

    def _prepare(self, ctx: ItemContext, spec: ir.CalloutItem, system: ir.System) -> Call:
        compiled = self._compile(ctx, spec)
        env = ctx.env()
        path = compiled.render_path(env)
        base = base_url(system, self.environ)
        url = join(base, path)
        creds = credentials(system, self.environ)
        body = compiled.body(env)
        headers = _headers(ctx, creds, body is not None, self.installation_id())
        token = self._async_headers(ctx, headers) if spec.is_async else None
        timeout_ms = system.timeout_ms if spec.is_async else (spec.timeout_ms or system.timeout_ms)
        label = f"{system.name} {spec.method} {shown(path)}"
        secrets = tuple(dict.fromkeys((*creds.secrets, *self._secrets(ctx.catalog))))
        return Call(system, compiled, label, base, url, body, headers, timeout_ms / 1000,
                    secrets, token)  # fmt: skip

    def _label(self, ctx: ItemContext, spec: ir.CalloutItem, system: ir.System) -> str:
        """``<system> <method> <path>`` for a reason, with the path as rendered for this item
        (it names the line's resource), or as written when it cannot be rendered."""
        try:
            path = shown(self._compile(ctx, spec).render_path(ctx.env()))
        except RequestError:
            path = spec.path
        return redact(f"{system.name} {spec.method} {path}", self._secrets(ctx.catalog))

    def _async_headers(self, ctx: ItemContext, headers: dict[str, str]) -> str:
        base = self.callback_base()
        if not base:
            raise NoCallbackEndpoint(
                "an async callout needs a callback endpoint: serve one with "
                "runtime.serve_callbacks() (om run does) or set runtime.callbacks.base_url"
            )
        token = self.tokens.issue(ctx.order_id, ctx.item_id, ctx.attempt)
        headers[CALLBACK_URL] = f"{base.rstrip('/')}/callbacks/{token}"
        headers[PREFER] = RESPOND_ASYNC
        return token

    def _compile(self, ctx: ItemContext, spec: ir.CalloutItem) -> CompiledCallout:
        key = (ctx.catalog.content_hash, ctx.product, spec.name)
        found = self._compiled.get(key)
        if found is None:
            found = self._compiled[key] = CompiledCallout(spec)
        return found

    def _secrets(self, catalog: ir.Catalog) -> tuple[str, ...]:
        return catalog_secrets(catalog, self.environ)

    # ---- answers ------------------------------------------------------------------------------

    def _answer(self, ctx: ItemContext, call: Call, answer: Answer) -> Outcome:
        status = answer.status
        if 200 <= status < 300:
            if call.token is not None and status == 202:
                return self._accepted(ctx, call)
            if answer.oversize and call.compiled.response:
                return _oversize(call, answer)
            return _mapped(ctx, call, answer)
        permanent = status in call.system.permanent_statuses
        note = " (a permanent status for this system: no retry)" if permanent else ""
        quoted = _excerpt(answer.body, call.secrets)
        reason = f"{redact(call.label, call.secrets)} answered {status}{quoted}{note}"
        return Failed(reason, permanent=permanent, definite=_settles(ctx, answer, permanent))

    def _accepted(self, ctx: ItemContext, call: Call) -> Outcome:
        """202: wait for the callback, unless it came already (before a restart, say)."""
        early = self.tokens.take_early(ctx.order_id, ctx.item_id)
        if early is not None:
            return self.resolve(ctx, early)
        assert call.token is not None
        return Waiting(f"waiting for the callback of {call.label}", token=call.token,
                       expect_soon=True)  # fmt: skip


def _outcome_word(outcome: Outcome) -> str:
    """How a call went, for the systems' tally: ``ok``, ``accepted`` (a callback will come)
    or ``failed``."""
    if isinstance(outcome, Waiting):
        return "accepted"
    return "failed" if isinstance(outcome, Failed) else "ok"


def callback_failure(payload: Mapping[str, Any]) -> str | None:
    """The reason when a callback reports a failure, else None.

    A failure is ``"status"`` or ``"state"`` (TMF resources say ``state``) with one of
    :data:`FAILED_STATUSES` in any case, its reason the first of ``reason``, ``error`` and
    ``message`` that is set; or an ``error`` member that is set (not null, false, 0, "", {} or
    []) whatever the status says, its reason that error.  Taking ``{"state": "failed"}`` or
    ``{"error": "OLT down"}`` for a success completed items whose work had failed.

    The payload must be redacted already (:meth:`CalloutKind.scrub`): the reason is made one
    line (:func:`~om_dsl.oneline.one_line`: a newline or an ESC in it forged or repainted
    lines of the log and of `om events`) and shortened.
    """
    reported = any(_failed_status(payload.get(name)) for name in FAILED_MEMBERS)
    error = payload.get("error")
    if not reported and not error:
        return None
    reason = payload.get("reason") if reported else None
    reason = reason or error or payload.get("message")
    text = one_line(_reason_text(reason)) if reason else "no reason given"  # a line of logs
    return shorten(text, FAILURE_CHARS)


FAILED_MEMBERS = ("status", "state")
"""The members of a callback whose value says that the work failed (see FAILED_STATUSES)."""


def _failed_status(value: Any) -> bool:
    return isinstance(value, str) and value.lower() in FAILED_STATUSES


def _reason_text(reason: Any) -> str:
    """A reason as an operator reads it: text as it is, anything else as compact JSON (a
    Python repr, ``{'code': 7}``, is neither what the system sent nor JSON)."""
    if isinstance(reason, str):
        return reason
    return json.dumps(reason, ensure_ascii=False, separators=(",", ":"))


def _headers(
    ctx: ItemContext, creds: Credentials, has_body: bool, installation_id: str
) -> dict[str, str]:
    headers = {
        "Accept": "application/json",
        IDEMPOTENCY_KEY: idempotency_header(installation_id, ctx.idempotency_key, ctx.key_from),
        CORRELATION_ID: correlation_id(ctx.order_id, ctx.item_id, ctx.attempt),
    }
    if has_body:
        headers["Content-Type"] = "application/json"
    headers.update(creds.headers)
    return headers


def _settles(ctx: ItemContext, answer: Answer, permanent: bool) -> bool:
    """Whether an error status is the outcome of the operation under the request's key, so
    that the next attempt is a new one (:attr:`Failed.definite`): it answers the first request
    under the key; or the system says it replays the stored outcome (``Idempotent-Replayed``);
    or the status is permanent.  A transient error answering a repeat of a request whose outcome
    was unknown may be a gateway's, or the system's word that the first request is still in
    progress (Stripe's 409): a new key then could have the work done twice."""
    return permanent or answer.replayed or ctx.attempt == ctx.key_from


def _oversize(call: Call, answer: Answer) -> Outcome:
    """A 2xx answer too large to read for its response mappings: a failed attempt, like an
    answer they cannot map (the system did the work: a retry replays it, under the same key)."""
    label = redact(call.label, call.secrets)
    start = excerpt(answer.body.decode("utf-8", "replace"), call.secrets)
    limit = f"answer of more than {MAX_ANSWER_TEXT} (the limit)"
    return Failed(f"{label}: {limit}: {answer.status} {start}")


def _mapped(ctx: ItemContext, call: Call, answer: Answer) -> Outcome:
    if not call.compiled.response:
        return Completed({})
    label = f"the answer of {redact(call.label, call.secrets)}"
    try:
        body = parse_body(answer.body)
    except ValueError as exc:  # "is not JSON: ...", "is nested too deeply; ...", "holds NaN..."
        return Failed(f"{label} {exc}, so its response mapping cannot read it")
    empty = f"it had no body ({answer.status})" if body is None else None
    return _map(ctx, call.compiled, label, redact_value(body, call.secrets), call.secrets, empty)


def _map(
    ctx: ItemContext,
    compiled: CompiledCallout,
    label: str,
    body: Any,
    secrets: tuple[str, ...],
    empty: str | None = None,
) -> Outcome:
    """Outputs from a body already redacted of ``secrets`` (so outputs and reasons are too).

    ``empty``: why a mapping that fails cannot read an empty answer (a 204): "body.port.id is
    missing" sent an operator looking for a field in a body that was never there.
    """
    env = ctx.env()
    env["body"] = body
    try:
        return Completed(redact_value(compiled.outputs(env), secrets))
    except EvalError as exc:
        return Failed(redact(f"{label} cannot be mapped: {empty or exc}", secrets))


def _excerpt(raw: bytes, secrets: tuple[str, ...]) -> str:
    """``: <the start of the answer>``, redacted before it is cut; empty for an empty answer."""
    text = excerpt(raw.decode("utf-8", "replace"), secrets)
    return f": {text}" if text else ""


__all__ = ["CalloutKind", "callback_failure"]
