"""The `om` command.  Each group of subcommands lives in its own module and registers on `app`."""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any, NoReturn

import typer

from om_dsl.cli.app import (
    EXIT_ERRORS,
    EXIT_INTERNAL,
    EXIT_OK,
    EXIT_USAGE,
    app,
    click_exceptions,
    err,
    fail,
    report_error,
)
from om_dsl.consoles import tolerate_unencodable

# The module that registers each top-level command: `om check x.om` imports compile_cmds alone
# instead of every command's dependencies (the runtime, the HTTP client, Graphviz, the service):
# 0.25 s less start-up (benchmarks/bench_startup.py).  tests/cli checks that this lists every
# registered command.
COMMAND_HOMES = {
    **dict.fromkeys(("check", "compile", "schema"), "compile_cmds"),
    "fmt": "fmt_cmds",
    "decompose": "decompose_cmds",
    "plan": "plan_cmds",
    "test": "test_cmds",
    **dict.fromkeys(
        ("run", "resume", "status", "cancel", "amend", "complete", "retry", "skip", "signal"),
        "run_cmds",
    ),
    "orders": "orders_cmds",
    "products": "products_cmds",
    "backup": "store_cmds",
    "prune": "prune_cmds",
    "events": "events_cmds",
    "tasks": "tasks_cmds",
    "systems": "systems_cmds",
    "notifications": "notifications_cmds",
    "render": "render_cmds",
    "serve": "serve_cmds",
    "explain": "explain_cmds",
}

# Command modules, imported for their side effect of adding commands to `app` (in this order,
# which is the order of `om --help`).  A new group of commands adds its entries above.
COMMAND_MODULES = tuple(dict.fromkeys(COMMAND_HOMES.values()))


def _register(argv: list[str] | None = None) -> None:
    """Import the command modules: only the one that ``argv`` starts with when it names one,
    all of them otherwise (``om --help`` lists every command; a misspelt one gets suggestions)."""
    if argv and argv[0] == "--version":  # no command's imports (a second, on a busy host)
        return
    home = COMMAND_HOMES.get(argv[0]) if argv else None  # `om --help check`: the root's help
    for name in (home,) if home is not None else COMMAND_MODULES:
        module = f"om_dsl.cli.{name}"
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise


def main(argv: list[str] | None = None) -> None:
    tolerate_unencodable(sys.stdout, sys.stderr)
    _refuse_undecodable(sys.argv[1:] if argv is None else argv)
    _register(sys.argv[1:] if argv is None else argv)
    click = click_exceptions()
    try:
        done = app(args=argv, prog_name="om", standalone_mode=False)
    except click.UsageError as exc:
        usage_error(exc)
    except click.ClickException as exc:  # e.g. a file argument that cannot be opened
        fail(exc.format_message(), exc.exit_code)
    except typer.Abort:  # pragma: no cover - interactive only (Ctrl-D at a prompt)
        sys.exit(EXIT_ERRORS)
    except KeyboardInterrupt:  # pragma: no cover - interactive only
        sys.exit(130)
    except Exception as exc:  # a bug in om_dsl, not the user's mistake
        if os.environ.get("OM_DEBUG"):
            raise
        err.print(
            f"internal error: {type(exc).__name__}: {exc}\n"
            "This is a bug in om_dsl. Re-run with OM_DEBUG=1 for the traceback and report it."
        )
        sys.exit(EXIT_INTERNAL)
    # A command that returns has done its work; --help and --version end with typer.Exit,
    # whose code (0) click returns instead of exiting, outside standalone mode.
    sys.exit(done if isinstance(done, int) else EXIT_OK)


def _refuse_undecodable(args: list[str]) -> None:
    """An argument that is not UTF-8 (``café`` typed in a latin-1 terminal) reaches Python
    with lone surrogates, and failed later as an internal error when it was stored or
    printed (exit 3): a usage error, before anything is done."""
    for arg in args:
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            raw = arg.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
            fail(f"the argument '{raw}' is not UTF-8 text: set the terminal to UTF-8", EXIT_USAGE)


def usage_error(exc: Any) -> NoReturn:
    """A usage error as om's own errors read, ``error: ...`` (click's message, with its
    suggestion: "Did you mean --force?"), then the usage line and where the help is; in plain
    text, without the box and styles of typer's rich errors (exit 2)."""
    if type(exc).__name__ == "NoArgsIsHelpError":  # `om tasks` alone: its help
        exc.show()
        sys.exit(exc.exit_code)
    report_error(exc.format_message(), lines=True)
    ctx = exc.ctx
    if ctx is not None:
        err.print(ctx.get_usage(), highlight=False)
        if ctx.command.get_help_option(ctx) is not None:
            err.print(f"Try '{ctx.command_path} {ctx.help_option_names[0]}' for help.")
    sys.exit(exc.exit_code)


__all__ = ["app", "main"]
