"""Manual work: the task lists of the catalog's queues, and what people do with them.

A ``manual`` item that starts waits in its queue (wait key ``queue:<name>``) with a due date
from its ``expect`` duration.  People list a queue, claim a task, complete it with outputs or
fail it with a reason; a task claimed by one person can be completed or failed only by that
person, until it is reassigned.  Claims are persisted next to the orders and every action is in
the event log (``task.claimed``, ``task.reassigned``; completing and failing are item state
changes whose detail names the person).

A task is open while its item waits in the queue.  Its row stays when it closes (completed,
failed, skipped, cancelled): it is the record that ``get`` reads back, with who claimed it.
"""

from __future__ import annotations

import builtins
import json
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

from om_dsl.compiler.names import a
from om_dsl.errors import NotFound, OperatorActionRejected
from om_dsl.ir import models as ir
from om_dsl.orders.issues import show
from om_dsl.runtime.downstream.state import SideDb
from om_dsl.runtime.engine import Engine
from om_dsl.runtime.live import ItemRun, OrderRun
from om_dsl.runtime.operator import target
from om_dsl.runtime.outcomes import Failed
from om_dsl.runtime.readers import require_read_outputs
from om_dsl.runtime.states import ItemState, item_state_words
from om_dsl.runtime.store.base import ItemRow, Store
from om_dsl.suggest import closest

T = TypeVar("T")
TASK_CLAIMED = "task.claimed"
TASK_REASSIGNED = "task.reassigned"
MAX_USER_CHARS = 200
TaskKey = tuple[str, str, int | None]
"""(order id, item id, the attempt the caller means, or None for the current one)."""
Act = Callable[..., Any]
"""``runtime._act``: runs an action under the engine lock and commits it."""


class UnknownQueue(NotFound):
    """A queue no catalog declares: listing it answered "no open tasks", which a typo
    (``field_tech``) cannot be told apart from."""


def queue_key(queue: str) -> str:
    """The wait key of the tasks of one queue."""
    return f"queue:{queue}"


class TaskRow(NamedTuple):
    order_id: str
    item_id: str
    queue: str
    attempt: int
    created_at: float
    expected_by: float | None
    claimed_by: str | None
    claimed_at: float | None


_COLUMNS = "order_id, item_id, queue, attempt, created_at, expected_by, claimed_by, claimed_at"


TASK_STATES: dict[str, str] = {
    ItemState.WAITING.value: "open",
    ItemState.RUNNING.value: "open",  # the start that opens the task is not committed yet
    ItemState.COMPLETED.value: "completed",
    ItemState.FAILED.value: "failed",
    ItemState.FATALLY_FAILED.value: "failed",
    ItemState.SKIPPED.value: "skipped",
    ItemState.CANCELLED.value: "cancelled",
    ItemState.DISCARDED.value: "cancelled",
}
"""A task's state, from its item's (for the item's current attempt).  Any other item state
(ready, pending: sent back by a retry, a restart or an amendment) means the task is
``closed``: the item's next attempt opens a new one."""


def task_state(item_state: str) -> str:
    """What became of a task whose item is now ``item_state`` (see :data:`TASK_STATES`)."""
    return TASK_STATES.get(item_state, "closed")


@dataclass(frozen=True, slots=True)
class Task:
    """A task as a work list shows it."""

    order_id: str
    item_id: str
    name: str
    queue: str
    attempt: int
    created_at: float
    expected_by: float | None
    """When the task is due (its start + the item's ``expect``), or None."""
    overdue: bool
    claimed_by: str | None
    claimed_at: float | None
    state: str = "open"
    """``open``, or what became of it: ``completed``, ``failed``, ``skipped``, ``cancelled``,
    ``closed`` (see :data:`TASK_STATES`)."""


