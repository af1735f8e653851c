"""Decomposition rules: resolution, mapping checks, merge conflicts and chain cycles."""

from __future__ import annotations

import pytest
from compiler_support import Compile

from om_dsl.ir import models as ir

TWO_SOURCES = """
offer A {{ attribute n: int default 1 }}
offer B {{ attribute n: int default 2 }}
cfs Shared scope {scope} {{ attribute v: int {merge} }}
decompose A {{ -> Shared {{ v = n }} }}
decompose B {{ -> Shared {{ v = {b_value} }} }}
plan Shared on * {{ milestone m }}
"""


def rule(cat: ir.Catalog, rid: str) -> ir.DecompositionRule:
    return next(r for r in cat.rules if r.id == rid)


def test_rule_lowering(om: Compile) -> None:
    cat = om("", base=True).catalog
    (web,) = cat.rules
    assert (web.id, web.source, web.target, web.wait, web.source_is_family) == (
        "Web->Line", "Web", "Line", "none", False,
    )  # fmt: skip
    speed, tech = web.mappings
    assert (speed.target, speed.expr.op, speed.expr.root, speed.expr.path) == (
        "speed", "ref", "source", ["speed"],
    )  # fmt: skip
    assert tech.expr.type == "enum:Tech"


def test_rule_ids_are_unique_and_named_rules_keep_their_name(om: Compile) -> None:
    cat = om(
        "decompose Web { -> Line { speed = 1 } }\n"
        "decompose Web { -> Line as second { speed = 2 } }",
        base=True,
    ).catalog
    assert [r.id for r in cat.rules] == ["Web->Line", "Web->Line#2", "second"]


def test_rule_name_used_twice_is_e021(om: Compile) -> None:
    diag = om("decompose Web { -> Line as r\n -> Line as r }", base=True).one("E021")
    assert diag.message == "rule name 'r' is used twice"


def test_when_condition_and_doc(om: Compile) -> None:
    cat = om(
        "decompose Web {\n  /// Only fast ones.\n"
        "  -> Line as fast when speed > 500 and tech == FTTH\n}",
        base=True,
    ).catalog
    fast = rule(cat, "fast")
    assert fast.doc == "Only fast ones."
    assert isinstance(fast.when, ir.BinaryOp)
    assert fast.when.operator == "and"


def test_condition_of_a_rule_must_be_bool(om: Compile) -> None:
    assert om("decompose Web { -> Line when speed }", base=True).one("E045")


def test_rule_reads_order_fields_and_attributes(om: Compile) -> None:
    cat = om(
        "order { attribute site: string }\ncfs Site { attribute s: string attribute a: string }\n"
        "decompose Web { -> Site { s = order.site; a = order.account } }\n"
        "plan Site on * { milestone m }",
        base=True,
    ).catalog
    s, a = rule(cat, "Web->Site").mappings
    assert (s.expr.root, s.expr.path, s.expr.type) == ("order", ["site"], "string")
    assert (a.expr.root, a.expr.path) == ("order", ["account"])


def test_multi_level_rule_with_after_parent(om: Compile) -> None:
    cat = om(
        "rfs Radius { attribute rate: int }\n"
        "decompose Line -> Radius after parent { rate = speed * 1000 }\n"
        "plan Radius on * { milestone m }",
        base=True,
    ).catalog
    radius = rule(cat, "Line->Radius")
    assert radius.wait == "after_parent"
    assert radius.mappings[0].expr.type == "int"


def test_after_parent_needs_a_technical_source(om: Compile) -> None:
    diag = om("decompose Web { -> Line before parent }", base=True).one("E022")
    assert (
        diag.message == "'after parent' / 'before parent' need a technical source (a parent line)"
    )


