"""The engine: the one place where item and order states change, synchronously, under a lock.

The asyncio scheduler, API threads (submit, operator actions, callbacks) and timers all call in
here holding :attr:`Engine.lock`; every public entry point ends with :meth:`Engine.flush`, which
derives the order states, commits the step's changes with their event-log rows in one store
transaction, and only then queues the lifecycle events for listeners.  Nothing here awaits, so a
step is atomic with respect to every other thread.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from om_dsl.errors import IllegalTransition, NotFound, OperatorActionRejected
from om_dsl.expr.evaluate import EvalError
from om_dsl.ir import models as ir
from om_dsl.ir.io import dump_ir, load_ir
from om_dsl.orders.inventory import ProductChange
from om_dsl.runtime.context import ItemContext, item_env
from om_dsl.runtime.events import (
    ITEM_STATE,
    NOBODY,
    ORDER_AMENDED,
    ORDER_CREATED,
    ORDER_PONR,
    ORDER_STATE,
    Act,
    LifecycleEvent,
    Listeners,
)
from om_dsl.runtime.journal import Journal, item_row, record
from om_dsl.runtime.kinds.base import KindRegistry
from om_dsl.runtime.live import CatalogRun, ItemRun, OrderRun
from om_dsl.runtime.outcomes import Completed, Failed, OnHold, Outcome, Waiting, kept_reason, raised
from om_dsl.runtime.plan import OrderPlan
from om_dsl.runtime.records import completed_values, output_problem
from om_dsl.runtime.retry import next_delay_ms
from om_dsl.runtime.states import (
    ACTIVE_ORDER_STATES,
    ITEM_SATISFIED,
    ITEM_TERMINAL,
    ITEM_TRANSITIONS,
    ORDER_TERMINAL,
    ItemState,
    OrderState,
    check_order,
)
from om_dsl.runtime.status import stored_plan
from om_dsl.runtime.store.base import (
    ItemRow,
    NewOrder,
    OrderRecord,
    RowValues,
    Store,
    StoredOrder,
    WriteBatch,
)
from om_dsl.runtime.timers import Timers
from om_dsl.runtime.waits import (
    UNSURE,
    awaits_callback,
    hold_key,
    under_way,
    unsure_reason,
    wait_key,
)

IS = ItemState
log = logging.getLogger("om_dsl.runtime")
_RELOADED = "re-attempted: a commit failed, and the order was loaded again from the store"
OS = OrderState
COMP_SATISFIED = ITEM_SATISFIED | {IS.DISCARDED}
"""A compensation waits for later compensations; one that is not needed is discarded."""
STOPPED = frozenset({IS.FAILED, IS.FATALLY_FAILED, IS.WAITING, IS.ON_HOLD})
"""Started and unfinished: what a cancel stops (cancels), unless the item is in flight."""


Start = tuple[str, int, int, str, ItemContext]
"""(order id, item idx, attempt, kind, context): an item the scheduler must start now (it is
already ``running`` in the journal).  A plain tuple: one is made per item."""


class Engine:
    """Active orders in memory, the ready queue, timers, and the journal of uncommitted changes."""

    def __init__(
        self,
        store: Store,
        kinds: KindRegistry,
        listeners: Listeners,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.lock = threading.RLock()
        self.store = store
        self.kinds = kinds
        self.listeners = listeners
        self.clock = clock
        self.orders: dict[str, OrderRun] = {}
        self.catalogs: dict[str, CatalogRun] = {}
        self.ready: deque[tuple[OrderRun, ItemRun]] = deque()
        self.timers = Timers()
        self.journal = Journal()
        self.counts: dict[ItemState, int] = dict.fromkeys(ItemState, 0)
        self.waits: dict[str, set[tuple[str, int]]] = {}
        self.soon: set[tuple[str, int]] = set()
        self.stop_tasks: list[tuple[str, int, int]] = []
        """Items whose in-flight attempt the scheduler must cancel (they timed out)."""
        self.unstored: set[str] = set()
        """Orders whose changes a failed commit lost: forgotten here, to be loaded again from
        the store (see :meth:`flush`)."""
        self.holds: dict[str, int] = {}
        """Order id -> how many amendments wait for its running items to settle: no item of
        such an order starts meanwhile (see :meth:`hold_starts`)."""
        self.parked: list[tuple[OrderRun, ItemRun]] = []
        """Ready items of held orders, off the ready queue until their hold is lifted."""

    # ---- catalogs -----------------------------------------------------------------------------

    def catalog_run(self, catalog: ir.Catalog) -> CatalogRun:
        """The run-time view of a catalog version; stored with the next commit if new."""
        found = self.catalogs.get(catalog.content_hash)
        if found is None:
            found = self.catalogs[catalog.content_hash] = CatalogRun(catalog)
            if not self.store.has_catalog(catalog.content_hash):
                self.journal.catalogs[catalog.content_hash] = dump_ir(catalog)
        return found

    def catalog_of_hash(self, content_hash: str) -> ir.Catalog:
        """A stored catalog version (loaded once)."""
        return self.pinned(content_hash).catalog

    def pinned(self, content_hash: str) -> CatalogRun:
        found = self.catalogs.get(content_hash)
        if found is None:
            catalog = load_ir(self.store.load_catalog(content_hash))
            found = self.catalogs[content_hash] = CatalogRun(catalog)
        return found

    # ---- transitions --------------------------------------------------------------------------

    def move(
        self,
        order: OrderRun,
        item: ItemRun,
        new: ItemState,
        detail: str | None = None,
        act: Act = NOBODY,
    ) -> None:
        """The only way an item changes state: checked, counted, journaled (``act``: the
        operator who moved it, and why, for the event log)."""
        old = item.state
        if new not in ITEM_TRANSITIONS[old]:
            raise IllegalTransition(
                f"item {item.id} of order {order.id}: {old.value} -> {new.value} is not allowed"
            )
        item.state = new
        counts, totals = order.counts, self.counts
        counts[old] -= 1
        counts[new] += 1
        totals[old] -= 1
        totals[new] += 1
        if new in ITEM_TERMINAL and (not item.comp_of or item.line.superseded):
            order.unfinished -= 1
        journal = self.journal
        order_id = order.id
        event = (
            self.clock(), order_id, item.id, ITEM_STATE, old, new, item.attempt, detail, act.by,
            act.reason,
        )  # fmt: skip
        journal.events.append(event)
        journal.items[item] = order_id
        journal.touched[order_id] = order

    def make_ready(
        self, order: OrderRun, item: ItemRun, detail: str | None = None, act: Act = NOBODY
    ) -> None:
        """Queue an item to run (again).  Its reason goes: it said why the item was held or
        failed (``system Billing is offline``, an answer 503), which no longer explains a
        ready item, and status showed it as if it did; the event log keeps it."""
        item.reason = None
        self.move(order, item, IS.READY, detail, act)
        self.ready.append((order, item))

    def move_order(
        self, order: OrderRun, new: OrderState, detail: str | None = None, act: Act = NOBODY
    ) -> None:
        check_order(order.id, order.state, new)
        old, order.state = order.state, new
        if new is OrderState.COMPLETED:
            self.journal.completed.append(order.id)
        self.journal.event(self.clock(), order.id, None, ORDER_STATE, old, new, None, detail, act)
        self.journal.orders[order.id] = order
        self.journal.touched[order.id] = order

    # ---- submitting and loading ---------------------------------------------------------------

    def submit(
        self, plan: OrderPlan, catalog: ir.Catalog, products: Sequence[ProductChange] = ()
    ) -> None:
        """Persist a new order (order row, plan, every item row, the ``products`` it records in
        the inventory once completed) in one transaction and make its first items ready.  On
        any failure nothing is stored and nothing stays in memory."""
        if self.journal:
            self.flush()
        if plan.order_id in self.orders or self.store.has_order(plan.order_id):
            raise OperatorActionRejected(f"order {plan.order_id} already exists")
        known = catalog.content_hash in self.catalogs
        order = OrderRun(plan, self.catalog_run(catalog))
        order.created = now = self.clock()
        order.changes = _by_item(products)
        count_blockers(order)
        rows = [item_row(item) for item in order.items]
        plan_json = plan.model_dump_json(exclude_defaults=True)
        new = NewOrder(record(order, now), plan_json, rows, list(products))
        self.journal.new_orders.append(new)
        detail = f"{len(order.items)} items, catalog {catalog.content_hash[:19]}"
        state = order.state.value
        self.journal.event(now, order.id, None, ORDER_CREATED, None, state, None, detail)
        self._register(order)
        try:
            self._start_or_forget(order, self._activate)
        except BaseException:
            if not known:
                self.catalogs.pop(catalog.content_hash, None)
            raise

    def _start_or_forget(self, order: OrderRun, start: Callable[[OrderRun], None]) -> None:
        """Start what can start, and commit; if anything fails, the order leaves memory too,
        so that memory never holds what the store does not."""
        try:
            start(order)
            self.flush()
        except BaseException:
            self._forget(order.id)
            self.journal = Journal()
            raise

    def replace(
        self,
        order: OrderRun,
        plan: OrderPlan,
        rows: list[RowValues],
        changes: tuple[tuple[str, str, str, str], ...],
        detail: str,
        act: Act = NOBODY,
        products: Sequence[ProductChange] = (),
    ) -> None:
        """An amendment: the order's plan and item rows (and the ``products`` it records) are
        replaced, with the ``changes`` (item id, before, after, why) as events, in one commit;
        the order then goes on from the new plan.  If the commit fails, the order is forgotten
        here and loaded again, as the store still has it, on its next use."""
        if self.journal:
            self.flush()
        now = self.clock()
        rec = record(order, now)
        new = _revive(plan, [ItemRow(*row) for row in rows], rec, order.signals, order.catalog)
        new.changes = _by_item(products)
        journal = self.journal
        plan_json = plan.model_dump_json(exclude_defaults=True)
        journal.amended.append(NewOrder(rec, plan_json, rows, list(products)))
        journal.event(now, order.id, None, ORDER_AMENDED, None, None, None, detail, act)
        for item_id, before, after, why in changes:
            journal.event(now, order.id, item_id, ITEM_STATE, before, after, None, why)
        self._forget(order.id)
        self._register(new)
        journal.orders[new.id] = journal.touched[new.id] = new
        self._start_or_forget(new, self._resume)

    def _activate(self, order: OrderRun) -> None:
        for item in order.items:
            if item.state is IS.PENDING and item.blockers == 0 and self._deps_met(order, item):
                self.satisfy(order, item)
        self.journal.touched[order.id] = order

    def _register(self, order: OrderRun) -> None:
        self.orders[order.id] = order
        for state, n in order.counts.items():
            self.counts[state] += n
        for item in order.items:
            if item.wait_key is not None:
                self.waits.setdefault(item.wait_key, set()).add((order.id, item.idx))
                if item.state is IS.WAITING and awaits_callback(item.wait_key):
                    # A callback is on its way (Waiting.expect_soon is not persisted): after a
                    # restart, run(until_idle=True) must keep running for it.
                    self.soon.add((order.id, item.idx))

    def _forget(self, order_id: str) -> None:
        order = self.orders.pop(order_id, None)
        if order is None:
            return
        for state, n in order.counts.items():
            self.counts[state] -= n
        for item in order.items:
            if item.wait_key is not None:
                self._unindex(order, item)
            self.soon.discard((order.id, item.idx))
        order.release()

    def forget_all(self) -> None:
        """Drop every order from memory (after committing what is pending): each is loaded
        from the store again when it is next used.  For a runtime that does not run its
        store, whose memory another runtime running the store makes stale."""
        if self.journal:
            self.flush()
        for order_id in list(self.orders):
            self._forget(order_id)
        self.ready.clear()

    def recover(self) -> int:
        """After a (re)start: load every active order and resume it where the store says;
        returns how many orders that is.

        Items that were ``running`` when the process died are re-attempted (with the same
        idempotency key); retry and timeout timers are re-armed from the rows' due times.
        """
        for rec in self.store.orders(states=ACTIVE_ORDER_STATES):
            if rec.id not in self.orders:
                self._load(rec.id)
        for order in list(self.orders.values()):
            self._resume(order)
        self.flush()
        return len(self.orders)

    def active(self, order_id: str) -> OrderRun:
        """An order that can still change: from memory, or loaded from the store.

        Raises:
            NotFound: no such order.
            OperatorActionRejected: the order is finished.
        """
        if order_id in self.unstored:
            self.reload_unstored()
        order = self.orders.get(order_id)
        if order is not None:
            return order
        rec = self.store.order(order_id)
        if rec is None:
            raise NotFound(f"no order {order_id}")
        if rec.state not in ACTIVE_ORDER_STATES:
            raise OperatorActionRejected(f"order {order_id} is {rec.state}; it cannot change")
        return self._load(order_id)

    def catalog_for(self, order_id: str) -> ir.Catalog:
        """The catalog version an active order is pinned to: its amendments are planned with
        it, whatever catalog the runtime plans new orders with."""
        return self.active(order_id).catalog.catalog

    def _load(self, order_id: str) -> OrderRun:
        stored = self.store.load_order(order_id)
        if stored is None:
            raise NotFound(f"no order {order_id}")
        order = _rebuild(stored, self.pinned(stored.record.catalog_hash))
        self._register(order)
        return order

    def _resume(self, order: OrderRun, why: str = "re-attempted after a restart") -> None:
        for item in order.items:
            state = item.state
            if state is IS.RUNNING:
                self.make_ready(order, item, why)
                self._set_wait_key(order, item, UNSURE)  # the interrupted attempt may have acted
            elif state is IS.READY:
                self.ready.append((order, item))
            elif state is IS.PENDING and item.blockers == 0 and self._deps_met(order, item):
                self.satisfy(order, item)
            elif state is IS.FAILED:
                self.timers.arm(item.due or 0.0, order.id, item.idx, item.attempt, "retry")
            elif state is IS.WAITING and item.due is not None:
                self.timers.arm(item.due, order.id, item.idx, item.attempt, "timeout")

    # ---- readiness ----------------------------------------------------------------------------

    def satisfy(self, order: OrderRun, item: ItemRun) -> None:
        """``item`` no longer blocks its dependents (completed, skipped or discarded).

        Iterative: a cascade of skipped items along a long chain must not recurse.
        """
        items = order.items
        stack: list[ItemRun] = []  # only a cascade of skips puts anything here
        done: ItemRun | None = item
        while done is not None:
            for index in done.dependents:
                dep = items[index]
                dep.blockers -= 1
                if dep.blockers == 0 and dep.state is IS.PENDING and self._deps_met(order, dep):
                    stack.append(dep)
            done = stack.pop() if stack else None

    def _deps_met(self, order: OrderRun, item: ItemRun) -> bool:
        """Everything the item waits for is done: make it ready, or skip it.

        Returns True when the item was skipped or discarded, so its dependents are freed too.
        """
        if item.comp_of:
            runs = order.cancelling or item.line.superseded
            return bool(runs) and self.check_compensation(order, item)
        if order.cancelling:
            return False
        condition = item.when
        if condition is not None:
            try:
                holds = condition.holds(item_env(order, item))
            except EvalError as exc:
                item.reason = str(exc)
                self.move(order, item, IS.FATALLY_FAILED, item.reason)
                return False
            if not holds:
                item.reason = f"its condition (when, at {condition.span}) is false"
                self.move(order, item, IS.SKIPPED, item.reason)
                return True
        self.make_ready(order, item)
        return False

    # ---- running ------------------------------------------------------------------------------

    def take_ready(self, limit: int) -> list[Start]:
        """Mark up to ``limit`` ready items ``running`` and say how to start them."""
        starts: list[Start] = []
        ready, holds = self.ready, self.holds
        while ready and len(starts) < limit:
            order, item = ready.popleft()
            if item.state is not IS.READY or self.orders.get(order.id) is not order:
                continue
            if holds and order.id in holds:
                self.parked.append((order, item))
            else:
                starts.append(self._start(order, item))
        return starts

    def hold_starts(self, order_id: str) -> None:
        """Start no item of the order until :meth:`lift_hold` (its running items go on).

        An amendment needs a moment when nothing of the order runs, and a chain of items never
        gives one: each step starts the next item as it applies the previous one's outcome.
        Holds count, so that amendments of one order waiting together each lift their own.
        Memory only: just the process that runs the store starts items, and an amendment
        must be made in that process (the hold lasts one ``Runtime.amend`` call).
        """
        self.holds[order_id] = self.holds.get(order_id, 0) + 1

    def lift_hold(self, order_id: str) -> None:
        """Undo one :meth:`hold_starts`; at the last, the parked items are ready again, first
        in the queue (they were ready before anything queued since).  Those an amendment
        replaced in the meantime are dropped by :meth:`take_ready`, as any stale entry is."""
        left = self.holds.pop(order_id, 0) - 1
        if left > 0:
            self.holds[order_id] = left
            return
        back = [entry for entry in self.parked if entry[0].id == order_id]
        if back:
            self.parked = [entry for entry in self.parked if entry[0].id != order_id]
            self.ready.extendleft(reversed(back))

    def _start(self, order: OrderRun, item: ItemRun) -> Start:
        now = self.clock()
        if item.key_from is None and item.attempt == 0:  # an older om_dsl's row, never sent
            item.key_from = 1
        item.attempt += 1
        if item.started is None:
            item.started = now
        deadline = now + item.timeout_ms / 1000 if item.timeout_ms else None
        item.due = deadline
        item.reason = None
        self.move(order, item, IS.RUNNING)
        if deadline is not None:
            self.timers.arm(deadline, order.id, item.idx, item.attempt, "timeout")
        if item.ponr:
            self._reach_ponr(order, item, now)
        if not order.started:
            order.started = True
            self.journal.orders[order.id] = order
        ctx = ItemContext(order, item, item.attempt, deadline)
        return (order.id, item.idx, item.attempt, item.tpl.kind, ctx)

    def _reach_ponr(self, order: OrderRun, item: ItemRun, now: float) -> None:
        for root in item.line.root_items or ("",):
            if root not in order.ponr:
                order.ponr[root] = item.id
                self.journal.orders[order.id] = order
                self.journal.event(now, order.id, item.id, ORDER_PONR, None, None, item.attempt,
                                   f"point of no return reached for root item {root}")  # fmt: skip

    def apply(self, order_id: str, idx: int, attempt: int, outcome: Outcome) -> None:
        """The outcome of a started attempt; stale ones (timed out, cancelled) are dropped."""
        order = self.orders.get(order_id)
        if order is None:
            return
        item = order.items[idx]
        if item.state is IS.RUNNING and item.attempt == attempt:
            if type(outcome) is Completed and not order.cancelling:
                self.complete(order, item, outcome.outputs)  # the common case, directly
            else:
                self.settle(order, item, outcome)

    def settle(self, order: OrderRun, item: ItemRun, outcome: Outcome) -> None:
        """Apply an outcome to a running or waiting item."""
        if isinstance(outcome, Completed):
            self.complete(order, item, outcome.outputs)
            return  # complete() tells a cancel or an amendment itself
        if isinstance(outcome, Waiting):
            self.wait(order, item, outcome)
        elif isinstance(outcome, Failed):
            self.fail(order, item, outcome.reason, outcome.permanent, outcome.unsure,
                      outcome.definite)  # fmt: skip
        elif isinstance(outcome, OnHold):
            self.hold(order, item, outcome)
        else:
            reason = f"the {item.tpl.kind} kind returned {outcome!r}, which is not an outcome"
            self.fail(order, item, reason, permanent=True)
        self.after_settled(order, item)

    def complete(
        self,
        order: OrderRun,
        item: ItemRun,
        outputs: Mapping[str, Any],
        detail: str | None = None,
        act: Act = NOBODY,
    ) -> None:
        try:
            values = json_object(outputs)
        except ValueError as exc:
            self.fail(order, item, f"{item.id}: {exc}", permanent=True)
            return
        refused = self.record_problem(order, item, values)
        if refused is not None:
            self.fail(order, item, f"{item.id}: {refused}", permanent=True)
            return
        self.leave_wait(order, item)
        item.outputs = values
        item.ended = self.clock()
        item.due = None
        item.reason = None
        self.move(order, item, IS.COMPLETED, detail, act)
        self.satisfy(order, item)
        if order.pollers:
            self._poll(order)
        self.after_settled(order, item)

    def fail(
        self,
        order: OrderRun,
        item: ItemRun,
        reason: str,
        permanent: bool,
        unsure: bool = False,
        definite: bool = False,
    ) -> None:
        """A failed attempt: schedule the next one, or fall out when retries are spent.

        An item whose earlier attempt had an unknown outcome stays unsure until an answer
        settles it: a transient failure (a 503) of its replay says nothing of the first
        request; a permanent one (a 400 to the same request) says it was refused.

        A ``definite`` failure (the system answered that the operation failed) gives the
        next attempt a new idempotency key (:meth:`renew_key`)."""
        unsure = unsure or (item.wait_key == UNSURE and not permanent)
        self.leave_wait(order, item)
        if unsure:
            self._set_wait_key(order, item, UNSURE)
        if definite:
            self.renew_key(order, item)
        item.failures += 1
        item.reason = reason
        key = f"{order.id}/{item.id}"
        delay = None if permanent else next_delay_ms(item.tpl.retry, item.failures, key)
        if delay is None:
            item.due = None
            self.move(order, item, IS.FATALLY_FAILED, reason)
            return
        item.due = self.clock() + delay / 1000
        self.move(order, item, IS.FAILED, f"{reason} (retry {item.failures} in {delay} ms)")
        self.timers.arm(item.due, order.id, item.idx, item.attempt, "retry")

    def renew_key(self, order: OrderRun, item: ItemRun) -> None:
        """The system answered that the operation under the item's current idempotency key
        failed: its next attempt is a new operation, sent under a new key (persisted, so that
        a restart sends that one too).  While the outcome of an attempt is unknown the key is
        kept instead, so that the system can tell a repeat from new work."""
        item.key_from = item.attempt + 1
        self.journal.items[item] = order.id
        self.journal.touched[order.id] = order

    def wait(self, order: OrderRun, item: ItemRun, waiting: Waiting) -> None:
        deadlines = [d for d in (waiting.deadline, item.due) if d is not None]
        deadline = min(deadlines) if deadlines else None
        if deadline is not None and deadline != item.due:
            self.timers.arm(deadline, order.id, item.idx, item.attempt, "timeout")
        item.due = deadline
        item.reason = waiting.reason
        self._set_wait_key(order, item, wait_key(waiting))
        if item.state is not IS.WAITING:
            self.move(order, item, IS.WAITING, waiting.reason)
        if waiting.poll:
            order.pollers.add(item.idx)
        if waiting.expect_soon:
            self.soon.add((order.id, item.idx))
        if waiting.event is not None and waiting.event in order.signals:
            payload = order.signals[waiting.event]
            self.resolve(order, item, payload, f"event '{waiting.event}' was already signalled")

    def hold(self, order: OrderRun, item: ItemRun, on_hold: OnHold) -> None:
        item.reason = on_hold.reason
        item.due = None
        self._set_wait_key(order, item, hold_key(on_hold.key))
        self.move(order, item, IS.ON_HOLD, on_hold.reason)

    def resolve(
        self,
        order: OrderRun,
        item: ItemRun,
        payload: Mapping[str, Any],
        detail: str,
        act: Act = NOBODY,
    ) -> Outcome:
        """Something outside finished a waiting item; its kind says what that means (the
        outcome is returned, so that a callback can tell its caller that it failed)."""
        ctx = ItemContext(order, item, item.attempt, item.due)
        try:
            outcome = self.kinds.get(item.tpl.kind).resolve(ctx, payload)
        except Exception as exc:  # the kind's bug: the item fails, the runtime goes on
            outcome = Failed(kept_reason(f"resolving {item.id} failed: {raised(exc)}"))
        if isinstance(outcome, Completed):
            self.complete(order, item, outcome.outputs, detail, act)
        else:
            self.settle(order, item, outcome)
        return outcome

    def _poll(self, order: OrderRun) -> None:
        for idx in sorted(order.pollers):
            item = order.items[idx]
            if item.state is not IS.WAITING:
                order.pollers.discard(idx)
                continue
            ctx = ItemContext(order, item, item.attempt, item.due)
            outcome = self.kinds.get(item.tpl.kind).poll(ctx)
            if outcome is not None:
                order.pollers.discard(idx)
                self.settle(order, item, outcome)

    def fire_timers(self, now: float) -> None:
        for due, _, order_id, idx, attempt, kind in self.timers.pop_due(now):
            order = self.orders.get(order_id)
            if order is None or idx >= len(order.items):
                continue  # (an amendment renumbers items: the entry outlived its item)
            item = order.items[idx]
            if item.attempt != attempt or item.due != due:
                continue
            if kind == "retry" and item.state is IS.FAILED:
                item.due = None
                self.make_ready(order, item, "retry due")
            elif kind == "timeout" and item.state in (IS.RUNNING, IS.WAITING):
                self.stop_tasks.append((order_id, idx, attempt))
                unsure = under_way(item.state, item.wait_key)
                self.settle(order, item, Failed(self._timed_out(order, item), unsure=unsure))

    def _timed_out(self, order: OrderRun, item: ItemRun) -> str:
        """Why a running or waiting item timed out, as its kind tells it (a kind's failure
        to say falls back on the runtime's own words)."""
        reason = _timeout_reason(item)
        ctx = ItemContext(order, item, item.attempt, item.due)
        try:
            return self.kinds.get(item.tpl.kind).timed_out(ctx, reason)
        except Exception:  # the kind's bug must not stop the timers
            log.warning("the %s kind could not say why %s timed out", item.tpl.kind, item.id,
                        exc_info=True)  # fmt: skip
            return reason

    # ---- waits --------------------------------------------------------------------------------

    def _set_wait_key(self, order: OrderRun, item: ItemRun, key: str | None) -> None:
        if item.wait_key is not None:
            self._unindex(order, item)
        item.wait_key = key
        if key is not None:
            self.waits.setdefault(key, set()).add((order.id, item.idx))

    def _unindex(self, order: OrderRun, item: ItemRun) -> None:
        keys = self.waits.get(item.wait_key or "")
        if keys is not None:
            keys.discard((order.id, item.idx))
            if not keys:
                del self.waits[item.wait_key or ""]

    def leave_wait(self, order: OrderRun, item: ItemRun) -> None:
        if item.wait_key is not None:
            self._unindex(order, item)
            item.wait_key = None
        if order.pollers:
            order.pollers.discard(item.idx)
        if self.soon:
            self.soon.discard((order.id, item.idx))

    def waiting_items(
        self, key: str, order_id: str | None = None
    ) -> list[tuple[OrderRun, ItemRun]]:
        """Items (in memory) whose wait key is ``key``, in a deterministic order."""
        found = sorted(self.waits.get(key, ()))
        return [
            (self.orders[oid], self.orders[oid].items[idx])
            for oid, idx in found
            if order_id is None or oid == order_id
        ]

    # ---- cancellation -------------------------------------------------------------------------

    def cancel_item(self, order: OrderRun, item: ItemRun, reason: str) -> None:
        """Stop an item that started (or failed) because its order is cancelled.

        The reason becomes the item's: status and views showed the one it had before (a
        cancelled manual item still read "in queue field_techs").
        """
        if item.state is IS.WAITING:
            ctx = ItemContext(order, item, item.attempt, item.due)
            try:
                self.kinds.get(item.tpl.kind).cancel(ctx)
            except Exception as exc:  # a kind's clean-up failing must not block the cancel
                reason = f"{reason}; its clean-up failed: {kept_reason(raised(exc))}"
        self.leave_wait(order, item)
        item.due = None
        item.reason = reason
        self.move(order, item, IS.CANCELLED, reason)

    def in_flight(self, order: OrderRun, item: ItemRun) -> bool:
        """A normal item whose work may be under way or done downstream without the runtime
        knowing yet: a cancel or an amendment lets it settle before it decides its undo.

        Running; waiting for the callback of an accepted async request; or ready, failed
        or fallen out after an attempt with an unknown outcome (a timeout, a lost
        connection, a crash) when it has an ``undo`` (without one, nothing is decided).
        """
        state = item.state
        if state in (IS.RUNNING, IS.WAITING):
            return under_way(state, item.wait_key)
        return (
            state in (IS.READY, IS.FAILED, IS.FATALLY_FAILED)
            and item.wait_key == UNSURE
            and item.idx in order.undo_of
        )

    def stop_for_cancel(self, order: OrderRun, item: ItemRun, reason: str) -> None:
        """A normal item of an order being cancelled: what never ran is discarded, what
        started is cancelled, what is in flight (:meth:`in_flight`) settles first."""
        self._stop(order, item, reason, discard=True)

    def _stop(self, order: OrderRun, item: ItemRun, reason: str, *, discard: bool) -> None:
        """Cancel a started item, unless it is in flight: then it settles first, and one in
        fallout says why an operator must settle it.  ``discard``: what never ran is
        discarded too (a cancel; an amendment has planned its superseded items already)."""
        if self.in_flight(order, item):
            if item.state is IS.FATALLY_FAILED:
                self._explain_unsure(order, item)
        elif discard and item.state in (IS.PENDING, IS.READY):
            self.move(order, item, IS.DISCARDED, reason)
        elif item.state in STOPPED:
            self.cancel_item(order, item, reason)

    def _explain_unsure(self, order: OrderRun, item: ItemRun) -> None:
        """Say in the reason of an item in fallout what an operator must do for the cancel
        or the amendment that waits for it (the reason is shown by status and the views)."""
        reason = unsure_reason(item.reason)
        if reason != item.reason:
            item.reason = reason
            self.journal.items[item] = order.id
            self.journal.touched[order.id] = order

    def after_settled(self, order: OrderRun, item: ItemRun) -> None:
        """A normal item of an order being cancelled, or of a line an amendment superseded,
        changed state: stop it unless it is still in flight, then decide the compensations
        that waited for it."""
        if item.comp_of or not (order.cancelling or item.line.superseded):
            return
        if order.cancelling:
            self.stop_for_cancel(order, item, "the order is being cancelled")
            self._decide_compensations(order)
            return
        self._stop(order, item, "stopped: an amendment superseded its line", discard=False)
        comp = order.undo_of.get(item.idx)
        if comp is not None and self.check_compensation(order, order.items[comp]):
            self.satisfy(order, order.items[comp])

    def _decide_compensations(self, order: OrderRun) -> None:
        """Once nothing of a cancelled order is in flight, every compensation whose turn it
        is starts (or is discarded): each waits for all of them, not only for its own items,
        since the undo of ``activate`` must not run while ``confirm`` (no undo of its own,
        but built on ``activate``) still runs."""
        if self.settling(order):
            return
        for comp in order.compensations():
            if self.check_compensation(order, comp):
                self.satisfy(order, comp)

    def settling(self, order: OrderRun) -> bool:
        """A normal item of the order has not finished (while cancelling: it is in flight,
        or in fallout waiting for an operator to settle its unknown outcome)."""
        return any(i.state not in ITEM_TERMINAL for i in order.normal_items())

    def check_compensation(self, order: OrderRun, comp: ItemRun) -> bool:
        """Make a compensation ready (something it undoes completed), or discard it.

        Nothing is decided while what it undoes is in flight (its outcome is not known yet),
        nor, while the order is cancelled, as long as any item of the order has not settled.
        Returns True when it was discarded (the compensations waiting for it are freed).
        """
        if comp.state is not IS.PENDING:
            return False
        originals = [order.items[i] for i in comp.comp_of]
        if any(self.in_flight(order, o) for o in originals):
            return False
        if order.cancelling and self.settling(order):
            return False
        if not any(o.state is IS.COMPLETED for o in originals):
            comp.reason = "nothing to undo"
            self.move(order, comp, IS.DISCARDED, comp.reason)
            return True
        if comp.blockers == 0:
            self.make_ready(order, comp, "compensating " + ", ".join(o.id for o in originals))
        return False

    # ---- committing ---------------------------------------------------------------------------

    def flush(self) -> None:
        """Derive order states, commit the journal in one transaction, queue the events."""
        self._settle_orders()
        if not self.journal:
            return
        batch = self.journal.batch(self.clock())
        try:
            first = self.store.apply(batch)
        except BaseException:
            self._lost(batch)
            raise
        if self.listeners:
            self.listeners.queue(
                LifecycleEvent(first + n, ts, kind, oid, iid, old, new, attempt, detail, by, why)
                for n, (ts, oid, iid, kind, old, new, attempt, detail, by, why) in enumerate(
                    batch.events
                )
            )
        for order_id, rec in batch.orders.items():
            if rec.state not in ACTIVE_ORDER_STATES:
                self._forget(order_id)

    def _lost(self, batch: WriteBatch) -> None:
        """A commit failed (a full disk, a locked database): memory is ahead of the store for
        the orders it touched, so they leave memory, and the store's version of each comes
        back (:meth:`reload_unstored`), as after a restart.  Otherwise an operator action that
        raised would still have happened in memory, and later commits would write its item
        rows without its events.  A new order has no stored version: it is simply gone.  The
        orders are worked out from the batch only here: a commit that succeeds pays nothing."""
        for content_hash in batch.catalogs:
            self.catalogs.pop(content_hash, None)
        ids = batch.order_ids()
        for order_id in ids:
            self._forget(order_id)
        self.unstored |= ids - {new.record.id for new in batch.new_orders}

    def reload_unstored(self) -> None:
        """Load the orders a failed commit left out of memory, and resume them as a restart
        does (a ``running`` item is re-attempted with its idempotency key; timers re-armed).
        An order the store cannot give back yet stays marked, for the next call."""
        for order_id in sorted(self.unstored):
            if order_id in self.orders:
                self.unstored.discard(order_id)
                continue
            try:
                rec = self.store.order(order_id)
                if rec is not None and rec.state in ACTIVE_ORDER_STATES:
                    self._resume(self._load(order_id), _RELOADED)
            except Exception:  # the store still fails: try again at the next step
                log.warning("order %s could not be loaded again yet", order_id, exc_info=True)
                continue
            self.unstored.discard(order_id)

    def _settle_orders(self) -> None:
        for order in list(self.journal.touched.values()):
            new = derive_state(order)
            if new is order.state:
                continue
            detail = None
            if new is OS.COMPLETED:
                for comp in order.compensations():
                    if comp.state is IS.PENDING:
                        self.move(order, comp, IS.DISCARDED, "not needed: the order completed")
                detail = self._record_values(order)
            if new is OS.CANCELLED and order.state is OS.HELD:
                # a failed compensation was skipped or completed by hand: the cancel goes on
                # (held -> cancelled is no transition of TMF622's, and used to wedge the engine)
                self.move_order(
                    order, OS.PENDING_CANCELLATION, "the held compensation was resolved"
                )
            self.move_order(order, new, detail)

    # ---- records (what completed orders keep on their inventory products) --------------------

    def product_changes(self, order: OrderRun) -> dict[str, ProductChange]:
        """What the order records in the inventory, by order item id: known since it was
        submitted or amended here, else read from the store once (a host's store without an
        inventory records nothing)."""
        if order.changes is None:
            read = getattr(self.store, "order_products", None)
            order.changes = _by_item(read(order.id) if callable(read) else ())
        return order.changes

    def record_problem(self, order: OrderRun, item: ItemRun, outputs: dict[str, Any]) -> str | None:
        """Why ``item``'s outputs would make a record of its plan set a value its product's
        offer refuses (see :func:`om_dsl.runtime.records.output_problem`), or None."""
        recorder = order.catalog.recorder
        line = item.line
        if not recorder.rules(line.product, line.action):
            return None  # the common case: no record, no store read
        changes = self.product_changes(order)
        return output_problem(recorder, order.fields, line, item.tpl.name, outputs, changes)

    def _record_values(self, order: OrderRun) -> str | None:
        """The values the plans' records set as ``order`` completes, into the journal (the
        store applies them with the order's products, in the same commit); what could not
        be recorded is logged, and returned for the completion event."""
        recorder = order.catalog.recorder
        if not any(recorder.rules(ln.product, ln.action) for ln in order.lines.values()):
            return None
        changes = self.product_changes(order)
        values, problems = completed_values(recorder, order.fields, order.lines, changes)
        if values:
            self.journal.recorded[order.id] = values
        for problem in problems:
            log.warning("order %s: %s", order.id, problem)
        return "; ".join(problems) or None

    def idle(self) -> bool:
        """Nothing the runtime can move by itself (only people, events or callbacks can)."""
        counts = self.counts
        return not (counts[IS.READY] or counts[IS.RUNNING] or counts[IS.FAILED] or self.soon)


def _by_item(changes: Iterable[ProductChange]) -> dict[str, ProductChange]:
    return {change.item_id: change for change in changes}


def derive_state(order: OrderRun) -> OrderState:
    """The order state its items imply (TMF622)."""
    state = order.state
    if state in ORDER_TERMINAL or state is OS.ASSESSING_CANCELLATION:
        return state
    counts = order.counts
    if order.cancelling:
        if counts[IS.FATALLY_FAILED]:
            return OS.HELD
        if any(counts[s] for s in ItemState if s not in ITEM_TERMINAL):
            return OS.PENDING_CANCELLATION
        return OS.CANCELLED
    if order.unfinished == 0:
        return OS.COMPLETED
    if counts[IS.FATALLY_FAILED]:
        return OS.HELD
    if not order.started and state is OS.ACKNOWLEDGED:
        return OS.ACKNOWLEDGED  # nothing ran yet (a held, never-started order goes on below)
    if counts[IS.READY] or counts[IS.RUNNING] or counts[IS.FAILED]:
        return OS.IN_PROGRESS
    return OS.PENDING


def count_blockers(order: OrderRun) -> None:
    """How many of its dependencies each item still waits for."""
    items = order.items
    for item in items:
        item.blockers = sum(1 for d in item.deps if not _done_for(item, items[d]))


def _done_for(item: ItemRun, dep: ItemRun) -> bool:
    """A compensation that was not needed (discarded) frees what waits for it: other
    compensations, and the items an amendment runs again after undoing their old work."""
    done = COMP_SATISFIED if item.comp_of or dep.comp_of else ITEM_SATISFIED
    return dep.state in done


def _rebuild(stored: StoredOrder, catalog: CatalogRun) -> OrderRun:
    """The in-memory order from its plan and its rows (after a restart, or for an operator)."""
    plan = stored_plan(stored)  # a damaged plan: StoreError
    return _revive(plan, stored.items, stored.record, stored.signals, catalog)


def _revive(
    plan: OrderPlan,
    rows: list[ItemRow],
    rec: OrderRecord,
    signals: Mapping[str, Any],
    catalog: CatalogRun,
) -> OrderRun:
    """The in-memory order from its plan, its item rows and its order row."""
    order = OrderRun(plan, catalog)
    for row in rows:
        item = order.items[row.idx]
        item.state = ItemState(row.state)
        item.attempt, item.failures = row.attempt, row.failures
        item.due, item.started, item.ended = row.due_at, row.started_at, row.ended_at
        item.outputs, item.reason, item.wait_key = row.outputs, row.reason, row.wait_key
        item.key_from = row.key_from
        if row.wait_key == "poll":
            order.pollers.add(item.idx)
    order.state = OrderState(rec.state)
    order.cancelling, order.started, order.ponr = rec.cancelling, rec.started, dict(rec.ponr)
    order.created = rec.created_at
    order.signals = dict(signals)
    order.recount()
    count_blockers(order)
    return order


def json_object(outputs: Mapping[str, Any], what: str = "outputs") -> dict[str, Any]:
    """``outputs`` as a dict that JSON writes back as it is, or ValueError saying why not.

    NaN and infinity are refused too: JSON has no such numbers, so the store held ``NaN``
    and `om status --format json` showed null.
    """
    if not isinstance(outputs, Mapping):
        raise ValueError(f"{what} must be a JSON object, not {type(outputs).__name__}")
    if not outputs:
        return {}
    values = dict(outputs)
    try:
        json.dumps(values, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        raise ValueError(f"{what} must be JSON values: {exc}") from None
    if not all(isinstance(k, str) for k in values):
        raise ValueError(f"{what} names must be strings")
    return values


def _timeout_reason(item: ItemRun) -> str:
    if item.timeout_ms:
        return f"timed out after {item.timeout_ms} ms"
    return "its deadline passed"
