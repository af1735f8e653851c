"""W013's heuristic (:mod:`om_dsl.expr.backtracking`): what it reports, and what it leaves
alone (the example catalog's patterns, the common delimited forms, what it does not read)."""

from __future__ import annotations

from pathlib import Path

import pytest

from om_dsl.compiler.driver import compile_catalog
from om_dsl.expr import patterns
from om_dsl.expr.backtracking import catastrophic

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "catalog"

REPORTED = {
    "^(a|aa)+$": "(a|aa)+",
    "(\\w|\\d)+": "(\\w|\\d)+",
    "^([A-Z]|[A-Z0-9])+$": "([A-Z]|[A-Z0-9])+",
    "(cat|c|at)+": "(cat|c|at)+",
    "(a|b|ab)*": "(a|b|ab)*",
    "(a|aa)+?": "(a|aa)+?",
    "(?:a|a)+": "(?:a|a)+",
    "x((a|aa)+)*y": "(a|aa)+",
}

NESTED = ["(a+)+", "(.*)*", "(.*a)*", "^(\\w+\\s?)+$", "^(\\d+)+$", "x(a*)*y", "(a+){2,}"]
"""The textbook nested quantifiers: ``regex`` fails them fast, so they are not reported."""

SILENT = [
    "^[+0-9 ]{6,20}$",
    "^\\+?[0-9 ]+$",
    "^[A-Z]{3}$",
    "([0-9]+,)*",
    "^([a-z]+\\.)*[a-z]+$",
    "(ab|cd)+",
    "(cat|car)+",
    "^(ab|a)*c$",  # a starts ab, but the words split a text in one way only
    "(ab|ba|a)b",  # not repeated
    "([a-z]|[0-9])+",
    "(\\d{3}-)+",
    "^(https?://)?[a-z.]+$",
    "(ab){3}",
    "(a+)",
    # not followed: no warning rather than a guess
    "(a++)+",
    "(?>a+)+",
    "(?i)(a+)+",
    "(?P<x>a)(?P=x)",
    "\\x41+",
]


@pytest.mark.parametrize(("pattern", "group"), REPORTED.items())
def test_reported_patterns_name_their_group(pattern: str, group: str) -> None:
    assert catastrophic(pattern) == group


@pytest.mark.parametrize("pattern", NESTED)
def test_nested_quantifiers_are_fast_with_regex_and_not_reported(
    pattern: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert catastrophic(pattern) is None
    monkeypatch.setattr(patterns, "TIMEOUT_S", 0.05)
    patterns.fullmatch(pattern, "a" * 40 + " " + "a" * 40 + "!")  # no PatternError: no timeout


@pytest.mark.parametrize("pattern", SILENT)
def test_sound_and_unread_patterns_are_not_reported(pattern: str) -> None:
    assert catastrophic(pattern) is None


@pytest.mark.parametrize(
    ("pattern", "text"),
    [("^(a|aa)+$", "a" * 40 + "!"), ("^(a|b|ab)*$", "ab" * 40 + "!"), ("^(x|[a-z])+$", "x" * 40)],
)
def test_overlapping_alternatives_do_backtrack(
    pattern: str, text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``regex`` matches most nested quantifiers (``(a+)+``) quickly, not these."""
    assert catastrophic(pattern) is not None
    monkeypatch.setattr(patterns, "TIMEOUT_S", 0.01)
    with pytest.raises(patterns.PatternError, match="took more than"):
        patterns.fullmatch(pattern, text + "!")


def test_the_example_catalog_gets_no_w013() -> None:
    result = compile_catalog(EXAMPLES)
    assert result.catalog is not None
    assert [d for d in result.diagnostics if d.code == "W013"] == []


def test_matches_gets_w013_too() -> None:
    source = (
        'catalog "P" version "1"\n'
        "offer Thing { attribute code: string }\n"
        "cfs Line { attribute ok: bool }\n"
        "plan Line on add { milestone done }\n"
        'decompose Thing -> Line { ok = matches(code, "^(a|aa)+$") }\n'
    )
    (diag,) = compile_catalog("c.om", source).diagnostics
    assert (diag.code, diag.span.line if diag.span else 0) == ("W013", 5)
    assert diag.message == (
        "the pattern '^(a|aa)+$' can backtrack catastrophically: its repeated group '(a|aa)+' "
        "can match the same text in more than one way"
    )
