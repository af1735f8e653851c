"""`om orders`: the orders of a store, to find those in trouble.

`om status ORDER_ID` shows one order; an operator first needs to know which one.  This lists
every stored order (or those in some states, `--state held,pending`) with how many of its
items are in fallout, on hold or waiting, the catalog version it is pinned to, and when it last
changed.  It only reads the store, so it works beside a process that runs it and for an
account that may only read it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from om_dsl.cli.app import (
    EXIT_USAGE,
    TableFormatOption,
    app,
    err,
    fail,
    table_format,
    when_text,
    write_json,
    write_stdout,
)
from om_dsl.cli.runtime_args import DbOption, open_runtime
from om_dsl.consoles import fitted_table_text, rows_table, tsv_text
from om_dsl.runtime.runtime import Runtime
from om_dsl.runtime.states import ItemState, order_state_text, parse_order_states
from om_dsl.runtime.store.base import OrderRecord
from om_dsl.runtime.store.sqlite import StoreError

TROUBLE = {
    "fallout": ItemState.FATALLY_FAILED,
    "on hold": ItemState.ON_HOLD,
    "waiting": ItemState.WAITING,
}
"""The item counts a row shows: what an operator must act on, then what waits on others."""


@app.command("orders")
def orders_cmd(
    db: DbOption = Path("om.db"),
    state: Annotated[
        list[str] | None,
        typer.Option(
            "--state", help="Only orders in these states, e.g. held,pending (or given again)."
        ),
    ] = None,
    fmt: TableFormatOption = "text",
) -> None:
    """List the stored orders, oldest first: state, items in fallout, on hold or waiting."""
    fmt = table_format(fmt)
    wanted = ",".join(state) if state else None  # repeated: all of them, not the last
    states = _states(wanted)
    with open_runtime(db, None, None, 1, read_only=True) as runtime:
        catalogs = Catalogs(runtime)
        rows = [_row(runtime, record, catalogs) for record in runtime.orders(states)]
    if fmt == "json":
        write_json(rows)
    elif fmt == "tsv":  # the header even with no rows, as `om systems list` (scripts read it)
        write_stdout(tsv_text(HEADER, [_cells(row) for row in rows]))
    elif not rows:
        err.print(f"no orders{f' in state {wanted}' if wanted else ''} in {db}")
    else:
        write_stdout(fitted_table_text(_table(rows), sys.stdout, keep=("order",)))


def _states(text: str | None) -> frozenset[str] | None:
    if text is None:
        return None
    try:
        states = parse_order_states(text)
    except ValueError as exc:
        fail(f"--state: {exc}", EXIT_USAGE)
    if not states:  # `--state ''` listed every order, as if no filter were given
        fail("--state: give at least one state, e.g. held,pending", EXIT_USAGE)
    return states


class Catalogs:
    """The name and version of each catalog hash, read once per hash from the store: an SRE
    retiring an old catalog version sees which orders still run on it."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._known: dict[str, tuple[str | None, str | None]] = {}

    def name_and_version(self, content_hash: str) -> tuple[str | None, str | None]:
        if content_hash not in self._known:
            self._known[content_hash] = self._read(content_hash)
        return self._known[content_hash]

    def _read(self, content_hash: str) -> tuple[str | None, str | None]:
        """From the stored IR (its top-level ``name`` and ``version``, without loading the
        whole catalog); unknown (None) when the store does not have it or cannot read it."""
        try:
            ir = json.loads(self._runtime.store.load_catalog(content_hash))
        except (KeyError, StoreError, ValueError, RecursionError):
            return None, None
        if not isinstance(ir, dict):
            return None, None
        name, version = ir.get("name"), ir.get("version")
        return (name if isinstance(name, str) else None,
                version if isinstance(version, str) and version else None)  # fmt: skip


def _row(runtime: Runtime, record: OrderRecord, catalogs: Catalogs) -> dict[str, Any]:
    """One order as JSON shows it; the table shows a part of it.  Only its live items are
    counted: the items of lines an amendment replaced (``~N``, kept as history) are
    ``replaced`` (after a few amendments they outnumbered the live ones)."""
    counts: dict[str, int] = {}
    replaced = 0
    for state, superseded in _item_states(runtime, record.id):
        if superseded:
            replaced += 1
            continue
        counts[state] = counts.get(state, 0) + 1
    name, version = catalogs.name_and_version(record.catalog_hash)
    return {
        "id": record.id,
        "state": record.state,
        "cancelling": record.cancelling,
        "catalog_hash": record.catalog_hash,
        "catalog_name": name,
        "catalog_version": version,
        "items": sum(counts.values()),
        "counts": dict(sorted(counts.items())),
        "replaced": replaced,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
    }


def _item_states(runtime: Runtime, order_id: str) -> list[tuple[str, int]]:
    """(state, replacing revision) of each item, from the item rows and the plan's JSON
    alone: building every order's status took 11 ms an order (an SRE's `om orders` on 2,800
    orders took 15 s).  An order whose plan cannot be read (a damaged store) is listed all
    the same, its items all taken as live."""
    stored = runtime.store.load_order(order_id)
    if stored is None:
        return []
    replaced = _replaced_lines(stored.plan_json)
    return [(row.state, replaced.get(row.item_id.rpartition(":")[0], 0)) for row in stored.items]


def _replaced_lines(plan_json: str) -> dict[str, int]:
    """Line id -> the revision that replaced it, for the lines amendments kept as history
    (an item's id is its line's id, ``:``, its name; names have no ``:``)."""
    if '"superseded"' not in plan_json:  # never amended (the key is left out when 0)
        return {}
    try:
        lines = json.loads(plan_json).get("lines", [])
    except (ValueError, AttributeError, RecursionError):
        return {}
    return {
        line["id"]: line["superseded"]
        for line in lines
        if isinstance(line, dict) and isinstance(line.get("superseded"), int) and line["superseded"]
    }


HEADER = ("order", "state", "items", *TROUBLE, "catalog", "last change")


def _table(rows: list[dict[str, Any]]) -> Table:
    """The rows as people read them (see :func:`~om_dsl.consoles.fitted_table_text`)."""
    return rows_table(HEADER, [_cells(row) for row in rows], right={"items", *TROUBLE})


def _cells(row: dict[str, Any]) -> list[str]:
    state = order_state_text(row["state"], row["cancelling"])
    counts = [str(row["counts"].get(item_state, 0)) for item_state in TROUBLE.values()]
    return [row["id"], state, str(row["items"]), *counts, _catalog(row),
            when_text(row["updated_at"])]  # fmt: skip


def _catalog(row: dict[str, Any]) -> str:
    """The catalog in a few columns: its version and the start of its hash (``1 e7a2cbe3``),
    enough to tell versions apart and to find the hash in the JSON or in `om status`."""
    short = row["catalog_hash"].removeprefix("sha256:")[:8]
    version = row["catalog_version"]
    return f"{version} {short}" if version else short
