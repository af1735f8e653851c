"""`om systems list|online|offline`: take a downstream system out of service and back.

While a system is offline its callouts are held (``on_hold``) instead of being sent; bringing
it online makes them ready again, and `om resume` sends them.  Next to a process that runs the
store (`om serve`, `om run`), `om systems online` only flips the switch: that process's
scheduler would never see items moved from here, so it releases and sends them itself.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer

from om_dsl.cli.app import (
    OmTyper,
    TableFormatOption,
    app,
    err,
    table_format,
    when_text,
    write_json,
    write_stdout,
)
from om_dsl.cli.common import load_catalog_arg
from om_dsl.cli.runtime_args import DbOption, guard, open_runtime, operator_name
from om_dsl.consoles import fitted_table_text, rows_table, tsv_text
from om_dsl.runtime.downstream.systems import SystemStatus, hold_key
from om_dsl.runtime.runtime import Runtime
from om_dsl.runtime.store.runner_lock import StoreInUse
from om_dsl.runtime.waits import hold_key as wait_hold_key

systems_app = OmTyper(
    help="Downstream systems: list them, take one offline, bring it back online.",
    no_args_is_help=True,
)
app.add_typer(systems_app, name="systems")

NameArg = Annotated[str, typer.Argument(help="The system's name in the catalog, e.g. Billing.")]
ByOption = Annotated[
    str | None,
    typer.Option(
        "--user",
        "--by",
        help="Who decides, kept in the store and in the held items' event log (default: your "
        "login name).",
    ),
]
ReasonOption = Annotated[
    str | None,
    typer.Option(
        help="Why (a maintenance window, an incident number): shown by `om systems list`, "
        "in the held callouts' state and in the event log."
    ),
]
CatalogOption = Annotated[
    Path | None,
    typer.Option(
        "--catalog",
        help="A catalog (.om or IR JSON) whose systems to know: for a store with no orders "
        "yet (the systems are otherwise learnt from the catalogs its orders run on).",
    ),
]


def _know(runtime: Runtime, path: Path | None) -> None:
    """The systems of ``--catalog`` too, besides those of the store's orders' catalogs."""
    if path is not None:
        runtime.systems.know(load_catalog_arg(path))


@systems_app.command("list")
def list_cmd(
    db: DbOption = Path("om.db"), catalog: CatalogOption = None, fmt: TableFormatOption = "text"
) -> None:
    """The systems of the store's catalogs, and whether each is online."""
    fmt = table_format(fmt)
    with open_runtime(db, None, None, 1, read_only=True) as runtime:
        _know(runtime, catalog)
        systems = guard(runtime.systems.list)  # e.g. a damaged catalog row in the store
    if fmt == "json":
        write_json([_system_json(system) for system in systems])
    elif fmt == "tsv":
        write_stdout(tsv_text(HEADER, [_cells(system) for system in systems]))
    else:
        table = rows_table(HEADER, [_cells(system) for system in systems], title="systems")
        write_stdout(fitted_table_text(table, sys.stdout, keep=("system",)))


HEADER = ("system", "state", "decided by", "since", "reason")


def _cells(system: SystemStatus) -> list[str]:
    state = "offline" if system.offline else "online"
    decided = system.changed_by or system.source
    return [system.name, state, decided, when_text(system.changed_at), system.reason or "-"]


def _system_json(system: SystemStatus) -> dict[str, object]:
    """A system as `--format json` lists it: the service's keys (`GET /systems`) in the
    CLI's spelling, as `om tasks list` has them (snake case, times in epoch seconds)."""
    return {
        "name": system.name,
        "display_name": system.display_name,
        "offline": system.offline,
        "source": system.source,
        "changed_at": system.changed_at,
        "changed_by": system.changed_by,
        "reason": system.reason,
    }


@systems_app.command("offline")
def offline_cmd(
    name: NameArg,
    db: DbOption = Path("om.db"),
    by: ByOption = None,
    reason: ReasonOption = None,
    catalog: CatalogOption = None,
) -> None:
    """Hold the system's next callouts instead of sending them."""
    with open_runtime(db, None, None, 1) as runtime:
        _know(runtime, catalog)
        who = operator_name(by)
        guard(lambda: runtime.systems.set_offline(name, True, who, reason))
    err.print(f"system {name} is offline: its callouts are held until it is back online")


@systems_app.command("online")
def online_cmd(
    name: NameArg,
    db: DbOption = Path("om.db"),
    by: ByOption = None,
    reason: ReasonOption = None,
    catalog: CatalogOption = None,
) -> None:
    """Bring the system back: its held callouts become ready (a process that runs the store
    releases and sends them itself)."""
    with open_runtime(db, None, None, 1) as runtime:
        _know(runtime, catalog)
        runner: str | None = None
        try:
            runtime.claim_store(run=False)  # held to the end: no runner starts meanwhile
        except StoreInUse as exc:
            runner = exc.holder
        who = operator_name(by)
        released = guard(lambda: runtime.systems.set_offline(name, False, who, reason))
        held = len(runtime.store.find_waiting(wait_hold_key(hold_key(name))))
    if runner is not None and not released:
        err.print(
            f"system {name} is online; {runner} runs the store, so it releases and sends "
            f"the callouts held for {name} itself ({held} held now)"
        )
        return
    err.print(f"system {name} is online; {released} held callout(s) released")
    if released:
        err.print(f"run `om resume --db {shlex.quote(str(db))}` to send them", markup=False)
