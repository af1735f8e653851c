"""The expression checker: types, functions, enum members, map tables, references."""

from __future__ import annotations

from typing import Any

import pytest

from om_dsl.compiler.exprs import ExprChecker, ExprEnv
from om_dsl.errors import Diagnostic, DiagnosticBag
from om_dsl.ir import models as ir
from om_dsl.syntax.parser import parse_module

ENUMS = {"Tech": ["FTTH", "FTTC", "DSL"], "Color": ["Red", "Green"], "Mood": ["Red", "Calm"]}
BARE = {
    "speed": "int",
    "price": "decimal",
    "name": "string",
    "on": "bool",
    "since": "date",
    "tech": "enum:Tech",
    "tags": "list[string]",
    "techs": "list[enum:Tech]",
}


def env() -> ExprEnv:
    return ExprEnv(
        where="in the test",
        bare=BARE,
        bare_root="source",
        roots={"source": BARE, "order": {"site": "string"}, "body": None},
        items={"reserve"},
        products={"Other": {"assign"}},
    )


def parse_expr(text: str) -> Any:
    bag = DiagnosticBag()
    module = parse_module("e.om", f"decompose A {{ -> B {{ x = {text} }} }}", bag)
    assert not bag.items, [d.headline() for d in bag.items]
    return module.decls[0].rules[0].mappings[0].expr


def check(
    text: str, expected: str | None = None, condition: bool = False
) -> tuple[Any, list[Diagnostic]]:
    bag = DiagnosticBag()
    checker = ExprChecker(bag, ENUMS)
    node = parse_expr(text)
    lowered = checker.condition(node, env()) if condition else checker.check(node, env(), expected)
    return lowered, bag.items


def typed(text: str, expected: str | None = None) -> str:
    lowered, diags = check(text, expected)
    assert not diags, [d.headline() for d in diags]
    return str(lowered.type)


def error(text: str, expected: str | None = None, condition: bool = False) -> Diagnostic:
    _, diags = check(text, expected, condition)
    assert len(diags) == 1, [d.headline() for d in diags]
    return diags[0]


# ---- types ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "type_"),
    [
        ("1", "int"),
        ("1.5", "decimal"),
        ('"s"', "string"),
        ("true", "bool"),
        ("null", "null"),
        ("speed + 1", "int"),
        ("speed * price", "decimal"),
        ("speed / 2", "decimal"),
        ("speed % 2", "int"),
        ("-speed", "int"),
        ("-price", "decimal"),
        ('name + "x"', "string"),
        ("speed > 1 and on", "bool"),
        ("not on or false", "bool"),
        ("price >= speed", "bool"),
        ('name < "m"', "bool"),
        ('since > date("2024-01-01")', "bool"),
        ("tech == FTTH", "bool"),
        ("tech != Tech.DSL", "bool"),
        ("tech in [FTTH, FTTC]", "bool"),
        ("tech not in techs", "bool"),
        ('"x" in tags', "bool"),
        ('"ab" in name', "bool"),
        ("[1, 2.5]", "list[decimal]"),
        ("[]", "list[any]"),
        ("if on then 1 else 2.5", "decimal"),
        ("if on then null else name", "string"),
        ("body.port.id", "any"),
        ("body.x + 1", "any"),
        ("reserve.port_id", "any"),
        ("Other.assign.iccid", "any"),
        ("source.speed", "int"),
        ("order.site", "string"),
        ("Tech.FTTC", "enum:Tech"),
        ("Green", "enum:Color"),
    ],
)
def test_expression_types(text: str, type_: str) -> None:
    assert typed(text) == type_


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('speed + "x"', "operator '+' cannot combine int and string"),
        ("on + 1", "operator '+' cannot combine bool and int"),
        ("speed and on", "operator 'and' cannot combine int and bool"),
        ('speed == "1"', "operator '==' cannot combine int and string"),
        ("on < true", "operator '<' cannot combine bool and bool"),
        ("speed in name", "operator 'in' cannot combine int and string"),
        ("not speed", "operator 'not' cannot take int"),
        ("-name", "operator '-' cannot take string"),
        ('[1, "a"]', "list mixes int and string"),
        ('if on then 1 else "a"', "the branches of 'if' disagree: int and string"),
        ("tech == Green", "operator '==' cannot combine Tech and Color"),
    ],
)
def test_type_errors_are_e040(text: str, message: str) -> None:
    diag = error(text)
    assert (diag.code, diag.message) == ("E040", message)


