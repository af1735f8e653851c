"""Checks shared by the compiler tests (imported by name: pytest puts this folder on sys.path)."""

from __future__ import annotations

import functools
import re

from om_dsl.errors import Diagnostic
from om_dsl.source import SourceFile
from om_dsl.syntax.parser import _lark


@functools.cache
def _terminal_re() -> re.Pattern[str]:
    names = sorted({t.name for t in _lark().terminals} | {"$END", "__ANON"}, key=len)
    alternatives = "|".join(re.escape(n) for n in reversed(names))
    return re.compile(rf"(?<![A-Za-z0-9_])(?:{alternatives})(?![A-Za-z0-9_])|__ANON")


def raw_terminal_names(message: str) -> list[str]:
    """Lark terminal names in ``message`` outside the quotes that show what the user wrote.

    Users may name things `NAME` or `LBRACE`; those are quoted in messages, so quoted text is
    ignored.  Anything left that spells a terminal is Lark leaking through.
    """
    bare = re.sub(r"'[^']*'|\"[^\"]*\"|`[^`]*`", "", message)
    return [name for name in _terminal_re().findall(bare) if name not in ENGLISH]


# Terminal names that are also ordinary words in a message ("an http(s) URL").
ENGLISH = frozenset({"URL", "ID"})


def span_problems(diag: Diagnostic, sources: dict[str, SourceFile]) -> list[str]:
    """Why ``diag``'s span does not point inside its file (empty when it does)."""
    span = diag.span
    if span is None:
        return []
    source = sources.get(span.file)
    if source is None:
        return [f"{diag.code}: span file {span.file!r} is not a loaded source"]
    lines = source.text.split("\n")
    problems = []
    if not 1 <= span.line <= span.end_line <= len(lines):
        problems.append(f"{diag.code}: lines {span.line}-{span.end_line} of {len(lines)}")
    elif not 1 <= span.col <= len(lines[span.line - 1]) + 1:
        problems.append(f"{diag.code}: col {span.col} beyond line {span.line}")
    elif span.end_line == span.line and span.end_col < span.col:
        problems.append(f"{diag.code}: end col {span.end_col} before col {span.col}")
    return problems
