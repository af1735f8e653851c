"""User regular expressions: checked at compile time, matched with a time limit at run time.

No timed assertions: a catastrophic pattern is given a tiny limit and must fail with a clear
error (a diagnostic, an EvalError, an order issue with its path) instead of stalling.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from om_dsl.compiler.driver import compile_catalog
from om_dsl.errors import DecompositionError, OrderValidationError
from om_dsl.expr import patterns
from om_dsl.expr.evaluate import EvalError, compile_expr
from om_dsl.ir import models as ir
from om_dsl.ir.constraints import violation
from om_dsl.orders.decompose import Decomposer

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "compiler"))
from test_exprs import check, error

SLOW = "(a|aa)+$"
"""Backtracks exponentially even in ``regex`` (``(a+)+$`` no longer does)."""
SLOW_TEXT = "a" * 80 + "!"


@pytest.fixture
def tiny_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(patterns, "TIMEOUT_S", 0.01)


def test_matches_needs_a_text_literal_pattern() -> None:
    diag = error("matches(name, name)")
    assert diag.code == "E047"
    assert diag.message == "matches() takes its pattern as a text literal, not an expression"


def test_matches_with_a_bad_literal_is_e047() -> None:
    diag = error('matches(name, "(")')
    assert (diag.code, diag.message) == (
        "E047",
        "invalid regular expression: missing ) at position 1",
    )


def test_matches_with_a_good_literal_is_clean() -> None:
    _, diags = check('matches(name, "^[A-Z]{3}$")')
    assert diags == []


def _matches(text: str, pattern: str) -> object:
    call = ir.CallOp(
        type="bool",
        fn="matches",
        args=[ir.Lit(type="string", value=text), ir.Lit(type="string", value=pattern)],
    )
    return compile_expr(call)({})


def test_matches_semantics_are_those_of_re() -> None:
    assert _matches("+44 20 7946", r"^\+?[0-9 ]+$") is True
    assert _matches("abc", "^[a-z]+$") and not _matches("ab1", "^[a-z]+$")
    assert _matches("x-abc-y", "abc")  # search, not fullmatch


def test_slow_matches_is_an_eval_error(tiny_limit: None) -> None:
    with pytest.raises(EvalError, match=r"took more than 0\.01 s on a 81-character value"):
        _matches(SLOW_TEXT, SLOW)


def test_bad_pattern_in_ir_is_an_eval_error() -> None:
    with pytest.raises(EvalError, match="invalid regular expression"):
        _matches("x", "(")


def test_slow_pattern_is_a_violation_not_a_stall(tiny_limit: None) -> None:
    problem = violation(SLOW_TEXT, {"pattern": SLOW})
    assert problem is not None and "cannot be checked" in problem


def _catalog(tmp_path: Path, attribute: str) -> Path:
    root = tmp_path / "c.om"
    root.write_text(
        'catalog "P" version "1"\n'
        f'offer Thing "Thing" id "T-1" {{\n  {attribute}\n}}\n'
        'cfs Line "Line" { attribute code: string }\n'
        "decompose Thing -> Line { code = code }\n",
        encoding="utf-8",
    )
    return root


def test_default_with_a_slow_pattern_is_e048(tmp_path: Path, tiny_limit: None) -> None:
    root = _catalog(tmp_path, f'attribute code: string pattern "{SLOW}" default "{SLOW_TEXT}"')
    diags = compile_catalog(root).diagnostics
    assert [d.code for d in diags if d.code != "W004"] == ["W013", "E048"]  # it backtracks
    assert "cannot be checked" in diags[1].message and "simplify it" in diags[1].message


def test_default_with_formerly_catastrophic_pattern_compiles_at_once(tmp_path: Path) -> None:
    root = _catalog(tmp_path, 'attribute code: string pattern "(a+)+$" default "' + "a" * 30 + '!"')
    diags = compile_catalog(root).diagnostics
    assert [d.code for d in diags if d.code != "W004"] == ["E048"]  # regex fails it fast
    assert "does not match the pattern" in diags[0].message


def test_order_value_with_a_slow_pattern_is_an_order_issue(
    tmp_path: Path, tiny_limit: None
) -> None:
    root = _catalog(tmp_path, f'attribute code: string pattern "{SLOW}"')
    decomposer = Decomposer(compile_catalog(root).raise_on_error(), "compiled")
    order = {
        "id": "O",
        "account": "A",
        "items": [{"id": "1", "product": "Thing", "attributes": {"code": SLOW_TEXT}}],
    }
    with pytest.raises(OrderValidationError) as caught:
        decomposer.decompose(order)
    issues = [i.to_dict() for i in caught.value.issues]
    assert [i["path"] for i in issues] == ["items[0].attributes.code"]
    assert "cannot be checked" in issues[0]["message"]


@pytest.fixture
def tiny_budget(monkeypatch: pytest.MonkeyPatch, tiny_limit: None) -> None:
    """Five slow matches' worth for a whole order (1 s and 0.25 s in production)."""
    monkeypatch.setattr(patterns, "ORDER_BUDGET_S", 0.05)


