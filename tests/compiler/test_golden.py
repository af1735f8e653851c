"""Golden fixtures: valid catalogs -> IR snapshots, invalid catalogs -> diagnostics snapshots.

Fixtures live in tests/fixtures/{valid,invalid}.  A catalog is a ``*.om`` file there, or a
folder whose root file is ``main.om`` (multi-file catalogs).  Every invalid fixture is named
for the code(s) it provokes and starts with ``// expect: CODE ...``: the exact diagnostics it
must produce, so a snapshot refreshed without thinking cannot hide a regression.

Refresh snapshots with ``pytest tests/compiler/test_golden.py --snapshot-update`` and review
the diff: the .json/.txt files under __snapshots__ are meant to be read.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from compiler_support import raw_terminal_names, span_problems
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

from om_dsl.compiler.driver import CompileResult, compile_catalog
from om_dsl.ir.io import dump_ir, load_ir
from om_dsl.syntax.lexer import KEYWORDS

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PACKAGE = Path(__file__).resolve().parents[2] / "om_dsl"
CODE = re.compile(r"[EW]0\d\d")


def catalogs(folder: Path) -> list[Path]:
    files = sorted(folder.glob("*.om"))
    roots = sorted(d / "main.om" for d in folder.iterdir() if d.is_dir())
    return files + roots


def name_of(path: Path) -> str:
    return path.parent.name if path.name == "main.om" else path.stem


VALID = catalogs(FIXTURES / "valid")
INVALID = catalogs(FIXTURES / "invalid")


class JsonText(SingleFileSnapshotExtension):
    """A snapshot that is exactly the JSON text under test, stored as a readable .json file."""

    _write_mode = WriteMode.TEXT
    file_extension = "json"


class PlainText(SingleFileSnapshotExtension):
    _write_mode = WriteMode.TEXT
    file_extension = "txt"


@pytest.fixture
def json_snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(JsonText)


@pytest.fixture
def text_snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(PlainText)


def compiled(path: Path) -> CompileResult:
    return compile_catalog(path)


def expected_codes(path: Path) -> Counter[str]:
    first = path.read_text(encoding="utf-8").split("\n", 1)[0]
    match = re.fullmatch(r"// expect: ((?:[EW]0\d\d ?)+)", first)
    assert match, f"{path} must start with '// expect: CODE ...'"
    return Counter(match.group(1).split())


def render(result: CompileResult) -> str:
    return "\n\n".join(d.render(result.sources) for d in result.diagnostics) + "\n"


def as_json(result: CompileResult) -> str:
    data = [d.to_dict() for d in result.diagnostics]
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


# ---- valid catalogs ----------------------------------------------------------------------------


def test_there_are_valid_fixtures_and_a_multi_file_one() -> None:
    assert len(VALID) >= 5
    assert any(p.name == "main.om" for p in VALID)


@pytest.mark.parametrize("path", VALID, ids=name_of)
def test_valid_catalog_ir(path: Path, json_snapshot: SnapshotAssertion) -> None:
    result = compiled(path)
    assert result.diagnostics == [], render(result)
    assert result.catalog is not None
    text = dump_ir(result.catalog)
    assert load_ir(text) == result.catalog
    assert text == json_snapshot


def test_valid_fixtures_use_every_construct() -> None:
    """The fixtures together use every keyword: a grammar change that adds one needs a fixture."""
    words: set[str] = set()
    for path in VALID:
        for file in path.parent.rglob("*.om") if path.name == "main.om" else [path]:
            text = re.sub(r'"(?:[^"\\]|\\.)*"|//[^\n]*', " ", file.read_text(encoding="utf-8"))
            words.update(re.findall(r"[A-Za-z_]+", text))
    assert sorted(set(KEYWORDS) - words) == []


# ---- invalid catalogs --------------------------------------------------------------------------


def test_there_are_at_least_40_distinct_error_cases() -> None:
    assert len(INVALID) >= 40
    assert len({name_of(p) for p in INVALID}) == len(INVALID)


def codes_in_name(path: Path) -> set[str]:
    """``E020_E043_E090_three_independent_errors`` names E020, E043 and E090."""
    prefix = re.match(r"(?:[EW]0\d\d_)+", name_of(path) + "_")
    return set(CODE.findall(prefix.group(0))) if prefix else set()


@pytest.mark.parametrize("path", INVALID, ids=name_of)
def test_invalid_catalog_reports_the_codes_in_its_name(path: Path) -> None:
    named = codes_in_name(path)
    assert named, f"{name_of(path)} is not named for a code"
    assert named <= {d.code for d in compiled(path).diagnostics}


@pytest.mark.parametrize("path", INVALID, ids=name_of)
def test_invalid_catalog_reports_exactly_what_it_expects(path: Path) -> None:
    """Every diagnostic of the file at once, and nothing else (no cascades, no noise)."""
    result = compiled(path)
    assert Counter(d.code for d in result.diagnostics) == expected_codes(path), render(result)
    if any(d.is_error for d in result.diagnostics):
        assert result.catalog is None
    else:
        assert result.catalog is not None, "warnings alone never block the IR"


@pytest.mark.parametrize("path", INVALID, ids=name_of)
def test_invalid_catalog_diagnostics_are_well_formed(path: Path) -> None:
    result = compiled(path)
    for diag in result.diagnostics:
        assert CODE.fullmatch(diag.code)
        assert diag.message and diag.message == diag.message.strip()
        assert raw_terminal_names(diag.message) == [], diag.message
        assert diag.span is not None, f"{diag.code} has no location"
        assert span_problems(diag, result.sources) == []


@pytest.mark.parametrize("path", INVALID, ids=name_of)
def test_invalid_catalog_text(path: Path, text_snapshot: SnapshotAssertion) -> None:
    assert render(compiled(path)) == text_snapshot


@pytest.mark.parametrize("path", INVALID, ids=name_of)
def test_invalid_catalog_json(path: Path, json_snapshot: SnapshotAssertion) -> None:
    assert as_json(compiled(path)) == json_snapshot


def test_independent_errors_are_all_reported_in_one_run() -> None:
    result = compiled(FIXTURES / "invalid" / "E020_E043_E090_three_independent_errors.om")
    assert [d.code for d in result.diagnostics] == ["E043", "E020", "E090"]
    syntax = compiled(FIXTURES / "invalid" / "E001_three_syntax_errors.om")
    assert [(d.code, d.span.line) for d in syntax.diagnostics if d.span] == [
        ("E001", 12),
        ("E001", 14),
        ("E001", 16),
    ]


def emitted_codes() -> set[str]:
    """Every code a compiler stage can emit, read from the source (bag.error/bag.warning calls)."""
    found: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        found.update(re.findall(r'"([EW]0\d\d)"', path.read_text(encoding="utf-8")))
    return found


def test_every_emitted_code_has_an_invalid_fixture() -> None:
    covered: set[str] = set()
    for path in INVALID:
        covered.update(expected_codes(path))
    assert sorted(emitted_codes() - covered) == []
    assert sorted(covered - emitted_codes()) == []
