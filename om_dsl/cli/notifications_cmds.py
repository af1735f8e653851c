"""`om notifications list|retry`: the outbox of notifications, and sending abandoned ones again.

A notification is abandoned after its attempts (12 by default: `om serve --notify-attempts`),
so a listener down for longer than some 7 to 14 minutes lost those events for good.  `list`
shows what the outbox holds (`--state abandoned`: what was given up); `retry` makes abandoned
ones pending again with fresh attempts, keeping each event's `eventId` (a listener drops one
it had).  Neither moves an item, so both work beside a process that runs the store: its
notifier reads the outbox at every step and sends them within a second; with no such process
they go at the next `om run`, `om resume` or `om serve`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from om_dsl.cli.app import (
    EXIT_USAGE,
    OmTyper,
    TableFormatOption,
    app,
    err,
    fail,
    table_format,
    write_json,
    write_stdout,
)
from om_dsl.cli.runtime_args import (
    DbOption,
    ReasonOption,
    UserOption,
    guard,
    open_runtime,
    operator_name,
)
from om_dsl.consoles import fitted_table_text, rows_table, tsv_text
from om_dsl.runtime.downstream.urls import shown
from om_dsl.runtime.notify.outbox import Notification

notifications_app = OmTyper(
    help="Notifications to listeners: list the outbox, send abandoned ones again.",
    no_args_is_help=True,
)
app.add_typer(notifications_app, name="notifications")

OrderOption = Annotated[str | None, typer.Option("--order", help="Only this order's.")]
ListenerOption = Annotated[
    str | None,
    typer.Option("--listener", help="Only this listener's: its URL, or as the list shows it."),
]


@notifications_app.command("list")
def list_cmd(
    state: Annotated[
        str | None, typer.Option(help="Only pending, delivered or abandoned ones.")
    ] = None,
    order: OrderOption = None,
    listener: ListenerOption = None,
    db: DbOption = Path("om.db"),
    fmt: TableFormatOption = "text",
) -> None:
    """List the outbox's notifications, oldest first: event, order, listener, state, attempts."""
    fmt = table_format(fmt)
    with open_runtime(db, None, None, 1, read_only=True) as runtime:
        try:
            found, _ = runtime.notifications.listed(state, order, listener)
        except ValueError as exc:
            fail(f"--state: {exc}", EXIT_USAGE)
    if fmt == "json":
        write_json([_json(row) for row in found])
    elif fmt == "tsv":  # the header even with no rows (scripts read it)
        write_stdout(tsv_text(HEADER, [_cells(row) for row in found]))
    elif not found:
        err.print(f"no notifications{f' {state}' if state else ''} in {db}", markup=False)
    else:
        write_stdout(fitted_table_text(_table(found), sys.stdout, keep=("event", "order")))


@notifications_app.command("retry")
def retry_cmd(
    order: OrderOption = None,
    listener: ListenerOption = None,
    every: Annotated[
        bool, typer.Option("--all", help="Every abandoned notification (no filter given).")
    ] = False,
    reason: ReasonOption = None,
    user: UserOption = None,
    db: DbOption = Path("om.db"),
) -> None:
    """Send abandoned notifications again, with fresh attempts: --order, --listener, or --all.

    They keep their eventId, so a listener that had one drops it.

    A process that runs the store (om serve) sends them within a second, else its next run.
    """
    if order is None and listener is None and not every:
        fail("name the notifications to send again (--order, --listener), or give --all",
             EXIT_USAGE)  # fmt: skip
    by = operator_name(user)
    with open_runtime(db, None, None, 1) as runtime:
        count = guard(lambda: runtime.notifications.retry_abandoned(
            order, listener, by=by, reason=reason))  # fmt: skip
    if not count:
        err.print("no abandoned notification matches: nothing to send again", markup=False)
        return
    err.print(f"{count} abandoned notification(s) will be sent again: by the process that "
              "runs the store within a second, else at its next run", markup=False)  # fmt: skip


HEADER = ("event", "order", "type", "order state", "listener", "state", "attempts",
          "last error")  # fmt: skip


def _table(rows: list[Notification]) -> Table:
    return rows_table(HEADER, [_cells(row) for row in rows], right={"attempts"})


def _cells(row: Notification) -> list[str]:
    return [row.event_id, row.order_id, row.event_type, row.order_state or "-",
            shown(row.url), row.state, str(row.attempts), row.last_error or "-"]  # fmt: skip


def _json(row: Notification) -> dict[str, Any]:
    """As the service's ``GET /notifications`` shows it, in this CLI's snake case."""
    return {
        "event_id": row.event_id,
        "event_type": row.event_type,
        "order_id": row.order_id,
        "order_state": row.order_state,
        "listener": shown(row.url),
        "state": row.state,
        "attempts": row.attempts,
        "last_error": row.last_error,
        "next_at": row.next_at,
        "delivered_at": row.delivered_at,
    }