@pytest.mark.parametrize(
    ("text", "type_"),
    [
        ("tags[0]", "string"),
        ("tags[-1]", "string"),
        ("techs[speed]", "enum:Tech"),
        ("tags[null]", "string"),
        ('split(name, ",")[1]', "string"),
        ("[1, 2][0]", "int"),
        ("body.ips[0]", "any"),
        ('body["max-speed"]', "any"),
        ("body.ports[0].id", "any"),
        ("body.a[0][1].b", "any"),
        ("body[speed]", "any"),
    ],
)
def test_an_index_has_the_type_of_an_item(text: str, type_: str) -> None:
    assert typed(text) == type_


def test_a_field_of_an_item_is_read_with_a_text_key() -> None:
    lowered, _ = check("body.ports[0].id")
    assert isinstance(lowered, ir.IndexOp) and isinstance(lowered.subject, ir.IndexOp)
    assert lowered.key == ir.Lit(type="string", value="id")
    assert lowered.subject.subject == ir.Ref(type="any", root="body", path=["ports"])


@pytest.mark.parametrize(
    ("text", "code", "message", "hint"),
    [
        ("name[0]", "E040", "cannot index string: only lists and outputs can be indexed",
         "for characters, write substr(text, start, 1)"),
        ("speed[0]", "E040", "cannot index int: only lists and outputs can be indexed", None),
        ('tags["a"]', "E040", "an index must be a position (int), found string",
         "positions count from 0, and from the end when negative: xs[0], xs[-1]"),
        ("tags[1.5]", "E040", "an index must be a position (int), found decimal",
         "positions count from 0, and from the end when negative: xs[0], xs[-1]"),
        ("body[true]", "E040",
         "an index must be a position (int) or a field name (string), found bool",
         "positions count from 0, and from the end when negative: xs[0], xs[-1]"),
        ("tags[0].x", "E050", "'tags[0]' is a string value; it has no fields", None),
        ("nope[0]", "E020", "unknown name 'nope' in the test", None),
    ],
)  # fmt: skip
def test_a_wrong_index_is_one_error(text: str, code: str, message: str, hint: str | None) -> None:
    found = error(text)
    assert (found.code, found.message) == (code, message)
    if hint is not None:
        assert hint in found.hints


def test_string_plus_number_hints_at_conversion() -> None:
    assert "str(x)" in error("name + speed").hints[0]


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        (
            '"ROAM-" + tech',
            "to join text with a Tech value (an enum member), convert it: str(tech) gives the "
            "member's name, or concat(a, b)",
        ),
        ("on + name", "to join text with a bool value, convert it: str(on) or concat(a, b)"),
    ],
)
def test_string_plus_another_type_names_that_type(text: str, hint: str) -> None:
    """Not "to join text with a number" for an enum: the type as it is, and str() for it."""
    assert error(text).hints == (hint,)


@pytest.mark.parametrize("text", ['since > "2024-1-1"', "since > name", '"01/01/2024" <= since'])
def test_date_compared_with_text_hints_at_date(text: str) -> None:
    diag = error(text)
    assert (diag.code, diag.hints) == ("E040", ('write a date as date("YYYY-MM-DD")',))


@pytest.mark.parametrize("text", ['since > "2024-01-01"', '"2024-02-29" <= since'])
def test_a_date_literal_compared_with_a_date_is_a_date(text: str) -> None:
    assert typed(text) == "bool"


