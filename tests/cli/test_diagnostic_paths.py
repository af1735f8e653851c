"""Every command that compiles a catalog names the files of its diagnostics as `om check` does:
from where `om` runs, so that an editor or CI can open them.  `om plan cat/main.om ...` used to
print `lib/plans.om:1:41` (from the catalog's root) where `om check` printed
`cat/lib/plans.om:1:41`."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from om_dsl import cli

ROOT = """catalog "C" version "1"
import "lib/plans.om"
offer O { attribute a: int default 1 }
cfs L { attribute a: int }
/// A rule.
decompose O { -> L { a = a } }
"""
PLANS = 'plan L on add { auto h handler "h" when line.b > 0 }\n'
WHERE = "cat/lib/plans.om:1:41: error[E023]"
ORDER = '{"id": "O-1", "items": [{"id": "1", "product": "O", "action": "add"}]}'

COMMANDS = [
    ["check", "cat/main.om"],
    ["compile", "cat/main.om"],
    ["decompose", "cat/main.om", "order.json"],
    ["plan", "cat/main.om", "order.json"],
    ["render", "template", "cat/main.om", "L", "add"],
    ["render", "catalog", "cat"],
    ["render", "decomposition", "cat/main.om", "order.json"],
    ["render", "plan", "cat/main.om", "order.json"],
    ["run", "cat/main.om", "order.json", "--db", "om.db"],
]


@pytest.fixture(scope="module", autouse=True)
def registered() -> None:
    cli._register()


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "cat" / "lib").mkdir(parents=True)
    (tmp_path / "cat" / "main.om").write_text(ROOT, encoding="utf-8")
    (tmp_path / "cat" / "lib" / "plans.om").write_text(PLANS, encoding="utf-8")
    (tmp_path / "order.json").write_text(ORDER, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("args", COMMANDS, ids=[" ".join(a[:2]) for a in COMMANDS])
def test_diagnostics_name_files_from_the_working_directory(workdir: Path, args: list[str]) -> None:
    result = CliRunner().invoke(cli.app, args)
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith(WHERE), result.stderr
    assert not (workdir / "om.db").exists()  # refused before anything was stored


GOOD_PLANS = 'plan L on add { auto h handler "h" }\n'


@pytest.fixture
def good_workdir(workdir: Path) -> Path:
    (workdir / "cat" / "lib" / "plans.om").write_text(GOOD_PLANS, encoding="utf-8")
    return workdir


def test_plan_names_where_items_are_declared_from_the_working_directory(
    good_workdir: Path,
) -> None:
    result = CliRunner().invoke(cli.app, ["plan", "cat/main.om", "order.json"])
    assert result.exit_code == 0, result.output
    assert "cat/lib/plans.om:1:17" in result.stdout, result.stdout


def test_explain_names_rules_from_the_working_directory(good_workdir: Path) -> None:
    args = ["decompose", "cat", "order.json", "--format", "table", "--explain"]
    result = CliRunner().invoke(cli.app, args)
    assert result.exit_code == 0, result.output
    assert "[cat/main.om:6:15]" in result.stdout, result.stdout


def test_ir_json_spans_stay_as_compiled(good_workdir: Path) -> None:
    """IR JSON does not say where its sources were: its spans are the compiler's."""
    compiled = CliRunner().invoke(cli.app, ["compile", "cat/main.om", "-o", "cat.json"])
    assert compiled.exit_code == 0, compiled.output
    result = CliRunner().invoke(cli.app, ["plan", "cat.json", "order.json"])
    assert result.exit_code == 0, result.output
    assert " lib/plans.om:1:17" in result.stdout, result.stdout
