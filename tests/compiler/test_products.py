"""Enums, attributes, offers, bundles and technical products: checks and lowering."""

from __future__ import annotations

import re
import string

import pytest
from compiler_support import Compile

from om_dsl.ir import models as ir


def attr(cat: ir.Catalog, product: str, name: str) -> ir.Attribute:
    for p in [*cat.offers, *cat.technical]:
        if p.name == product:
            return next(a for a in p.attributes if a.name == name)
    raise AssertionError(product)


def test_base_catalog_is_clean(om: Compile) -> None:
    compiled = om("", base=True)
    assert compiled.codes == []
    cat = compiled.catalog
    assert (cat.name, cat.version) == ("Test", "1")
    assert [o.name for o in cat.offers] == ["Web"]
    assert [t.name for t in cat.technical] == ["Line"]


def test_enum_lowering(om: Compile) -> None:
    cat = om("/// Access technologies.\nenum Extra { A, B }", base=True).catalog
    extra = next(e for e in cat.enums if e.name == "Extra")
    assert (extra.members, extra.doc) == (["A", "B"], "Access technologies.")


def test_enum_member_twice_is_e029(om: Compile) -> None:
    diag = om("enum E { A, B, A }", base=True).one("E029")
    assert diag.message == "enum E lists 'A' twice"
    assert (diag.span.line, diag.span.col) == (15, 16)


def test_attribute_lowering_keeps_every_option(om: Compile) -> None:
    cat = om(
        """
        offer Extra {
          /// Speed in Mbit/s.
          attribute speed: int required in 10..100 default 50 unit "Mbit/s" description "d"
          attribute plan: string values ["a", "b"] default "a" alias "PLAN"
          attribute code: string pattern "^[A-Z]{2}$" default "AB"
          attribute day: date default "2024-02-29"
          attribute tags: list[Tech] default [FTTH, DSL]
          attribute ratio: decimal in 0.5..1 default 1
        }
        decompose Extra { -> Line { speed = speed } }
        """,
        base=True,
    ).catalog
    speed = attr(cat, "Extra", "speed")
    assert (speed.type, speed.required, speed.min, speed.max) == ("int", True, 10, 100)
    assert (speed.default, speed.has_default, speed.unit, speed.description) == (
        50, True, "Mbit/s", "d",
    )  # fmt: skip
    assert speed.doc == "Speed in Mbit/s."
    plan = attr(cat, "Extra", "plan")
    assert (plan.allowed, plan.default, plan.alias) == (["a", "b"], "a", "PLAN")
    assert attr(cat, "Extra", "code").pattern == "^[A-Z]{2}$"
    assert attr(cat, "Extra", "day").type == "date"
    tags = attr(cat, "Extra", "tags")
    assert (tags.type, tags.default) == ("list[enum:Tech]", ["FTTH", "DSL"])
    ratio = attr(cat, "Extra", "ratio")
    assert (ratio.min, ratio.max, ratio.default) == (0.5, 1, 1)


def test_attribute_without_default_has_no_default(om: Compile) -> None:
    line = attr(om("", base=True).catalog, "Line", "speed")
    assert (line.default, line.has_default, line.required, line.merge) == (
        None,
        False,
        False,
        "same",
    )


