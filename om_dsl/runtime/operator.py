"""Operator and outside-world actions on orders: retry, skip, complete, cancel, signal, resolve.

Each function runs under the engine lock (the caller holds it) and leaves its changes in the
journal; the runtime commits them before returning, so an action that returned is durable.  An
action that the current state does not allow raises :class:`OperatorActionRejected` with the
reason, and changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from om_dsl.errors import NotFound, OperatorActionRejected
from om_dsl.orders.inventory import ProductChange
from om_dsl.runtime.context import ItemContext
from om_dsl.runtime.engine import Engine, json_object
from om_dsl.runtime.events import (
    CANCEL_REJECTED,
    NO_CANCEL_REASON,
    NOBODY,
    ORDER_SIGNAL,
    Act,
)
from om_dsl.runtime.item_ids import unknown_item
from om_dsl.runtime.journal import item_row
from om_dsl.runtime.live import ItemRun, OrderRun
from om_dsl.runtime.outcomes import Failed
from om_dsl.runtime.plan import OrderPlan
from om_dsl.runtime.readers import require_read_outputs, require_unread
from om_dsl.runtime.revision import Revision, revise
from om_dsl.runtime.states import (
    ITEM_OPERATOR_RESOLVE,
    ITEM_OPERATOR_RETRY,
    ORDER_CANCELLABLE,
    ItemState,
    OrderState,
    item_state_words,
)
from om_dsl.runtime.status import stored_plan
from om_dsl.runtime.store.base import ItemRow
from om_dsl.runtime.waits import event_key, hold_key, token_key

log = logging.getLogger("om_dsl.runtime")

IS = ItemState


def target(engine: Engine, order_id: str, item_id: str) -> tuple[OrderRun, ItemRun]:
    order = engine.active(order_id)
    item = order.by_id.get(item_id)
    if item is None:
        raise NotFound(unknown_item(order_id, item_id, order.by_id))
    return order, item


ALLOWED_WORDS: dict[frozenset[ItemState], str] = {
    ITEM_OPERATOR_RETRY: "failed",
    ITEM_OPERATOR_RESOLVE: "failed, waiting or on hold",
}
"""How a refusal names the states an action takes: it said "only failed, fatally_failed
items", the runtime's internal names."""


def _require(item: ItemRun, allowed: frozenset[ItemState], action: str) -> None:
    if item.state not in allowed:
        which = ALLOWED_WORDS.get(allowed) or " or ".join(map(item_state_words, sorted(allowed)))
        raise OperatorActionRejected(
            f"cannot {action} item {item.id}: it is {item_state_words(item.state)}, not {which}"
        )


def retry(engine: Engine, order_id: str, item_id: str, act: Act = NOBODY) -> None:
    """Run a failed item again now, with a fresh retry budget."""
    order, item = target(engine, order_id, item_id)
    _require(item, ITEM_OPERATOR_RETRY, "retry")
    item.failures = 0
    item.due = None
    engine.make_ready(order, item, act.words("retried"), act)


def retry_many(
    engine: Engine, order_id: str, item_ids: Sequence[str], act: Act = NOBODY
) -> dict[str, str]:
    """Retry several items of one order, in one commit; returns the items refused, with
    why (each is checked before it moves, so a refused item changes nothing and the others
    are retried all the same)."""
    refused: dict[str, str] = {}
    for item_id in item_ids:
        try:
            retry(engine, order_id, item_id, act)
        except (NotFound, OperatorActionRejected) as exc:
            refused[item_id] = str(exc)
    return refused


def skip(
    engine: Engine,
    order_id: str,
    item_id: str,
    act: Act = NOBODY,
    force: bool = False,
) -> None:
    """Give up on an item; the items after it run as if it had completed (without outputs).

    Refused, as completing without outputs is, when items still to run read its outputs
    (they would read null, perhaps past the point of no return), unless ``force``: the
    operator knows those readers handle null.  The item's reason says who skipped it and
    why (``skipped by bob (operator): ...``): the reason given used to replace the words, so
    the log no longer said that an operator had done it.
    """
    order, item = target(engine, order_id, item_id)
    _require(item, ITEM_OPERATOR_RESOLVE, "skip")
    if not force:
        require_unread(order, item, f"cannot skip item {item.id}")
    _stop_waiting(engine, order, item)
    engine.leave_wait(order, item)
    item.due = None
    item.reason = act.words("skipped")
    engine.move(order, item, IS.SKIPPED, item.reason, act)
    engine.satisfy(order, item)
    engine.after_settled(order, item)


