"""`om fmt`: lay catalog files out the one way (om_dsl/syntax/formatter.py), in place.

Like ``gofmt -l -w``, ``terraform fmt`` and ``ruff format``: the paths of the files it changes
go to standard output, one per line (``--check`` lists those it would change and changes
nothing; ``--diff`` shows the changes instead); a summary goes to standard error.  A file with
syntax errors is left as it is and its errors are printed as `om check` prints them.
"""

from __future__ import annotations

import difflib
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from om_dsl.cli.app import (
    EXIT_ERRORS,
    EXIT_OK,
    EXIT_USAGE,
    app,
    err,
    fail,
    replace_file,
    report_error,
)
from om_dsl.cli.diagnostics import print_explain_hint, print_text
from om_dsl.cli.watch import om_files
from om_dsl.compiler.loader import read_source
from om_dsl.errors import DiagnosticBag
from om_dsl.source import SourceFile, Span, as_read
from om_dsl.syntax.formatter import FormatterBug, format_text

STDIN = "-"
STDIN_NAME = "<stdin>"


@dataclass(slots=True)
class Tally:
    changed: int = 0
    unchanged: int = 0
    failed: int = 0

    def line(self, check: bool) -> str:
        verb = "would be reformatted" if check else "reformatted"
        parts = [f"{self.changed} file(s) {verb}", f"{self.unchanged} already formatted"]
        if self.failed:
            parts.append(f"{self.failed} with errors (left as they are)")
        return ", ".join(parts)


@app.command()
def fmt(
    paths: Annotated[
        list[str], typer.Argument(help="Files, folders (every .om file below) or - (stdin).")
    ],
    check: Annotated[
        bool, typer.Option("--check", help="Change nothing; exit 1 if a file would change.")
    ] = False,
    diff: Annotated[
        bool, typer.Option("--diff", help="Print the changes as a diff instead of making them.")
    ] = False,
) -> None:
    """Format catalog files in place, the one layout of the language reference."""
    if STDIN in paths and len(paths) > 1:  # its text and the changed files' names would mix
        fail("- (standard input) cannot be given with other paths", EXIT_USAGE)
    tally = Tally()
    for path in _files(paths):
        if path == STDIN:
            _stdin(tally, check, diff)
        else:
            _file(Path(path), tally, check or diff, diff)
    if not (paths == [STDIN] and not (check or diff)):
        err.print(tally.line(check or diff), highlight=False)
    sys.exit(EXIT_ERRORS if tally.failed or ((check or diff) and tally.changed) else EXIT_OK)


def _files(paths: list[str]) -> list[str]:
    """The files to format, each once: a folder stands for every .om file below it (hidden
    folders and ``node_modules`` skipped); a folder with none is an error."""
    found: list[str] = []
    for raw in paths:
        if not raw:  # `om fmt "$FILE"` with FILE unset must not format the whole folder
            fail("a path is empty", EXIT_USAGE)
        folder = Path(raw)
        if raw != STDIN and folder.is_dir():
            inside = [str(p) for p in om_files(folder)]
            if not inside:
                report_error(f"no .om files in {raw}")
                sys.exit(EXIT_ERRORS)
            found += inside
        else:
            found.append(raw)
    return list(dict.fromkeys(found))


def _formatted(shown: str, text: str, tally: Tally) -> str | None:
    """``text`` formatted, or None after printing why it cannot be."""
    bag = DiagnosticBag()
    try:
        result = format_text(shown, text, bag)
    except FormatterBug as bug:
        report_error(f"{bug} (a bug in om fmt: please report it with this file)")
        result = None
    if result is None:
        source = SourceFile(shown, as_read(text))  # as it was parsed
        print_text(bag.sorted(), {shown: source})
        print_explain_hint(bag.items)
        tally.failed += 1
    return result


def _file(path: Path, tally: Tally, dry_run: bool, diff: bool) -> None:
    shown = path.as_posix()
    bag = DiagnosticBag()
    text = read_source(path, shown, Span(shown, 1, 1, 1, 1), bag)
    if text is None:
        print_text(bag.items, {})
        tally.failed += 1
        return
    result = _formatted(shown, text, tally)
    if result is None:
        return
    if dry_run or result == text:
        _settle(shown, text, result, tally, diff)
        return
    problem = _write(path.resolve(), result)  # through a symlink, not over it
    if problem is not None:
        report_error(f"cannot write {shown}: {problem}; left as it is")
        tally.failed += 1
        return
    _settle(shown, text, result, tally, diff)


def _write(target: Path, text: str) -> str | None:
    """Write ``text`` over ``target``; why it could not be, or None.

    A read-only file is refused, as ``gofmt`` refuses it (replacing it through its folder
    would work, and undo the protection).  Read-only means no write permission for anyone
    too, so that root (who may write anything, and runs many CI jobs) gets the same answer.
    A file with several hard links is rewritten in place, so that every link sees the new
    text; any other file is replaced atomically.
    """
    data = text.encode("utf-8")
    try:
        status = target.stat()
        if not os.access(target, os.W_OK) or not status.st_mode & 0o222:
            return "it is read-only"
        if status.st_nlink > 1:
            with target.open("r+b") as fh:
                fh.write(data)
                fh.truncate()
            return None
        replace_file(data, target)
    except OSError as exc:
        return str(exc.strerror or exc)
    return None


def _stdin(tally: Tally, check: bool, diff: bool) -> None:
    """Standard input to standard output (for editors), or checked or diffed like a file."""
    try:
        text = sys.stdin.buffer.read().decode("utf-8")  # bytes: a CRLF file stays CRLF
    except UnicodeDecodeError:
        report_error("standard input is not UTF-8 text")
        tally.failed += 1
        return
    result = _formatted(STDIN_NAME, text, tally)
    if result is None:
        return
    if check or diff:
        _settle(STDIN_NAME, text, result, tally, diff)
    else:
        _emit(result)


def _settle(shown: str, text: str, result: str, tally: Tally, diff: bool) -> bool:
    """Count a formatted file; when it changes, print its diff (``--diff``) or its name."""
    if result == text:
        tally.unchanged += 1
        return False
    tally.changed += 1
    if diff:
        _print_diff(shown, text, result)
    else:
        _emit(shown + "\n")
    return True


def _emit(text: str) -> None:
    """UTF-8 on standard output whatever the locale says: the text is a catalog (or names
    one), and an ASCII or Latin-1 locale made it an internal error or a re-encoded file."""
    sys.stdout.flush()
    sys.stdout.buffer.write(text.encode("utf-8"))
    sys.stdout.buffer.flush()


def _print_diff(shown: str, before: str, after: str) -> None:
    lines = difflib.unified_diff(
        _lines(before),
        _lines(after),
        f"{shown} (before)",
        f"{shown} (formatted)",
    )
    for line in lines:  # a last line without a newline is marked as `diff` marks it
        _emit(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")


def _lines(text: str) -> list[str]:
    """Lines ended by ``\\n`` only, as `diff` and `patch` read them (``str.splitlines`` also
    splits at ``\\r``, U+2028 and others, which a comment may hold)."""
    *ended, last = text.split("\n")
    return [line + "\n" for line in ended] + ([last] if last else [])