@pytest.mark.parametrize(
    ("decl", "code", "message"),
    [
        ("attribute a: nmber", "E020", "unknown type 'nmber'"),
        ("attribute a: map[int]", "E020", "unknown type 'map[...]'"),
        ("attribute a: Web", "E022", "'Web' is an offer, not a type"),
        ("attribute a: int\n attribute a: string", "E024", "offer X declares attribute 'a' twice"),
        ("attribute a: int default 1 default 2", "E024", "'default' is given twice for 'a'"),
        (
            'attribute a: int alias "A"\n attribute b: int alias "A"',
            "E024",
            "alias 'A' is used twice in offer X",
        ),
        (  # an order's value for `b` went to `a`, and `b` stayed null
            'attribute a: int alias "b"\n attribute b: int',
            "E024",
            "alias 'b' of 'a' is the name of another attribute of offer X",
        ),
        ("attribute a: string in 1..2", "E042", "a range needs a number type, not string"),
        ("attribute a: int in 5..1", "E042", "empty range: 5 is greater than 1"),
        ('attribute a: int pattern "x"', "E042", "a pattern needs a string type, not int"),
        (
            'attribute a: string pattern "[a-"',
            "E047",
            "invalid regular expression: unterminated character set at position 3",
        ),
        ("attribute a: int default 1.5", "E041", "expected an int value, found a decimal"),
        ('attribute a: bool default "yes"', "E041", "expected a bool value, found a string"),
        (
            "attribute a: string default yes",
            "E041",
            "expected a string value, found the name 'yes'",
        ),
        ("attribute a: int default [1]", "E041", "expected an int value, found a list"),
        (
            'attribute a: date default "2024-13-01"',
            "E041",
            "'2024-13-01' is not a date (YYYY-MM-DD)",
        ),
        ("attribute a: Tech default FTTX", "E028", "'FTTX' is not a member of enum Tech"),
        ("attribute a: int in 1..5 default 7", "E048", "default 7 is outside 1..5"),
        (
            'attribute a: string values ["x"] default "y"',
            "E048",
            "default 'y' is not one of the allowed values ('x')",
        ),
        (
            'attribute a: string pattern "^x+$" default "y"',
            "E048",
            "default 'y' does not match the pattern '^x+$'",
        ),
        (
            'attribute a: list[string] values ["x"] default ["x", "z"]',
            "E048",
            "default 'z' is not one of the allowed values ('x')",
        ),
        ("attribute a: int merge avg", "E071", "unknown merge rule 'avg'"),
        ("attribute a: string merge sum", "E071", "merge sum needs a number, not string"),
        (
            "attribute a: bool merge max",
            "E071",
            "merge max needs a number, string or date, not bool",
        ),
        ("attribute a: int merge union", "E071", "merge union needs a list, not int"),
        ("attribute a: int merge any", "E071", "merge any needs a bool, not int"),
        (
            "attribute a: int default 9007199254740993",
            "E005",
            "integer 9007199254740993 is too large",
        ),
    ],
)
def test_attribute_errors(om: Compile, decl: str, code: str, message: str) -> None:
    compiled = om(f"offer X {{ {decl} }}\ndecompose X {{ -> Line }}", base=True)
    diag = compiled.one(code)
    assert diag.message == message


@pytest.mark.parametrize(
    ("decl", "codes"),
    [
        ("attribute a: int in 10..100 default 12abc", ["E005"]),
        ("attribute a: decimal in 0.5..1e2 default 50", ["E005"]),
        ("attribute a: int in 100..99999999999999999999999999 default 100", ["E005"]),
        ("attribute a: int in -12abc..100 default 5", ["E005"]),
        ("attribute a: int in 100..1000 default 1e3", ["E005"]),
        ("attribute a: int in 1000..100 default 100", ["E042"]),
    ],
)
def test_a_bad_number_or_an_empty_range_reports_itself_only(
    om: Compile, decl: str, codes: list[str]
) -> None:
    """A bad number parses on as a stand-in value (1), which the range and default checks
    used to quote (`default 1 is outside 10..100`, `empty range: 100 is greater than 1`);
    a default was checked against an empty range, repeating its error."""
    compiled = om(f"offer X {{ {decl} }}\ndecompose X {{ -> Line }}", base=True)
    assert compiled.codes == codes


def test_unknown_type_suggests_a_near_type(om: Compile) -> None:
    diag = om("offer X { attribute a: Tehc }\ndecompose X { -> Line }", base=True).one("E020")
    assert diag.hints == ("did you mean 'Tech'?",)


@pytest.mark.parametrize(("written", "message"), [("enum", "'enum'"), ("enum[a]", "'enum[...]'")])
def test_enum_as_a_type_says_to_declare_one(om: Compile, written: str, message: str) -> None:
    diag = om(f"offer X {{ attribute a: {written} }}\ndecompose X {{ -> Line }}", base=True).one(
        "E020"
    )
    assert diag.message == f"unknown type {message}"
    assert diag.hints == (
        "an enum is declared at the top level, 'enum Tier { gold, silver }', and an attribute "
        "names it as its type: 'attribute tier: Tier'",
    )


