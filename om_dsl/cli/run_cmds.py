"""`om run`, `om resume`, `om status` and the operator commands, on a SQLite store.

`om run` and `om resume` run until every order is done or only people, events or callbacks can
move it, then print a summary.  The operator commands (retry, skip, complete, cancel, amend, signal)
change the store and return; `om resume` carries on from there.  One process runs a store at a
time: running, and the operator actions, are refused with a clear error while another process
(a service, another `om run`) runs it (see :mod:`om_dsl.runtime.store.runner_lock`).
"""

from __future__ import annotations

import json
import shlex
import sys
import time
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import typer

from om_dsl.cli.app import (
    EXIT_ERRORS,
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_USAGE,
    FormatOption,
    app,
    click_exceptions,
    err,
    fail,
    out,
    text_or_json,
    when_text,
    write_json,
)
from om_dsl.cli.bulk_retry import refuse_filter_alone, refuse_mixed, retry_all_failed
from om_dsl.cli.common import CatalogArg, load_catalog_arg
from om_dsl.cli.order_args import (
    InstalledBaseOption,
    installed_base_or_fail,
    print_issues_and_fail,
    read_order_bytes,
    with_inventory_or_fail,
)
from om_dsl.cli.plan_cmds import plan_for, read_and_decompose
from om_dsl.cli.runtime_args import (
    DbOption,
    HandlersOption,
    NotifyAttemptsOption,
    NotifyOption,
    ReasonOption,
    RestoredOption,
    UserOption,
    carry_on,
    db_option,
    guard,
    json_object_arg,
    notify_settings,
    open_runtime,
    operator_name,
)
from om_dsl.errors import DecompositionError, OmError, OrderValidationError
from om_dsl.ir.io import load_ir
from om_dsl.orders.decompose import decomposer_for
from om_dsl.orders.models import Order
from om_dsl.render.text import duration
from om_dsl.runtime.downstream.systems import unset_variables_warning
from om_dsl.runtime.downstream.world import DownstreamSettings
from om_dsl.runtime.event_names import declared_events, undeclared_warning
from om_dsl.runtime.events import Act
from om_dsl.runtime.fallout import FalloutFilter
from om_dsl.runtime.handlers import missing_handlers_warning
from om_dsl.runtime.plan import OrderPlan
from om_dsl.runtime.revision import Revision
from om_dsl.runtime.runtime import Runtime
from om_dsl.runtime.states import ITEM_TERMINAL, ORDER_TERMINAL, OrderState, order_state_text
from om_dsl.runtime.status import ItemStatus, OrderStatus
from om_dsl.runtime.store.runner_lock import runner_lock_for

ATTENTION = (OrderState.HELD.value, OrderState.FAILED.value)
FINISHED_ITEMS = frozenset(state.value for state in ITEM_TERMINAL)
CallbackPortOption = Annotated[
    int,
    typer.Option(
        "--callback-port",
        min=0,
        max=65535,
        help="Port (127.0.0.1) of the listener for async callouts' callbacks; 0 = a free one.",
    ),
]
ConcurrencyOption = Annotated[int, typer.Option(min=1, help="Items running at once.")]
NotifyWaitOption = Annotated[
    float,
    typer.Option(min=0, help="Seconds to wait for pending notifications before exiting."),
]


@app.command("run")
def run_cmd(
    catalog: CatalogArg,
    order: Annotated[str, typer.Argument(help="The order JSON ('-' = stdin).")],
    db: DbOption = Path("om.db"),
    handlers: HandlersOption = None,
    concurrency: ConcurrencyOption = 16,
    callback_port: CallbackPortOption = 0,
    notify: NotifyOption = None,
    notify_wait: NotifyWaitOption = 5.0,
    notify_attempts: NotifyAttemptsOption = 12,
    installed_base: InstalledBaseOption = None,
    restored: RestoredOption = False,
) -> None:
    """Submit an order and run it until it is done or waits for people or events."""
    ir = load_catalog_arg(catalog)
    installed = installed_base_or_fail(installed_base, ir)
    valid, _ = read_and_decompose(ir, order, installed)  # an invalid order makes no store
    outside = _outside(notify, notify_attempts)
    runtime_args = (db, handlers, ir, concurrency)
    with open_runtime(
        *runtime_args, create=True, downstream=outside, run=True, restored=restored
    ) as runtime:
        # the store's inventory says what a modify changes (docs/runtime.md, Product inventory)
        work = with_inventory_or_fail(decomposer_for(ir), valid, installed, runtime.inventory)
        plan = plan_for(ir, valid, work)
        # Everything that can refuse (the store, the callback port) before the order is stored.
        _serve_callbacks(runtime, callback_port)
        _warn_missing_handlers(runtime.missing_handlers(plan))  # before anything is stored
        _warn_unset_variables(runtime)
        _submit(runtime, plan, valid, db)
        err.print(f"submitted order {plan.order_id}: {len(plan.items)} items")
        guard(runtime.run_until_idle)
        status = runtime.status(plan.order_id)
        _notified(runtime, notify_wait)
    _summary(status, db)
    sys.exit(EXIT_ERRORS if status.state in ATTENTION else EXIT_OK)


