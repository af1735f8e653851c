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


CHAIN = """
offer Line "Line" id "1" {{ attribute n: int }}
cfs Service {{ attribute n: int }}
resource Sim {{ attribute n: int }}
decompose Line {{ -> Service {{ n = n }} }}
decompose Service {{ -> Sim {wait} {{ n = n }} }}
plan Sim on add {{ auto assign handler "a" }}
plan Service on add {{ auto activate handler "b" when Sim.assign.iccid != null }}
"""
"""A service reads its own SIM's output; the chain's wait can order it."""


def _child_reads_parent(wait: str) -> str:
    """CHAIN the other way round: the SIM reads its parent service's output."""
    text = CHAIN.format(wait=wait)
    text = text.replace("when Sim.assign.iccid != null", "")
    return text.replace('handler "a"', 'handler "a" when Service.activate.x != 1')


def test_a_chain_wait_orders_a_cross_product_read(om: Compile) -> None:
    """`before parent` makes each service wait for its own SIM: W006 said no `depend` did."""
    assert om(CHAIN.format(wait="before parent")).codes == []
    assert om(_child_reads_parent("after parent")).codes == []


def test_w006_next_to_a_chain_offers_its_wait(om: Compile) -> None:
    """A `depend` within root makes every service of a bundle wait for every line's SIM."""
    hints = om(CHAIN.format(wait="")).one("W006").hints
    assert hints[0] == "add: depend Service.activate after Sim.assign"
    assert hints[2].startswith(
        "or, as Sim lines are made from Service lines, `before parent` on "
        "`decompose Service -> Sim`: each Service line then waits for its own Sim lines"
    )
    assert om(_child_reads_parent("")).one("W006").hints[2] == (
        "or, as Sim lines are made from Service lines, `after parent` on "
        "`decompose Service -> Sim`: each Sim line then waits for its own parent"
    )


def _both(text: str) -> str:
    """CHAIN with the two plans on add and delete."""
    return text.replace("plan Sim on add", "plan Sim on add, delete").replace(
        "plan Service on add", "plan Service on add, delete"
    )


def test_a_wait_for_some_actions_orders_reads_on_those_only(om: Compile) -> None:
    """`before parent on delete` orders the delete plans' read, not the add plans': W006 for
    add (it merged the waits of every action, and said nothing)."""
    diag = om(_both(CHAIN.format(wait="before parent on delete"))).one("W006")
    assert diag.message.endswith("but no `depend` makes it wait for them on add")
    assert diag.hints[0] == "add: depend Service.activate after Sim.assign"
    assert diag.hints[2].startswith(
        "or, as Sim lines are made from Service lines, `before parent on add` on "
        "`decompose Service -> Sim`"
    )
    assert om(_both(CHAIN.format(wait="before parent on add, delete"))).codes == []


def test_w006_against_a_wait_of_another_action_offers_the_depend(om: Compile) -> None:
    """`after parent on delete` says nothing of add: a `depend` orders the add plans' read
    without a cycle, where the hint said to swap the wait (and undo the delete order)."""
    diag = om(CHAIN.format(wait="after parent on delete")).one("W006")
    assert diag.hints[0] == "add: depend Service.activate after Sim.assign"
    # against the wait of the read's own action: the hint names that action's clause
    (hint,) = om(_both(CHAIN.format(wait="after parent on delete"))).one("W006").hints
    assert hint.startswith(
        "`decompose Service -> Sim` has `after parent on delete`, so Sim lines wait for "
        "Service lines: a `depend` would be a cycle; replace `after parent on delete` with "
        "`before parent on delete`"
    )


def test_w006_against_a_chain_wait_offers_no_depend(om: Compile) -> None:
    """A SIM waits for its service (`after parent`), so a `depend` making the service wait
    for the SIM closed a cycle (E062): the hint led straight to an error."""
    (hint,) = om(CHAIN.format(wait="after parent")).one("W006").hints
    assert hint == (
        "`decompose Service -> Sim` has `after parent`, so Sim lines wait for Service lines: "
        "a `depend` would be a cycle; replace `after parent` with `before parent` to read "
        "Sim.assign here, or read it in Sim's plan"
    )
    (hint,) = om(_child_reads_parent("before parent")).one("W006").hints
    assert hint.startswith("`decompose Service -> Sim` has `before parent`, so Service lines")


def test_w011_names_the_planned_ancestor_a_wait_reaches(om: Compile) -> None:
    """Mid has no plan, so on delete each Sim waits past it, for its Service: the message
    named Mid, whose lines have nothing to delete."""
    text = _both(CHAIN.format(wait="")).replace(
        "decompose Service { -> Sim  { n = n } }",
        "rfs Mid { attribute n: int }\n"
        "decompose Service { -> Mid { n = n } }\n"
        "decompose Mid { -> Sim before parent { n = n } }",
    )
    diag = om(text).of("W011")[0]
    assert diag.message == (
        "`before parent` of Mid -> Sim holds on delete too: each Sim line's delete plan runs "
        "before the one of the Service line it is made from"
    )
    assert diag.hints == (
        "to delete in the reverse order, write "
        "`before parent on add, modify, noChange after parent on delete`",
        "to keep this order, write `before parent on *`",
    )
