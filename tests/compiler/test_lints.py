"""Warnings: catalogs that compile but probably do not do what the designer meant."""

from __future__ import annotations

from compiler_support import Compile


def test_offer_without_rule_is_w001(om: Compile) -> None:
    compiled = om("offer Lonely { }", base=True)
    (diag,) = compiled.result.diagnostics
    assert (diag.code, diag.message) == (
        "W001",
        "offer Lonely produces no technical work: no decompose rule applies to it",
    )
    assert diag.hints == ("add: decompose Lonely { -> SomeCfs { ... } }",)
    assert compiled.result.ok, "warnings never fail a compile"


def test_bundle_without_rule_is_fine(om: Compile) -> None:
    assert om("bundle Duo { includes Web }", base=True).codes == []


def test_offer_in_a_decomposed_family_is_used(om: Compile) -> None:
    assert om("offer F { family Fam }\ndecompose family Fam { -> Line }", base=True).codes == []


def test_a_misspelt_family_leaves_its_members_without_w001(om: Compile) -> None:
    """`decompose family Broadbnd` gave E032 (did you mean 'Broadband'?) and a W001 on every
    Broadband offer; a misspelt product name already kept quiet about the product."""
    compiled = om(
        "offer F1 { family Broadband }\noffer F2 { family Broadband }\noffer Far { }\n"
        "decompose family Broadbnd { -> Line }",
        base=True,
    )
    assert compiled.codes == ["W001", "E032"]  # W001 for Far only: nothing meant it
    assert "offer Far " in compiled.of("W001")[0].message
    assert compiled.one("E032").hints == ("did you mean 'Broadband'?",)


def test_technical_product_never_produced_is_w002(om: Compile) -> None:
    diag = om("rfs Orphan { }\nplan Orphan on * { milestone m }", base=True).one("W002")
    assert diag.message == "rfs Orphan is never produced: no decompose rule targets it"
    assert diag.severity.value == "warning"


def test_produced_product_without_plan_is_w004(om: Compile) -> None:
    diag = om("resource Ip { }\ndecompose Web { -> Ip }", base=True).one("W004")
    assert diag.message == "resource Ip has no plan, so its lines carry no work"
    assert diag.hints == ("add: plan Ip on add { ... }",)


def test_never_produced_wins_over_no_plan(om: Compile) -> None:
    """One warning per product: the earlier problem in the chain is the one to fix."""
    assert om("cfs Idle { }", base=True).codes == ["W002"]


def test_warnings_point_at_the_declaration(om: Compile) -> None:
    diag = om("\n\noffer Lonely { }", base=True).one("W001")
    assert (diag.span.file, diag.span.line, diag.span.col) == ("main.om", 17, 1)