@app.command("resume")
def resume_cmd(
    db: DbOption = Path("om.db"),
    handlers: HandlersOption = None,
    concurrency: ConcurrencyOption = 16,
    callback_port: CallbackPortOption = 0,
    notify: NotifyOption = None,
    notify_wait: NotifyWaitOption = 5.0,
    notify_attempts: NotifyAttemptsOption = 12,
    restored: RestoredOption = False,
) -> None:
    """Resume every unfinished order of the store until only people or events can move it."""
    outside = _outside(notify, notify_attempts)
    with open_runtime(
        db, handlers, None, concurrency, downstream=outside, run=True, restored=restored
    ) as runtime:
        active = [r.id for r in runtime.orders() if r.state not in _finished()]
        _serve_callbacks(runtime, callback_port)
        _warn_missing_handlers(guard(runtime.missing_handlers_of_stored_orders))
        _warn_unset_variables(runtime)
        guard(runtime.run_until_idle)
        statuses = [runtime.status(order_id) for order_id in active]
        _notified(runtime, notify_wait)
    if not statuses:
        err.print("nothing to resume: every order of the store is finished")
    for status in statuses:
        _summary(status, db)
    held = any(s.state in ATTENTION for s in statuses)
    sys.exit(EXIT_ERRORS if held else EXIT_OK)


@app.command("status")
def status_cmd(
    order_id: Annotated[str, typer.Argument(help="The order id.")],
    db: DbOption = Path("om.db"),
    fmt: FormatOption = "text",
    every: Annotated[
        bool,
        typer.Option(
            "--all", help="Also list the items of lines earlier revisions replaced (`~N`)."
        ),
    ] = False,
) -> None:
    """Show an order's state, its items, attempts, due dates and point of no return."""
    text_or_json(fmt)
    with open_runtime(db, None, None, 1, read_only=True) as runtime:
        status = guard(lambda: runtime.status(order_id))
        lock = runner_lock_for(runtime.store)
        runner = lock.runner() if lock is not None and status.counts.get("fatally_failed") else None
    if fmt == "json":
        write_json(status.model_dump(mode="json"))
    else:
        _summary(status, db, every_item=True, history=every, runner=runner)


@app.command("retry")
def retry_cmd(
    ctx: typer.Context,
    order_id: Annotated[str | None, typer.Argument()] = None,
    item: Annotated[
        str | None, typer.Argument(help="The item id, e.g. 'order/AccessLine:install'.")
    ] = None,
    reason: ReasonOption = None,
    user: UserOption = None,
    db: DbOption = Path("om.db"),
    all_failed: Annotated[
        bool,
        typer.Option(
            "--all-failed", help="Retry every item in fallout the options below name (or all)."
        ),
    ] = False,
    system: Annotated[
        str | None, typer.Option(help="With --all-failed: items whose callout calls it.")
    ] = None,
    order: Annotated[str | None, typer.Option(help="With --all-failed: this order's.")] = None,
    product: Annotated[
        str | None, typer.Option(help="With --all-failed: items of this technical product.")
    ] = None,
    items: Annotated[
        str | None,
        typer.Option(help="With --all-failed: item ids matching this pattern, e.g. '*:subscribe'."),
    ] = None,
) -> None:
    """Retry a failed item with a fresh retry budget: it runs at the next `om resume`.

    While `om serve` runs the store this is refused: use POST /productOrder/{id}/retry instead.

    That request's body is {"itemId": ITEM}; the service runs the item at once.

    --all-failed retries every item in fallout its filters name; the API's: POST /fallout/retry.
    """
    # One sentence per paragraph: the help keeps a docstring's line breaks (test_help_text.py).
    by = operator_name(user)
    wanted = FalloutFilter(system, order, items, product)
    if all_failed:
        refuse_mixed(order_id, item)
        retry_all_failed(db, wanted, by, reason)
        return
    refuse_filter_alone(wanted)
    if order_id is None or item is None:
        missing = "ORDER_ID" if order_id is None else "ITEM"
        raise click_exceptions().UsageError(f"Missing argument '{missing}'.", ctx)
    _operator(
        db,
        order_id,
        lambda r: r.retry(order_id, item, by=by, reason=reason),
        f"{item} will be retried",
    )