def test_family_rule_reads_only_common_attributes(om: Compile) -> None:
    compiled = om(
        """
        offer F1 { family Fam attribute speed: int default 1 attribute only1: int default 1 }
        offer F2 { family Fam attribute speed: int default 2 attribute only1: string default "x" }
        decompose family Fam { -> Line { speed = speed } }
        """,
        base=True,
    )
    cat = compiled.catalog
    fam = rule(cat, "family Fam->Line")
    assert (fam.source, fam.source_is_family) == ("Fam", True)
    bad = om(
        """
        offer F1 { family Fam attribute speed: int default 1 attribute only1: int default 1 }
        offer F2 { family Fam attribute speed: int default 2 attribute only1: Tech default FTTH }
        decompose family Fam { -> Line { speed = only1 } }
        """,
        base=True,
    )
    diag = bad.one("E020")
    assert diag.message == "unknown name 'only1' in rule family Fam->Line"
    assert diag.hints == (
        "a family rule reads only attributes that every member of Fam declares with one type; "
        "'only1' is F1: int, F2: Tech",  # as written: it said enum:Tech
    )
    missing = om(
        """
        offer F1 { family Fam attribute speed: int default 1 attribute only1: int default 1 }
        offer F2 { family Fam attribute speed: int default 2 }
        decompose family Fam { -> Line when source.only1 > 0 and order.only1 > 0 }
        """,
        base=True,
    )
    assert [d.hints for d in missing.of("E023")] == [
        (
            "a family rule reads only attributes that every member of Fam declares with one "
            "type; 'only1' is F1: int, and not in F2",
        ),
        (),  # order.only1: the order has no such field, whatever the family says
    ]


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        ("decompose Wbe { -> Line }", "E020", "unknown product 'Wbe'"),
        ("decompose Tech { -> Line }", "E022", "'Tech' is an enum, not a product"),
        ("decompose family Nope { -> Line }", "E032", "no product declares family 'Nope'"),
        ("decompose Web { -> Lin }", "E020", "unknown technical product 'Lin'"),
        (
            "decompose Web { -> Web }",
            "E022",
            "'Web' is an offer; decomposition produces cfs, rfs or resource products",
        ),
        ("decompose Web { -> Line { sped = 1 } }", "E023", "Line has no attribute 'sped'"),
        (
            "decompose Web { -> Line { speed = 1; speed = 2 } }",
            "E024",
            "rule Web->Line#2 maps 'speed' twice",
        ),
        ('decompose Web { -> Line { speed = "fast" } }', "E043", "expected int here, found string"),
        (
            "decompose Web { -> Line { tech = DSL; speed = label } }",
            "E043",
            "expected int here, found string",
        ),
        (
            "decompose Web { -> Line { speed = nope } }",
            "E020",
            "unknown name 'nope' in rule Web->Line#2",
        ),
        (  # the builder kept the last `when`: the first condition was silently dropped
            "decompose Web -> Line when speed > 1 when speed < 9",
            "E087",
            "'when' is given twice for rule Web->Line#2",
        ),
        ("decompose Web -> Line as a as b", "E087", "'as' is given twice for rule b"),
    ],
)
def test_rule_errors(om: Compile, body: str, code: str, message: str) -> None:
    compiled = om(body, base=True)
    assert [d.message for d in compiled.errors] == [message], compiled.render()
    assert compiled.errors[0].code == code


def test_unknown_target_attribute_still_checks_the_expression(om: Compile) -> None:
    compiled = om("decompose Web { -> Line { sped = nope } }", base=True)
    assert [d.code for d in compiled.errors] == ["E023", "E020"]


def test_required_attribute_left_unmapped_is_e044(om: Compile) -> None:
    compiled = om(
        "cfs Req { attribute must: int required attribute opt: int required default 1 }\n"
        "decompose Web { -> Req }\nplan Req on * { milestone m }",
        base=True,
    )
    diag = compiled.one("E044")
    assert diag.message == "rule Web->Req does not map required attribute 'must' of Req"
    assert diag.hints == ("add `must = ...` to the rule, or give the attribute a default",)


def test_decomposition_cycle_is_e060_with_its_path(om: Compile) -> None:
    compiled = om(
        "rfs A { }\nrfs B { }\ndecompose Line -> A\ndecompose A -> B\ndecompose B -> Line\n"
        "plan A on * { milestone m }\nplan B on * { milestone m }",
        base=True,
    )
    diag = compiled.one("E060")
    assert diag.message == "decomposition cycle: Line -> A -> B -> Line"


def test_merge_conflict_without_merge_rule_is_e070(om: Compile) -> None:
    text = TWO_SOURCES.format(scope="order", merge="", b_value="n + 1")
    diag = om(text).one("E070")
    assert diag.message == (
        "Shared.v is merged from several items (order scope) but rules A->Shared and "
        "B->Shared map it differently"
    )
    assert diag.hints[0].startswith("A->Shared maps it at main.om:")
    assert diag.hints[1] == "declare how to merge: attribute v: ... merge first|last|min|max|sum"


