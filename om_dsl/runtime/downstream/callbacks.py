"""``runtime.callback(token, payload)``: an asynchronous callout's result comes back.

Runs under the engine lock like every operator action.  What the callback does depends on the
state of its item, because a callback may race the ``202`` answer, or outlive a crash:

* ``waiting`` for this token (the usual case), or ``running`` its attempt (the ``202`` is not
  processed yet): the payload resolves the item through its kind (response mappings, or a
  failure when it reports one, see :func:`~om_dsl.runtime.kinds.callout.callback_failure`).
* ``waiting``/``running`` a later attempt: a success completes it (the system did the work).
  A failure fails it when the later attempt went under the same idempotency key (the earlier
  one's outcome was unknown, so the later one is a repeat of the same operation, and the system
  answers a repeat with no second callback); it is ignored when the later attempt went under a
  new key, as a new operation.
* ``failed``, ``fatally_failed`` or ``on_hold`` (an earlier attempt timed out, but the system did
  the work under the same idempotency key): a success completes it (a late callback).
* ``ready`` or ``pending`` (re-attempted after a restart): a success is kept as *early*, and
  the item's next ``202`` (a replay of the same request) takes it.
* in those last two cases, a failure of the operation under the item's current key changes no
  state, but gives the item's next attempt a new key (a replay of the failed operation would
  get no callback): recorded as ``callback.ignored``, saying so.
* finished (its order too), or no longer waiting for this token's attempt (the token is
  *void*: an operator completed or skipped the item, the order was cancelled, an amendment
  superseded the work): recorded as ``callback.ignored`` and ignored.  The system did send
  the callback, so it gets an answer it will not retry, and the log says it came.

Either way the token is used up; an unknown or used token raises :class:`NotFound`.  The
payload is first scrubbed of the item's credentials by its kind (a system may echo them).  A
result that cannot be mapped to the item's outputs raises :class:`UnmappableCallback` once all
of that is done (the item's attempt failed, or a late result was ignored): the endpoint answers
it with a 422, so that the system learns that its result was not taken.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

from om_dsl.errors import NotFound, OperatorActionRejected, UnmappableCallback
from om_dsl.runtime.context import ItemContext
from om_dsl.runtime.downstream.tokens import CallbackTokens, IssuedToken
from om_dsl.runtime.engine import Engine
from om_dsl.runtime.live import ItemRun, OrderRun
from om_dsl.runtime.operator import target
from om_dsl.runtime.outcomes import Completed, Failed, Outcome
from om_dsl.runtime.states import ItemState
from om_dsl.runtime.waits import token_key

IS = ItemState
CALLBACK_IGNORED = "callback.ignored"
CALLBACK_EARLY = "callback.early"
LATE = frozenset({IS.FAILED, IS.FATALLY_FAILED, IS.ON_HOLD})
"""States in which a success callback of an earlier attempt still completes the item."""
WAITING_TO_RUN = frozenset({IS.READY, IS.PENDING})
"""States of an item re-attempted after a restart: a success callback is kept as early."""
NEW_KEY = "its next attempt is a new operation, under a new idempotency key"
Result = Literal["resolved", "early", "ignored"]
Applied = tuple[Result, str | None]
"""What a callback did, and why its result could not be mapped (None: it could, or it was not
tried)."""
ANSWERED = frozenset({"issued", "void"})
"""Token states a callback is answered for.  A void token's item stopped waiting for it (see
the module docstring); its callback is recorded and ignored like one for an item that
finished by itself, since a 404 left no trace and made the system retry it in vain."""


def receive(
    engine: Engine,
    tokens: CallbackTokens,
    failure_of: Callable[[Mapping[str, Any]], str | None],
    token: str,
    payload: Mapping[str, Any],
) -> Result:
    """Apply one callback (the caller holds the engine lock); see the module docstring.

    Raises:
        NotFound: the token was never issued, or it was used already.
        UnmappableCallback: the payload reports no failure, and cannot be mapped to the item's
            outputs (raised once the callback took effect and its token is used).
    """
    issued = tokens.lookup(token)
    if issued is None or issued.state not in ANSWERED:
        raise NotFound("unknown or already used callback token")
    (result, unmapped), payload = _answer(engine, issued, token, payload, failure_of)
    engine.flush()  # the item's change (or the note) is durable before the token is spent
    tokens.finish(issued.hash, "early" if result == "early" else "used", _early(result, payload))
    if unmapped is not None:
        raise UnmappableCallback(unmapped)
    return result


def _answer(
    engine: Engine,
    issued: IssuedToken,
    token: str,
    payload: Mapping[str, Any],
    failure_of: Callable[[Mapping[str, Any]], str | None],
) -> tuple[Applied, Mapping[str, Any]]:
    """What the callback does to its item, and the payload as it may be kept."""
    try:
        order, item = target(engine, issued.order_id, issued.item_id)
    except (NotFound, OperatorActionRejected) as gone:  # the order finished, or lost the item
        return (_ignore(engine, issued, str(gone)), None), payload
    if issued.state == "void":
        return (_ignore(engine, issued, _void_reason(item)), None), payload
    clean = _scrubbed(engine, order, item, payload)
    return _apply(engine, order, item, issued, token, clean, failure_of(clean)), clean


def _apply(
    engine: Engine,
    order: OrderRun,
    item: ItemRun,
    issued: IssuedToken,
    token: str,
    payload: Mapping[str, Any],
    failure: str | None,
) -> Applied:
    live = item.state in (IS.WAITING, IS.RUNNING)
    current = item.wait_key == token_key(token) or (
        item.state is IS.RUNNING and item.attempt == issued.attempt
    )
    same_key = issued.attempt >= (item.key_from or 1)
    if live and (current or same_key or failure is None):  # the kind maps it (or its failure)
        outcome = engine.resolve(order, item, payload, _detail(item, current))
        return "resolved", _unmapped(outcome, failure)
    if failure is not None and same_key and item.state in LATE | WAITING_TO_RUN:
        engine.renew_key(order, item)
        return _ignore(engine, issued, f"{failure}; {NEW_KEY}"), None
    if item.state in LATE and failure is None:
        return _late_success(engine, order, item, payload)
    if item.state in WAITING_TO_RUN and failure is None:
        _note(engine, order, item, CALLBACK_EARLY, "callback kept for the next attempt")
        return "early", None
    why = failure if failure is not None else f"the item is {item.state.value}"
    return _ignore(engine, issued, why), None


def _unmapped(outcome: Outcome, failure: str | None) -> str | None:
    """Why a result failed its item, when the payload reported no failure: it cannot be
    mapped (a failure the system reported is its answer, taken as sent)."""
    return outcome.reason if isinstance(outcome, Failed) and failure is None else None


def _void_reason(item: ItemRun) -> str:
    """Why a void token's callback changes nothing.  An item waiting again waits for another
    attempt (an amendment or a retry superseded this one): "it is waiting" alone read as a
    contradiction."""
    if item.state is IS.WAITING:
        return "the item no longer waits for it: an amendment or a retry superseded it"
    return f"the item no longer waits for it (it is {item.state.value})"


def _ignore(engine: Engine, issued: IssuedToken, why: str) -> Result:
    """Record that the callback of ``issued``'s attempt came and changed nothing."""
    detail = f"callback of attempt {issued.attempt} ignored: {why}"
    engine.journal.event(engine.clock(), issued.order_id, issued.item_id, CALLBACK_IGNORED,
                         None, None, issued.attempt, detail)  # fmt: skip
    return "ignored"