def test_error_is_reported_once_not_at_every_parent() -> None:
    _, diags = check('(speed + "x") * 2 + 1 > 3')
    assert [d.code for d in diags] == ["E040"]


def test_mapping_type_mismatch_is_e043() -> None:
    diag = error("name", expected="int")
    assert (diag.code, diag.message) == ("E043", "expected int here, found string")


@pytest.mark.parametrize(
    ("text", "code", "hints"),
    [
        ("strip(name)", "E046", ("write trim(x)",)),  # not 'str', the closest spelling
        ("toUpperCase(name)", "E046", ("write upper(x)",)),
        ('format("%s", name)', "E046", ("write concat(a, b, ...)",)),
        ("sum(speed, 1)", "E046", ("write a + b",)),
        ("lowr(name)", "E046", ("did you mean 'lower'?",)),
        ("DATEADD(since, 3)", "E046", ("write add_days(date, days)",)),
        ("datediff(since, since)", "E046", ("write days_between(first, second)",)),
        ("add_day(since, 3)", "E046", ("did you mean 'add_days'?",)),
        ("name.length", "E050", ("write len(name)",)),
        ("name.size", "E050", ("write len(name)",)),
        ("name.first", "E050", ()),
    ],
)
def test_other_languages_functions_and_properties_say_what_to_write(
    text: str, code: str, hints: tuple[str, ...]
) -> None:
    diag = error(text)
    assert (diag.code, diag.hints) == (code, hints)


@pytest.mark.parametrize(
    ("text", "expected", "hints"),
    [
        ("name", "int", ("write int(name) to read it from the text",)),
        ("speed / 2", "int", ("write int(speed / 2) to drop the fraction, or "
                              "int(round(speed / 2)) to round it",)),
        ("round(speed * 1.5)", "int", ("write int(round(speed * 1.5)): round gives a decimal",)),
        ("speed", "string", ("write str(speed) to use it as text",)),
        ("speed > 1", "string", ("write str(speed > 1) to use it as text",)),
        ("tech", "string", ("write str(tech) to use it as text",)),
        ("name", "date", ("write date(name) to read it from the text",)),
        ('concat(name, name, name, name, name, name, name)', "int",
         ("write int(...) to read it from the text",)),
        ('"10"', "int", ("write 10, without quotes",)),
        ('"1.5"', "decimal", ("write 1.5, without quotes",)),
        ('"1.5"', "int", ()),  # int("1.5") fails: no call to suggest
        ('"fast"', "int", ()),
        ("speed > 1", "int", ()),
    ],
)  # fmt: skip
def test_a_type_mismatch_says_which_call_converts(
    text: str, expected: str, hints: tuple[str, ...]
) -> None:
    diag = error(text, expected=expected)
    assert (diag.code, diag.hints) == ("E043", hints)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1", "decimal"), ("null", "int"), ("[FTTH]", "list[enum:Tech]"), ("body.x", "bool")],
)
def test_assignable_to_expected(text: str, expected: str) -> None:
    typed(text, expected)


def test_condition_must_be_bool() -> None:
    diag = error("speed", condition=True)
    assert (diag.code, diag.message) == ("E045", "a condition must be bool, found int")
    assert diag.hints


def test_integer_literal_above_2_53_is_e005() -> None:
    diag = error("9007199254740993")
    assert (diag.code, diag.message) == ("E005", "integer 9007199254740993 is too large")


def test_infinite_decimal_literal_is_e005() -> None:
    diag = error("9" * 400 + ".5")
    assert (diag.code, diag.message) == ("E005", "decimal number is too large")


# ---- references ----------------------------------------------------------------------------------


def test_unknown_name_with_suggestion() -> None:
    diag = error("sped")
    assert (diag.code, diag.message) == ("E020", "unknown name 'sped' in the test")
    assert diag.hints == ("did you mean 'speed'?",)