@pytest.mark.parametrize(
    ("type_", "rules"),
    [
        ("string", "first|last|min|max"),
        ("bool", "first|last|any|all"),
        ("list[int]", "first|last|union"),
    ],
)
def test_the_e070_hint_offers_the_merge_rules_that_fit_the_type(
    om: Compile, type_: str, rules: str
) -> None:
    """It offered every rule, `sum` and `union` for a string too (then E071 when taken)."""
    text = (
        f"offer A {{ attribute n: {type_} }}\noffer B {{ attribute n: {type_} }}\n"
        f"cfs Shared scope order {{ attribute v: {type_} }}\n"
        "decompose A { -> Shared { v = n } }\ndecompose B { -> Shared { v = null } }\n"
        "plan Shared on * { milestone m }\n"
    )
    assert om(text).one("E070").hints[1].endswith(f"merge {rules}")


@pytest.mark.parametrize(
    ("scope", "merge", "b_value"),
    [
        ("order", "merge max", "n + 1"),  # a declared merge rule
        ("order", "", "n"),  # both map the same expression
        ("line", "", "n + 1"),  # one line per item: nothing is merged
        ("account", "merge sum", "n * 2"),
    ],
)
def test_no_merge_conflict(om: Compile, scope: str, merge: str, b_value: str) -> None:
    assert om(TWO_SOURCES.format(scope=scope, merge=merge, b_value=b_value)).codes == []


@pytest.mark.parametrize("scope", ["root", "order", "account", "relies_on"])
def test_merge_conflict_in_every_shared_scope(om: Compile, scope: str) -> None:
    text = TWO_SOURCES.format(scope=scope, merge="", b_value="n + 1")
    assert f"({scope} scope)" in om(text).one("E070").message


@pytest.mark.parametrize(
    ("b_value", "code"),
    [("m", "E020"), ('n + "x"', "E040"), ('"text"', "E043"), ("len(n)", "E046")],
)
def test_a_mapping_whose_expression_failed_is_no_merge_conflict(
    om: Compile, b_value: str, code: str
) -> None:
    """`v = sped` gave E070 (it maps v differently) and then E020: one mistake, two errors."""
    compiled = om(TWO_SOURCES.format(scope="order", merge="", b_value=b_value))
    assert [d.code for d in compiled.errors] == [code]


def test_a_failed_first_mapping_leaves_the_others_to_be_compared(om: Compile) -> None:
    text = TWO_SOURCES.format(scope="order", merge="", b_value="n + 1") + (
        "offer C { attribute n: int }\ndecompose C { -> Shared { v = nn } }\n"
    )
    assert sorted(d.code for d in om(text).errors) == ["E020", "E070"]


def test_a_misspelt_required_target_is_e023_alone(om: Compile) -> None:
    """`bandwith = speed` gave E044 "does not map required attribute 'bandwidth'" before the
    E023 that says "did you mean 'bandwidth'?": one typo, two errors."""
    compiled = om(
        "cfs Req { attribute bandwidth: int required attribute must: int required }\n"
        "decompose Web { -> Req { bandwith = speed } }\nplan Req on * { milestone m }",
        base=True,
    )
    assert [(d.code, d.message) for d in compiled.errors] == [
        ("E044", "rule Web->Req does not map required attribute 'must' of Req"),
        ("E023", "Req has no attribute 'bandwith'"),
    ]
    assert compiled.of("E023")[0].hints == ("did you mean 'bandwidth'?",)


# ---- bundle.NAME ---------------------------------------------------------------------------

BUNDLED = """
bundle Duo "Duo" id "200" {{
  includes Web
  attribute term: int default 12
  attribute {extra}
}}
"""


def test_bundle_ref_is_typed_by_the_including_bundle(om: Compile) -> None:
    cat = om(
        BUNDLED.format(extra="tag: string")
        + "decompose Web -> Line as termed when bundle.term > 12 { speed = bundle.term }",
        base=True,
    ).catalog
    termed = rule(cat, "termed")
    assert termed.when is not None
    left = termed.when.left  # type: ignore[union-attr]
    assert (left.root, left.path, left.type) == ("bundle", ["term"], "int")
    assert termed.mappings[0].expr.root == "bundle"


def test_bare_bundle_is_still_the_source_attribute(om: Compile) -> None:
    """`bundle` is a keyword only where a declaration starts: a part's attribute named
    `bundle` reads bare (and as source.bundle), as it did before bundle.NAME existed."""
    cat = om(
        """
        bundle Duo "Duo" id "200" { includes Part  attribute term: int default 12 }
        offer Part "Part" id "201" { attribute bundle: int default 1 }
        decompose Part -> Line as p { speed = bundle; tech = FTTH }
        decompose Part -> Line as q { speed = source.bundle + bundle.term }
        """,
        base=True,
    ).catalog
    assert rule(cat, "p").mappings[0].expr.root == "source"
    plus = rule(cat, "q").mappings[0].expr
    assert (plus.left.root, plus.right.root) == ("source", "bundle")


