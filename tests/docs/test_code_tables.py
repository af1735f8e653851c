"""The code tables of the docs are written from om_dsl.codes, and list every code in use."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from om_dsl.codes import FAMILIES, INDEX, Family, synced

ROOT = Path(__file__).resolve().parents[2]
_EMITTED = re.compile(r'"([EWODS]\d{3})"')


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.name)
def test_the_page_shows_the_table_of_om_dsl_codes(family: Family) -> None:
    text = (ROOT / family.page).read_text(encoding="utf-8")
    assert synced(text, family) == text, (
        "run `make docs` (python -m om_dsl.codes) to update the page"
    )


def _emitted(*packages: str) -> set[str]:
    paths = [p for package in packages for p in (ROOT / "om_dsl" / package).rglob("*.py")]
    return {code for path in paths for code in _EMITTED.findall(path.read_text("utf-8"))}


@pytest.mark.parametrize(
    ("prefix", "packages"),
    [("E", ("syntax", "compiler", "expr")), ("W", ("compiler",)), ("O", ("orders", "runtime")),
     ("D", ("orders",)), ("S", ("service",))],
)  # fmt: skip
def test_every_code_in_use_can_be_explained(prefix: str, packages: tuple[str, ...]) -> None:
    used = {code for code in _emitted(*packages) if code.startswith(prefix)}
    assert used, prefix
    assert not used - set(INDEX), f"add rows to om_dsl/codes.py for {sorted(used - set(INDEX))}"


def test_no_row_explains_a_code_nothing_reports() -> None:
    used = _emitted("syntax", "compiler", "expr", "orders", "runtime", "service")
    assert not set(INDEX) - used