@pytest.mark.parametrize(
    ("text", "meant"),
    [
        ("Tehc.FTTH", "Tech"),  # not the attribute 'tech': it has no fields (E050)
        ("Zz.DSL", "Tech"),  # far from any name, but only Tech has DSL
        ("Mod.Red", "Mood"),  # Red is a member of Color and Mood: the closer one
        ("Tehc.NOPE", "Tech"),  # no enum has the member: still the closest enum
        ("ordr.site", "order"),
        ("reserv.port_id", "reserve"),
        ("Othr.assign.iccid", "Other"),
    ],
)
def test_an_unknown_name_with_a_field_suggests_what_has_fields(text: str, meant: str) -> None:
    """`Technolgy.FTTH` suggested the attribute 'technology' (following it gave E050), and
    `Tec.FTTH` suggested nothing; a constant (`default Technolgy.FTTH`) named the enum."""
    diag = error(text)
    assert (diag.code, diag.hints) == ("E020", (f"did you mean '{meant}'?",))


def test_unknown_attribute_of_a_root_is_e023() -> None:
    diag = error("order.sight")
    assert (diag.code, diag.message) == ("E023", "'order' has no attribute 'sight' in the test")
    assert diag.hints == ("did you mean 'site'?",)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("order", "'order' must be followed by an attribute name"),
        ("source.speed.x", "'source' must be followed by one attribute name"),
        ("(speed).x", "'speed' is an int value; it has no fields"),
        ("tech.FTTH", "'tech' is a Tech value; it has no fields"),
        ("[1].x", "fields can only be read from names"),
        ("lower(name).x", "fields can only be read from names"),
    ],
)
def test_bad_paths_are_e050(text: str, message: str) -> None:
    diag = error(text)
    assert (diag.code, diag.message) == ("E050", message)


@pytest.mark.parametrize(
    ("text", "message", "hint"),
    [
        (
            "reserve",
            "'reserve' is a plan item, not a value",
            "read one of its outputs: reserve.NAME",
        ),
        (
            "Other",
            "'Other' is a product, not a value",
            "read an output of one of its plan items: Other.ITEM.NAME",
        ),
    ],
)
def test_an_item_or_product_alone_is_e050_not_an_unknown_name(
    text: str, message: str, hint: str
) -> None:
    """`when c != null` with c a callout said "unknown name 'c'", "did you mean 'c'?"."""
    diag = error(text)
    assert (diag.code, diag.message, diag.hints) == ("E050", message, (hint,))


@pytest.mark.parametrize(
    ("outputs", "hint"),
    [
        (frozenset({"port", "vlan"}), "read one of its outputs: reserve.port, reserve.vlan"),
        (frozenset(), "callout 'reserve' has no outputs: they are its response mappings"),
    ],
)
def test_the_e050_for_a_callout_alone_lists_its_outputs(outputs: frozenset[str], hint: str) -> None:
    bag = DiagnosticBag()
    scope = env()
    scope.outputs = {"reserve": outputs}
    ExprChecker(bag, ENUMS).check(parse_expr("reserve"), scope)
    assert [(d.code, d.hints) for d in bag.items] == [("E050", (hint,))]


def test_unknown_item_of_another_product_is_e027() -> None:
    diag = error("Other.asign.iccid")
    assert (diag.code, diag.message) == ("E027", "no plan of Other has an item 'asign'")
    assert diag.hints == ("did you mean 'assign'?",)


# ---- enum members --------------------------------------------------------------------------------


def test_qualified_member_must_exist() -> None:
    diag = error("Tech.FTTX")
    assert (diag.code, diag.message) == ("E028", "'FTTX' is not a member of enum Tech")


def test_member_of_two_enums_is_ambiguous_when_bare() -> None:
    diag = error("Red")
    assert diag.code == "E020"
    assert diag.message == "'Red' is ambiguous: it is a member of Color or Mood"
    assert diag.hints == ("qualify it, e.g. Color.Red",)


def test_expected_type_resolves_an_ambiguous_member() -> None:
    bag = DiagnosticBag()
    lowered = ExprChecker(bag, ENUMS).check(parse_expr("Red"), env(), "enum:Mood")
    assert not bag.items
    assert (lowered.type, lowered.value) == ("enum:Mood", "Red")