def complete(
    engine: Engine,
    order_id: str,
    item_id: str,
    outputs: Mapping[str, Any] | None = None,
    act: Act = NOBODY,
) -> None:
    """Complete an item by hand, with the outputs later items need."""
    order, item = target(engine, order_id, item_id)
    _require(item, ITEM_OPERATOR_RESOLVE, "complete")
    values = _checked(outputs, f"cannot complete item {item.id}")
    require_read_outputs(order, item, values, f"cannot complete item {item.id}")
    refused = engine.record_problem(order, item, values)
    if refused is not None:  # refused before anything changes, as bad outputs are
        raise OperatorActionRejected(f"cannot complete item {item.id}: {refused}")
    _stop_waiting(engine, order, item)
    engine.complete(order, item, values, act.words("completed"), act)
    if item.state is not IS.COMPLETED:
        raise OperatorActionRejected(f"cannot complete item {item.id}: {item.reason}")


def _checked(values: Any, refused: str, what: str = "outputs") -> dict[str, Any]:
    """An operator's outputs or payload, checked before anything changes: a rejected action
    used to fail the item it was refused for (and a list was a raw TypeError)."""
    try:
        return json_object(values if values is not None else {}, what)
    except ValueError as exc:
        raise OperatorActionRejected(f"{refused}: {exc}") from None


def _stop_waiting(engine: Engine, order: OrderRun, item: ItemRun) -> None:
    if item.state is IS.WAITING:
        engine.kinds.get(item.tpl.kind).cancel(ItemContext(order, item, item.attempt, item.due))


def cancel(engine: Engine, order_id: str, act: Act = NOBODY) -> None:
    """Cancel the whole order: discard what has not run, undo what has, in reverse order.

    The accepted cancel's row says who asked and why (``cancel requested by bob (operator):
    ...``); with neither, it says what it always said (the reason alone, or
    :data:`NO_CANCEL_REASON`), which the service reads as the TMF ``cancellationReason``.

    Raises:
        OperatorActionRejected: the point of no return was reached (the rejection is recorded
            in the event log), or the order is finished or already being cancelled.
    """
    order = engine.active(order_id)
    if order.cancelling or order.state not in ORDER_CANCELLABLE:
        what = "already being cancelled" if order.cancelling else order.state.value
        raise OperatorActionRejected(f"order {order_id} cannot be cancelled: it is {what}")
    if order.ponr:
        message = _ponr_reason(order)
        engine.journal.event(
            engine.clock(), order.id, None, CANCEL_REJECTED, detail=message, act=act
        )
        engine.flush()
        raise OperatorActionRejected(message)
    asked = _cancel_words(act)
    engine.move_order(order, OrderState.ASSESSING_CANCELLATION, asked, act)
    engine.move_order(order, OrderState.PENDING_CANCELLATION, "no point of no return reached")
    order.cancelling = True
    for item in order.normal_items():
        engine.stop_for_cancel(order, item, "the order was cancelled")
    for comp in order.compensations():
        if engine.check_compensation(order, comp):
            engine.satisfy(order, comp)


def _cancel_words(act: Act) -> str:
    """An accepted cancel's detail: who asked and why, when the canceller is named; else the
    reason alone, as rows always had it."""
    if act.by is not None:
        return act.words(NO_CANCEL_REASON)
    return act.reason or NO_CANCEL_REASON


def amend(
    engine: Engine, plan: OrderPlan, act: Act = NOBODY, products: Sequence[ProductChange] = ()
) -> Revision:
    """Replace the order's plan with ``plan``, the revised order's, keeping the work done on
    the lines it leaves alone (see :mod:`om_dsl.runtime.revision`).

    Raises:
        OperatorActionRejected: the order is finished or being cancelled, the revision
            touches a root item past its point of no return, or an item is running.
    """
    order = engine.active(plan.order_id)
    if order.cancelling or order.state not in ORDER_CANCELLABLE:
        what = "being cancelled" if order.cancelling else order.state.value
        raise OperatorActionRejected(f"order {order.id} cannot be amended: it is {what}")
    if plan.catalog_hash != order.catalog.hash:
        raise OperatorActionRejected(
            f"order {order.id} runs on catalog {order.catalog.hash[:19]}; its revision was "
            f"planned with {plan.catalog_hash[:19]}"
        )
    stored = engine.store.load_order(order.id)
    if stored is None:
        raise NotFound(f"no order {order.id}")
    rows = {item.id: ItemRow(*item_row(item)) for item in order.items}
    revision = revise(stored_plan(stored), rows, order.ponr, plan)
    if revision.unchanged:  # sent again: no revision, nothing stored, no event
        return revision
    stopped = [order.by_id[item_id] for item_id in revision.stopped]
    summary = revision.summary() + (f"; {act.words('amended')}" if act else "")
    engine.replace(order, revision.plan, revision.rows, revision.changes, summary, act, products)
    for item in stopped:  # only once the amendment is committed: a failed one changes nothing
        _let_go(engine, order, item)
    for item_id, history_id in revision.moved:
        _follow(engine, order, order.by_id[item_id], history_id)
    return revision


