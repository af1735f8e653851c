"""After a syntax error: the dropped declaration's names are not reported as unknown or missing.

A declaration with a syntax error is dropped; what refers to it would otherwise report false
E020/E025/E026/E027 errors and W001/W002/W004/W006 warnings.  Other names are still checked.
The golden fixtures E001_broken_* show whole catalogs; these pin each kind of name.
"""

from __future__ import annotations

import pytest
from compiler_support import Compile

CASES = {
    "system": (
        'system Inv { url "http://127.0.0.1:9" timeout }\n'
        'plan Line on delete { callout c: Inv POST "/x" }\n'
    ),
    "order block": (
        "order { attribute site: }\n"
        'plan Line on delete { auto a handler "h" when order.site == "x" }\n'
    ),
    "enum members": (
        "enum Color { Red Green }\n"
        "offer Paint { attribute c: Color default Red }\n"
        "decompose Paint -> Line when c == Green { speed = 1; tech = FTTH }\n"
    ),
    "family": (
        "cfs Box { family Boxes; attribute n: int = }\n"
        "decompose family Boxes -> Line { speed = 1; tech = FTTH }\n"
    ),
    "decompose targets": (
        "cfs Tv { attribute n: int }\n"
        "decompose Web -> Tv { n = }\n"
        'plan Tv on add { auto a handler "h" }\n'
    ),
    "family plan": (
        "cfs Tv { family Screens attribute n: int }\n"
        "decompose Web -> Tv { n = 1 }\n"
        'plan family Screens on add { auto a handler "h" when }\n'
    ),
    "family rule": (
        "offer Box { family Boxes }\n"
        "cfs Tv { attribute n: int }\n"
        "decompose family Boxes -> Tv { n = }\n"
        'plan Tv on add { auto a handler "h" }\n'
    ),
    "depend": (
        "cfs Tv { attribute n: int }\n"
        "decompose Web -> Tv { n = 1 }\n"
        'plan Tv on add { auto setup handler "h" when Line.activate.ok == true }\n'
        "depend Tv.setup after Line.activate within\n"
    ),
}


@pytest.mark.parametrize("body", CASES.values(), ids=CASES.keys())
def test_only_the_syntax_error_is_reported(body: str, om: Compile) -> None:
    found = om(body, base=True)
    assert found.codes in (["E001"], ["E004"]), found.render()


def test_other_unknown_names_are_still_reported(om: Compile) -> None:
    found = om(
        "offer Paint { attribute c: int default }\n"
        "decompose Paint -> Line { speed = 1; tech = FTTH }\n"
        "decompose Paitn -> Line { speed = 1; tech = FTTH }\n"
        "plan Line on delete { manual m queue nowhere }\n",
        base=True,
    )
    assert sorted(found.codes) == ["E001", "E020", "E026"], found.render()
    assert [d.message for d in found.of("E020")] == ["unknown product 'Paitn'"]


def test_a_declaration_with_a_stray_character_is_left_out_too(om: Compile) -> None:
    """`offer Café` read as `offer Caf` gave W001 for Caf: a consequence, not a mistake."""
    found = om(
        "offer Café { attribute a: int }\n"
        "cfs Box { attribute a: int }\n"
        "decompose Café -> Box { a = a }\n"
        'plan Box on add { auto a handler "h" }\n',
        base=True,
    )
    assert found.codes == ["E002", "E002"], found.render()


@pytest.mark.parametrize("operator", ["^ 2", "& 1", "| 1", "~ 1", "? 1 : 2", "$ 3"])
def test_a_stray_operator_in_an_expression_is_one_error(operator: str, om: Compile) -> None:
    """`speed ^ 2` is read as `speed 2`: it gave E002 at `^` and E001 "unexpected integer
    '2'" for the one mistake."""
    found = om(f"cfs Box {{ attribute i: int }}\ndecompose Web -> Box {{ i = speed {operator} }}")
    assert [d.code for d in found.errors] == ["E002"], found.render()


def test_a_syntax_error_away_from_the_stray_character_is_still_reported(om: Compile) -> None:
    found = om("cfs Box { attribute i: int }\ndecompose Web -> Box { i = speed ^ 2 + }\n")
    assert [d.code for d in found.errors] == ["E002"], found.render()  # one error per chunk
    found = om("cfs Box { attribute i: int }\ndecompose Web -> Box { i = (speed ^) 2 }\n")
    assert [d.code for d in found.errors] == ["E002", "E001"], found.render()


def test_a_stray_character_between_declarations_drops_nothing(om: Compile) -> None:
    found = om("cfs Box { attribute a: int }\n§\ncfs Bin { attribute a: int }\n", base=True)
    assert [d.code for d in found.errors] == ["E002"]
    assert [w.message.split()[1] for w in found.of("W002")] == ["Box", "Bin"]  # both declared


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (  # `auth` and a new declaration fitted only other contexts (LALR merged lookaheads)
            'plan Line on add { auto a handler "h" retry staggered 1s max 2 }',
            "unexpected name 'max'; expected ',', 'after', 'async', 'auto', 'callout', "
            "'compensation', 'event' or 16 more",
        ),
        (
            "decompose Web { -> Line { speed = a.b.c() } }",
            "unexpected '('; expected an operator, ',', ';', '}' or a name",
        ),
        (
            "offer Paint { attribute a: int default 1..2 }",
            "unexpected '..'; expected ';', 'alias', 'attribute', 'default', 'description', "
            "'family', 'in' or 9 more",
        ),
    ],
)
def test_expected_lists_only_what_fits_here(body: str, message: str, om: Compile) -> None:
    assert [d.message for d in om(body, base=True).of("E001")] == [message]


TYPOS = {
    "rule source": (
        "offer Tv { attribute n: int }\ncfs Box { attribute n: int }\n"
        "decompose Tvv -> Box { n = n }\n"
        'plan Box on add { auto a handler "h" }\n'
    ),
    "rule target": (
        "offer Tv { attribute n: int }\ncfs Box { attribute n: int }\n"
        "decompose Tv -> Bxo { n = n }\n"
        'plan Box on add { auto a handler "h" }\n'
    ),
    "plan product": (
        "offer Tv { attribute n: int }\ncfs Box { attribute n: int }\n"
        "decompose Tv -> Box { n = n }\n"
        'plan Bx on add { auto a handler "h" }\n'
    ),
    "target with a syntax error": (
        "offer Tv { attribute n: int }\ncfs Box attribute n: int }\ndecompose Tv -> Box { n = n }\n"
    ),
}


@pytest.mark.parametrize("body", TYPOS.values(), ids=TYPOS.keys())
def test_a_misspelt_product_name_brings_no_warnings_about_the_product_meant(
    body: str, om: Compile
) -> None:
    """`decompose Tvv -> Box` used to add W001 (no rule applies to Tv, with a hint to write
    the rule that is there) and W002 (nothing produces Box) to its E020."""
    found = om(body, base=True)
    assert found.codes in (["E020"], ["E001"]), found.render()