def test_attribute_shadows_an_enum_member() -> None:
    bag = DiagnosticBag()
    shadow = ExprEnv(where="here", bare={"FTTH": "int"}, roots={})
    lowered = ExprChecker(bag, ENUMS).check(parse_expr("FTTH"), shadow)
    assert isinstance(lowered, ir.Ref)
    assert lowered.type == "int"


# ---- map tables --------------------------------------------------------------------------------


def test_exhaustive_enum_map_needs_no_default() -> None:
    lowered, diags = check('map tech { FTTH: "a", FTTC: "b", DSL: "c" }')
    assert diags == []
    assert isinstance(lowered, ir.MapOp)
    assert [c.key for c in lowered.cases] == ["FTTH", "FTTC", "DSL"]
    assert lowered.type == "string"


def test_enum_map_missing_members_warns_w005() -> None:
    diag = error('map tech { FTTH: "a" }')
    assert (diag.code, diag.severity.value) == ("W005", "warning")
    assert (
        diag.message
        == "map has no default case (no case for FTTC, DSL); unmatched values give null"
    )


def test_map_on_other_types_without_default_warns_w005() -> None:
    diag = error('map speed { 1: "a" }')
    assert diag.message == "map has no default case; unmatched values give null"


def test_map_with_default() -> None:
    lowered, diags = check('map speed { 1: "a", default: "z" }')
    assert diags == []
    assert lowered.default.value == "z"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('map speed { 1: "a", 1: "b", default: "" }', "map has two cases for 1"),
        ('map speed { default: "a", default: "b" }', "map has two default cases"),
        ('map speed { 1: "a", 2: 3, default: "" }', "map values disagree: string and int"),
    ],
)
def test_map_errors_are_e049(text: str, message: str) -> None:
    diag = error(text)
    assert (diag.code, diag.message) == ("E049", message)


def test_map_values_are_checked_against_what_the_place_takes() -> None:
    """Into a string, `map t { FTTH: 1, FTTC: "x", DSL: "y" }` gave E049 twice (its type was
    its first value's) and then E043 for the whole map; the wrong value is the one error."""
    lowered, diags = check('map tech { FTTH: 1, FTTC: "x", DSL: "y" }', "string")
    assert [(d.code, d.message) for d in diags] == [("E043", "expected string here, found int")]
    assert (diags[0].span.col, lowered.type) == (43, "string")  # at the 1


def test_map_key_must_match_the_subject_type() -> None:
    diag = error('map speed { "1": "a", default: "" }')
    assert (diag.code, diag.message) == ("E041", "expected an int value, found a string")


def test_map_key_not_a_member_of_the_subject_enum() -> None:
    diag = error('map tech { FTTX: "a", default: "" }')
    assert (diag.code, diag.message) == ("E028", "'FTTX' is not a member of enum Tech")


def test_map_of_a_bad_subject_reports_only_the_subject() -> None:
    _, diags = check('map nope { FTTH: "a", FTTH: "b" }')
    assert [(d.code, d.message) for d in diags] == [("E020", "unknown name 'nope' in the test")]


def test_bare_word_key_on_a_runtime_subject_is_unknown() -> None:
    diag = error("map body.x { active: 1, default: 0 }")
    assert diag.code == "E020"
    assert diag.hints[-1] == 'to match a text value, quote it: "active"'