@app.command("skip")
def skip_cmd(
    order_id: Annotated[str, typer.Argument()],
    item: Annotated[str, typer.Argument()],
    reason: ReasonOption = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Skip even though items still to run read its outputs (as null)."
        ),
    ] = False,
    user: UserOption = None,
    db: DbOption = Path("om.db"),
) -> None:
    """Skip a failed, waiting or held item; the items after it may then run.

    Refused while items still to run read its outputs (they would read
    null): complete it with them instead, or give --force if they handle it."""
    by = operator_name(user)
    _operator(
        db,
        order_id,
        lambda r: r.skip(order_id, item, reason, force=force, by=by),
        f"{item} skipped",
    )


@app.command("complete")
def complete_cmd(
    order_id: Annotated[str, typer.Argument()],
    item: Annotated[str, typer.Argument()],
    outputs: Annotated[str, typer.Option(help="The item's outputs, a JSON object.")] = "{}",
    reason: ReasonOption = None,
    user: UserOption = None,
    db: DbOption = Path("om.db"),
) -> None:
    """Complete a failed, waiting or held item by hand, with its outputs."""
    values = json_object_arg(outputs, "--outputs")
    by = operator_name(user)
    _operator(
        db,
        order_id,
        lambda r: r.complete(order_id, item, values, by=by, reason=reason),
        f"{item} completed",
    )


@app.command("cancel")
def cancel_cmd(
    order_id: Annotated[str, typer.Argument()],
    reason: ReasonOption = None,
    user: UserOption = None,
    db: DbOption = Path("om.db"),
) -> None:
    """Cancel an order: rejected after its point of no return; else compensate and stop."""
    by = operator_name(user)
    _operator(db, order_id, lambda r: r.cancel(order_id, reason, by=by), "cancellation accepted")


@app.command("amend")
def amend_cmd(
    order_id: Annotated[str, typer.Argument(help="The order to amend.")],
    revised: Annotated[str, typer.Argument(help="The whole revised order JSON ('-' = stdin).")],
    db: DbOption = Path("om.db"),
    installed_base: InstalledBaseOption = None,
    reason: ReasonOption = None,
    user: UserOption = None,
) -> None:
    """Amend an order in flight: unchanged lines keep their progress, changed ones are redone."""
    raw = read_order_bytes(revised)
    by = operator_name(user)
    act = guard(lambda: Act(by, reason))  # a reason that cannot be a line of the log: exit 2
    with open_runtime(db, None, None, 1, claim=True) as runtime:
        revision = _amended(runtime, order_id, raw, installed_base, act)
        state = runtime.status(order_id).state
    done = "" if revision.unchanged else " amended,"
    err.print(f"order {order_id}{done} {revision.summary()}; it is {state}", markup=False)
    if state not in _finished():
        err.print(carry_on(db), markup=False)


def _amended(
    runtime: Runtime, order_id: str, raw: bytes, installed: Path | None, act: Act
) -> Revision:
    try:
        catalog = runtime.catalog_of(order_id)  # the one the order runs on checks the base
        base = installed_base_or_fail(installed, catalog)
        return runtime.amend(order_id, raw, installed_base=base, by=act.by, reason=act.reason)
    except OrderValidationError as exc:
        print_issues_and_fail("the revised order is invalid", exc.issues)
    except DecompositionError as exc:
        print_issues_and_fail("the revised order cannot be decomposed", exc.issues)
    except OmError as exc:
        fail(str(exc))


