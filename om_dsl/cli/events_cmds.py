"""`om events ORDER_ID`: an order's event log, as an operator reads it.

`om status` says where an order stands; the log says how it got there (each item's moves, with
attempts and reasons, the amendments, the cancel and who asked for it).  The service shows it
at `GET /productOrder/{id}/events` and a host reads `runtime.events()`; without this, an
operator on a shell had neither.  It only reads the store, so it works beside a process that
runs it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from om_dsl.cli.app import (
    EXIT_NOT_FOUND,
    FormatOption,
    app,
    err,
    fail,
    out,
    text_or_json,
    when_text,
    write_json,
)
from om_dsl.cli.runtime_args import DbOption, guard, open_runtime
from om_dsl.errors import NotFound
from om_dsl.runtime.item_ids import unknown_item
from om_dsl.runtime.runtime import Runtime
from om_dsl.runtime.store.base import EventRow


@app.command("events")
def events_cmd(
    order_id: Annotated[str, typer.Argument(help="The order id.")],
    db: DbOption = Path("om.db"),
    item: Annotated[
        str | None,
        typer.Option(help="Only this item's events, e.g. 'order/AccessLine:install'."),
    ] = None,
    last: Annotated[
        int | None, typer.Option(min=1, help="Only the last N events (of those selected).")
    ] = None,
    fmt: FormatOption = "text",
) -> None:
    """Show an order's event log, oldest first: item moves, amendments, cancel, PONR."""
    text_or_json(fmt)
    with open_runtime(db, None, None, 1, read_only=True) as runtime:
        guard(lambda: _known(runtime.store.has_order(order_id), order_id))
        every = runtime.events(order_id)
        rows = [r for r in every if item is None or r.item_id == item]
        if item is not None and not rows:
            _known_item(runtime, order_id, item, every)
    if item is not None and not rows:  # an item of the order that has not moved yet
        err.print(f"order {order_id} has no events of item {item!r} yet")
    rows = rows[-last:] if last is not None else rows
    if fmt == "json":
        write_json([row._asdict() for row in rows])
        return
    for row in rows:
        out.print(event_text(row), markup=False, highlight=False)


def _known(found: bool, order_id: str) -> bool:
    if not found:
        raise NotFound(f"no order {order_id}")
    return found


def _known_item(runtime: Runtime, order_id: str, item: str, rows: list[EventRow]) -> None:
    """Exit 5 (not found) for an item the order does not have, with the id it was likely
    meant to be, as the operator actions do (it exited 0 with a note, so a script's typo went
    unseen).
    An item of the order (or of its history) without events yet is no error."""
    ids = {row.item_id for row in rows if row.item_id} | {
        status.id for status in guard(lambda: runtime.status(order_id)).items
    }
    if item not in ids:
        fail(unknown_item(order_id, item, ids), EXIT_NOT_FOUND)


def event_text(row: EventRow) -> str:
    """One row on one line: when, what, who (the item) and how (the move, the attempt, why)."""
    parts = [f"{row.seq:>6}", when_text(row.ts), row.kind]
    if row.item_id:
        parts.append(row.item_id)
    if row.from_state or row.to_state:
        parts.append(f"{row.from_state or '-'} -> {row.to_state or '-'}")
    if row.attempt:
        parts.append(f"(attempt {row.attempt})")
    if row.detail:
        parts.append(f"- {row.detail}")
    return " ".join(parts)
