"""Checks shared by the compiler tests (imported by name: pytest puts this folder on sys.path)."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

from om_dsl.compiler.driver import CompileResult
from om_dsl.errors import Diagnostic
from om_dsl.ir import models as ir
from om_dsl.source import SourceFile
from om_dsl.syntax.parser import _lark

HEADER = 'catalog "Test" version "1"\n'

# A clean catalog: one offer decomposed into one planned cfs.  Tests append to it so that the
# only diagnostics are the ones the test provokes (no unused-product warnings).
BASE = """
offer Web "Web" id "100" {
  attribute speed: int in 1..1000 default 100
  attribute tech: Tech default FTTH
  attribute label: string default "x"
}
enum Tech { FTTH, DSL }
cfs Line {
  attribute speed: int
  attribute tech: Tech
}
decompose Web { -> Line { speed = speed; tech = tech } }
plan Line on add { auto activate handler "net.activate" }
"""


@dataclass(frozen=True)
class Compiled:
    """A compile result with shortcuts for assertions."""

    result: CompileResult

    @property
    def codes(self) -> list[str]:
        return [d.code for d in self.result.diagnostics]

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.result.diagnostics if d.is_error]

    @property
    def catalog(self) -> ir.Catalog:
        assert self.result.catalog is not None, self.render()
        return self.result.catalog

    def of(self, code: str) -> list[Diagnostic]:
        return [d for d in self.result.diagnostics if d.code == code]

    def one(self, code: str) -> Diagnostic:
        """The single diagnostic with ``code`` (and no other error), so a test pins its cause."""
        found = self.of(code)
        assert len(found) == 1, self.render()
        others = [d for d in self.errors if d.code != code]
        assert not others, self.render()
        return found[0]

    def render(self) -> str:
        return "\n".join(d.render(self.result.sources) for d in self.result.diagnostics)


Compile = Callable[..., Compiled]


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