def _late_success(
    engine: Engine, order: OrderRun, item: ItemRun, payload: Mapping[str, Any]
) -> Applied:
    """A success for an item that failed or was held meanwhile: the system did the work under
    the item's idempotency key, so the item is complete (if the payload maps)."""
    ctx = ItemContext(order, item, item.attempt, item.due)
    outcome = engine.kinds.get(item.tpl.kind).resolve(ctx, payload)
    if not isinstance(outcome, Completed):
        why = getattr(outcome, "reason", "it did not complete the item")
        _note(engine, order, item, CALLBACK_IGNORED, f"late callback ignored: {why}")
        return "ignored", why
    detail = f"late callback received (the item was {item.state.value})"
    engine.complete(order, item, outcome.outputs, detail)
    return "resolved", None


def _scrubbed(
    engine: Engine, order: OrderRun, item: ItemRun, payload: Mapping[str, Any]
) -> Mapping[str, Any]:
    """The payload without credentials (it may be stored as early, or quoted in an event)."""
    ctx = ItemContext(order, item, item.attempt, item.due)
    return engine.kinds.get(item.tpl.kind).scrub(ctx, payload)


def _detail(item: ItemRun, current: bool) -> str:
    if current:
        return "callback received"
    return "callback of an earlier attempt received"


def _note(engine: Engine, order: OrderRun, item: ItemRun, kind: str, detail: str) -> None:
    engine.journal.event(engine.clock(), order.id, item.id, kind, None, None, item.attempt, detail)


def _early(result: Result, payload: Mapping[str, Any]) -> Mapping[str, Any] | None:
    return payload if result == "early" else None
