"""`om explain`: every code the docs list can be looked up from the terminal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from om_dsl import cli
from om_dsl.codes import FAMILIES, INDEX, normalize

REPO = Path(__file__).resolve().parents[2]
BROKEN = REPO / "tests" / "fixtures" / "invalid" / "E020_E043_E090_three_independent_errors.om"
WARNS = REPO / "tests" / "fixtures" / "invalid" / "W001_offer_without_rule.om"


@pytest.fixture(scope="module", autouse=True)
def registered() -> None:
    cli._register()


def om(*args: str | Path) -> Result:
    return CliRunner().invoke(cli.app, [str(a) for a in args])


def test_a_code_is_explained_with_its_fix_and_page() -> None:
    result = om("explain", "E044")
    assert result.exit_code == 0, result.output
    assert "E044: error, catalog compiler" in result.stdout
    assert "does not map a `required` attribute" in result.stdout
    assert "fix: Add `name = ...` to the rule" in result.stdout
    assert "docs/diagnostics.md" in result.stdout


@pytest.mark.parametrize("spelling", ["E044", "e44", "E44", "error[E044]", " e044 "])
def test_codes_are_read_as_designers_type_them(spelling: str) -> None:
    assert normalize(spelling) == "E044"
    assert om("explain", spelling).exit_code == 0


def test_a_warning_and_codes_explained_together() -> None:
    warning = om("explain", "W006")
    assert "W006: warning" in warning.stdout
    shared = om("explain", "O011")
    assert "a required field is missing; an unknown field" in shared.stdout
    assert "explained together with O010, O012" in shared.stdout
    assert "docs/decomposition.md" in shared.stdout
    assert "docs/service.md" in om("explain", "S013").stdout


def test_an_unknown_code_is_a_usage_error_with_a_suggestion() -> None:
    result = om("explain", "E0444")
    assert result.exit_code == 2
    assert "unknown code 'E0444'" in result.stderr
    wrong = om("explain", "E999")
    assert wrong.exit_code == 2
    assert "Traceback" not in wrong.output
    assert om("explain", "banana").exit_code == 2


def test_json_gives_the_same_as_data() -> None:
    data = json.loads(om("explain", "O036", "--format", "json").stdout)
    assert data["code"] == "O036"
    assert data["family"] == "order"
    assert data["severity"] == "error"
    assert data["fix"] is None
    assert data["page"] == "docs/decomposition.md"


def test_without_a_code_every_code_is_listed() -> None:
    listed = om("explain").stdout
    assert all(code in listed for code in INDEX)
    everything = json.loads(om("explain", "--format", "json").stdout)
    assert [e["code"] for e in everything] == list(INDEX)


def test_every_code_belongs_to_one_row() -> None:
    rows = [code for family in FAMILIES for doc in family.rows for code in doc.codes]
    assert len(rows) == len(set(rows)) == len(INDEX)


def test_om_check_ends_with_where_to_read_about_the_first_error() -> None:
    result = om("check", BROKEN)
    assert result.exit_code == 1
    assert result.stderr.rstrip().splitlines()[-1] == "for more about E043, run: om explain E043"
    warned = om("check", WARNS)
    assert warned.stderr.rstrip().splitlines()[-1] == "for more about W001, run: om explain W001"


def test_a_clean_catalog_gets_no_hint() -> None:
    result = om("check", REPO / "examples" / "catalog" / "acme.om")
    assert "om explain" not in result.stderr
