"""Helpers for compiler tests: compile a snippet (or a small multi-file catalog) and query it."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from om_dsl.compiler.driver import CompileResult, compile_catalog
from om_dsl.errors import Diagnostic
from om_dsl.ir import models as ir

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


@pytest.fixture
def om(tmp_path: Path) -> Compile:
    """``om(body, files={...}, header=True, base=False)``: compile ``body`` as main.om.

    ``files`` are written next to main.om (for imports); ``base`` prepends :data:`BASE`.
    """

    def run(
        body: str,
        *,
        files: dict[str, str] | None = None,
        header: bool = True,
        base: bool = False,
    ) -> Compiled:
        for name, content in (files or {}).items():
            target = tmp_path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(textwrap.dedent(content), encoding="utf-8")
        text = (HEADER if header else "") + (BASE if base else "") + textwrap.dedent(body)
        return Compiled(compile_catalog(tmp_path / "main.om", text=text))

    return run
