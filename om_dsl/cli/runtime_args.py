"""What the commands that work on a store share: the --db and --handlers options, opening a
runtime on the store, and turning refused operator actions into one-line errors.

Used by `om run`/`om resume` and the operator commands, `om tasks`, `om systems` and
`om serve`.
"""

from __future__ import annotations

import getpass
import os
import shlex
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from om_dsl.cli.app import (
    EXIT_BUSY,
    EXIT_ERRORS,
    EXIT_NOT_FOUND,
    EXIT_REFUSED,
    EXIT_USAGE,
    err,
    fail,
    shown,
)
from om_dsl.cli.json_args import parse_json_object
from om_dsl.errors import NotFound, OmError, OperatorActionRejected, PlanError
from om_dsl.runtime.downstream.urls import check_listener_url
from om_dsl.runtime.downstream.world import DownstreamSettings
from om_dsl.runtime.events import InvalidAct, name_problem
from om_dsl.runtime.handlers import HandlerRegistry, load_registry
from om_dsl.runtime.notify.notifier import NotifySettings
from om_dsl.runtime.runtime import Runtime
from om_dsl.runtime.store.restore import StoreIsBackup
from om_dsl.runtime.store.runner_lock import StoreInUse, refuse_backup_file
from om_dsl.runtime.store.sqlite import SqliteStore, StoreError

DbOption = Annotated[Path, typer.Option("--db", help="The SQLite store.")]
DEFAULT_DB = Path("om.db")
UserOption = Annotated[
    str | None,
    typer.Option(
        "--user", "--by", help="Who acts, kept in the event log (default: your login name)."
    ),
]
ReasonOption = Annotated[str | None, typer.Option(help="Why (kept in the event log).")]
RestoredOption = Annotated[
    bool,
    typer.Option(
        "--restored",
        help="The store is a backup (om backup) put in place of its store: run it.",
    ),
]
"""A command line option only, never from the environment: left set in a service's
environment, it would let every later backup copy run unasked."""
NotifyOption = Annotated[
    list[str] | None,
    typer.Option(
        "--notify",
        envvar="OM_NOTIFY",
        help="A listener URL for every order's TMF622 events (repeatable; OM_NOTIFY: URLs "
        "separated by spaces, which keeps a URL's secret out of the process list).",
    ),
]
NotifyAttemptsOption = Annotated[
    int,
    typer.Option(
        envvar="OM_NOTIFY_ATTEMPTS",
        min=1,
        help="Attempts per notification before it is abandoned (backoff capped at 5 min).",
    ),
]
"""``om run``, ``om resume`` and ``om serve`` read the same variables: a listener URL often
carries its token in its query, and on the command line it shows in ``ps`` to every user."""
HandlersOption = Annotated[
    str | None,
    typer.Option(
        "--handlers",
        help="module:registry, the HandlerRegistry of auto items; `stub`: every handler "
        "completes with no outputs (to try plans before the handlers exist).",
    ),
]


@contextmanager
def open_runtime(
    db: Path,
    handlers: str | None,
    catalog: Any,
    concurrency: int,
    create: bool = False,
    downstream: DownstreamSettings | None = None,
    claim: bool = False,
    read_only: bool = False,
    run: bool = False,
    restored: bool = False,
) -> Iterator[Runtime]:
    """A runtime on the store at ``db``, closed at the end.

    ``read_only``: the command only reads (``om status``, ``om tasks list``...), so the store
    is opened read-only: it works for a user who may not write the store, and cannot change it.

    ``claim``: the command moves items (an operator action), so it must not run beside a
    process that runs the store, whose scheduler would not see the change: refused then,
    with the holder named (see :mod:`om_dsl.runtime.store.runner_lock`).

    ``run``: the command runs the store (`om run`, `om resume`): claimed as above, and a
    backup copy is refused before anything is stored, unless ``restored`` (``--restored``:
    see :mod:`om_dsl.runtime.store.restore`).
    """
    registry = load_handlers(handlers)  # a usage error before anything is opened or made
    if run and not restored:  # a backup copy, read before opening it to write changes it
        guard(lambda: refuse_backup_file(db))
    store = open_store(db, create=create, read_only=read_only, restored=restored)
    runtime = Runtime(
        catalog, store=store, handlers=registry, concurrency=concurrency, downstream=downstream
    )
    try:
        if claim or run:
            guard(lambda: runtime.claim_store(run=run))
        yield runtime
    finally:
        close_runtime(runtime)


CLOSE_WAIT_S = 5.0
"""How long a command's end waits for sync handlers that still run (their items timed out:
their results are ignored) before it says so and exits."""


def close_runtime(runtime: Runtime) -> None:
    """Close the runtime at the end of a command.  One that cannot close because a sync
    handler still runs (a thread cannot be stopped: docs/runtime.md) is said in one line, not
    as an internal error: the command's work is done, and the process exits without waiting
    for the handler, whose item is re-attempted at the next run."""
    try:
        runtime.close(CLOSE_WAIT_S)
    except OmError as exc:
        err.print(f"warning: {shown(str(exc))}", highlight=False)