class TaskTable:
    """The ``tasks`` table: one row per manual item that started, with its claim."""

    def __init__(self, side: SideDb, clock: Callable[[], float] = time.time) -> None:
        self._side = side
        self._clock = clock

    def open(
        self, order_id: str, item_id: str, queue: str, attempt: int, expect_ms: int | None
    ) -> None:
        """A manual item started (again).  A new attempt is a new task: unclaimed, opened now
        and due ``expect`` from now (the row of a closed task stays, so it must be reset: a
        retried task read as opened, and overdue, at the first attempt's times).  The same
        attempt opened again (a restart) keeps its times and its claim."""
        now = self._clock()
        expected = now + expect_ms / 1000 if expect_ms is not None else None
        with self._side.write() as db:
            db.execute(
                f"INSERT INTO tasks ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, NULL, NULL) "
                "ON CONFLICT (order_id, item_id) DO UPDATE SET queue = excluded.queue, "
                "attempt = excluded.attempt, created_at = excluded.created_at, "
                "expected_by = excluded.expected_by, claimed_by = NULL, claimed_at = NULL "
                "WHERE tasks.attempt != excluded.attempt",
                (order_id, item_id, queue, attempt, now, expected),
            )

    def get(self, order_id: str, item_id: str) -> TaskRow | None:
        rows = self._side.query(
            f"SELECT {_COLUMNS} FROM tasks WHERE order_id = ? AND item_id = ?", (order_id, item_id)
        )
        return TaskRow(*rows[0]) if rows else None

    def queues(self) -> list[str]:
        """The queues that ever had a task."""
        return [str(row[0]) for row in self._side.query("SELECT DISTINCT queue FROM tasks")]

    def claim(self, order_id: str, item_id: str, user: str | None) -> None:
        with self._side.write() as db:
            db.execute(
                "UPDATE tasks SET claimed_by = ?, claimed_at = ? "
                "WHERE order_id = ? AND item_id = ?",
                (user, self._clock() if user else None, order_id, item_id),
            )