@app.command("signal")
def signal_cmd(
    event: Annotated[str, typer.Argument(help="The event name, e.g. number.ported.")],
    order_id: Annotated[str | None, typer.Option("--order", help="Only this order.")] = None,
    payload: Annotated[str, typer.Option(help="The event's data, a JSON object.")] = "{}",
    reason: ReasonOption = None,
    user: UserOption = None,
    db: DbOption = Path("om.db"),
) -> None:
    """Deliver a named event to the items waiting for it."""
    if not event.strip():  # no item waits for it (the API refuses it too: S014)
        fail("the event name is empty", EXIT_USAGE)
    values = json_object_arg(payload, "--payload")
    by = operator_name(user)
    with open_runtime(db, None, None, 1, claim=True) as runtime:
        count = guard(lambda: runtime.signal(event, order_id, values, by=by, reason=reason))
        unfinished = any(
            r.state not in _finished() and order_id in (None, r.id) for r in runtime.orders()
        )
        warning = None if count else _undeclared(runtime, event)
    where = f"order {order_id}" if order_id else "all orders"
    if warning:
        err.print(f"warning: {warning}", markup=False, highlight=False)
    err.print(f"event '{event}' completed {count} waiting item(s) in {where}")
    if count and unfinished:  # the event may have been the last thing an order waited for
        err.print(carry_on(db), markup=False)


# ---- helpers ----------------------------------------------------------------------------------


def _undeclared(runtime: Runtime, event: str) -> str | None:
    """A warning when no catalog the store's orders run on declares ``event`` (a typo
    completes nothing, as an event nobody waits for yet does, and said only "0 items")."""
    catalogs = []
    for content_hash in sorted({record.catalog_hash for record in runtime.orders()}):
        try:
            catalogs.append(load_ir(runtime.store.load_catalog(content_hash)))
        except (KeyError, OmError, ValueError):  # a damaged catalog row: no warning from it
            continue
    return undeclared_warning(event, declared_events(catalogs)) if catalogs else None


def _outside(notify: list[str] | None, attempts: int) -> DownstreamSettings:
    return DownstreamSettings(notify=notify_settings(notify, attempts))


def _submit(runtime: Runtime, plan: OrderPlan, order: Order, db: Path) -> None:
    if runtime.has_order(plan.order_id):
        fail(
            f"order {plan.order_id} is already in {db}: `om resume --db {shlex.quote(str(db))}` "
            f"carries it on, `om status --db {shlex.quote(str(db))} -- "
            f"{shlex.quote(plan.order_id)}` shows where it is",
            EXIT_REFUSED,
        )
    try:
        runtime.submit(plan, order)
    except OrderValidationError as exc:  # its listener URLs: every problem, with its place
        print_issues_and_fail("the order is invalid", exc.issues)
    except OmError as exc:
        fail(str(exc))


def _warn_missing_handlers(names: list[str]) -> None:
    warning = missing_handlers_warning(names)
    if warning:
        err.print(f"warning: {warning}")


def _warn_unset_variables(runtime: Runtime) -> None:
    warning = unset_variables_warning(guard(runtime.systems.unset_variables))
    if warning:
        err.print(f"warning: {warning}", markup=False)


def _serve_callbacks(runtime: Runtime, port: int) -> None:
    """The listener for async callouts' callbacks (on 127.0.0.1 only)."""
    try:
        runtime.serve_callbacks(port)
    except OSError as exc:
        fail(f"cannot listen for callbacks on 127.0.0.1:{port}: {exc.strerror or exc}")


def _notified(runtime: Runtime, wait: float) -> None:
    """Give pending notifications a moment; what is left is retried by the next run."""
    if not runtime.notifications.drain(wait):
        pending = runtime.notifications.pending()
        err.print(f"{pending} notification(s) not delivered yet: retried at the next run")


def _operator(db: Path, order_id: str, action: Any, done: str) -> None:
    with open_runtime(db, None, None, 1, claim=True) as runtime:
        guard(lambda: action(runtime), db)
        state = runtime.status(order_id).state
    err.print(f"{done}; order {order_id} is {state}")
    if state not in _finished():
        err.print(carry_on(db), markup=False)


def _finished() -> frozenset[str]:
    return frozenset(s.value for s in ORDER_TERMINAL)


def _summary(
    status: OrderStatus,
    db: Path,
    every_item: bool = False,
    history: bool = False,
    runner: str | None = None,
) -> None:
    """``history``: also the items of lines that amendments replaced, which otherwise only
    their count shows (after a few amendments they outnumber the live ones).  ``db``: the
    store, named in the commands an item in fallout suggests; ``runner``: the process that
    runs it, through which those actions go instead."""
    counts = ", ".join(f"{n} {state}" for state, n in status.counts.items())
    state = order_state_text(status.state, status.cancelling)
    out.print(f"order {status.id}: {state}", markup=False, highlight=False)
    head = f"  catalog {status.catalog_hash[:19]}; {len(status.items)} items: {counts}"
    out.print(head, markup=False, highlight=False)
    for line in _lifecycle(status):
        out.print(f"  {line}", markup=False, highlight=False)
    ponr = ", ".join(f"root {root} by {item}" for root, item in status.ponr.items())
    out.print(f"  point of no return: {ponr or 'not reached'}", markup=False, highlight=False)
    shown = status.items if every_item else [i for i in status.items if _notable(i)]
    old = [i for i in shown if i.superseded]
    now = time.time()
    for item in shown:
        if history or not item.superseded:
            out.print("  " + _item_line(item), markup=False, highlight=False)
            for line in _next_step(status.id, item, db, now, runner):
                out.print(f"    {line}", markup=False, highlight=False)
    if old and not history:
        note = f"  ({len(old)} item(s) of lines earlier revisions replaced: --all lists them)"
        out.print(note, markup=False, highlight=False)


