"""`om explain`: every code the docs list can be looked up from the terminal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_support import om

from om_dsl.codes import FAMILIES, INDEX, normalize

REPO = Path(__file__).resolve().parents[2]
BROKEN = REPO / "tests" / "fixtures" / "invalid" / "E020_E043_E090_three_independent_errors.om"
WARNS = REPO / "tests" / "fixtures" / "invalid" / "W001_offer_without_rule.om"

Capsys = pytest.CaptureFixture[str]


def test_a_code_is_explained_with_its_fix_and_page(capsys: Capsys) -> None:
    code, out, err = om(capsys, "explain", "E044")
    assert code == 0, err
    assert "E044: error, catalog compiler" in out
    assert "does not map a `required` attribute" in out
    assert "fix: Add `name = ...` to the rule" in out
    assert "docs/diagnostics.md" in out


@pytest.mark.parametrize("spelling", ["E044", "e44", "E44", "error[E044]", " e044 "])
def test_codes_are_read_as_designers_type_them(spelling: str, capsys: Capsys) -> None:
    assert normalize(spelling) == "E044"
    assert om(capsys, "explain", spelling)[0] == 0


def test_a_warning_and_codes_explained_together(capsys: Capsys) -> None:
    assert "W006: warning" in om(capsys, "explain", "W006")[1]
    _, shared, _ = om(capsys, "explain", "O011")
    assert "a required field is missing; an unknown field" in shared
    assert "explained together with O010, O012" in shared
    assert "docs/decomposition.md" in shared
    assert "D002: error, decomposition" in om(capsys, "explain", "D002")[1]
    assert "docs/service.md" in om(capsys, "explain", "S013")[1]


def test_an_unknown_code_is_a_usage_error(capsys: Capsys) -> None:
    code, _, err = om(capsys, "explain", "E0444")
    assert code == 2
    assert "unknown code 'E0444'" in err
    for wrong in ("E999", "banana", "", "E\u0661"):  # ARABIC-INDIC DIGIT ONE is not a 1
        code, out, err = om(capsys, "explain", wrong)
        assert code == 2
        assert "Traceback" not in out + err


def test_json_gives_the_same_as_data(capsys: Capsys) -> None:
    data = json.loads(om(capsys, "explain", "O036", "--format", "json")[1])
    assert data == {
        "code": "O036",
        "severity": "error",
        "family": "order",
        "meaning": INDEX["O036"].doc.meaning,
        "fix": None,
        "related": [],
        "page": "docs/decomposition.md",
    }


def test_without_a_code_every_code_is_listed(capsys: Capsys) -> None:
    listed = om(capsys, "explain")[1]
    assert all(code in listed for code in INDEX)
    everything = json.loads(om(capsys, "explain", "--format", "json")[1])
    assert [e["code"] for e in everything] == list(INDEX)


def test_every_code_belongs_to_one_row() -> None:
    rows = [code for family in FAMILIES for doc in family.rows for code in doc.codes]
    assert len(rows) == len(set(rows)) == len(INDEX)


def test_om_check_ends_with_where_to_read_about_the_first_error(capsys: Capsys) -> None:
    code, _, err = om(capsys, "check", str(BROKEN))
    assert code == 1
    assert err.rstrip().splitlines()[-1] == "for more about E043, run: om explain E043"
    _, _, err = om(capsys, "check", str(WARNS))
    assert err.rstrip().splitlines()[-1] == "for more about W001, run: om explain W001"
    _, _, err = om(capsys, "compile", str(BROKEN))
    assert "for more about E043, run: om explain E043" in err


def test_a_clean_catalog_gets_no_hint(capsys: Capsys) -> None:
    code, _, err = om(capsys, "check", str(REPO / "examples" / "catalog" / "acme.om"))
    assert code == 0
    assert "om explain" not in err


def test_a_bad_order_names_om_explain_for_its_first_issue(capsys: Capsys, tmp_path: Path) -> None:
    order = tmp_path / "order.json"
    order.write_text("{}")
    code, _, err = om(capsys, "decompose", str(REPO / "examples/catalog/acme.om"), str(order))
    assert code == 1
    lines = err.rstrip().splitlines()
    assert lines[-2:] == [
        "for more about O009, run: om explain O009",
        "error: the order is invalid: 1 problem(s)",
    ]