class Tasks:
    """``runtime.tasks``: list, claim, complete, fail, reassign.  Thread-safe; every action is
    committed (with its event-log row) before it returns.

    Raises (every action):
        NotFound: no such order or item.
        OperatorActionRejected: the item is not an open manual task, it is claimed by someone
            else, or the input is invalid.
    """

    def __init__(
        self,
        table: TaskTable,
        store: Store,
        act: Act,
        clock: Callable[[], float],
        catalogs: Callable[[], Iterable[ir.Catalog]],
    ) -> None:
        self._table = table
        self._store = store
        self._act = act
        self._clock = clock
        self._catalogs = catalogs

    def list(self, queue: str | None = None) -> list[Task]:
        """Open tasks (of one queue, or of all), oldest first.

        Found through the items that wait in each queue, so closed tasks (whose rows stay)
        cost nothing here.

        Raises:
            UnknownQueue: no catalog of the runtime (or of its stored orders) declares
                ``queue``, and it never had a task.
        """
        if queue is not None:
            self._check_queue(queue)
        now = self._clock()
        found: list[Task] = []
        for name in [queue] if queue is not None else self._table.queues():
            for order_id, item_id in self._store.find_waiting(queue_key(name)):
                row = self._table.get(order_id, item_id)
                if row is not None and row.queue == name:
                    found.append(_task(row, now))
        return sorted(found, key=lambda task: (task.created_at, task.order_id, task.item_id))

    def get(self, order_id: str, item_id: str, *, attempt: int | None = None) -> Task:
        """A task, open or not, as the store has it: a read (no lock, nothing written), so a
        task whose order has finished reads as ``completed`` (say), not as a refused action.

        ``attempt``: that attempt's task (the API's task ids carry it); else the item's
        current one.  Every action takes it too: act only if the task is still this attempt
        of the item.  A retried or amended item opens a new task for the same item, so an
        action meant for the old task is refused (NotFound) instead of finishing the new one
        with the old task's outputs.

        Raises:
            NotFound: no such order or item, the item is no manual one that started, or the
                task of that attempt was replaced by a newer one.
        """
        current = self._item_row(order_id, item_id)
        row = self._table.get(order_id, item_id)
        if row is None and current is None:
            raise NotFound(f"order {order_id} has no item {item_id}")
        if row is None:
            raise NotFound(f"item {item_id} of order {order_id} has no task (it is no manual "
                           "item, or has not started)")  # fmt: skip
        wanted = row.attempt if attempt is None else attempt
        if wanted != row.attempt:
            raise NotFound(_other_attempt(item_id, wanted, row.attempt))
        if current is None:  # an amendment removed or replaced its line: its work was stopped
            return _task(row, self._clock(), "cancelled")
        same = current.attempt == row.attempt
        return _task(row, self._clock(), task_state(current.state) if same else "closed")

    def claim(self, order_id: str, item_id: str, user: str, *, attempt: int | None = None) -> Task:
        """Take the task; claiming one's own task again is fine."""
        ref = (order_id, item_id, attempt)
        return self._act(self._claim, ref, _user(user))  # type: ignore[no-any-return]

    def complete(
        self,
        order_id: str,
        item_id: str,
        outputs: Mapping[str, Any] | None = None,
        user: str | None = None,
        *,
        attempt: int | None = None,
    ) -> None:
        """Finish the task with the outputs later items read (a JSON object)."""
        values = _outputs(outputs)
        self._act(self._complete, (order_id, item_id, attempt), values, _maybe_user(user))

    def fail(
        self,
        order_id: str,
        item_id: str,
        reason: str,
        user: str | None = None,
        *,
        attempt: int | None = None,
    ) -> None:
        """The work could not be done: the item fails (its retry policy applies, else fallout)."""
        if not isinstance(reason, str) or not reason.strip():
            raise OperatorActionRejected("failing a task needs a reason")
        self._act(self._fail, (order_id, item_id, attempt), reason.strip(), _maybe_user(user))

    def reassign(
        self,
        order_id: str,
        item_id: str,
        from_user: str | None,
        to_user: str,
        *,
        attempt: int | None = None,
    ) -> Task:
        """Hand a task claimed by ``from_user`` (None: an unclaimed task) to ``to_user``."""
        source = _maybe_user(from_user)
        ref = (order_id, item_id, attempt)
        return self._act(self._reassign, ref, source, _user(to_user))  # type: ignore[no-any-return]

    def queues(self) -> builtins.list[str]:
        """The queues the catalogs declare, and any that had a task (a catalog version that
        declared it may be gone), by name."""
        declared = {queue.name for catalog in self._catalogs() for queue in catalog.queues}
        return sorted(declared.union(self._table.queues()))

    def _check_queue(self, queue: str) -> None:
        known = self.queues()
        if queue in known:
            return
        close = closest(queue, known)
        if close is not None:
            hint = f"did you mean '{close}'?"
        else:
            hint = f"they declare {', '.join(known)}" if known else "they declare none"
        raise UnknownQueue(f"queue {show(queue, 80)} is not declared by the catalog(s); {hint}")

    def _item_row(self, order_id: str, item_id: str) -> ItemRow | None:
        """The item's row; None when the order has no item of that id (any more: an
        amendment renames the items of a line it removes or replaces, ``2/Line~1:install``,
        and their tasks stay under the id they were opened with).

        Raises:
            NotFound: no such order.
        """
        if self._store.order(order_id) is None:
            raise NotFound(f"no order {order_id}")
        return next((row for row in self._store.items(order_id) if row.item_id == item_id), None)

    # ---- actions (under the engine lock) -----------------------------------------------------

    def _claim(self, engine: Engine, ref: TaskKey, user: str) -> Task:
        order, item, row = self._open(engine, ref)
        order_id, item_id = order.id, item.id
        if row.claimed_by == user:
            return _task(row, engine.clock())
        if row.claimed_by is not None:
            raise OperatorActionRejected(_claimed(item, row.claimed_by, f"{user} cannot claim it"))
        self._table.claim(order_id, item_id, user)
        _note(engine, order, item, TASK_CLAIMED, f"claimed by {user} in queue {row.queue}")
        return _task(row._replace(claimed_by=user, claimed_at=engine.clock()), engine.clock())

    def _complete(
        self, engine: Engine, ref: TaskKey, outputs: dict[str, Any], user: str | None
    ) -> None:
        order, item, row = self._open(engine, ref)
        _may_finish(item, row, user, "complete")
        require_read_outputs(order, item, outputs, f"cannot complete task {item.id}")
        engine.resolve(order, item, outputs, f"task completed by {user or 'an operator'}")

    def _fail(self, engine: Engine, ref: TaskKey, reason: str, user: str | None) -> None:
        order, item, row = self._open(engine, ref)
        _may_finish(item, row, user, "fail")
        engine.settle(order, item, Failed(f"{reason} (task failed by {user or 'an operator'})"))

    def _reassign(self, engine: Engine, ref: TaskKey, source: str | None, user: str) -> Task:
        order, item, row = self._open(engine, ref)
        order_id, item_id = order.id, item.id
        if row.claimed_by != source:
            holder, claimed = source or "nobody", row.claimed_by or "nobody"
            raise OperatorActionRejected(
                f"cannot reassign task {item_id} from {holder}: it is claimed by {claimed}"
            )
        self._table.claim(order_id, item_id, user)
        _note(
            engine, order, item, TASK_REASSIGNED, f"reassigned from {source or 'nobody'} to {user}"
        )
        return _task(row._replace(claimed_by=user, claimed_at=engine.clock()), engine.clock())

    def _open(self, engine: Engine, ref: TaskKey) -> tuple[OrderRun, ItemRun, TaskRow]:
        order_id, item_id, attempt = ref
        order, item = target(engine, order_id, item_id)
        if attempt is not None and attempt != item.attempt:
            raise NotFound(_other_attempt(item_id, attempt, item.attempt))
        if item.tpl.kind != "manual" or item.state is not ItemState.WAITING:
            manual = item.tpl.kind == "manual"
            what = item_state_words(item.state) if manual else f"{a(item.tpl.kind)} item"
            raise OperatorActionRejected(
                f"item {item_id} of order {order_id} is not an open manual task (it is {what})"
            )
        row = self._table.get(order_id, item_id)
        if row is None or row.attempt != item.attempt:
            queue = item.tpl.spec.queue
            self._table.open(order_id, item_id, queue, item.attempt, item.expect_ms)
            row = self._table.get(order_id, item_id)
            assert row is not None
        return order, item, row


