"""Manual work: the task lists of the catalog's queues, and what people do with them.

A ``manual`` item that starts waits in its queue (wait key ``queue:<name>``) with a due date
from its ``expect`` duration.  People list a queue, claim a task, complete it with outputs or
fail it with a reason; a task claimed by one person can be completed or failed only by that
person, until it is reassigned.  Claims are persisted next to the orders and every action is in
the event log (``task.claimed``, ``task.reassigned``; completing and failing are item state
changes whose detail names the person).

A task is open while its item waits in the queue.  Its row stays when it closes (completed,
failed, skipped, cancelled): it is the record that ``get`` reads back, with who claimed it.
When a retry or an amendment runs the item again, the new attempt's task takes the row, and
the old one moves to ``task_attempts``, where it is still read back.
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
from om_dsl.runtime.events import Act as Done
from om_dsl.runtime.events import InvalidAct, name_problem, reason_problem
from om_dsl.runtime.item_ids import unknown_item
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
            db.execute(  # the task of an earlier attempt is kept, to be read back
                f"INSERT OR IGNORE INTO task_attempts ({_COLUMNS}) SELECT {_COLUMNS} FROM tasks "
                "WHERE order_id = ? AND item_id = ? AND attempt != ?",
                (order_id, item_id, attempt),
            )
            db.execute(
                f"INSERT INTO tasks ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, NULL, NULL) "
                "ON CONFLICT (order_id, item_id) DO UPDATE SET queue = excluded.queue, "
                "attempt = excluded.attempt, created_at = excluded.created_at, "
                "expected_by = excluded.expected_by, claimed_by = NULL, claimed_at = NULL "
                "WHERE tasks.attempt != excluded.attempt",
                (order_id, item_id, queue, attempt, now, expected),
            )

    def get(self, order_id: str, item_id: str) -> TaskRow | None:
        """The task of the item's latest attempt that opened one."""
        rows = self._side.query(
            f"SELECT {_COLUMNS} FROM tasks WHERE order_id = ? AND item_id = ?", (order_id, item_id)
        )
        return TaskRow(*rows[0]) if rows else None

    def of_attempt(self, order_id: str, item_id: str, attempt: int) -> TaskRow | None:
        """The task that attempt ``attempt`` of the item opened, latest or not."""
        latest = self.get(order_id, item_id)
        if latest is not None and latest.attempt == attempt:
            return latest
        rows = self._side.query(
            f"SELECT {_COLUMNS} FROM task_attempts WHERE order_id = ? AND item_id = ? "
            "AND attempt = ?",
            (order_id, item_id, attempt),
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
            else, or the outputs are not a JSON object.
        InvalidAct: a user name or a reason that cannot be a line of the event log (blank,
            too long, a newline, a control or direction-override character); checked before
            anything is written.
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

        A task whose item an amendment replaced reads back under the id it was opened with
        (``1/Line:install``, with its attempt), and under the id of the item that keeps the
        old work as history (``1/Line~1:install``).

        Raises:
            NotFound: no such order or item, the item is no manual one that started, or it
                opened no task at that attempt.
        """
        items, opened = self._items(order_id), item_id
        history = items.get(item_id) if opened_id(item_id) != item_id else None
        if history is not None:  # its task was opened under the item's live id
            if attempt not in (None, history.attempt):
                raise NotFound(f"item {item_id} of order {order_id} opened no task at attempt "
                               f"{attempt}: it keeps attempt {history.attempt}")  # fmt: skip
            opened, attempt = opened_id(item_id), history.attempt
        latest = self._table.get(order_id, opened)
        if latest is None:
            if item_id not in items:
                raise NotFound(unknown_item(order_id, item_id, items))
            raise NotFound(f"item {item_id} of order {order_id} has no task (it is no manual "
                           "item, or has not started)")  # fmt: skip
        wanted = latest.attempt if attempt is None else attempt
        row = self._table.of_attempt(order_id, opened, wanted)
        if row is None:
            raise NotFound(f"item {item_id} of order {order_id} opened no task at attempt "
                           f"{wanted}: its latest task is attempt {latest.attempt}")  # fmt: skip
        return _task(row, self._clock(), _fate(items, row))

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
        """The work could not be done: the item fails (its retry policy applies, else fallout).

        The reason becomes the item's fallout reason, a line of the text log and of `om
        events`: it is checked as every operator reason is (a newline in it forged lines)."""
        self._act(self._fail, (order_id, item_id, attempt), _reason(reason), _maybe_user(user))

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

    def _items(self, order_id: str) -> dict[str, ItemRow]:
        """The order's item rows by id (an amendment renames the items of a line it removes
        or replaces, ``2/Line~1:install``; their tasks stay under the id they were opened
        with).

        Raises:
            NotFound: no such order.
        """
        if self._store.order(order_id) is None:
            raise NotFound(f"no order {order_id}")
        return {row.item_id: row for row in self._store.items(order_id)}

    # ---- actions (under the engine lock) -----------------------------------------------------

    def _claim(self, engine: Engine, ref: TaskKey, user: str) -> Task:
        order, item, row = self._open(engine, ref)
        order_id, item_id = order.id, item.id
        if row.claimed_by == user:
            return _task(row, engine.clock())
        if row.claimed_by is not None:
            raise OperatorActionRejected(_claimed(item, row.claimed_by, f"{user} cannot claim it"))
        done = Done(by=user)  # its check comes before the write: a refusal stores nothing
        self._table.claim(order_id, item_id, user)
        said = f"claimed by {user} in queue {row.queue}"
        _note(engine, order, item, TASK_CLAIMED, said, done)
        return _task(row._replace(claimed_by=user, claimed_at=engine.clock()), engine.clock())

    def _complete(
        self, engine: Engine, ref: TaskKey, outputs: dict[str, Any], user: str | None
    ) -> None:
        order, item, row = self._open(engine, ref)
        _may_finish(item, row, user, "complete")
        require_read_outputs(order, item, outputs, f"cannot complete task {item.id}")
        done = f"task completed by {user or 'an operator'}"
        engine.resolve(order, item, outputs, done, Done(by=user))

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
        said = f"reassigned from {source or 'nobody'} to {user}"
        _note(engine, order, item, TASK_REASSIGNED, said, Done())
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


def opened_id(item_id: str) -> str:
    """The id an item's task was opened under: a history item of a superseded line
    (``1/Line~1:install``, see :mod:`om_dsl.runtime.revision`) keeps the work its item did as
    ``1/Line:install``."""
    line_id, colon, name = item_id.rpartition(":")
    return f"{line_id.rsplit('~', 1)[0]}{colon}{name}" if "~" in line_id else item_id


def _fate(items: Mapping[str, ItemRow], row: TaskRow) -> str:
    """What became of a task: the state of the item that ran its attempt (the item under its
    id, or the history item an amendment moved that work to; see :data:`TASK_STATES`).  An
    item that has run again since was sent back (``closed``); no item at all: an amendment
    removed the line where nothing else ran (``cancelled``)."""
    live = items.get(row.item_id)
    if live is not None and live.attempt == row.attempt:
        return task_state(live.state)
    for item in items.values():
        moved = item.item_id != row.item_id and opened_id(item.item_id) == row.item_id
        if moved and item.attempt == row.attempt:
            return task_state(item.state)
    return "closed" if live is not None else "cancelled"


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


def _note(
    engine: Engine, order: OrderRun, item: ItemRun, kind: str, detail: str, act: Done
) -> None:
    """A task's event; ``act``: who took it (kept as the row's ``by`` too), built (and so
    checked) by the caller before it wrote anything."""
    attempt = item.attempt
    engine.journal.event(engine.clock(), order.id, item.id, kind, None, None, attempt, detail, act)


def _task(row: TaskRow, now: float, state: str = "open") -> Task:
    name = row.item_id.rsplit(":", 1)[-1]
    overdue = state == "open" and row.expected_by is not None and now > row.expected_by
    return Task(row.order_id, row.item_id, name, row.queue, row.attempt, row.created_at,
                row.expected_by, overdue, row.claimed_by, row.claimed_at, state)  # fmt: skip


def _user(user: object) -> str:
    """The user, stripped, checked as every name an action records (:func:`name_problem`):
    before the lock and any write, so a refused name stores no claim."""
    name = user.strip() if isinstance(user, str) else ""
    problem = name_problem(name, "a user name")
    if problem is not None:
        raise InvalidAct(problem)
    return name


def _reason(reason: object) -> str:
    """A task's failure reason, stripped: one printable line (:func:`reason_problem`)."""
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidAct("failing a task needs a reason")
    problem = reason_problem(reason.strip())
    if problem is not None:
        raise InvalidAct(problem)
    return reason.strip()


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