def _follow(engine: Engine, order: OrderRun, item: ItemRun, history_id: str) -> None:
    """An item kept on a history line (its outcome is unknown): its kind finds it there now
    (a late callback settles it, not the item that runs the line again)."""
    try:
        engine.kinds.get(item.tpl.kind).renamed(order.id, item.id, history_id)
    except Exception as exc:
        log.warning("order %s: moving %s to %s failed: %s: %s",
                    order.id, item.id, history_id, type(exc).__name__, exc)  # fmt: skip


def _let_go(engine: Engine, order: OrderRun, item: ItemRun) -> None:
    """An item an amendment stopped (waiting, held or failed): its kind closes what it opened
    for it (a task, a callback token a late callback could still use); a failure there must
    not undo the amendment, which is committed already."""
    try:
        engine.kinds.get(item.tpl.kind).cancel(ItemContext(order, item, item.attempt, item.due))
    except Exception as exc:
        log.warning("order %s: letting go of %s failed: %s: %s",
                    order.id, item.id, type(exc).__name__, exc)  # fmt: skip


def _ponr_reason(order: OrderRun) -> str:
    reached = "; ".join(
        f"root item {root or '(none)'} when {item} started"
        for root, item in sorted(order.ponr.items())
    )
    return f"order {order.id} cannot be cancelled: its point of no return was reached ({reached})"


def signal(
    engine: Engine,
    event: str,
    order_id: str | None,
    payload: Mapping[str, Any] | None,
    act: Act = NOBODY,
) -> int:
    """Deliver a named event: it completes every item waiting for it (in one order, or in all).

    An event for one order is also kept, so a wait item that starts later completes at once.
    Returns how many items it completed.  A named sender (``act``) is said in the rows: the
    event came from a person, not from a system's callback.
    """
    values = _checked(payload, f"cannot signal '{event}'", "the payload")
    if order_id is not None:
        order = engine.active(order_id)
        order.signals[event] = values
        now = engine.clock()
        engine.journal.signals.append((order.id, event, values, now))
        said = f"event '{event}'" + (f" {act.words('signalled')}" if act else "")
        engine.journal.event(now, order.id, None, ORDER_SIGNAL, detail=said, act=act)
    targets = _waiting(engine, event_key(event), order_id)
    done = f"event '{event}' " + (act.words("signalled") if act else "signalled")
    for order, item in targets:
        engine.resolve(order, item, values, done, act)
    return len(targets)


def _waiting(engine: Engine, key: str, order_id: str | None) -> list[tuple[OrderRun, ItemRun]]:
    """Items waiting under ``key``, found through the store (so a CLI process finds them too)."""
    found: list[tuple[OrderRun, ItemRun]] = []
    for oid, item_id in engine.store.find_waiting(key, order_id):
        order, item = target(engine, oid, item_id)
        if item.wait_key == key and item.state in (IS.WAITING, IS.ON_HOLD):
            found.append((order, item))
    return found


def resolve_waiting(
    engine: Engine,
    order_id: str,
    item_id: str,
    outputs: Mapping[str, Any] | None = None,
    failure: str | None = None,
) -> None:
    """Finish a waiting item: with outputs (through its kind's ``resolve``), or as a failure."""
    order, item = target(engine, order_id, item_id)
    _require(item, frozenset({IS.WAITING}), "resolve")
    if failure is not None:
        engine.settle(order, item, Failed(failure))
    else:
        engine.resolve(order, item, _checked(outputs, f"cannot resolve item {item.id}"), "resolved")


def resolve_token(engine: Engine, token: str, payload: Mapping[str, Any]) -> tuple[str, str]:
    """Finish the item waiting for a callback token (single use); returns (order, item) ids."""
    targets = _waiting(engine, token_key(token), None)
    if not targets:
        raise NotFound("unknown or already used callback token")
    order, item = targets[0]
    engine.resolve(order, item, payload, "callback received")
    return order.id, item.id


def release(engine: Engine, key: str | None, act: Act = NOBODY) -> int:
    """Make items held under ``key`` ready again (e.g. their system is back online).

    Found through the store (a runtime that does not run it has nothing in memory) and in
    memory: the runtime that runs the store holds items there before their hold is committed,
    and memory is what its scheduler acts on, so a held item it has is released even when the
    store already says otherwise.  ``act``: who released them and why (a system's switch to
    online names who flipped it), said in the rows; else they say ``released``.
    """
    wanted = hold_key(key)
    targets = _waiting(engine, wanted, None)
    found = {(order.id, item.idx) for order, item in targets}
    for order, item in engine.waiting_items(wanted):
        if (order.id, item.idx) not in found and item.state is IS.ON_HOLD:
            targets.append((order, item))
    for order, item in targets:
        engine.leave_wait(order, item)
        engine.make_ready(order, item, act.words("released") if act else "released", act)
    return len(targets)