def _lifecycle(status: OrderStatus) -> list[str]:
    """The amendments and the cancel, when there were some."""
    lines = [f"revision {status.revision} (amended {status.revision} time(s))"]
    lines = lines if status.revision else []
    if status.cancelling or status.cancelled_at is not None:
        when = f" at {when_text(status.cancelled_at)}" if status.cancelled_at else ""
        reason = status.cancel_reason or "no reason given"
        lines.append(f"cancel: {reason}{when}")
    return lines


def _notable(item: ItemStatus) -> bool:
    return item.state in ("fatally_failed", "waiting", "on_hold", "failed", "running")


def _next_step(
    order_id: str, item: ItemStatus, db: Path, now: float, runner: str | None = None
) -> list[str]:
    """What comes next for a failed item (when its retry is due, and how many attempts its
    budget has left) or one in fallout (the commands that move it on), under its line: the
    due time was only an epoch in JSON, and nothing said the retries were spent."""
    if item.superseded:
        return []
    if item.state == "failed" and item.due_at is not None:
        return [_next_attempt(item, item.due_at, now)]
    if item.state == "fatally_failed" and runner is not None:
        return _through_runner(order_id, item.id, runner)
    if item.state == "fatally_failed":
        ids, store = f"{shlex.quote(order_id)} {shlex.quote(item.id)}", db_option(db)
        return [
            "retries spent: retry, skip or complete it:",
            f"  om retry {ids}{store}",
            f"  om skip {ids} --reason '...'{store}",
            f"  om complete {ids} --outputs '{{...}}'{store}",
        ]
    return []


def _through_runner(order_id: str, item_id: str, runner: str) -> list[str]:
    """The same three actions through the process that runs the store (its commands here
    would be refused, exit 7): the service's routes, or the end of that process's run."""
    path, body = quote(order_id, safe=""), json.dumps({"itemId": item_id})
    return [
        f"retries spent, and {runner} runs the store: act through it (om serve's API),",
        f"  POST /productOrder/{path}/retry {body}",
        f'  POST /productOrder/{path}/skip {body[:-1]}, "reason": "..."}}',
        f'  POST /productOrder/{path}/complete {body[:-1]}, "outputs": {{...}}}}',
        "  (or, once it stops, om retry, skip or complete here)",
    ]


def _next_attempt(item: ItemStatus, due: float, now: float) -> str:
    """``next attempt at 2026-11-28 08:34:12Z (in 2s), 2 of 5 attempts left``."""
    late = now - due
    if late >= 1:  # nothing runs the store: its next run starts the item at once
        when = f"overdue by {_seconds(late)}: it runs when the store runs again"
    else:
        when = f"in {_seconds(-late)}" if late <= -1 else "now"
    line = f"next attempt at {when_text(due)} ({when})"
    if item.attempts_left is not None and item.max_attempts is not None:
        line += f", {item.attempts_left} of {item.max_attempts} attempts left"
    return line


def _seconds(seconds: float) -> str:
    """Whole seconds as the DSL writes durations (``2s``, ``1m 30s``)."""
    return duration(int(seconds) * 1000)


def _item_line(item: ItemStatus) -> str:
    parts = [f"{item.state:<14}", item.id, f"({item.kind}"]
    if item.superseded:
        parts[-1] += f", replaced by revision {item.superseded}"
    parts[-1] += f", attempt {item.attempt})" if item.attempt else ")"
    if item.expected_by is not None and item.state not in FINISHED_ITEMS:  # it is done: no due
        parts.append(f"due {when_text(item.expected_by)}" + (" OVERDUE" if item.overdue else ""))
    if item.reason:
        parts.append(f"- {item.reason}")
    return " ".join(parts)
