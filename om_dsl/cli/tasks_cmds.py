"""`om tasks list|show|claim|complete|fail|reassign`: the manual work lists, on a SQLite store.

Like the other operator commands these change the store and return; a task completed here lets
the order go on at the next `om resume`.  Completing or failing a task moves items, so, like the
other operator actions, it is refused while another process (`om serve`) runs the store: use
that service's task API instead.  Listing, showing, claiming and reassigning are allowed
beside it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from om_dsl.cli.app import (
    FormatOption,
    OmTyper,
    TableFormatOption,
    app,
    err,
    out,
    table_format,
    text_or_json,
    when_text,
    write_json,
    write_stdout,
)
from om_dsl.cli.runtime_args import DbOption, carry_on, guard, json_object_arg, open_runtime
from om_dsl.consoles import fitted_table_text, tsv_text
from om_dsl.runtime.downstream.tasks import Task

tasks_app = OmTyper(
    help="Manual work: list a queue's tasks, show one, claim, complete, fail or reassign them.",
    no_args_is_help=True,
)
app.add_typer(tasks_app, name="tasks")

OrderArg = Annotated[str, typer.Argument(help="The order id.")]
ItemArg = Annotated[str, typer.Argument(help="The item id, e.g. 'order/AccessLine:install'.")]
UserOption = Annotated[str, typer.Option("--user", help="Who does it (kept in the event log).")]


@tasks_app.command("list")
def list_cmd(
    queue: Annotated[
        list[str] | None, typer.Option(help="Only this queue (give it again for several).")
    ] = None,
    db: DbOption = Path("om.db"),
    fmt: TableFormatOption = "text",
) -> None:
    """List open tasks, oldest first, with their due dates and who claimed them."""
    fmt = table_format(fmt)
    queues = list(dict.fromkeys(queue)) if queue else [None]  # repeated: all of them, not the last
    with open_runtime(db, None, None, 1, read_only=True) as runtime:
        # a queue no catalog declares: say so
        tasks = [t for q in queues for t in guard(lambda q=q: runtime.tasks.list(q))]
    tasks.sort(key=lambda task: (task.created_at, task.order_id, task.item_id))
    if fmt == "json":
        write_json([_task_json(t) for t in tasks])
    elif fmt == "tsv":  # the header even with no rows, as `om systems list` (scripts read it)
        write_stdout(tsv_text(HEADER, [_cells(task) for task in tasks]))
    elif not tasks:
        named = ", ".join(q for q in queues if q)
        err.print(f"no open tasks{f' in queue {named}' if named else ''}")
    else:  # ids stay whole, to copy into `claim`
        write_stdout(fitted_table_text(_table(tasks), sys.stdout, keep=("order", "item")))


@tasks_app.command("show")
def show_cmd(
    order_id: OrderArg, item: ItemArg, db: DbOption = Path("om.db"), fmt: FormatOption = "text"
) -> None:
    """Show a task, open or not: its state (open, completed, failed...), queue and claim."""
    text_or_json(fmt)
    with open_runtime(db, None, None, 1, read_only=True) as runtime:
        task = guard(lambda: runtime.tasks.get(order_id, item))
    if fmt == "json":
        write_json(_task_json(task))
        return
    due = when_text(task.expected_by) + (" OVERDUE" if task.overdue else "")
    out.print(f"task {task.item_id} of order {task.order_id}: {task.state}")
    out.print(
        f"  queue {task.queue}, attempt {task.attempt}, opened {when_text(task.created_at)}, "
        f"due {due}, claimed by {task.claimed_by or 'nobody'}"
    )


@tasks_app.command("claim")
def claim_cmd(
    order_id: OrderArg, item: ItemArg, user: UserOption, db: DbOption = Path("om.db")
) -> None:
    """Take a task, so that nobody else completes it."""
    with open_runtime(db, None, None, 1) as runtime:
        guard(lambda: runtime.tasks.claim(order_id, item, user))
    err.print(f"{item} of order {order_id} is claimed by {user}")


@tasks_app.command("complete")
def complete_cmd(
    order_id: OrderArg,
    item: ItemArg,
    user: UserOption,
    outputs: Annotated[str, typer.Option(help="The task's outputs, a JSON object.")] = "{}",
    db: DbOption = Path("om.db"),
) -> None:
    """Finish a task with its outputs; the order goes on at the next `om resume`."""
    values = json_object_arg(outputs, "--outputs")
    with open_runtime(db, None, None, 1, claim=True) as runtime:
        guard(lambda: runtime.tasks.complete(order_id, item, values, user=user))
        state = runtime.status(order_id).state
    err.print(f"{item} completed by {user}; order {order_id} is {state}")
    err.print(carry_on(db), markup=False)


@tasks_app.command("fail")
def fail_cmd(
    order_id: OrderArg,
    item: ItemArg,
    user: UserOption,
    reason: Annotated[str, typer.Option(help="Why the work could not be done.")],
    db: DbOption = Path("om.db"),
) -> None:
    """The work could not be done: the item fails (its retry policy applies, else fallout)."""
    with open_runtime(db, None, None, 1, claim=True) as runtime:
        guard(lambda: runtime.tasks.fail(order_id, item, reason, user=user))
        state = runtime.status(order_id).state
    err.print(f"{item} failed by {user}; order {order_id} is {state}")


@tasks_app.command("reassign")
def reassign_cmd(
    order_id: OrderArg,
    item: ItemArg,
    to_user: Annotated[str, typer.Option("--to", help="Who takes the task over.")],
    from_user: Annotated[
        str | None, typer.Option("--from", help="Who holds it now (omit for an unclaimed task).")
    ] = None,
    db: DbOption = Path("om.db"),
) -> None:
    """Hand a claimed task over to someone else."""
    with open_runtime(db, None, None, 1) as runtime:
        guard(lambda: runtime.tasks.reassign(order_id, item, from_user, to_user))
    err.print(f"{item} of order {order_id} is now claimed by {to_user}")


HEADER = ("queue", "order", "item", "due", "claimed by")


def _table(tasks: list[Task]) -> Table:
    table = Table(title="open tasks", title_justify="left")
    for column in HEADER:
        table.add_column(column, overflow="fold")
    for task in tasks:
        table.add_row(*_cells(task))
    return table


def _cells(task: Task) -> list[str]:
    due = when_text(task.expected_by) + (" OVERDUE" if task.overdue else "")
    return [task.queue, task.order_id, task.item_id, due, task.claimed_by or "-"]


def _task_json(task: Task) -> dict[str, object]:
    return {
        "order_id": task.order_id,
        "item_id": task.item_id,
        "name": task.name,
        "queue": task.queue,
        "attempt": task.attempt,
        "created_at": task.created_at,
        "expected_by": task.expected_by,
        "overdue": task.overdue,
        "claimed_by": task.claimed_by,
        "claimed_at": task.claimed_at,
        "state": task.state,
    }