def test_bundle_ref_needs_one_attribute_name(om: Compile) -> None:
    diag = om(
        BUNDLED.format(extra="tag: string") + "decompose Web -> Line as x { speed = bundle.a.b }",
        base=True,
    ).one("E050")
    assert diag.message == "'bundle' must be followed by one attribute name"


def test_bundle_ref_in_a_plan_is_unknown_with_a_hint(om: Compile) -> None:
    diag = om(
        "cfs Box {}\ndecompose Web -> Box\n"
        'plan Box on add { auto a handler "h" when bundle.term > 1 }',
        base=True,
    ).one("E020")
    assert "decomposition rules only" in diag.hints[0]


def test_bundle_ref_of_an_offer_no_bundle_includes_is_e053(om: Compile) -> None:
    diag = om("decompose Web -> Line as x { speed = bundle.term }", base=True).one("E053")
    assert diag.message == (
        "bundle.term cannot be read in rule x: no bundle includes Web, so it would always be null"
    )


def test_bundle_errors_are_quiet_after_a_syntax_error_in_a_bundle(om: Compile) -> None:
    """The broken declaration may have been the bundle, or held the attribute."""
    result = om(
        "bundle Duo { includes Web attribute term: int = 3 }\n"
        "decompose Web -> Line as x { speed = bundle.term }",
        base=True,
    )
    assert "E053" not in result.codes and "E054" not in result.codes


def test_no_e053_after_an_include_that_names_no_product(om: Compile) -> None:
    """`includes Wbe`: the bundle meant to include Web says E020; "no bundle includes Web"
    would only repeat it, with a hint to add the include that is there, misspelt."""
    result = om(
        'bundle Duo "Duo" { includes Wbe  attribute term: int default 12 }\n'
        "decompose Web -> Line as x { speed = bundle.term }",
        base=True,
    )
    assert result.codes == ["E020"]


def test_a_misspelt_bundle_root_is_suggested(om: Compile) -> None:
    diag = om(
        BUNDLED.format(extra="tag: string") + "decompose Web -> Line as x { speed = bundel.term }",
        base=True,
    ).one("E020")
    assert list(diag.hints) == ["did you mean 'bundle'?"]


def test_bundle_ref_first_on_a_line_continues_the_expression(om: Compile) -> None:
    """`bundle` first on a line starts a declaration only when a name follows it: a `when`
    continued with `bundle.term` (or one in column 1) is part of the rule."""
    cat = om(
        BUNDLED.format(extra="tag: string")
        + "decompose Web -> Line as x when speed > 0 and\n  bundle.term > 3\n"
        + "decompose Web -> Line as y when speed > 0 and\nbundle.term > 3 {\n"
        + "  speed =\nbundle.term\n}\n"
        + 'bundle Trio "Trio" { includes Web  attribute term: int default 1 }\n',
        base=True,
    ).catalog
    assert {r.id for r in cat.rules} >= {"x", "y"}
    assert "Trio" in {o.name for o in cat.offers}


def test_a_parts_own_bundle_attribute_first_on_a_line_continues_the_expression(
    om: Compile,
) -> None:
    """A part's own attribute named `bundle` reads bare: `bundle != "x"`, `bundle and ...` or
    a mapping `bundle = ...` first on a line (outside braces, or in column 1) go on with the
    rule; only `bundle NAME` starts a declaration."""
    result = om(
        'offer Solo "Solo" id "300" { attribute bundle: string  attribute on: bool }\n'
        "cfs Tagged { attribute bundle: string }\n"
        'decompose Solo -> Tagged as x when on and\n  bundle != "x" or\n  bundle in ["y"] {\n'
        "bundle = bundle\n}\n"
        'bundle Duo "Duo" { includes Web  attribute term: int default 1 }\n'
        'plan Tagged on add { auto tag handler "x.tag" }\n',
        base=True,
    )
    assert result.codes == []
    (rule,) = [r for r in result.catalog.rules if r.id == "x"]
    assert [m.target for m in rule.mappings] == ["bundle"]
    assert "Duo" in {o.name for o in result.catalog.offers}


def test_a_bundle_without_its_name_is_still_a_declaration(om: Compile) -> None:
    result = om('bundle "Trio" { includes Web }\n', base=True)
    assert [d.message for d in result.of("E001")] == ['unexpected string "Trio"; expected a name']