# ---- functions ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "type_"),
    [
        ("lower(name)", "string"),
        ("len(tags)", "int"),
        ("str(speed)", "string"),
        ('int("5")', "int"),
        ("decimal(speed)", "decimal"),
        ("round(price, 2)", "decimal"),
        ("abs(speed)", "int"),
        ("max(speed, price)", "decimal"),
        ('coalesce(null, name, "x")', "string"),
        ("concat(name, speed)", "string"),
        ('contains(tags, "a")', "bool"),
        ('starts_with(name, "a")', "bool"),
        ('replace(name, " ", "")', "string"),
        ("substr(name, 1, 2)", "string"),
        ('join(tags, ",")', "string"),
        ('split(name, ",")', "list[string]"),
        ('date("2024-02-29")', "date"),
        ("add_days(since, speed)", "date"),
        ('days_between(since, date("2026-01-01"))', "int"),
        ('days_between(since, "2026-01-01")', "int"),  # an ISO date literal is a date
        ('add_days("2024-02-29", 365)', "date"),
        ('len("2026-01-01")', "int"),  # and text where text is expected
        ('matches(name, "^[a-z]+$")', "bool"),
    ],
)
def test_function_result_types(text: str, type_: str) -> None:
    assert typed(text) == type_


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("lowr(name)", "unknown function 'lowr'"),
        ("lower(name, name)", "lower() takes 1 argument, got 2"),
        ("max(speed)", "max() takes at least 2 arguments, got 1"),
        ("substr(name)", "substr() takes 2 to 3 arguments, got 1"),
        ("lower(speed)", "lower(): argument 1 has type int"),
        ('max(speed, "a")', "max(): arguments mix int and string"),
        ('coalesce(speed, "a")', "coalesce(): arguments mix int and string"),
        ('max(name, "a")', "max(): arguments must be numbers, not string"),
        ("add_days(since, price)", "add_days(): argument 2 has type decimal"),
        ('days_between(since, "2026-1-1")', "days_between(): argument 2 has type string"),
        ('days_between(since, "2026-02-30")', "days_between(): argument 2 has type string"),
    ],
)
def test_function_errors_are_e046(text: str, message: str) -> None:
    diag = error(text)
    assert (diag.code, diag.message) == ("E046", message)
    if "unknown" not in message:
        assert diag.hints[0].startswith("signature: ")


@pytest.mark.parametrize("text", ["lowr(nme)", "lower(nme, speed)"])
def test_the_arguments_of_a_call_that_cannot_be_typed_are_still_checked(text: str) -> None:
    """`lowr(order.sit_id)` reported the function alone; the misspelt name came only later."""
    _, diags = check(text)
    assert [d.code for d in diags] == ["E046", "E020"]
    assert diags[1].message.startswith("unknown name 'nme'")


def test_unknown_function_suggests_a_near_name() -> None:
    assert error("lowr(name)").hints == ("did you mean 'lower'?",)


def test_invalid_regex_literal_is_e047() -> None:
    diag = error('matches(name, "[a-")')
    assert diag.code == "E047"
    assert diag.message.startswith("invalid regular expression: ")


def test_invalid_date_literal_is_e041() -> None:
    diag = error('date("2024-02-30")')
    assert (diag.code, diag.message) == ("E041", "'2024-02-30' is not a date (YYYY-MM-DD)")


# ---- objects and constants -------------------------------------------------------------------


def test_object_field_given_twice_is_e024() -> None:
    bag = DiagnosticBag()
    module = parse_module(
        "e.om", 'plan P on add { callout c: S POST "/" request { a: 1, a: 2 } }', bag
    )
    request = module.decls[0].items[0].clauses[0].value
    ExprChecker(bag, ENUMS).object(request, env())
    assert [(d.code, d.message) for d in bag.items] == [("E024", "field 'a' is given twice")]


def test_enum_compared_with_text_hints_at_the_member_name() -> None:
    diag = error('tech == "FTTH"')
    assert diag.message == "operator '==' cannot combine Tech and string"
    assert diag.hints == ("enum members are names, not text: e.g. Tech.FTTH without quotes",)


@pytest.mark.parametrize("text", ["date(nope)", "matches(name, nope)"])
def test_literal_argument_checks_skip_arguments_in_error(text: str) -> None:
    _, diags = check(text)
    assert [d.code for d in diags] == ["E020"]


def test_date_of_null_is_allowed() -> None:
    assert typed("date(null)") == "date"
