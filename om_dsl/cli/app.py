"""The root Typer application and the helpers every command shares."""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import stat
import sys
import tempfile
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.markup import escape
from typer.core import TyperArgument, TyperCommand

from om_dsl.consoles import PlainConsole
from om_dsl.source import visible

CommandFunction = TypeVar("CommandFunction", bound=Callable[..., Any])


class OmCommand(TyperCommand):
    """A command whose usage line names its arguments as the docs do (``ORDER_ID``, not
    typer's ``{order_id}``), as does its help and a missing argument's error."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            if isinstance(param, TyperArgument) and param.metavar is None and param.name:
                param.metavar = param.name.upper()

    def collect_usage_pieces(self, ctx: Any) -> list[str]:  # click.Context, as typer has it
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if isinstance(param, TyperArgument):
                name = param.metavar or (param.name or "").upper()
                name = name if param.required else f"[{name}]"
                pieces.append(f"{name}..." if param.nargs != 1 else name)
        return pieces


class OmTyper(typer.Typer):
    """A Typer whose commands are :class:`OmCommand` and whose help is plain text.

    Typer's rich help drew boxes and cut option and environment names to fit its columns
    (``--max-body-byt…`` at 80 columns, also when piped); it printed ``<bool>`` after a flag
    (``--force <bool>``: but ``--force true`` is an error), and kept bold and dim under
    ``NO_COLOR``.  Click's plain help lists each option whole on its own, with its
    environment variable in its text, and is the same in a terminal, a pipe and a screen
    reader.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("rich_markup_mode", None)
        kwargs.setdefault("no_args_is_help", True)
        super().__init__(**kwargs)

    def command(self, *args: Any, **kwargs: Any) -> Callable[[CommandFunction], CommandFunction]:
        kwargs.setdefault("cls", OmCommand)
        return super().command(*args, **kwargs)


def click_exceptions() -> ModuleType:
    """Click's exceptions, as the typer in use raises them: typer 0.29 and later carry their
    own copy of click (``typer._click``), earlier ones use click itself."""
    try:
        return importlib.import_module("typer._click.exceptions")
    except ImportError:  # pragma: no cover - an older typer
        return importlib.import_module("click.exceptions")


app = OmTyper(
    name="om",
    help="om_dsl: compile order-management catalogs, decompose orders, plan and run them.",
    add_completion=False,
    pretty_exceptions_enable=False,
    # -h on every command: a subcommand's context inherits its parent's help names.
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(wanted: bool) -> None:
    if wanted:
        write_stdout(f"om {version()}\n")
        raise typer.Exit()


def version() -> str:
    """om_dsl's version: the installed distribution's, or the package's when run from source."""
    try:
        return metadata.version("om-dsl")
    except metadata.PackageNotFoundError:  # pragma: no cover - run from a source tree
        from om_dsl import __version__  # noqa: PLC0415 - om_dsl imports the whole API

        return __version__


@app.callback()
def _root(
    _version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print om's version."
        ),
    ] = False,
) -> None:
    """Keeps `om` a group of commands even when only one command module is loaded (see
    om_dsl/cli/__init__.py): Typer runs a lone command as the whole program otherwise."""


# stdout carries results (JSON, IR); stderr carries diagnostics and progress.  Both print text
# as text: console markup is opt-in per print (see om_dsl/consoles.py).
out = PlainConsole(soft_wrap=True)
err = PlainConsole(stderr=True, soft_wrap=True)

EXIT_OK = 0
EXIT_ERRORS = 1
"""The command did its work and found errors (a catalog's, an order's), an order needs someone
(held), or an error none of the codes below names (a file that cannot be read)."""
EXIT_USAGE = 2
EXIT_INTERNAL = 3
"""A bug in om_dsl."""
EXIT_STOPPED = 4
"""`om serve` only: its runtime stopped on an error; restart it (docs/service.md)."""
EXIT_NOT_FOUND = 5
"""No such store, order, item, task, queue or system."""
EXIT_REFUSED = 6
"""The action is not allowed in the state of the order or item (retry of a completed item,
cancel past the point of no return...): nothing changed."""
EXIT_BUSY = 7
"""Another process runs the store (`om serve`, `om run`): try again later, or through it."""

FormatOption = Annotated[str, typer.Option("--format", help="text or json")]
"""The ``--format`` of the commands that print either for people or for tools."""
TableFormatOption = Annotated[str, typer.Option("--format", help="text, json or tsv")]
"""The ``--format`` of the commands that print a table: tsv is for ``cut`` and screen readers."""
ALIASES = {"table": "text"}
"""Other names of a format: `om orders` said ``table`` where `om status` said ``text``, so
every command that prints for people takes both."""


def text_or_json(fmt: str) -> str:
    """``fmt`` (``text`` for ``table``) when it is text or json; otherwise a usage error
    (exit 2)."""
    fmt = ALIASES.get(fmt, fmt)
    if fmt not in ("text", "json"):
        fail(f"unknown format '{fmt}'; use text or json", EXIT_USAGE)
    return fmt


def table_format(fmt: str) -> str:
    """``fmt`` (``text`` for ``table``) when it is text, json or tsv; otherwise a usage error
    (exit 2)."""
    return one_of(ALIASES.get(fmt, fmt), ("text", "json", "tsv"), "format")


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


def json_value(value: object) -> str:
    """One value as JSON writes it (``false``, ``"FTTC"``, ``null``), on one line: what the
    JSON a command prints and the API answer say, never Python's ``False`` or ``'FTTC'``."""
    return json.dumps(value, ensure_ascii=False)


def write_json(data: object) -> None:
    """JSON for tools on stdout, as it is: rich's ``print_json`` re-parses and styles it, 85% of
    the time of an `om check --format json` with 10,000 diagnostics (9 s, 486 MB)."""
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if not encodable(text, sys.stdout):  # PYTHONIOENCODING=ascii: \u escapes keep the value
        text = json.dumps(data, indent=2) + "\n"
    write_stdout(text)


def encodable(text: str, stream: Any) -> bool:
    """Whether ``stream``'s encoding can write ``text`` as it is."""
    try:
        text.encode(getattr(stream, "encoding", None) or "utf-8")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


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
