"""A file with a flood of syntax errors stops at 100 of them, plus one E009."""

from __future__ import annotations

import random
from pathlib import Path

from om_dsl.compiler.driver import compile_catalog
from om_dsl.errors import DiagnosticBag
from om_dsl.syntax.parser import MAX_ERRORS_PER_FILE, parse_module


def _random_text(size: int, seed: int = 7) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice("#@$!{}[]()\"'ab1 \n") for _ in range(size))


def test_a_flood_of_errors_stops_after_the_cap() -> None:
    bag = DiagnosticBag()
    parse_module("junk.om", _random_text(200_000), bag)
    codes = [d.code for d in bag.items]
    assert len(codes) == MAX_ERRORS_PER_FILE + 1 == 101
    assert codes[-1] == "E009" and "E009" not in codes[:-1]
    last = bag.items[-1]
    assert last.message == "too many errors in junk.om; stopping after 100"
    assert last.span is not None and last.span.file == "junk.om"


def test_the_cap_is_deterministic() -> None:
    runs = []
    for _ in range(2):
        bag = DiagnosticBag()
        parse_module("junk.om", _random_text(50_000), bag)
        runs.append([d.headline() for d in bag.items])
    assert runs[0] == runs[1]


def test_exactly_100_errors_are_all_reported_without_e009() -> None:
    bag = DiagnosticBag()
    parse_module("x.om", 'catalog "X" version "1"\n' + " ".join(["@"] * 100), bag)
    assert [d.code for d in bag.items] == ["E002"] * 100


def test_an_abandoned_file_is_not_checked_further(tmp_path: Path) -> None:
    """No flood of unknown names for what the abandoned file would have declared."""
    (tmp_path / "junk.om").write_text(_random_text(100_000), encoding="utf-8")
    root = tmp_path / "cat.om"
    root.write_text('catalog "X" version "1"\nimport "junk.om"\noffer A { attribute t: Nope }\n')
    result = compile_catalog(root)
    assert len(result.diagnostics) == 101
    assert {d.span.file for d in result.diagnostics if d.span} == {"junk.om"}
    assert result.catalog is None
