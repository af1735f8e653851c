"""The ``om`` fixture: compile a snippet (or a small multi-file catalog) and query the result."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from compiler_support import BASE, HEADER, Compile, Compiled

from om_dsl.compiler.driver import compile_catalog


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