def _other_attempt(item_id: str, attempt: int, current: int) -> str:
    return (
        f"no task for attempt {attempt} of item {item_id}: the item was retried or amended "
        f"since, and its task is now attempt {current}; list the queue again"
    )


def _may_finish(item: ItemRun, row: TaskRow, user: str | None, action: str) -> None:
    if row.claimed_by is not None and row.claimed_by != user:
        who = user or "an operator who gives no name"
        raise OperatorActionRejected(_claimed(item, row.claimed_by, f"{who} cannot {action} it"))


def _claimed(item: ItemRun, holder: str, what: str) -> str:
    return f"task {item.id} is claimed by {holder}: {what} without reassigning it first"


def _note(engine: Engine, order: OrderRun, item: ItemRun, kind: str, detail: str) -> None:
    engine.journal.event(engine.clock(), order.id, item.id, kind, None, None, item.attempt, detail)


def _task(row: TaskRow, now: float, state: str = "open") -> Task:
    name = row.item_id.rsplit(":", 1)[-1]
    overdue = state == "open" and row.expected_by is not None and now > row.expected_by
    return Task(row.order_id, row.item_id, name, row.queue, row.attempt, row.created_at,
                row.expected_by, overdue, row.claimed_by, row.claimed_at, state)  # fmt: skip


def _user(user: object) -> str:
    if not isinstance(user, str) or not user.strip():
        raise OperatorActionRejected("a user name is needed (a non-empty text)")
    name = user.strip()
    if len(name) > MAX_USER_CHARS or any(ord(ch) < 32 for ch in name):
        raise OperatorActionRejected(
            f"a user name has at most {MAX_USER_CHARS} printable characters"
        )
    return name


def _maybe_user(user: object) -> str | None:
    return None if user is None else _user(user)


def _outputs(outputs: Mapping[str, Any] | None) -> dict[str, Any]:
    if outputs is None:
        return {}
    if not isinstance(outputs, Mapping) or not all(isinstance(k, str) for k in outputs):
        raise OperatorActionRejected("a task's outputs must be a JSON object")
    values = dict(outputs)
    try:
        json.dumps(values)
    except (TypeError, ValueError) as exc:
        raise OperatorActionRejected(f"a task's outputs must be JSON values: {exc}") from None
    return values
