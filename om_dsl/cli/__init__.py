"""The `om` command.  Each group of subcommands lives in its own module and registers on `app`."""

from __future__ import annotations

import importlib
import os
import sys

from om_dsl.cli.app import app, err

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
    "backup": "store_cmds",
    "events": "events_cmds",
    "tasks": "tasks_cmds",
    "systems": "systems_cmds",
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
    home = COMMAND_HOMES.get(argv[0]) if argv else None  # `om --help check`: the root's help
    for name in (home,) if home is not None else COMMAND_MODULES:
        module = f"om_dsl.cli.{name}"
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise


def main(argv: list[str] | None = None) -> None:
    _register(sys.argv[1:] if argv is None else argv)
    try:
        app(args=argv, prog_name="om")
    except KeyboardInterrupt:  # pragma: no cover - interactive only
        sys.exit(130)
    except Exception as exc:  # a bug in om_dsl, not the user's mistake
        if os.environ.get("OM_DEBUG"):
            raise
        err.print(
            f"internal error: {type(exc).__name__}: {exc}\n"
            "This is a bug in om_dsl. Re-run with OM_DEBUG=1 for the traceback and report it."
        )
        sys.exit(3)


__all__ = ["app", "main"]
