"""`om prune`: remove finished orders older than a retention period, beside a running service.

The store keeps every order forever otherwise.  This removes those in a final state whose
last change is older than ``--older-than`` (see :mod:`om_dsl.runtime.store.prune` for what
stays), in write transactions of 500 orders with a pause between them, so `om serve` on the
same store goes on; a prune stopped half-way (Ctrl-C, a kill) has removed whole orders only,
and the next run goes on.  Like `om backup` it takes no runner lock, and like the other bulk
commands it asks nothing: ``--older-than`` is required (no default retention), and
``--dry-run`` says what would go.  ``--vacuum`` rewrites the whole file, holding every writer
up meanwhile, so it takes the runner lock and is refused while a process runs the store.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from om_dsl.cli.app import (
    EXIT_BUSY,
    EXIT_USAGE,
    FormatOption,
    app,
    err,
    fail,
    text_or_json,
    when_text,
    write_json,
)
from om_dsl.cli.runtime_args import DbOption, guard, open_store
from om_dsl.durations import parse_duration
from om_dsl.runtime.store.prune import PrunePolicy, PruneReport, report_json
from om_dsl.runtime.store.runner_lock import RunnerLock, StoreInUse
from om_dsl.runtime.store.sqlite import SqliteStore, store_unavailable
from om_dsl.source import visible

OlderThan = Annotated[
    str,
    typer.Option(
        "--older-than",
        help="Prune the orders that finished longer ago than this: 90d, 12h, 30m.",
    ),
]
DryRun = Annotated[
    bool, typer.Option("--dry-run", help="Say what would be pruned; change nothing.")
]
IncludeUndelivered = Annotated[
    bool,
    typer.Option(
        "--include-undelivered",
        help="Prune orders whose notifications are not all delivered (pending, abandoned) too.",
    ),
]
Vacuum = Annotated[
    bool,
    typer.Option(
        "--vacuum",
        help="Then give the freed space back to the file system (VACUUM): only while no "
        "process runs the store.",
    ),
]
EXIT_INTERRUPTED = 130
"""Ctrl-C, as every `om` command exits on it (128 + SIGINT)."""
Restored = Annotated[
    bool,
    typer.Option(
        "--restored", help="The store is a backup (om backup) put in place of its store: prune it."
    ),
]


@dataclass(frozen=True, slots=True)
class Done:
    """What the command did, as it reports it."""

    report: PruneReport
    cutoff: float
    seconds: float
    sizes: tuple[int, int] | None = None
    """The store's bytes before and after ``--vacuum``."""


@app.command("prune")
def prune_cmd(
    older_than: OlderThan,
    db: DbOption = Path("om.db"),
    dry_run: DryRun = False,
    include_undelivered: IncludeUndelivered = False,
    vacuum: Vacuum = False,
    restored: Restored = False,
    fmt: FormatOption = "text",
) -> None:
    """Remove the orders that finished longer ago than --older-than, with all their rows.

    Products, unfinished orders and orders with undelivered notifications stay.

    Safe while `om serve` runs the store: 500 orders per transaction, whole orders only.
    """
    # One sentence per paragraph: the help keeps a docstring's line breaks (test_help_text.py).
    fmt = text_or_json(fmt)
    cutoff = time.time() - _retention(older_than)
    if vacuum and dry_run:
        fail("--vacuum changes the file and --dry-run changes nothing: give one", EXIT_USAGE)
    store = open_store(db, read_only=dry_run, restored=restored)
    lock = RunnerLock(store.path) if vacuum else None
    try:
        if lock is not None:
            _hold(lock, db)
        done = _prune(store, db, PrunePolicy(cutoff, include_undelivered, dry_run), vacuum)
    finally:
        if lock is not None:
            lock.release()
        store.close()
    if fmt == "json":
        write_json(_json(done))
    _say(done, older_than, db)


def _retention(text: str) -> float:
    try:
        return parse_duration(text)
    except ValueError as exc:
        fail(f"--older-than: {exc}", EXIT_USAGE)


def _hold(lock: RunnerLock, db: Path) -> None:
    """The runner lock, for ``--vacuum``: refused (exit 7, nothing pruned) when a process
    runs the store, since VACUUM would hold its writes up while it rewrites the file."""
    try:
        lock.acquire()
    except StoreInUse as exc:
        fail(
            f"{exc}; --vacuum rewrites the whole file and would hold up its writes meanwhile: "
            f"stop it first, or prune without --vacuum (the freed space is reused by new "
            f"orders); nothing was pruned",
            EXIT_BUSY,
        )


def _prune(store: SqliteStore, db: Path, policy: PrunePolicy, vacuum: bool) -> Done:
    start = time.monotonic()
    try:
        report: PruneReport = guard(lambda: store.prune(policy), db)
        seconds = time.monotonic() - start
        sizes = store.vacuum() if vacuum else None
    except sqlite3.OperationalError as exc:
        if not store_unavailable(exc):
            raise
        fail(f"cannot prune {db}: {exc}; the orders pruned before it stay pruned: run it again")
    except KeyboardInterrupt:
        fail("interrupted: the orders pruned before stay pruned, each whole, and the others "
             "stay whole; run it again to go on", EXIT_INTERRUPTED)  # fmt: skip
    return Done(report, policy.finished_before, seconds, sizes)


def _say(done: Done, older_than: str, db: Path) -> None:
    """The summary on stderr, in lines: what went, what stayed, what was reclaimed."""
    report, before = done.report, when_text(done.cutoff)
    if not report.orders:
        verb = "would be" if report.dry_run else "is"
        _line(f"no finished order older than {older_than} (before {before}) {verb} pruned")
    else:
        states = ", ".join(f"{n} {state}" for state, n in sorted(report.states.items()))
        head = "dry run: would prune" if report.dry_run else "pruned"
        _line(f"{head} {report.orders} order(s) finished before {before}: {states}")
        _line(f"  oldest {when_text(report.oldest)}, newest {when_text(report.newest)}; "
              + _size_words(done))  # fmt: skip
    if report.kept_undelivered:
        _line(f"  kept {report.kept_undelivered} finished order(s) whose notifications are not "
              "all delivered yet (see om notifications list; --include-undelivered prunes "
              "them too)")  # fmt: skip
    if done.sizes is not None:
        _line(f"vacuumed {visible(str(db))}: {done.sizes[0]} -> {done.sizes[1]} bytes")
    if report.dry_run:
        _line("nothing was changed")


def _size_words(done: Done) -> str:
    report = done.report
    if report.dry_run:
        return f"about {report.bytes} bytes of rows"
    return (f"{report.batches} transaction(s) in {done.seconds:.1f} s; {report.bytes} bytes "
            "of the file freed for new orders")  # fmt: skip


def _line(text: str) -> None:
    err.print(text, markup=False, highlight=False)


def _json(done: Done) -> dict[str, object]:
    return report_json(done.report, done.cutoff, done.seconds, done.sizes)