@pytest.mark.parametrize(
    ("written", "hint"),
    [
        ("float", "the type of a number with a fraction is 'decimal'"),
        ("Double", "the type of a number with a fraction is 'decimal'"),
        ("number", "numbers are 'int' (whole) or 'decimal' (with a fraction)"),
        ("long", "the type of a whole number is 'int'"),
        ("varchar", "the type of text is 'string'"),
        ("timestamp", "the type of a calendar date is 'date'"),
        ("boolean", "did you mean 'bool'?"),  # a close spelling comes first
    ],
)
def test_another_languages_type_name_says_which_type_it_is(
    om: Compile, written: str, hint: str
) -> None:
    diag = om(f"offer X {{ attribute a: {written} }}\ndecompose X {{ -> Line }}", base=True).one(
        "E020"
    )
    assert diag.hints == (hint,)


def test_unknown_type_does_not_cascade_into_its_default(om: Compile) -> None:
    compiled = om(
        "offer X { attribute a: Tehc default FTTH values [DSL] }\ndecompose X { -> Line }",
        base=True,
    )
    assert compiled.codes == ["E020"]


@pytest.mark.parametrize("option", ["in 1..4", 'pattern "^[0-9]+$"'])
def test_unknown_type_does_not_cascade_into_its_range_or_pattern(om: Compile, option: str) -> None:
    """`integer in 1..4` also said "a range needs a number type, not any": a designer's type
    is never `any`, it is the unknown type already reported."""
    compiled = om(
        f"offer X {{ attribute a: integer {option} }}\ndecompose X {{ -> Line }}", base=True
    )
    assert compiled.codes == ["E020"]


def test_unknown_merge_rule_lists_the_rules(om: Compile) -> None:
    diag = om("cfs X { attribute a: int merge avrage }", base=True).of("E071")[0]
    assert diag.hints[-1].startswith("merge rules: same, first, last, min, max, sum")


def test_order_attributes(om: Compile) -> None:
    cat = om(
        'order { attribute site: string default "S" }\norder { attribute prio: int }', base=True
    ).catalog
    assert [(a.name, a.default) for a in cat.order_attributes] == [("site", "S"), ("prio", None)]


def test_order_block_rejects_non_attributes(om: Compile) -> None:
    diag = om("order { family F attribute a: int }", base=True).one("E022")
    assert diag.message == "an order block holds only attributes"


def test_order_attribute_twice_across_blocks(om: Compile) -> None:
    diag = om("order { attribute a: int }\norder { attribute a: int }", base=True).one("E024")
    assert diag.message == "the order block declares attribute 'a' twice"


def test_commercial_product_lowering(om: Compile) -> None:
    cat = om(
        """
        /// A bundle.
        bundle Duo "Duo" id "200" {
          spec "S1" "Spec one"
          family Bundles
          includes Web [1]
          includes Extra [0..*]
        }
        offer Extra { attribute n: int default 1 }
        decompose Extra { -> Line }
        """,
        base=True,
    ).catalog
    duo = next(o for o in cat.offers if o.name == "Duo")
    assert (duo.kind, duo.display_name, duo.external_id, duo.doc) == (
        "bundle",
        "Duo",
        "200",
        "A bundle.",
    )
    assert [(s.id, s.name) for s in duo.specs] == [("S1", "Spec one")]
    assert duo.families == ["Bundles"]
    assert [(i.product, i.min, i.max) for i in duo.includes] == [("Web", 1, 1), ("Extra", 0, None)]


