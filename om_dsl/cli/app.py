"""The root Typer application and the helpers every command shares."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

app = typer.Typer(
    name="om",
    help="om_dsl: compile order-management catalogs, decompose orders, plan and run them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# stdout carries results (JSON, IR); stderr carries diagnostics and progress.
out = Console(soft_wrap=True, highlight=False)
err = Console(stderr=True, soft_wrap=True, highlight=False)

EXIT_OK = 0
EXIT_ERRORS = 1
EXIT_USAGE = 2

FormatOption = Annotated[str, typer.Option("--format", help="text or json")]
"""The ``--format`` of the commands that print either for people or for tools."""


def text_or_json(fmt: str) -> str:
    """``fmt`` when it is text or json; otherwise a usage error (exit 2)."""
    if fmt not in ("text", "json"):
        fail(f"unknown format '{fmt}'; use text or json", EXIT_USAGE)
    return fmt


def fail(message: str, code: int = EXIT_ERRORS) -> NoReturn:
    """Report a user error in one line (never a traceback) and exit.

    The message is printed as is: brackets in it (``pip install 'om-dsl[service]'``) are text,
    not console markup."""
    err.print(f"[bold red]error:[/] {escape(message)}", markup=True, highlight=False)
    sys.exit(code)


def write_text(text: str, output: str | None) -> None:
    """Write to a file atomically (no half-written output), or to stdout."""
    if output is None or output == "-":
        sys.stdout.write(text)
        return
    target = Path(output)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
