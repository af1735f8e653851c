"""The root Typer application and the helpers every command shares."""

from __future__ import annotations

import contextlib
import json
import os
import stat
import sys
import tempfile
from collections.abc import Collection
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.markup import escape

from om_dsl.consoles import PlainConsole
from om_dsl.source import visible

app = typer.Typer(
    name="om",
    help="om_dsl: compile order-management catalogs, decompose orders, plan and run them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Keeps `om` a group of commands even when only one command module is loaded (see
    om_dsl/cli/__init__.py): Typer runs a lone command as the whole program otherwise."""


# stdout carries results (JSON, IR); stderr carries diagnostics and progress.  Both print text
# as text: console markup is opt-in per print (see om_dsl/consoles.py).
out = PlainConsole(soft_wrap=True)
err = PlainConsole(stderr=True, soft_wrap=True)

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


def one_of(value: str, choices: Collection[str], what: str) -> str:
    """``value`` when it is one of ``choices``; otherwise a usage error (exit 2) naming them."""
    if value not in choices:
        fail(f"unknown {what} '{value}'; choose one of: {', '.join(choices)}", EXIT_USAGE)
    return value


def when_text(ts: float | None) -> str:
    """A timestamp as operators read it (UTC), or '-'."""
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def fail(message: str, code: int = EXIT_ERRORS, *, lines: bool = False) -> NoReturn:
    """Report a user error in one line (never a traceback) and exit (``lines``: see
    :func:`report_error`)."""
    report_error(message, lines=lines)
    sys.exit(code)


def report_error(message: str, *, lines: bool = False) -> None:
    """``error: message`` on stderr.  The message is printed as is: brackets in it
    (``pip install 'om-dsl[service]'``) are text, not console markup, and control characters
    are shown, not obeyed (a line break in an order id as ␊: user input cannot forge a line
    of output).  With ``lines``, a message that we wrote in several lines (a plan's cycle,
    then why each of its edges is there) keeps them, indented under the first."""
    first, *rest = message.split("\n") if lines else [message]
    text = shown(first) + "".join(f"\n  {shown(line)}" for line in rest)
    err.print(f"[bold red]error:[/] {text}", markup=True, highlight=False)


def shown(text: str) -> str:
    """Text from a catalog, an order or a path, put in a console-markup line: brackets are
    text, not markup, and control characters cannot reach the terminal (see ``visible``)."""
    return escape(visible(text))


def write_json(data: object) -> None:
    """JSON for tools on stdout, as it is: rich's ``print_json`` re-parses and styles it, 85% of
    the time of an `om check --format json` with 10,000 diagnostics (9 s, 486 MB)."""
    write_stdout(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def write_stdout(text: str) -> None:
    """``text`` on standard output, flushed; one that cannot take it (``> /dev/full``, a
    closed pipe) is the user's one-line error, exit 1 (it was "internal error ... a bug")."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except OSError as exc:
        # What is still buffered would fail again at exit, with a traceback: send it nowhere.
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        fail(f"cannot write standard output: {exc.strerror or exc}")


def write_text(text: str, output: str | None) -> None:
    """Write to a file atomically (no half-written output), or to stdout."""
    if output is None or output == "-":
        write_stdout(text)
        return
    write_file(text.encode("utf-8"), output_path(output))


def output_path(output: str) -> Path:
    """The file an ``-o`` names: an empty name is a usage error (``Path("")`` is the current
    folder, and writing to it failed with "Device or resource busy"), and so is a folder
    (``-o out/`` wrote a file named ``out``)."""
    if not output:
        fail("-o needs a file name (or - for standard output)", EXIT_USAGE)
    if output.endswith(("/", os.sep)) or Path(output).is_dir():
        fail(f"-o {output} is a folder; name a file in it", EXIT_USAGE)
    return Path(output)


def write_file(data: bytes, target: Path) -> None:
    """Write ``data`` where ``target`` leads, as a shell redirection would; a path that cannot
    be written is the user's one-line error.

    A symlink is written through, not replaced by a file.  What is not a regular file (a
    FIFO, a terminal, ``/dev/stdout``) is written to directly: replacing it would have
    given a reader nothing, or, as root, replaced ``/dev/stdout`` itself.  A regular file is
    replaced atomically (:func:`replace_file`).
    """
    blocked = next((p for p in target.parents if p.exists()), None)
    if blocked is not None and not blocked.is_dir():  # `-o afile/out.json`: "File exists"
        fail(f"cannot write {target}: {blocked} is not a folder")
    try:
        if target.exists() and not target.is_file():  # both follow symlinks
            with target.open("wb") as stream:
                stream.write(data)
        else:
            replace_file(data, target.resolve())
    except OSError as exc:
        fail(f"cannot write {target}: {exc.strerror or exc}")


def replace_file(data: bytes, target: Path) -> None:
    """Write atomically, so that a reader never sees half a file and a failed write leaves
    the old one; the new file keeps the old one's permissions and, where the OS lets us, its
    owner and group.

    Raises:
        OSError: the folder cannot be written (nothing changed).
    """
    tmp: str | None = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        _take_metadata(tmp, target)
        os.replace(tmp, target)
    except BaseException:
        _discard(tmp)
        raise


def _take_metadata(tmp: str, target: Path) -> None:
    """Give the new file the permissions of the one it replaces and, where the OS lets us,
    its owner and group (root formatting another user's file must not make it root's).  A
    new file gets what the umask gives (``mkstemp`` makes its file private, 0600)."""
    try:
        found = target.stat()
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        return
    os.chmod(tmp, stat.S_IMODE(found.st_mode))
    if (found.st_uid, found.st_gid) != (os.getuid(), os.getgid()):
        with contextlib.suppress(OSError):  # only root may give a file away
            os.chown(tmp, found.st_uid, found.st_gid)


def _discard(tmp: str | None) -> None:
    if tmp is not None:
        Path(tmp).unlink(missing_ok=True)
