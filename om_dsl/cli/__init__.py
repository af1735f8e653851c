"""The `om` command.  Each group of subcommands lives in its own module and registers on `app`."""

from __future__ import annotations

import importlib
import os
import sys

from om_dsl.cli.app import app, err

# Command modules, imported for their side effect of adding commands to `app`.  Listed here so
# that stages can be added without editing each other's modules.
COMMAND_MODULES = (
    "compile_cmds",
    "decompose_cmds",
    "plan_cmds",
    "run_cmds",
    "tasks_cmds",
    "systems_cmds",
    "render_cmds",
    "serve_cmds",
)


def _register() -> None:
    for name in COMMAND_MODULES:
        module = f"om_dsl.cli.{name}"
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise


def main(argv: list[str] | None = None) -> None:
    _register()
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
