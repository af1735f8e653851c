"""Printing diagnostics: coloured text for people, JSON for editors and CI."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text

from om_dsl.cli.app import err, write_json
from om_dsl.errors import Diagnostic
from om_dsl.source import SourceFile

if TYPE_CHECKING:
    from om_dsl.compiler.driver import CompileResult

_STYLE = {"error": "bold red", "warning": "bold yellow"}


def relocate(
    diagnostics: Sequence[Diagnostic], sources: Mapping[str, SourceFile], root: Path
) -> tuple[list[Diagnostic], dict[str, SourceFile]]:
    """Diagnostics whose files are named from where `om` runs, not from the catalog root.

    The compiler names files relative to the catalog root so that the IR is the same on every
    machine; a person (or an editor, or CI) needs a path it can open: ``examples/catalog/x.om``.
    """
    where = from_here(root)
    if where is None or not sources:  # the names are already paths from here
        moved = list(diagnostics)
    else:
        inner = _spans_in_text(sources, where)
        moved = [
            replace(
                d,
                span=replace(d.span, file=where(d.span.file)) if d.span else None,
                message=inner(d.message),
                hints=tuple(inner(h) for h in d.hints),
            )
            for d in diagnostics
        ]
    return moved, {(where or _same)(name): source for name, source in sources.items()}


def from_here(root: Path) -> Callable[[str], str] | None:
    """How a file (or a ``FILE:LINE:COL`` span) that the compiler names from the root
    ``.om`` file's folder is named from where `om` runs; None when both folders are one.

    Every text output that quotes the catalog (diagnostics, `om plan`'s "declared at",
    `--explain`) names it the same way, so that the path can be opened from the shell."""
    base = Path(root).parent
    if base == Path():
        return None
    return lambda file: (base / file).as_posix()


def _same(file: str) -> str:
    return file


def print_compiled(result: CompileResult, root: Path) -> None:
    """A compiled catalog's diagnostics, its files named from where `om` runs: how `om check`
    and `compile` print them, and the commands that read a catalog to work with it print its
    errors (:func:`print_compiled_briefly`), so that an editor or CI can open
    `cat/technical/plans.om:114:1` whichever command printed it."""
    print_text(*relocate(result.diagnostics, result.sources, root))


def print_compiled_briefly(result: CompileResult, root: Path) -> None:
    """A catalog's warnings as commands that work with it print them: one line each.  Every
    `om render`, `decompose` or `plan` reprinted each warning's snippet, caret and hint, about
    40 lines for six warnings before each result; `om check` shows them whole.  Errors are
    printed whole, as they stop the command."""
    diagnostics, sources = relocate(result.diagnostics, result.sources, root)
    if any(d.is_error for d in diagnostics):
        print_text(diagnostics, sources)
        return
    for diag in diagnostics:
        err.print(_head(diag, diag.render(sources).partition("\n")[0]))
    if diagnostics:
        err.print(f"(om check {root} shows them in full)", highlight=False, markup=False)


def _spans_in_text(
    sources: Mapping[str, SourceFile], where: Callable[[str], str]
) -> Callable[[str], str]:
    """A rewriter of the spans that messages and hints quote (`first declared at
    lib/a.om:1:7`, `O->L maps it at c.om:8:20`), so that they name files as the header does:
    a span of a loaded file, ``FILE:LINE:COL``, not preceded by a path character (so that
    ``a.om`` does not match inside ``lib/a.om``)."""
    names = sorted(sources, key=len, reverse=True)
    pattern = re.compile(
        r"(?<![\w./-])(" + "|".join(re.escape(n) for n in names) + r")(?=:\d+:\d+)"
    )

    def inner(text: str) -> str:
        if ":" not in text:
            return text
        return pattern.sub(lambda m: where(m.group(1)), text)

    return inner


def print_text(diagnostics: Sequence[Diagnostic], sources: dict[str, SourceFile]) -> None:
    for diag in diagnostics:
        head, _, rest = diag.render(sources).partition("\n")
        err.print(_head(diag, head))
        if rest:
            err.print(Text(rest, style="cyan"))
        err.print()


def _head(diag: Diagnostic, head: str) -> Text:
    """A diagnostic's first line, its ``severity[code]`` in the severity's colour."""
    text = Text(head)
    label = f"{diag.severity.value}[{diag.code}]"
    start = head.find(label)
    if start >= 0:
        text.stylize(_STYLE[diag.severity.value], start, start + len(label))
    return text


def print_explain_hint(diagnostics: Sequence[Diagnostic]) -> None:
    """rustc's closing line: where to read more about the first error (or warning) shown."""
    first = next((d for d in diagnostics if d.is_error), None) or next(iter(diagnostics), None)
    if first is not None:
        print_explain_code(first.code)


def print_explain_code(code: str) -> None:
    err.print(f"for more about {code}, run: om explain {code}", highlight=False)


def summary(diagnostics: Sequence[Diagnostic]) -> tuple[int, int]:
    errors = sum(1 for d in diagnostics if d.is_error)
    return errors, len(diagnostics) - errors


def print_json(files: Mapping[str, Sequence[Diagnostic]]) -> None:
    payload = {
        "files": [
            {
                "path": path,
                "errors": summary(diags)[0],
                "warnings": summary(diags)[1],
                "diagnostics": [d.to_dict() for d in diags],
            }
            for path, diags in files.items()
        ]
    }
    write_json(payload)