def test_an_orders_pattern_checks_share_one_time_budget(tmp_path: Path, tiny_budget: None) -> None:
    # 40 values that each backtrack until the limit of one match took 40 x 0.25 s in all
    root = _catalog(tmp_path, f'attribute code: string pattern "{SLOW}"')
    decomposer = Decomposer(compile_catalog(root).raise_on_error(), "compiled")
    items = [
        {"id": str(n), "product": "Thing", "attributes": {"code": SLOW_TEXT}} for n in range(40)
    ]
    with pytest.raises(OrderValidationError) as caught:
        decomposer.read({"id": "O", "account": "A", "items": items})
    issues = [i.to_dict() for i in caught.value.issues]
    assert [i["path"] for i in issues] == [f"items[{n}].attributes.code" for n in range(40)]
    assert all("cannot be checked" in i["message"] for i in issues)
    slow = [i for i in issues if "took more than 0.01 s" in i["message"]]
    spent = [
        i
        for i in issues
        if "time budget for pattern checks (0.05 s in all) is spent" in i["message"]
    ]
    assert len(slow) <= 5 and len(slow) + len(spent) == 40  # the quick reader spent some too


def test_each_order_gets_a_budget_of_its_own(tmp_path: Path, tiny_budget: None) -> None:
    root = _catalog(tmp_path, f'attribute code: string pattern "{SLOW}"')
    decomposer = Decomposer(compile_catalog(root).raise_on_error(), "compiled")
    slow = {"id": "1", "product": "Thing", "attributes": {"code": SLOW_TEXT}}
    for _ in range(8):  # more than the budget of one order, in all
        with pytest.raises(OrderValidationError, match=r"took more than 0\.01 s"):
            decomposer.read({"id": "O", "account": "A", "items": [slow]})
    fine = {"id": "1", "product": "Thing", "attributes": {"code": "aaaa"}}
    assert decomposer.read({"id": "O", "account": "A", "items": [fine]}).id == "O"


def test_matches_in_a_decomposition_shares_a_budget(tmp_path: Path, tiny_budget: None) -> None:
    root = tmp_path / "c.om"
    root.write_text(
        'catalog "P" version "1"\n'
        'offer Thing "Thing" id "T-1" { attribute code: string }\n'
        'cfs Line "Line" { attribute ok: bool }\n'
        f'decompose Thing -> Line {{ ok = matches(code, "{SLOW}") }}\n',
        encoding="utf-8",
    )
    decomposer = Decomposer(compile_catalog(root).raise_on_error(), "compiled")
    items = [
        {"id": str(n), "product": "Thing", "attributes": {"code": SLOW_TEXT}} for n in range(40)
    ]
    with pytest.raises(DecompositionError) as caught:
        decomposer.decompose({"id": "O", "account": "A", "items": items})
    messages = [i.message for i in caught.value.issues]
    assert len(messages) == 40 and all("matches() failed" in m for m in messages)
    assert "is spent" in messages[-1]