def open_store(
    db: Path, *, create: bool = False, read_only: bool = False, restored: bool = False
) -> SqliteStore:
    """The store at ``db``; a one-line error when there is none (unless ``create``) or it
    cannot be used (see :class:`SqliteStore`)."""
    if not create and not db.is_file():
        fail(f"no store at {db} (start one with `om run CATALOG ORDER --db {_q(db)}`)",
             EXIT_NOT_FOUND)  # fmt: skip
    try:
        return SqliteStore(db, read_only=read_only, restored=restored)
    except StoreError as exc:
        fail(str(exc))


def load_handlers(spec: str | None) -> HandlerRegistry:
    if spec is None:
        return HandlerRegistry()
    if "" not in sys.path:
        sys.path.insert(0, "")  # `--handlers myhost.handlers:registry` from the current folder
    try:
        return load_registry(spec)
    except ValueError as exc:
        fail(str(exc), EXIT_USAGE)


def guard(action: Any, db: Path | None = None) -> Any:
    """User-facing errors (unknown ids, refused actions) as one line, never a traceback, with
    the exit code of their kind (:func:`exit_code`).  ``db``: the store the command works on,
    added to the `om` commands a refusal suggests."""
    try:
        return action()
    except OperatorActionRejected as exc:
        fail(_on_store(str(exc), exc.commands, db), EXIT_REFUSED)
    except OmError as exc:
        fail(str(exc), exit_code(exc), lines=in_lines(exc))


EXIT_CODES: tuple[tuple[type[OmError], int], ...] = (
    (InvalidAct, EXIT_USAGE),  # a --reason that cannot be a line of the log
    (NotFound, EXIT_NOT_FOUND),
    (OperatorActionRejected, EXIT_REFUSED),
    (StoreIsBackup, EXIT_REFUSED),  # the store's state: trying again changes nothing
    (StoreInUse, EXIT_BUSY),
)
"""The errors a script can act on differently, each with its own exit code (docs/runtime.md,
"Exit codes"): fix the id, look at the order's (or the store's) state, or try again later."""


def in_lines(exc: OmError) -> bool:
    """Whether ``exc``'s message is written in lines (a plan's cycle, one per edge; a backup
    copy refused, then what running it does and the ways on), printed as such."""
    return isinstance(exc, PlanError | StoreIsBackup)


def exit_code(exc: OmError) -> int:
    """The exit code of ``exc``: its kind's, else 1."""
    return next((code for kind, code in EXIT_CODES if isinstance(exc, kind)), EXIT_ERRORS)


def db_option(db: Path | None) -> str:
    """`` --db PATH`` for a hint that names an `om` command, when the store is not the
    default one (pasted as written, the command must act on the store the operator uses)."""
    if db is None or db == DEFAULT_DB:
        return ""
    return f" --db {shlex.quote(str(db))}"


def _on_store(message: str, commands: tuple[str, ...], db: Path | None) -> str:
    extra = db_option(db)
    for command in commands if extra else ():
        message = message.replace(command, command + extra)
    return message


def operator_name(user: str | None) -> str | None:
    """Who takes an operator action: ``--user``, else the login name (``getpass.getuser``:
    ``LOGNAME``, ``USER``... then the account's name).  None when neither gives a name: the
    event log then says "by an operator", as it did before names were kept."""
    if user is None:
        try:
            user = getpass.getuser()
        except Exception:  # no name for this uid (a container's): OSError, KeyError
            return None
        return user.strip() if name_problem(user.strip()) is None else None
    name = user.strip()
    problem = name_problem(name, "--user")  # the check every recorded name has
    if problem is not None:
        fail(problem, EXIT_USAGE)
    return name


def json_object_arg(text: str, option: str) -> dict[str, Any]:
    """The option's JSON object, read strictly (see :mod:`om_dsl.cli.json_args`)."""
    try:
        return parse_json_object(text)
    except ValueError as exc:
        fail(f"{option} {exc}", EXIT_USAGE)


NOTIFY_SECRET_ENV = "OM_NOTIFY_SECRET"
"""When set, `om run`, `om resume` and `om serve` sign every notification with it (as
``OM_TOKENS`` holds the service's tokens: the secret is read from the environment only)."""


def notify_settings(notify: list[str] | None, attempts: int = 12) -> NotifySettings:
    """The runtime-wide listener URLs of ``--notify``, checked (a bad one is a usage error),
    the signing secret's variable when it is set, and the attempts per notification."""
    try:
        urls = tuple(check_listener_url(url) for url in notify or ())
    except ValueError as exc:
        fail(f"--notify: {exc}", EXIT_USAGE)
    secret = os.environ.get(NOTIFY_SECRET_ENV)
    if secret is not None and not secret.strip():  # an unfilled template: unsigned in silence
        fail(
            f"{NOTIFY_SECRET_ENV} is set but empty: notifications would go out unsigned; give "
            "it the secret, or unset it to send them unsigned",
            EXIT_USAGE,
        )
    signing = NOTIFY_SECRET_ENV if secret else None
    return NotifySettings(urls=urls, signing_secret_env=signing, max_attempts=attempts)


def carry_on(db: Path) -> str:
    """What an operator command that moved an order says to run next.  Without the handlers
    `om run` had, the order's next `auto` item fails again ("no handler is registered"): a
    newcomer who copied the line as written met that."""
    return (f"run `om resume --db {_q(db)}` (with the --handlers of `om run`, if it had any) "
            "to carry on")  # fmt: skip


def _q(value: object) -> str:
    """``value`` as a shell word: a hint's command must work pasted as it is (a store path
    with a blank or a quote)."""
    return shlex.quote(str(value))
