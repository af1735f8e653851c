"""The generated parse table file: current, deterministic, and never trusted when stale."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib import resources

import pytest

from om_dsl.compiler.driver import compile_catalog
from om_dsl.syntax import tables
from om_dsl.syntax.lalr import Tables

REGENERATE = "make grammar"  # python -m om_dsl.syntax.tables


def _packaged() -> str:
    return resources.files("om_dsl.grammar").joinpath(tables.TABLES_FILE).read_text("utf-8")


def _same(a: Tables, b: Tables) -> bool:
    return (a.actions, a.gotos, a.rules, a.start_state, a.end_state) == (
        b.actions, b.gotos, b.rules, b.start_state, b.end_state,
    )  # fmt: skip


def test_the_packaged_table_is_current() -> None:
    assert _packaged() == tables.generated_text(), f"om.lark changed: run `{REGENERATE}`"


def test_the_table_file_does_not_depend_on_the_hash_seed() -> None:
    """Lark numbers states by hash order; the file renumbers them, so seeds agree."""
    code = "import sys; from om_dsl.syntax.tables import generated_text as g; sys.stdout.write(g())"
    outputs = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        outputs.add(done.stdout)
    assert outputs == {_packaged()}


def test_the_loaded_table_is_lark_s_table() -> None:
    built = tables.build_tables(tables.grammar_text())
    assert _same(tables.load_tables(), built)
    assert len(built.actions) > 100


def test_a_table_for_another_grammar_is_refused() -> None:
    with pytest.raises(ValueError, match="another grammar"):
        tables.from_json(_packaged(), tables.grammar_digest("start: NAME"))


@pytest.mark.parametrize("damage", ["stale", "garbled", "missing", "a list", "wrong shapes"])
def test_a_stale_or_damaged_file_falls_back_to_lark(
    damage: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_files = resources.files
    text = _packaged()
    grammar = tables.grammar_text()
    content = {
        "stale": text.replace(tables.grammar_digest(grammar), "0" * 64),
        "garbled": text[: len(text) // 2],
        "missing": None,
        "a list": "[1, 2]",
        "wrong shapes": text.replace('"rules":[[', '"rules":[7,['),
    }[damage]

    class Package:
        def __init__(self, name: str) -> None:
            self.real = real_files(name)

        def joinpath(self, name: str) -> object:
            if name != tables.TABLES_FILE:
                return self.real.joinpath(name)
            return _FakeFile(content)

    built: list[str] = []
    real_build = tables.build_tables

    def build(grammar: str) -> Tables:
        built.append(grammar)
        return real_build(grammar)

    monkeypatch.setattr(tables.resources, "files", Package)
    monkeypatch.setattr(tables, "build_tables", build)
    rebuilt = tables.load_tables.__wrapped__()
    monkeypatch.undo()
    assert built == [grammar]  # Lark built it: the file was not trusted
    assert _same(rebuilt, tables.build_tables(grammar))


class _FakeFile:
    def __init__(self, text: str | None) -> None:
        self.text = text

    def read_text(self, encoding: str = "utf-8") -> str:
        if self.text is None:
            raise FileNotFoundError("om.tables.json")
        return self.text


def test_a_catalog_compiles_with_the_packaged_table() -> None:
    result = compile_catalog("t.om", 'catalog "T" version "1"\nenum Colour { red, green }\n')
    assert result.ok, result.diagnostics
