"""The embeddable runtime: submit orders, run them durably, watch them, act on them.

    runtime = Runtime(catalog, store=SqliteStore("om.db"), handlers=registry)
    order_id = runtime.submit(order)          # from any thread; one transaction
    runtime.run_until_idle()                  # or: await runtime.run(); or start_background()
    print(runtime.status(order_id).state)

Every method is thread-safe.  Operator actions return once their effect is committed.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import Any, TypeVar, cast

from om_dsl.errors import (
    NotFound,
    OmError,
    OperatorActionRejected,
    OrderIssue,
    OrderValidationError,
)
from om_dsl.ir.io import with_hash
from om_dsl.ir.models import AutoItem, Catalog
from om_dsl.orders.decompose import decompose, decomposer_for
from om_dsl.orders.installed_base import InstalledBase
from om_dsl.orders.inventory import ProductChange, ProductInventory, product_changes
from om_dsl.orders.models import Decomposition, Order
from om_dsl.runtime import operator
from om_dsl.runtime.arguments import check_arguments
from om_dsl.runtime.builder import build_plan
from om_dsl.runtime.downstream.urls import check_listener_url
from om_dsl.runtime.downstream.world import DownstreamSettings, OutsideWorld
from om_dsl.runtime.engine import Engine
from om_dsl.runtime.events import NOBODY, Act, Listener, Listeners
from om_dsl.runtime.fallout import (
    BulkRetry,
    FalloutFilter,
    FalloutItem,
    fallout_items,
    group_by_order,
    status_rows,
)
from om_dsl.runtime.handlers import HandlerRegistry
from om_dsl.runtime.kinds.auto import AutoKind
from om_dsl.runtime.kinds.base import KindRegistry
from om_dsl.runtime.kinds.simple import MilestoneKind, WaitKind
from om_dsl.runtime.plan import OrderPlan
from om_dsl.runtime.revision import ItemsRunning, Revision
from om_dsl.runtime.scheduler import Scheduler
from om_dsl.runtime.states import ACTIVE_ORDER_STATES, ITEM_TERMINAL, OrderState, order_states
from om_dsl.runtime.status import OrderStatus, order_status, stored_plan
from om_dsl.runtime.store.base import EventRow, FalloutPage, FalloutRow, OrderRecord, Store
from om_dsl.runtime.store.memory import MemoryStore
from om_dsl.runtime.store.runner_lock import (
    StoreInUse,
    admit_runner,
    refuse_backup,
    runner_lock_for,
)

log = logging.getLogger("om_dsl.runtime")
T = TypeVar("T")
FailureHook = Callable[[Exception], None]


class RuntimeStopped(OmError):
    """The runtime's background loop stopped on an error (a full disk, a store that cannot be
    written): it takes no new work (submits, operator actions) until it runs again, since
    nothing would run it.  Such work used to be stored and then wait, silently, for a restart
    that nobody knew was needed.  :attr:`Runtime.failure` is the error."""


class Runtime:
    """Orders in, plans executed to completion, durably.

    Args:
        ir: the catalog new orders are planned with (optional for a runtime that only resumes
            or inspects stored orders: each order is pinned to the catalog it was submitted
            with, and that catalog is in the store).
        store: where orders live; :class:`MemoryStore` by default.
        handlers: the host's handlers for ``auto`` items.
        kinds: item kinds beyond the built-in ones (auto, milestone, wait, callout, manual), or
            replacements of them.
        concurrency: how many items may run at once.
        handler_threads: the size of the thread pool for sync handlers.
        downstream: callback URL, notification listeners and retries (docs/downstream.md).

    The outside world (docs/downstream.md): ``systems`` (online/offline), ``tasks`` (manual
    work), ``hub`` (TMF622 listener registrations), ``product_hub`` (TMF637's: product
    events), ``notifications`` (TMF622 and TMF637 events, at least once),
    ``callbacks`` (where async callouts call back; :meth:`serve_callbacks`, :meth:`callback`).
    """

    def __init__(
        self,
        ir: Catalog | None = None,
        store: Store | None = None,
        handlers: HandlerRegistry | None = None,
        *,
        kinds: KindRegistry | None = None,
        concurrency: int = 64,
        handler_threads: int = 16,
        clock: Callable[[], float] = time.time,
        downstream: DownstreamSettings | None = None,
    ) -> None:
        counts: dict[str, object] = {"concurrency": concurrency, "handler_threads": handler_threads}
        check_arguments(
            ir, store, handlers, kinds=kinds, counts=counts, clock=clock, downstream=downstream
        )
        self.catalog = with_hash(ir) if ir is not None and not ir.content_hash else ir
        self.store: Store = store if store is not None else MemoryStore()
        self.handlers = handlers if handlers is not None else HandlerRegistry()
        self.kinds = kinds if kinds is not None else KindRegistry()
        environ = downstream.environ if downstream is not None else None
        self._auto = _register_builtin_kinds(self.kinds, self.handlers, handler_threads, environ)
        self._listeners = Listeners()
        self._engine = Engine(self.store, self.kinds, self._listeners, clock)
        self._scheduler = Scheduler(self._engine, self.kinds, concurrency)
        self._thread: threading.Thread | None = None
        self._closed = False
        self._failure: Exception | None = None
        self._failure_hooks: list[FailureHook] = []
        self._runner = runner_lock_for(self.store)
        self._memory_current = self._runner is None
        """Whether the orders in memory are the store's: always for a store private to this
        process; else only while this runtime runs the store, since it took the lock and
        loaded them again (see :meth:`_commit`)."""
        self._world = world = OutsideWorld(self, downstream)
        self.systems = world.systems
        self.tasks = world.tasks
        self.hub = world.hub
        self.product_hub = world.product_hub
        self.notifications = world.notifications
        self.callbacks = world.callbacks
        self._scheduler.watch = world.online_watch

    # ---- plans and orders ---------------------------------------------------------------------

    def plan(self, work: Any, order: Order | None = None) -> OrderPlan:
        """The plan an order (or a decomposition) would get, without submitting it.

        ``work`` is an :class:`Order`, a :class:`Decomposition`, or the order as a host
        receives it (TMF622 or native JSON text, bytes or parsed JSON), validated first.
        """
        catalog = self._require_catalog()
        if not isinstance(work, Order | Decomposition):
            work = decomposer_for(catalog).read(work)
        if isinstance(work, Order):
            order, work = work, decompose(catalog, work, inventory=self.inventory)
        return build_plan(catalog, work, order)

    def submit(self, work: Any, order: Order | None = None) -> str:
        """Plan and persist a new order; it starts when the runtime runs.  Thread-safe.

        ``work`` is what :meth:`plan` takes, or an :class:`OrderPlan`.  The order row, its plan
        and every item row are written in one transaction: when this raises (an invalid
        order, a plan error, a duplicate id, a store failure), nothing was stored.

        Raises:
            OrderValidationError: the order is invalid (every issue, with its JSON path), or
                names a product an unfinished order changes already (O075, checked in the
                transaction that stores it).
            PlanError: the plan could not be built (e.g. a dependency cycle).
            OperatorActionRejected: an order with this id exists already.
        """
        with self._not_run_elsewhere():
            if not isinstance(work, Order | Decomposition | OrderPlan):
                work = decomposer_for(self._require_catalog()).read(work)
            plan = work if isinstance(work, OrderPlan) else self.plan(work, order)
            catalog = self._require_catalog()
            if plan.catalog_hash != catalog.content_hash:
                raise OmError(
                    f"the plan of order {plan.order_id} was built with catalog "
                    f"{plan.catalog_hash[:19]}, this runtime plans with "
                    f"{catalog.content_hash[:19]}"
                )
            source = work if isinstance(work, Order) else order
            products = product_changes(source, catalog) if source else []
            with self._engine.lock:
                if not self._memory_current:
                    self._engine.forget_all()
                notify = source.notify if source else []
                self._submit_with_listeners(plan, catalog, notify, products)
        self._after_change()
        return plan.order_id

    def _submit_with_listeners(
        self,
        plan: OrderPlan,
        catalog: Catalog,
        notify: list[str],
        products: list[ProductChange],
    ) -> None:
        """Submit, with the listener URLs the order names registered for it first (a failed
        submit removes them again); the caller holds the engine lock."""
        if notify and not self.store.has_order(plan.order_id):
            _check_listeners(notify)
            self.hub.register_order(plan.order_id, notify)
        try:
            self._engine.submit(plan, catalog, products)
        except BaseException:
            if notify and not self.store.has_order(plan.order_id):
                self.hub.drop_order(plan.order_id)
            raise

    def has_order(self, order_id: str) -> bool:
        return self.store.has_order(order_id)

    # ---- running ------------------------------------------------------------------------------

    async def run(self, until_idle: bool = False) -> None:
        """Run on the current event loop until :meth:`stop` (or until idle, if asked).

        Idle means nothing can move without the outside world: no item is ready, running or
        due for a retry; what is left waits for people, events or callbacks.
        """
        self._check_open()
        owned = self._runner is not None and not self._runner.held
        self.claim_store()
        self._failure = None  # running again: new work is taken again
        try:
            self.notifications.enable()
            try:
                await self._scheduler.run(until_idle)
            finally:
                await self.kinds.aclose()
        finally:
            if owned:
                self._release_store()

    def run_until_idle(self) -> None:
        """Run (in this thread, on a new event loop) until idle; see :meth:`run`.

        Raises:
            RuntimeError: called on a running event loop (an async host), which cannot run a
                second one: asyncio's own error named neither the way out nor the runtime,
                and left a coroutine that was never awaited.
        """
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            asyncio.run(self.run(until_idle=True))
            return
        raise RuntimeError(
            "run_until_idle() starts an event loop of its own, and this thread runs one "
            "already: in async code, write `await runtime.run(until_idle=True)`"
        )

    def claim_store(self, *, run: bool = True) -> None:
        """Take the right to run the store now, or raise :class:`StoreInUse` at once when
        another runtime runs it (actions of runtimes that do not run it, which take
        milliseconds, are waited for).

        Running takes it anyway (see :mod:`om_dsl.runtime.store.runner_lock`); a host calls
        this first to refuse to start, with a clear error, when another process runs the
        store, or when the store is a backup copy (:class:`StoreIsBackup`).  Held until the
        run ends or :meth:`close`.

        ``run=False``: the lock is held only to keep runners out while an operator command
        moves items (`om retry`...); nothing runs, so a backup copy is not refused.

        Raises:
            StoreInUse: another process, or another runtime of this one, runs the store.
            StoreIsBackup: ``run`` and the store is a copy made by ``om backup``, not opened
                as a restore (``SqliteStore(path, restored=True)``); the lock is not kept.
        """
        if self._runner is None:
            return
        if run:  # before the lock file is made: a refused copy is left as it was
            refuse_backup(self.store)
        fresh = not self._runner.held
        if fresh:
            self._runner.acquire()
        try:
            if run:
                admit_runner(self.store)
        except BaseException:
            if fresh:
                self._runner.release()
            raise
        if fresh:
            with self._engine.lock:  # whoever ran the store before may have moved its orders
                self._engine.forget_all()
                self._memory_current = True

    def _not_run_elsewhere(self) -> AbstractContextManager[None]:
        """Held while submitting or an operator action moves items.

        The runtime that runs the store must make those moves (or nobody runs it, and they
        wait for the next run): another runner's scheduler would never see them.  They used
        to be accepted, and nothing ran.  While nobody runs the store this holds its runner
        lock shared (:meth:`RunnerLock.shared`): actions of other runtimes and processes go
        on at once, and a runner that starts meanwhile waits for the action's commit, so it
        loads what the action stored.

        Raises:
            StoreInUse: another process, or another runtime of this one, runs the store.
            RuntimeStopped: this runtime's background loop stopped on an error.
        """
        self._check_open()
        self.refuse_if_stopped()
        runner = self._runner
        if runner is None or runner.held or getattr(self.store, "read_only", False):
            return nullcontext()
        return runner.shared()

    def _check_open(self) -> None:
        if self._closed:
            raise OmError("the runtime is closed")

    def refuse_if_stopped(self) -> None:
        """New work is refused while the background loop is dead: nothing would run it.
        (A host's own writes beside the runtime ask it too: ``POST /prune``.)

        Checked before the work starts, not atomically with the loop's death: what slips in
        meanwhile is stored, and runs when the loop runs again (``om serve`` exits on the
        failure, and its restart recovers every unfinished order).

        Raises:
            RuntimeStopped: the loop stopped on an error (:attr:`failure`).
        """
        if self._failure is not None:
            raise RuntimeStopped(
                "the runtime stopped on an error (its log says which) and takes no new work "
                "until it runs again"
            )

    def _release_store(self) -> None:
        if self._runner is not None:
            self._memory_current = False  # another runtime may run the store from now on
            self._runner.release()

    def start_background(self, timeout: float = 30.0) -> None:
        """Run in a background thread until :meth:`stop` (e.g. inside an HTTP service).

        A loop that stops on an error later is logged, kept as :attr:`failure` and told to
        the :meth:`on_failure` hooks; the runtime then refuses new work (:class:`RuntimeStopped`)
        until it runs again.

        Raises:
            StoreInUse: another process runs the store (raised here, not in the thread).
            StoreIsBackup: the store is a backup copy, not opened as a restore.
            RuntimeStopped: the loop stopped on an error before it started (loading the
                store's orders failed); it used to be waited for until ``timeout``.
        """
        self._check_open()
        if self._thread is not None and self._thread.is_alive():
            raise OmError("the runtime is already running in the background")
        self.claim_store()
        self._failure = None
        self._thread = thread = threading.Thread(
            target=self._background, name="om-runtime", daemon=True
        )
        thread.start()
        self._wait_started(thread, timeout)

    def _wait_started(self, thread: threading.Thread, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not self._scheduler.wait_started(0.02):
            if not thread.is_alive():
                raise RuntimeStopped(
                    "the runtime stopped on an error as it started (its log says which)"
                )
            if time.monotonic() >= deadline:
                raise OmError(f"the runtime did not start within {timeout} s")

    def _background(self) -> None:
        try:
            asyncio.run(self.run())
        except Exception as exc:  # nowhere to raise to: say it loudly, once, and tell the host
            log.exception("the om runtime stopped on an error")
            self._failure = exc
            self._tell_failure(exc)
        finally:
            self._release_store()

    def _tell_failure(self, exc: Exception) -> None:
        for hook in list(self._failure_hooks):
            try:
                hook(exc)
            except Exception:  # a host's hook must not hide the others
                log.exception("a runtime failure hook failed")

    @property
    def failure(self) -> Exception | None:
        """The error the background loop (:meth:`start_background`) stopped on; None while
        it runs, when it stopped normally, or never ran.  A loop the host runs itself
        (:meth:`run`) raises its error to the host instead.  Cleared when it runs again."""
        return self._failure

    def on_failure(self, hook: FailureHook) -> Callable[[], None]:
        """Have ``hook(error)`` called, in the runtime's thread, when the background loop
        stops on an error (after it is logged): a host that cannot go on without the loop
        stops there (``om serve`` exits, so that its supervisor restarts it).  Returns a
        function that removes the hook."""
        self._failure_hooks.append(hook)

        def remove() -> None:
            if hook in self._failure_hooks:
                self._failure_hooks.remove(hook)

        return remove

    @property
    def inventory(self) -> ProductInventory | None:
        """The product inventory a ``modify`` reads its previous values from: the store's,
        or None for a host's own store that keeps none (it predates the inventory, and its
        modify items list every attribute as changed, as before)."""
        return self.store if callable(getattr(self.store, "product", None)) else None

    @property
    def running(self) -> bool:
        """True while the scheduler's loop runs (a host's readiness probe asks this)."""
        return self._scheduler.running

    def stop(self, timeout: float = 30.0) -> None:
        """Stop running (items in flight are re-attempted at the next run).

        A loop of the host's own (``await run()``) is asked to stop, and its ``run`` returns
        when it gets there; a background loop is waited for, and then the sync handlers
        still running in the runtime's threads, ``timeout`` seconds in all.

        Raises:
            OmError: the background loop did not stop within ``timeout`` (a handler that
                blocks its loop: ``inline``, or async code that never awaits).  It still runs
                and still holds the store; stop or close again later.  It used to return as if
                stopped, and a later close released the store under the running loop.
            OmError: the loop stopped, but sync handlers still run after ``timeout``: each is
                named.  Their items are re-attempted at the next run (the store is free); the
                threads cannot be stopped, and a process exit does not wait for them.  It used
                to return as if all had stopped, and the process then waited for the threads
                at its exit, silently.
        """
        deadline = time.monotonic() + timeout
        self._scheduler.request_stop()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                raise OmError(f"the runtime did not stop within {timeout} s: a handler blocks it")
            self._thread = None
        elif self.running:
            return
        self._refuse_if_handlers_run(timeout, max(0.0, deadline - time.monotonic()))

    def _refuse_if_handlers_run(self, timeout: float, wait: float) -> None:
        left = self._auto.running(wait)
        if not left:
            return
        shown = "; ".join(left[:5]) + (f"; and {len(left) - 5} more" if len(left) > 5 else "")
        raise OmError(
            f"the runtime stopped, but {len(left)} sync handler(s) still run after {timeout:g} "
            f"s: {shown}. A thread cannot be stopped: their items are re-attempted at the next "
            "run (these late results are ignored), and the process does not wait for them at "
            "its exit; give slow work to async handlers"
        )

    def close(self, timeout: float = 30.0) -> None:
        """Stop, then release the outside world, the kinds' resources and the store (the one
        given too).  Using the runtime afterwards is an :class:`OmError`; so is a loop that
        does not stop within ``timeout`` (see :meth:`stop`): nothing is closed then."""
        if self._closed:
            return
        self.stop(timeout)
        self._closed = True
        self._release_store()
        self._world.close()
        self.kinds.close()
        self.store.close()

    def __enter__(self) -> Runtime:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- reading ------------------------------------------------------------------------------

    def status(self, order_id: str) -> OrderStatus:
        """The order's committed state, items, attempts, due dates, PONR and outputs.

        Raises:
            NotFound: no such order.
        """
        self._check_open()
        return order_status(self.store, order_id, self._engine.clock(), self._max_attempts)

    def _max_attempts(self, catalog_hash: str, product: str, name: str) -> int | None:
        """The attempts one retry budget of an item allows (its first and its policy's
        retries), from the catalog version its order runs on; None when that cannot be read
        (status still answers, without it)."""
        engine = self._engine
        try:
            with engine.lock:
                policy = engine.pinned(catalog_hash).template(product, name).retry
        except (KeyError, OmError, ValueError):
            return None
        return policy.max_retries + 1 if policy.kind != "none" else 1

    def orders(
        self,
        states: Iterable[str] | None = None,
        offset: int = 0,
        limit: int | None = None,
        external_id: str | None = None,
    ) -> list[OrderRecord]:
        """Orders by creation (then id): those in ``states`` (any collection of order
        states: ``["held", "pending"]``), with the ``external_id``.

        Raises:
            TypeError: ``states`` is one text (``"held"``), not a collection.
            ValueError: a name in ``states`` is no order state (the message lists them).
        """
        wanted = None if states is None else order_states(states)
        return self.store.orders(wanted, offset, limit, external_id)

    def events(
        self, order_id: str | None = None, after_seq: int = 0, limit: int | None = None
    ) -> list[EventRow]:
        """The append-only event log (of one order, or all), oldest first."""
        return self.store.events(order_id, after_seq, limit)

    def add_listener(self, listener: Listener) -> Callable[[], None]:
        """Hear of every committed change (order created, state changes, item changes)."""
        return self._listeners.add(listener)

    # ---- operator and outside-world actions ---------------------------------------------------

    def retry(
        self, order_id: str, item_id: str, *, by: str | None = None, reason: str | None = None
    ) -> None:
        """Run a failed or fatally failed item again now, with a fresh retry budget.

        ``by`` and ``reason`` (in every operator action): who acts and why, kept in the event
        log (the row's ``by`` and ``reason``, and its words: ``retried by bob (operator):
        ...``).  Give a name, never a credential.
        """
        self._move(operator.retry, order_id, item_id, _act(by, reason))

    def fallout(self, wanted: FalloutFilter | None = None) -> list[FalloutItem]:
        """The items whose retries are spent, in held orders, that ``wanted`` matches: held
        orders by creation, each order's items in plan order.

        Raises:
            NotFound: ``wanted`` names a system no catalog declares, or an unknown order
                (a typo must not read as "nothing in fallout").
        """
        wanted = wanted if wanted is not None else FalloutFilter()
        if wanted.system is not None:
            self.systems.status(wanted.system)
        if wanted.order_id is not None and not self.has_order(wanted.order_id):
            raise NotFound(f"no order {wanted.order_id}")
        return fallout_items(self._fallout_rows(wanted.order_id), self._system_of, wanted)

    def fallout_page(
        self, wanted: FalloutFilter | None = None, offset: int = 0, limit: int | None = None
    ) -> tuple[list[FalloutItem], int]:
        """The items ``[offset, offset + limit)`` of :meth:`fallout`, and how many match in
        all: what a page of ``GET /fallout`` shows.

        The store pages it (:meth:`Store.fallout_page
        <om_dsl.runtime.store.base.Store.fallout_page>`): it counts and cuts the rows in
        fallout, and reads the plans of the orders on the page alone; the service listed
        every item, reading each held order's plan, for a page.  A filter on the ``system``
        (the catalog's, not the store's) and a host's store without ``fallout_page`` still
        list them all, then slice.

        Raises:
            NotFound: as :meth:`fallout`.
        """
        wanted = wanted if wanted is not None else FalloutFilter()
        find = getattr(self.store, "fallout_page", None)
        if wanted.system is not None or not callable(find):
            found = self.fallout(wanted)
            return found[offset : None if limit is None else offset + limit], len(found)
        if wanted.order_id is not None and not self.has_order(wanted.order_id):
            raise NotFound(f"no order {wanted.order_id}")
        self._check_open()
        page = cast(FalloutPage, find(wanted.order_id, wanted.item_pattern, wanted.product,
                                      offset, limit))  # fmt: skip
        return fallout_items(page.rows, self._system_of, FalloutFilter()), page.total

    def _fallout_rows(self, order_id: str | None) -> Iterable[FalloutRow]:
        """The items in fallout of the held orders (or of ``order_id``), from the store in
        one read of those items alone (``GET /fallout`` read every held order's whole status:
        0.9 s for 2,000 of them); a host's store without :meth:`Store.fallout` still has
        each order's status read."""
        self._check_open()
        find = getattr(self.store, "fallout", None)
        if callable(find):
            return cast(list[FalloutRow], find(order_id))
        ids = [order_id] if order_id is not None else [
            record.id for record in self.orders([OrderState.HELD.value])]  # fmt: skip
        return status_rows(self.status(oid) for oid in ids)

    def retry_fallout(
        self,
        wanted: FalloutFilter | None = None,
        *,
        by: str | None = None,
        reason: str | None = None,
    ) -> BulkRetry:
        """Retry every item in fallout that ``wanted`` matches (all of them without it), as
        :meth:`retry` does each: a fresh retry budget, ``by`` and ``reason`` in each row.

        One commit per order.  An item refused (it moved since it was listed) is returned
        with why, and changes nothing; the other items are retried all the same.

        Raises:
            NotFound: as :meth:`fallout`.
            StoreInUse, RuntimeStopped: nothing was retried (as :meth:`retry`).
            InvalidAct: ``by`` or ``reason`` cannot be kept in the log; nothing was retried.
        """
        act = _act(by, reason)
        done = BulkRetry()
        for order_id, items in group_by_order(self.fallout(wanted)).items():
            ids = [item.item_id for item in items]
            try:
                refused = self._move(operator.retry_many, order_id, ids, act)
            except (NotFound, OperatorActionRejected) as exc:  # the order itself moved on
                refused = dict.fromkeys(ids, str(exc))
            done.retried.extend(item for item in items if item.item_id not in refused)
            done.refused.extend((item, refused[item.item_id]) for item in items
                                if item.item_id in refused)  # fmt: skip
        return done

    def _system_of(self, catalog_hash: str, product: str, name: str) -> str | None:
        """The system a plan item's callout calls, from the catalog version its order runs
        on; None for another kind of item, or when that catalog cannot be read."""
        engine = self._engine
        try:
            with engine.lock:
                spec = engine.pinned(catalog_hash).template(product, name).spec
        except (KeyError, OmError, ValueError):
            return None
        system = getattr(spec, "system", None)
        return system if isinstance(system, str) else None

    def skip(
        self,
        order_id: str,
        item_id: str,
        reason: str | None = None,
        *,
        force: bool = False,
        by: str | None = None,
    ) -> None:
        """Skip a fatally failed, failed, waiting or held item; the order goes on without it.

        Refused while items still to run read its outputs (they would read null; complete
        it with them instead), unless ``force``: the operator knows they handle null.
        """
        self._move(operator.skip, order_id, item_id, _act(by, reason), force)

    def complete(
        self,
        order_id: str,
        item_id: str,
        outputs: Mapping[str, Any] | None = None,
        *,
        by: str | None = None,
        reason: str | None = None,
    ) -> None:
        """Complete a fatally failed, failed, waiting or held item by hand, with outputs."""
        self._move(operator.complete, order_id, item_id, outputs, _act(by, reason))

    def cancel(self, order_id: str, reason: str | None = None, *, by: str | None = None) -> None:
        """Cancel the order (see docs/runtime.md); rejected after its point of no return."""
        self._move(operator.cancel, order_id, _act(by, reason))

    def catalog_of(self, order_id: str) -> Catalog:
        """The catalog version an active order runs on (its amendments are planned with it,
        whatever catalog the runtime plans new orders with).

        Raises:
            NotFound: no such order.
            OperatorActionRejected: the order is finished: it cannot change.
        """
        with self._engine.lock:
            return self._engine.catalog_for(order_id)

    def amend(
        self,
        order_id: str,
        work: Any,
        *,
        settle: float = 30.0,
        installed_base: InstalledBase | None = None,
        by: str | None = None,
        reason: str | None = None,
    ) -> Revision:
        """Amend an order in flight with its revised version (docs/runtime.md, "Amending").

        ``work`` is the whole revised order (an :class:`Order`, or TMF622 or native JSON
        text, bytes or parsed JSON) with the order's id.  It is validated, decomposed and
        planned with the catalog version the order runs on.  Lines the revision leaves alone
        keep their progress; the work done on changed and removed lines is undone by their
        compensations, and changed lines run again with the new values.  Items running at
        this moment must settle first: a running runtime waits up to ``settle`` seconds, and
        starts no other item of the order meanwhile (after a timeout, it goes on as before).
        Listener URLs in the revision's ``notify`` replace the order's; none keeps them.
        ``installed_base`` is what the accounts have (see :func:`om_dsl.decompose`): give the
        one the order was decomposed with, or its account lines look new.  ``by`` and
        ``reason``: who amends it and why, kept in the amendment's event-log row.

        Raises:
            OrderValidationError: the revision is invalid, or is for another order (O071).
            PlanError: its plan could not be built.
            NotFound: no such order.
            OperatorActionRejected: the order is finished or being cancelled, the revision
                touches a root item past its point of no return, or items still run.
        """
        with self._not_run_elsewhere():  # refused before the revision is read
            pass
        catalog = self.catalog_of(order_id)
        order = work if isinstance(work, Order) else decomposer_for(catalog).read(work)
        if order.id != order_id:
            message = (
                f"the revision is for order {order.id}, not for order {order_id}: give it the "
                "order's id (an order without one gets an id made from its content)"
            )
            raise OrderValidationError([OrderIssue("O071", "id", message)])
        if order.notify:
            _check_listeners(order.notify)
        work = decompose(catalog, order, installed_base=installed_base, inventory=self.inventory)
        plan = build_plan(catalog, work, order)
        act = _act(by, reason)
        products = product_changes(order, catalog)
        if not order.notify:
            return self._amend_when_settled(plan, settle, act, products)
        before = self.hub.order_listeners(order_id)
        self.hub.register_order(order_id, order.notify)  # the amendment's events go there too
        try:
            return self._amend_when_settled(plan, settle, act, products)
        except BaseException:
            self.hub.register_order(order_id, before)
            raise

    def _amend_when_settled(
        self, plan: OrderPlan, settle: float, act: Act, products: list[ProductChange]
    ) -> Revision:
        """Amend once no item of the order runs, starting none of its items meanwhile.

        Without the hold, an order whose items run one after another never settles (the step
        that applies an outcome starts the next item) and the amendment waited until the
        order had finished.  The hold is lifted whatever happens: an amendment that times
        out or is refused leaves the order going on as before.
        """
        engine, order_id = self._engine, plan.order_id
        with engine.lock:
            engine.hold_starts(order_id)
        try:
            return self._amend_once_settled(plan, settle, act, products)
        finally:
            with engine.lock:
                engine.lift_hold(order_id)
            self._scheduler.wake()

    def _amend_once_settled(
        self, plan: OrderPlan, settle: float, act: Act, products: list[ProductChange]
    ) -> Revision:
        """Try the amendment until its order's running items settle, for ``settle`` seconds
        at most, and only while the runtime runs (else nothing would settle them)."""
        deadline = time.monotonic() + settle
        while True:
            try:
                return self._move(operator.amend, plan, act, products)
            except ItemsRunning:
                if not self.running or time.monotonic() >= deadline:
                    raise
            time.sleep(0.02)

    def signal(
        self,
        event: str,
        order_id: str | None = None,
        payload: Mapping[str, Any] | None = None,
        *,
        by: str | None = None,
        reason: str | None = None,
    ) -> int:
        """Deliver a named event to ``wait ... event`` items; returns how many it completed.
        ``by``: a person who signals it by hand (a system's event names no one)."""
        return self._move(operator.signal, event, order_id, payload, _act(by, reason))

    def resolve_waiting(
        self,
        order_id: str,
        item_id: str,
        outputs: Mapping[str, Any] | None = None,
        failure: str | None = None,
    ) -> None:
        """The one entry point that finishes a waiting item from outside (callback, person)."""
        self._move(operator.resolve_waiting, order_id, item_id, outputs, failure)

    def resolve_token(self, token: str, payload: Mapping[str, Any]) -> tuple[str, str]:
        """Finish the item waiting for this single-use callback token."""
        return self._act(operator.resolve_token, token, payload)

    def release(self, key: str | None = None) -> int:
        """Make items held under ``key`` ready again; returns how many.

        Raises:
            StoreInUse: another process, or another runtime of this one, runs the store (it
                moves items; see :meth:`_not_run_elsewhere`).
        """
        return self._move(operator.release, key)

    def _release_if_ours(self, key: str, act: Act = NOBODY) -> int | None:
        """``systems.set_offline``'s release: the held items when this runtime runs the store
        or nobody does, else None and nothing moved (the running runtime releases them when
        it sees the switch; moving them from here once left them ``ready`` in the store and
        never run, as that runtime's scheduler does not see other processes' changes).

        The runner lock is held (shared) through the release, so no runner can start in
        between and load the store half-changed.
        """
        try:
            return self._move(operator.release, key, act)
        except StoreInUse:
            return None

    def callback(self, token: str, payload: Mapping[str, Any]) -> str:
        """An async callout's callback: resolve the item its single-use token was issued for.

        Returns ``resolved``, ``early`` (kept for the item's next attempt) or ``ignored`` (the
        item finished meanwhile); see docs/downstream.md.

        Raises:
            NotFound: the token is unknown or was used already.
            UnmappableCallback: the payload reports no failure and cannot be mapped to the
                item's outputs; the callback took effect all the same (the item's attempt
                failed with that reason, the token is used).
        """
        return self._world.receive(token, payload)

    @property
    def installation_id(self) -> str:
        """The store's installation id, which salts every ``Idempotency-Key`` this runtime
        sends (:attr:`Store.installation_id`): give it to
        :func:`~om_dsl.runtime.downstream.idempotency_key` to predict a key."""
        return self.store.installation_id

    def serve_callbacks(self, port: int = 0) -> str:
        """Serve ``POST /callbacks/{token}`` on 127.0.0.1:``port`` (0 = a free port) in a
        thread, for async callouts; returns the base URL.  Stopped by :meth:`close`."""
        return self.callbacks.serve(port)

    # ---- helpers ------------------------------------------------------------------------------

    def _act(self, action: Callable[..., T], *args: Any) -> T:
        """Run an action under the engine lock, commit it, then tell listeners and the loop."""
        try:
            return self._commit(action, *args)
        finally:
            self._after_change()

    def _move(self, action: Callable[..., T], *args: Any) -> T:
        """:meth:`_act` for an action that moves items: refused while another runtime runs
        the store, and keeping a runner from starting until it is committed (see
        :meth:`_not_run_elsewhere`).  Listeners are told after, with no lock held."""
        try:
            with self._not_run_elsewhere():
                return self._commit(action, *args)
        finally:
            self._after_change()

    def _commit(self, action: Callable[..., T], *args: Any) -> T:
        """Run an action under the engine lock and commit it.

        A runtime that does not run its store acts on the store's orders, not on what it
        keeps in memory: another runtime may have run them since, and acting on the old
        state found no waiting item to signal, and the next run of this runtime started
        items again that had completed."""
        self._check_open()
        engine = self._engine
        with engine.lock:
            if not self._memory_current:
                engine.forget_all()
            try:
                return action(engine, *args)
            finally:
                engine.flush()

    def _after_change(self) -> None:
        self._listeners.deliver()
        self._scheduler.wake()

    def missing_handlers(self, plan: OrderPlan | None = None) -> list[str]:
        """The handler names of ``auto`` items (the catalog's, or only ``plan``'s) that the
        registry lacks: such an item fails when it runs, perhaps after a point of no return
        was passed, so a host checks this at start-up (`om run` warns)."""
        catalog = self._require_catalog()
        wanted = {(i.product, i.name) for i in plan.items} if plan is not None else None
        return sorted(self._missing(catalog, wanted))

    def missing_handlers_of_stored_orders(self) -> list[str]:
        """The handler names that ``auto`` items not yet finished in the store's unfinished
        orders need and the registry lacks, each order with the catalog it is pinned to:
        what `om resume` warns of before it runs them."""
        missing: set[str] = set()
        for rec in self.store.orders(states=ACTIVE_ORDER_STATES):
            stored = self.store.load_order(rec.id)
            if stored is None:
                continue
            rows = {row.item_id: row.state for row in stored.items}
            wanted = {
                (i.product, i.name)
                for i in stored_plan(stored).items
                if rows.get(i.id) not in ITEM_TERMINAL
            }
            with self._engine.lock:
                catalog = self._engine.catalog_of_hash(rec.catalog_hash)
            missing |= self._missing(catalog, wanted)
        return sorted(missing)

    def _missing(self, catalog: Catalog, wanted: set[tuple[str, str]] | None) -> set[str]:
        names = {
            item.handler
            for p in catalog.plans
            for item in p.items
            if isinstance(item, AutoItem) and (wanted is None or (p.product, item.name) in wanted)
        }
        return {name for name in names if name not in self.handlers}

    def _require_catalog(self) -> Catalog:
        if self.catalog is None:
            raise OmError("this runtime has no catalog, so it cannot plan new orders")
        return self.catalog


def _register_builtin_kinds(
    kinds: KindRegistry,
    handlers: HandlerRegistry,
    threads: int,
    environ: Mapping[str, str] | None,
) -> AutoKind:
    """Register the built-in kinds the host did not replace; returns the ``auto`` kind made
    (unused when the host gave its own), whose threads :meth:`Runtime.stop` asks about."""
    auto = AutoKind(handlers, threads, environ)
    builtin = {
        "auto": auto,
        "milestone": MilestoneKind(),
        "wait": WaitKind(),
    }
    for name, kind in builtin.items():
        if name not in kinds:
            kinds.register(name, kind)
    return auto


def _check_listeners(urls: list[str]) -> None:
    """Every listener URL an order names, checked before anything is stored: all the bad ones
    at once, each with its place (``notify[2]``), as order validation reports problems."""
    issues = []
    for index, url in enumerate(urls):
        try:
            check_listener_url(url)
        except ValueError as exc:
            issues.append(OrderIssue("O070", f"notify[{index}]", str(exc)))
    if issues:
        raise OrderValidationError(issues)


def _act(by: str | None, reason: str | None) -> Act:
    """Who takes an operator action and why, as its event-log rows keep them (empty text is
    none given)."""
    return Act(by or None, reason or None)