COMMERCIAL_X = "\ndecompose X { -> Line }"
TECHNICAL_X = "\ndecompose Web { -> X }\nplan X on * { milestone m }"


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        (
            "offer X { includes Web }" + COMMERCIAL_X,
            "E022",
            "offer X includes products; only a bundle can",
        ),
        (
            "bundle X { includes Line }",
            "E022",
            "a bundle includes offers and bundles; 'Line' is a cfs",
        ),
        ("bundle X { includes Wbe }", "E020", "unknown product 'Wbe'"),
        ("bundle X { includes Web [3..1] }", "E095", "cardinality [3..1] is empty"),
        ("bundle X { includes Web [9007199254740993] }", "E005", "a cardinality is too large"),
        ('cfs X { spec "1" }' + TECHNICAL_X, "E022", "spec '1' belongs on an offer, not on a cfs"),
        ("rfs X { includes Web }" + TECHNICAL_X, "E022", "rfs X cannot include products"),
        ("cfs X scope global { }" + TECHNICAL_X, "E031", "unknown scope 'global'"),
        (
            'offer X id "100" { }' + COMMERCIAL_X,
            "E097",
            "offering id '100' is used by both Web and X",
        ),
        ("offer Web { }", "E021", "'Web' is declared twice"),
        ("enum Line { A }", "E021", "'Line' is declared twice"),
        ('system Web { url "http://h" }', "E021", "'Web' is declared twice"),
        ("queue Tech", "E021", "'Tech' is declared twice"),
        ("enum string { A }", "E021", "'string' is a built-in type; an enum needs another name"),
    ],
)
def test_product_errors(om: Compile, body: str, code: str, message: str) -> None:
    compiled = om(body, base=True)
    assert [(d.code, d.message) for d in compiled.result.diagnostics] == [(code, message)]


def test_duplicate_declaration_points_at_the_first(om: Compile) -> None:
    diag = om("offer Web { }", base=True).of("E021")[0]
    assert diag.hints == ("first declared at main.om:3:7",)


def test_spec_id_shared_by_two_offers(om: Compile) -> None:
    compiled = om(
        'offer A { spec "9" }\noffer B { spec "9" }\n'
        "decompose A { -> Line }\ndecompose B { -> Line }",
        base=True,
    )
    assert compiled.one("E097").message == "spec id '9' is used by both A and B"


def test_bundle_cycle(om: Compile) -> None:
    compiled = om(
        "bundle A { includes B }\nbundle B { includes C }\nbundle C { includes A }", base=True
    )
    diag = compiled.one("E096")
    assert diag.message == "bundle includes itself: A -> B -> C -> A"


@pytest.mark.parametrize("scope", ["line", "root", "order", "account", "relies_on"])
def test_scopes(om: Compile, scope: str) -> None:
    cat = om(
        f"cfs X scope {scope} {{ }}\ndecompose Web {{ -> X }}\nplan X on * {{ milestone m }}",
        base=True,
    ).catalog
    assert next(t for t in cat.technical if t.name == "X").scope == scope


def test_default_scope_is_line(om: Compile) -> None:
    assert om("", base=True).catalog.technical[0].scope == "line"


@pytest.mark.parametrize("name", ["customer", "requested_start_date"])
def test_order_attribute_may_not_hide_a_built_in_order_field(om: Compile, name: str) -> None:
    diag = om(f"order {{ attribute {name}: date }}", base=True).one("E024")
    assert diag.message == f"'{name}' is a built-in field of every order (order.{name})"


QUALIFIED = string.Template("""
enum Technology { FTTH, FTTC, DSL }
offer Home {
  attribute tech: Technology default $FTTC
  attribute allowed: list[Technology] default [$FTTH, $DSL] values [$FTTH, $FTTC, $DSL]
}
cfs Access { attribute profile: string }
decompose Home -> Access { profile = map tech { $FTTH: "gpon", $FTTC: "vdsl", default: "x" } }
plan Access on add { auto go handler "net.go" }
""")


def test_a_qualified_enum_member_in_a_constant_lowers_as_the_bare_member(om: Compile) -> None:
    """`default Technology.FTTC` means `default FTTC`: the same IR, columns of spans aside (the
    qualified text is longer)."""

    def ir_of(members: dict[str, str]) -> str:
        cat = om(QUALIFIED.substitute(members), base=True).catalog
        return re.sub(r'"(col|end_col)":\d+', "", cat.model_dump_json(exclude={"content_hash"}))

    bare = {m: m for m in ("FTTH", "FTTC", "DSL")}
    qualified = {m: f"Technology.{m}" for m in bare}
    assert ir_of(qualified) == ir_of(bare)
    home = om(QUALIFIED.substitute(qualified), base=True).catalog
    assert attr(home, "Home", "tech").default == "FTTC"
    assert attr(home, "Home", "allowed").default == ["FTTH", "DSL"]
