"""The parser: every construct to AST, soft keywords, recovery, and errors in words."""

from __future__ import annotations

from typing import Any

import pytest
from compiler_support import raw_terminal_names
from lark import Token

from om_dsl.errors import Diagnostic, DiagnosticBag
from om_dsl.syntax import ast
from om_dsl.syntax.describe import describe_expected, describe_token, word
from om_dsl.syntax.parser import parse_module


def parse(text: str) -> tuple[list[Any], list[Diagnostic]]:
    bag = DiagnosticBag()
    module = parse_module("f.om", text, bag)
    return module.decls, bag.items


def parse_ok(text: str) -> list[Any]:
    decls, diags = parse(text)
    assert not diags, [d.headline() for d in diags]
    return decls


def one(text: str) -> Any:
    decls = parse_ok(text)
    assert len(decls) == 1
    return decls[0]


# ---- constructs --------------------------------------------------------------------------------


def test_catalog_header_and_import() -> None:
    header, imp = parse_ok('catalog "Acme" version "2026.1"\nimport "common/types.om"\n')
    assert isinstance(header, ast.CatalogDecl)
    assert (header.name, header.version) == ("Acme", "2026.1")
    assert isinstance(imp, ast.ImportDecl)
    assert imp.path == "common/types.om"
    assert (imp.path_span.line, imp.path_span.col) == (2, 8)


def test_enum_with_trailing_comma() -> None:
    enum = one("enum Tech { FTTH, FTTC, DSL, }")
    assert isinstance(enum, ast.EnumDecl)
    assert [m.value for m in enum.members] == ["FTTH", "FTTC", "DSL"]


def test_offer_with_display_name_id_specs_family_and_attributes() -> None:
    offer = one(
        'offer Mobile "Mobile" id "14305" {\n'
        '  spec "14307" "Mobile Telephony"\n'
        '  spec "99"\n'
        "  family Phones;\n"
        '  attribute msisdn: string required pattern "^[0-9]+$" alias "TEL_MSISDN"\n'
        "}"
    )
    assert isinstance(offer, ast.ProductDecl)
    assert (offer.kind, offer.name.value, offer.display_name) == ("offer", "Mobile", "Mobile")
    assert offer.external_id == "14305"
    assert [(sid, name) for sid, name, _ in offer.specs] == [
        ("14307", "Mobile Telephony"),
        ("99", None),
    ]
    assert [f.value for f in offer.families] == ["Phones"]
    (attr,) = offer.attributes
    assert attr.name.value == "msisdn"
    assert [o.key for o in attr.options] == ["required", "pattern", "alias"]


def test_bundle_includes_with_every_cardinality() -> None:
    bundle = one("bundle B { includes A  includes C [2]  includes D [0..3]  includes E [1..*] }")
    assert [(i.product.value, i.min, i.max) for i in bundle.includes] == [
        ("A", 1, 1),
        ("C", 2, 2),
        ("D", 0, 3),
        ("E", 1, None),
    ]


@pytest.mark.parametrize("kind", ["cfs", "rfs", "resource"])
def test_technical_products_and_scope(kind: str) -> None:
    decl = one(f'{kind} Thing "Thing" scope relies_on {{ attribute n: int }}')
    assert decl.kind == kind
    assert decl.scope.value == "relies_on"


def test_attribute_options() -> None:
    offer = one(
        "offer A {\n"
        '  attribute a: int in -5..10 default -1 unit "x" description "d" merge max\n'
        '  attribute b: list[string] values ["x", "y",] default []\n'
        "  attribute c: decimal in 0.5..2.5 default 1.0\n"
        "  attribute d: bool default true\n"
        "  attribute e: Tech default FTTH\n"
        "}"
    )
    a, b, c, d, e = offer.attributes
    opts = {o.key: o.value for o in a.options}
    low, high = opts["range"]
    assert (low.kind, low.value, high.value) == ("int", -5, 10)
    assert opts["default"].value == -1
    assert opts["unit"] == "x" and opts["description"] == "d"
    assert opts["merge"].value == "max"
    assert (b.type.name, b.type.arg) == ("list", "string")
    values = next(o.value for o in b.options if o.key == "values")
    assert [v.value for v in values] == ["x", "y"]
    assert next(o.value for o in b.options if o.key == "default").value == []
    assert next(o.value for o in c.options if o.key == "range")[0].value == "0.5"
    assert next(o.value for o in d.options if o.key == "default").value is True
    default_e = next(o.value for o in e.options if o.key == "default")
    assert (default_e.kind, default_e.value) == ("name", "FTTH")


def test_order_block() -> None:
    order = one('order { attribute site_id: string default "S" }')
    assert isinstance(order, ast.OrderDecl)
    assert [a.name.value for a in order.attributes] == ["site_id"]
    assert order.misplaced == []


def test_order_block_remembers_misplaced_members() -> None:
    order = one("order { family X attribute a: int }")
    assert len(order.misplaced) == 1


def test_decompose_block_with_every_rule_option() -> None:
    decl = one(
        "decompose A {\n"
        "  -> B as b_rule when x > 1 { y = 1; z = 2, w = 3 }\n"
        "  -> C after parent\n"
        "  -> D before parent {}\n"
        "}"
    )
    assert isinstance(decl, ast.DecomposeDecl)
    assert (decl.source.value, decl.family) == ("A", False)
    b, c, d = decl.rules
    assert b.name.value == "b_rule"
    assert isinstance(b.when, ast.Binary)
    assert [m.target.value for m in b.mappings] == ["y", "z", "w"]
    assert [(w.how, w.actions) for w in c.waits] == [("after_parent", None)]
    assert [(w.how, w.actions) for w in d.waits] == [("before_parent", None)]


def test_a_rule_takes_a_wait_per_action() -> None:
    decl = one("decompose A -> B before parent on add, modify  after parent on *  as r { }")
    (rule,) = decl.rules
    assert [(w.how, [a.value for a in w.actions or []]) for w in rule.waits] == [
        ("before_parent", ["add", "modify"]),
        ("after_parent", []),
    ]
    assert rule.waits[0].span.col == 18 and rule.waits[0].span.end_col == 46
    assert rule.name is not None and rule.name.value == "r"


def test_decompose_single_rule_and_family_source() -> None:
    decl = one("decompose family Broadband -> Router { model = 1 }")
    assert (decl.source.value, decl.family) == ("Broadband", True)
    assert [r.target.value for r in decl.rules] == ["Router"]


def test_system_with_every_option() -> None:
    system = one(
        'system S "Sys" {\n'
        '  url env("S_URL", "http://127.0.0.1:1")\n'
        "  timeout 5s\n"
        '  auth basic env("U") env("P")\n'
        "  retry exponential 1s max 5 cap 30s jitter\n"
        "  offline\n"
        "  permanent 400, 404\n"
        "}"
    )
    opts = {o.key: o.value for o in system.options}
    assert (opts["url"].var, opts["url"].default) == ("S_URL", "http://127.0.0.1:1")
    assert opts["timeout"] == 5000
    assert (opts["auth"].scheme, [e.var for e in opts["auth"].envs]) == ("basic", ["U", "P"])
    retry = opts["retry"]
    assert (retry.kind, retry.delays_ms, retry.max_retries, retry.cap_ms, retry.jitter) == (
        "exponential",
        [1000],
        5,
        30000,
        True,
    )
    assert opts["offline"] is True
    assert opts["permanent"] == [400, 404]


@pytest.mark.parametrize(
    ("text", "kind", "delays", "max_retries"),
    [
        ("retry none", "none", [], None),
        ("retry fixed 2s", "fixed", [2000], None),
        ("retry fixed 2s max 4", "fixed", [2000], 4),
        ("retry staggered 1s, 5s, 30s", "staggered", [1000, 5000, 30000], None),
        ("retry exponential 100ms", "exponential", [100], None),
    ],
)
def test_retry_policies(text: str, kind: str, delays: list[int], max_retries: int | None) -> None:
    system = one(f'system S {{ url "http://h" {text} }}')
    retry = next(o.value for o in system.options if o.key == "retry")
    assert (retry.kind, retry.delays_ms, retry.max_retries) == (kind, delays, max_retries)


@pytest.mark.parametrize(
    ("auth", "scheme", "header", "envs"),
    [
        ('auth bearer env("T")', "bearer", None, ["T"]),
        ('auth header "X-Key" env("K")', "header", "X-Key", ["K"]),
    ],
)
def test_auth_schemes(auth: str, scheme: str, header: str | None, envs: list[str]) -> None:
    system = one(f'system S {{ url "http://h" {auth} }}')
    decl = next(o.value for o in system.options if o.key == "auth")
    assert (decl.scheme, decl.header, [e.var for e in decl.envs]) == (scheme, header, envs)


def test_queue() -> None:
    queue = one('queue field_techs "Field technicians"')
    assert (queue.name.value, queue.display_name) == ("field_techs", "Field technicians")


def test_plan_with_every_item_kind_and_clause() -> None:
    plan = one(
        "plan Line on add, modify {\n"
        '  callout reserve: Inventory POST "/ports" async\n'
        '      request { tech: line.tech, nested: { a: 1 }, "quoted key": 2 }\n'
        "      response { port = body.port.id }\n"
        "      undo release retry fixed 1s timeout 5s expect 1m when true\n"
        "  manual install queue techs after reserve expect 2d\n"
        '  auto activate handler "net.activate" after install point_of_no_return\n'
        '  wait ported event "number.ported"\n'
        "  wait ready until line.tech == FTTH\n"
        "  milestone done after activate, ported\n"
        '  compensation callout release: Inventory DELETE "/ports/{reserve.port}"\n'
        "}"
    )
    assert isinstance(plan, ast.PlanDecl)
    assert [a.value for a in plan.actions] == ["add", "modify"]
    kinds = [(i.kind, i.name.value, i.compensation) for i in plan.items]
    assert kinds == [
        ("callout", "reserve", False),
        ("manual", "install", False),
        ("auto", "activate", False),
        ("wait", "ported", False),
        ("wait", "ready", False),
        ("milestone", "done", False),
        ("callout", "release", True),
    ]
    reserve = plan.items[0]
    assert (reserve.callout.system.value, reserve.callout.method.value) == ("Inventory", "POST")
    assert reserve.callout.path == "/ports"
    assert [c.key for c in reserve.clauses] == [
        "async", "request", "response", "undo", "retry", "timeout", "expect", "when",
    ]  # fmt: skip
    request = reserve.clauses[1].value
    assert [f.key for f in request.fields] == ["tech", "nested", "quoted key"]
    assert isinstance(request.fields[1].value, ast.ObjectLit)
    done = plan.items[5]
    assert [n.value for n in done.clauses[0].value] == ["activate", "ported"]


def test_plan_for_every_action() -> None:
    plan = one('plan Line on * { auto a handler "h" }')
    assert plan.actions == []


def test_depend_with_and_without_within() -> None:
    a, b = parse_ok("depend A.x after B.y\ndepend A.x after C.z within order\n")
    assert (a.product.value, a.item.value, a.after_product.value, a.after_item.value) == (
        "A",
        "x",
        "B",
        "y",
    )
    assert a.within is None
    assert b.within.value == "order"


def test_doc_comments_reach_declarations_rules_and_items() -> None:
    decls = parse_ok(
        "/// The offer.\noffer A {\n  /// The attribute.\n  attribute x: int\n}\n"
        "decompose A {\n  /// The rule.\n  -> B\n}\n"
        'plan B on add {\n  /// The item.\n  auto go handler "h"\n}\n'
    )
    offer, decompose, plan = decls
    assert offer.doc == "The offer."
    assert offer.attributes[0].doc == "The attribute."
    assert decompose.rules[0].doc == "The rule."
    assert plan.items[0].doc == "The item."


# ---- expressions -------------------------------------------------------------------------------


def expr(text: str) -> Any:
    decl = one(f"decompose A {{ -> B {{ x = {text} }} }}")
    return decl.rules[0].mappings[0].expr


def shape(node: Any) -> Any:
    """A compact form of an expression tree, to compare precedence."""
    if isinstance(node, ast.Binary):
        return (node.op, shape(node.left), shape(node.right))
    if isinstance(node, ast.Unary):
        return (node.op, shape(node.arg))
    if isinstance(node, ast.Literal):
        return node.value
    if isinstance(node, ast.NameRef):
        return node.name
    if isinstance(node, ast.AttrRef):
        return f"{shape(node.obj)}.{node.name}"
    if isinstance(node, ast.Call):
        return (node.fn, *[shape(a) for a in node.args])
    if isinstance(node, ast.ListLit):
        return [shape(i) for i in node.items]
    if isinstance(node, ast.IfExpr):
        return ("if", shape(node.cond), shape(node.then), shape(node.otherwise))
    if isinstance(node, ast.MapExpr):
        return (
            "map",
            shape(node.subject),
            [(c.key and c.key.value, shape(c.value)) for c in node.cases],
        )
    raise AssertionError(node)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 + 2 * 3", ("+", 1, ("*", 2, 3))),
        ("(1 + 2) * 3", ("*", ("+", 1, 2), 3)),
        ("a - b - c", ("-", ("-", "a", "b"), "c")),
        ("-a % 2", ("%", ("neg", "a"), 2)),
        ("a / b", ("/", "a", "b")),
        ("a or b and not c", ("or", "a", ("and", "b", ("not", "c")))),
        ("a < 1 and b >= 2", ("and", ("<", "a", 1), (">=", "b", 2))),
        ("a == 1 or a != 2", ("or", ("==", "a", 1), ("!=", "a", 2))),
        ("a <= 1", ("<=", "a", 1)),
        ("a > 1", (">", "a", 1)),
        ("x in [1, 2]", ("in", "x", [1, 2])),
        ("x not in [1]", ("not in", "x", [1])),
        ("line.a.b", "line.a.b"),
        ("lower(trim(s))", ("lower", ("trim", "s"))),
        ("coalesce(a, b,)", ("coalesce", "a", "b")),
        ("f()", ("f",)),
        ("if a then 1 else 2", ("if", "a", 1, 2)),
        ("null", None),
        ("true", True),
        ('"s" + "t"', ("+", "s", "t")),
        ("[]", []),
        ("map t { A: 1, B: 2, default: 3 }", ("map", "t", [("A", 1), ("B", 2), (None, 3)])),
        ('map n { 1: "a", "x": "b", -2: "c", }', ("map", "n", [(1, "a"), ("x", "b"), (-2, "c")])),
    ],
)
def test_expression_precedence_and_forms(text: str, expected: Any) -> None:
    assert shape(expr(text)) == expected


def test_decimal_literal_keeps_its_text() -> None:
    node = expr("1.50")
    assert (node.kind, node.value) == ("decimal", "1.50")


def test_expression_spans_cover_the_text() -> None:
    node = expr("speed * 1000")
    assert (node.span.col, node.span.end_col) == (26, 38)  # "decompose A { -> B { x = " is 25


# ---- soft keywords -----------------------------------------------------------------------------


def test_keywords_are_usable_as_names_where_a_name_is_expected() -> None:
    offer, enum, cfs, plan, decompose = parse_ok(
        "offer order { attribute order: int attribute version: string "
        "attribute in: int in 1..2 attribute default: int default 3 attribute map: int }\n"
        "enum E { none, order, map }\n"
        "cfs plan scope order { attribute x: int }\n"
        'plan plan on add { auto wait handler "x" when order.x > 1 and in > 2 }\n'
        "decompose order { -> plan when default > 1 { x = version } }\n"
    )
    assert offer.name.value == "order"
    assert [a.name.value for a in offer.attributes] == ["order", "version", "in", "default", "map"]
    assert [m.value for m in enum.members] == ["none", "order", "map"]
    assert (cfs.name.value, cfs.scope.value) == ("plan", "order")
    assert plan.items[0].name.value == "wait"
    assert shape(plan.items[0].clauses[1].value) == ("and", (">", "order.x", 1), (">", "in", 2))
    assert decompose.rules[0].mappings[0].expr.name == "version"


def test_order_block_after_an_expression_ending_in_order() -> None:
    decls = parse_ok("decompose A { -> B { x = order.site } }\norder { attribute y: int }\n")
    assert isinstance(decls[1], ast.OrderDecl)


def test_semicolons_between_members_are_optional() -> None:
    offer = one("offer A { attribute a: int; attribute b: int attribute c: int; }")
    assert [a.name.value for a in offer.attributes] == ["a", "b", "c"]


# ---- errors ------------------------------------------------------------------------------------


def test_error_says_what_was_expected() -> None:
    _, diags = parse("offer A { attribute x int }")
    (diag,) = diags
    assert (diag.code, diag.message) == ("E001", "unexpected name 'int'; expected ':'")
    assert (diag.span.line, diag.span.col, diag.span.end_col) == (1, 23, 26)


def test_misspelt_keyword_gets_a_hint() -> None:
    _, diags = parse("offer A { atribute x: int }")
    (diag,) = diags
    assert diag.message.startswith("unexpected name 'atribute'; expected 'attribute'")
    assert diag.hints == ("did you mean 'attribute'?",)


def test_an_action_list_cut_short_is_not_taken_for_an_object() -> None:
    """`on add, {`: the block after a trailing comma is no JSON object, so the hint about
    objects in a callout's request would send the designer the wrong way."""
    _, diags = parse("decompose A -> B before parent on add, { }")
    (diag,) = diags
    assert diag.message == "unexpected '{'; expected a name"
    assert diag.hints == ()


def test_a_semicolon_in_a_wait_list_is_not_taken_for_a_request() -> None:
    _, diags = parse("decompose A -> B before parent on add; after parent on delete {}")
    (diag,) = diags
    assert diag.message.startswith("unexpected ';'")
    assert diag.hints == ()


@pytest.mark.parametrize(
    "rule", ["-> B { x = 1 } before parent on add", "-> B { } as b", "-> B {} when x > 1"]
)
def test_a_rule_clause_after_the_mappings_says_where_it_goes(rule: str) -> None:
    _, diags = parse("decompose A { " + rule + " }")
    (diag,) = diags
    assert diag.hints == (
        "a rule's `as`, `when` and `after|before parent` come before its { ... } block",
    )


def test_stray_word_at_top_level_expects_a_declaration() -> None:
    _, diags = parse('catalog "A" version "1"\nofer B {}\n')
    (diag,) = diags
    assert "expected a declaration (offer, cfs, decompose, plan, ...)" in diag.message
    assert diag.hints == ("did you mean 'offer'?",)


def test_missing_expression() -> None:
    _, diags = parse("decompose A { -> B { x = 1 + } }")
    assert [(d.code, d.message) for d in diags] == [
        ("E001", "unexpected '}'; expected an expression")
    ]


def test_missing_closing_brace_points_at_the_opening_one() -> None:
    _, diags = parse("offer A {\n  attribute x: int\n\noffer B {}\n")
    (diag,) = diags
    assert (diag.code, diag.message) == ("E004", "'{' opened at line 1 is not closed; expected '}'")
    assert diag.hints[0].startswith("expected ';', '[', 'alias', 'attribute'")
    assert (diag.span.line, diag.span.col) == (2, 19)


def test_unclosed_brace_is_a_hint_when_something_else_must_come_first() -> None:
    _, diags = parse("offer C { attribute y:\ncfs D {}\n")
    (diag,) = diags
    assert (diag.code, diag.message) == ("E004", "unexpected end of declaration; expected a name")
    assert diag.hints == ("'{' opened at line 1 is not closed",)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("decompose A { -> B { x = f(1, 2 } }", "unexpected '}'; expected ')' or ','"),
        ("decompose A { -> B { x = [1, 2 } }", "unexpected '}'; expected ',' or ']'"),
    ],
)
def test_only_the_closer_of_the_innermost_bracket_is_expected(text: str, message: str) -> None:
    """LALR merges states; a ']' must not be offered while a '(' is the open bracket."""
    _, diags = parse(text)
    assert [d.message for d in diags] == [message]


def test_end_of_file_inside_a_declaration() -> None:
    _, diags = parse("depend A.b after C")
    assert [(d.code, d.message) for d in diags] == [
        ("E004", "unexpected end of declaration; expected '.'")
    ]


def test_recovery_reports_every_broken_declaration() -> None:
    decls, diags = parse(
        "offer A { attribute x int }\n"
        "offer Good {}\n"
        "cfs B scope { }\n"
        "plan C on add { auto a handler }\n"
        "cfs AlsoGood {}\n"
    )
    assert [d.code for d in diags] == ["E001", "E001", "E001"]
    assert [d.span.line for d in diags] == [1, 3, 4]
    assert [d.name.value for d in decls] == ["Good", "AlsoGood"]


def test_declarations_before_an_error_in_the_same_chunk_are_kept() -> None:
    """A misspelt keyword does not start a chunk; the header above it must survive."""
    decls, diags = parse('catalog "A" version "1"\nimprot "x.om"\n')
    assert [d.code for d in diags] == ["E001"]
    assert [type(d) for d in decls] == [ast.CatalogDecl]


def test_a_misspelt_keyword_after_a_broken_declaration_is_reported_too() -> None:
    """After an error, parsing resumes at a column-1 misspelling of a top-level keyword."""
    decls, diags = parse("enum Tech { FTTH FTTC }\nofer A { attribute s: int }\ncfs C {}\n")
    assert [(d.code, d.span.line) for d in diags] == [("E001", 1), ("E001", 2)]
    assert diags[1].message.startswith("unexpected name 'ofer'")
    assert diags[1].hints == ("did you mean 'offer'?",)
    assert [d.name.value for d in decls] == ["C"]


@pytest.mark.parametrize(
    "text",
    [
        "decompose A -> B {\nordr_id = 1 }\n",  # a column-1 name inside a declaration that parses
        "offer A {\nattribute x: int }\n",
    ],
)
def test_column_one_names_in_a_valid_declaration_are_left_alone(text: str) -> None:
    assert len(parse_ok(text)) == 1


def test_only_close_misspellings_followed_by_a_name_restart_parsing() -> None:
    _, diags = parse("offer A { attribute x int\nspeed = 1\nofer = 2\n}\n")
    assert [d.span.line for d in diags] == [1]


DURATIONS = "durations are a whole number and a unit: 500ms, 5s, 10m, 2h or 2d"
NUMBERS = "numbers are digits with an optional decimal part, like 42 or 9.99"


@pytest.mark.parametrize(
    ("text", "written", "hint"),
    [
        ("plan P on add { manual m queue q expect 2x }", "2x", DURATIONS),
        ('plan P on add { auto a handler "h" timeout 5x }', "5x", DURATIONS),
        ('plan P on add { auto a handler "h" timeout 1.5h }', "1.5h", DURATIONS),
        ("system S { retry staggered 1s, 5sec }", "5sec", DURATIONS),
        (
            "offer A { attribute s: decimal default 1e3 }",
            "1e3",
            "numbers have no exponent: write 1000",
        ),
        (
            "offer A { attribute s: decimal default 1.5e2 }",
            "1.5e2",
            "numbers have no exponent: write 150",
        ),
        ("offer A { attribute s: decimal default 1.5x }", "1.5x", NUMBERS),
        ("offer A { attribute s: int in 1..5x }", "5x", NUMBERS),
        ("decompose A { -> B { x = 2x + 1 } }", "2x", NUMBERS),
        ("system S { retry fixed 1s max 3x }", "3x", NUMBERS),
    ],
)
def test_a_bad_number_is_one_error_with_a_hint_for_its_place(
    text: str, written: str, hint: str
) -> None:
    decls, diags = parse(text)
    assert [(d.code, d.message, d.hints) for d in diags] == [
        ("E005", f"invalid number '{written}'", (hint,))
    ]
    assert len(decls) == 1, "the declaration parses on"


def test_a_huge_number_is_one_error_in_any_place() -> None:
    big = "9" * 5000
    _, diags = parse(
        f"offer A {{ attribute n: int default {big} }}\nsystem S {{ timeout {big}ms }}"
    )
    assert [d.code for d in diags] == ["E005", "E005"]
    assert [d.message for d in diags] == [
        f"number '{'9' * 24}...999' is too large",
        f"number '{'9' * 24}...9ms' is too large",
    ]


def test_a_bad_number_where_no_number_goes_is_unexpected() -> None:
    _, diags = parse("offer A { 5x }")
    assert [(d.code, d.message.split(";")[0]) for d in diags] == [
        ("E001", "unexpected number '5x'")
    ]


def test_a_bad_number_after_a_syntax_error_is_still_reported() -> None:
    _, diags = parse("offer A { attribute x int default 5x }")
    assert [d.code for d in diags] == ["E001", "E005"]
    assert diags[1].hints == (f"{NUMBERS}; {DURATIONS}",)


def broken(text: str) -> list[ast.BrokenDecl]:
    bag = DiagnosticBag()
    module = parse_module("f.om", text, bag)
    assert bag.items, "the text must have a syntax error"
    return module.broken


@pytest.mark.parametrize(
    ("text", "kind", "declared", "completed"),
    [
        ("enum Tech { FTTH FTTC }", "enum", ("Tech", "FTTH", "FTTC"), ()),
        ('offer Web "W" { family Net; attribute x: int default }', "offer", ("Web", "Net"), ()),
        ("cfs Line { attribute x }", "cfs", ("Line",), ()),
        ('system Inv { url "x" timeout 5 }', "system", ("Inv",), ()),
        ("decompose Web { -> Line { a = } -> Tv {} }", "decompose", (), ("Web", "Line", "Tv")),
        ("decompose family Net -> Line { a = }", "decompose", (), ("Net", "Line")),
        ("plan Line on add { auto }", "plan", (), ("Line",)),
        ("depend A.x after B.y within", "depend", (), ("A", "B")),
        ("order { attribute }", "order", (), ()),
        ('ofer Web "W" {}', "offer", ("Web",), ()),  # a misspelt keyword: what it stands for
        ("} {", None, (), ()),
    ],
)
def test_a_dropped_declaration_records_the_names_it_would_provide(
    text: str, kind: str | None, declared: tuple[str, ...], completed: tuple[str, ...]
) -> None:
    assert broken(text) == [ast.BrokenDecl(kind, declared, completed)]


def test_declarations_that_parse_are_not_recorded_as_broken() -> None:
    assert broken('catalog "A" version "1"\ncfs Good {}\nofer Bad {}\n') == [
        ast.BrokenDecl("offer", ("Bad",), ())
    ]


BROKEN = [
    "offer A {",
    "offer A { attribute x: }",
    "offer A { attribute x: list[ }",
    "offer A { includes }",
    "bundle B { includes A [1.. }",
    "enum E { A B }",
    "cfs C scope { }",
    "system S { url env( }",
    'system S { auth bearer "x" }',
    "system S { retry fixed }",
    "system S { permanent }",
    "plan P on { }",
    "plan P on add { callout c: S }",
    "plan P on add { auto a after }",
    "plan P on add { wait w until }",
    "decompose A { -> }",
    "decompose A { -> B { x = } }",
    "decompose A { -> B { x = (1 + 2 } }",
    "decompose A { -> B { x = f(1,, 2) } }",
    "decompose A { -> B { x = map y { : 1 } } }",
    "decompose A { -> B { x = if a then b } }",
    "decompose A { -> B { x = a not b } }",
    "depend A after B.c",
    "depend A.b after B.c within",
    "catalog version",
    "import",
    "queue",
    "order { attribute }",
    "} {",
    "-> ->",
    "offer A {} }",
    "plan P on add { request { a: } }",
]


@pytest.mark.parametrize("text", BROKEN)
def test_syntax_errors_never_show_raw_terminal_names(text: str) -> None:
    _, diags = parse(text)
    assert diags, "a broken declaration must be reported"
    for diag in diags:
        assert diag.code in ("E001", "E004")
        assert " expected " in diag.message
        assert raw_terminal_names(diag.message) == [], diag.message
        assert all(raw_terminal_names(h) == [] for h in diag.hints)


def test_raw_terminal_check_itself_catches_leaks() -> None:
    """Guard against a vacuous check: a leaked name must be found, a quoted one must not."""
    assert raw_terminal_names("expected LBRACE or __ANON_3") == ["LBRACE", "__ANON"]
    assert raw_terminal_names("unexpected name 'LBRACE'") == []


# ---- describing tokens -------------------------------------------------------------------------


def test_describe_expected_groups_expression_starts_and_operators() -> None:
    starts = {"NAME", "INT", "STRING", "LPAR", "MINUS", "TRUE", "FALSE", "NULL", "DECIMAL"}
    assert describe_expected(starts) == "an expression"
    ops = {"PLUS", "MINUS", "STAR", "SLASH", "PERCENT", "EQ", "NE", "LT", "AND", "OR", "RBRACE"}
    assert describe_expected(ops) == "an operator or '}'"


def test_describe_expected_lists_and_truncates() -> None:
    assert describe_expected(set()) == "nothing more"
    assert describe_expected({"COLON"}) == "':'"
    assert describe_expected({"COLON", "COMMA"}) == "',' or ':'"
    many = {
        "ALIAS",
        "DEFAULT",
        "DESCRIPTION",
        "IN",
        "MERGE",
        "PATTERN",
        "REQUIRED",
        "UNIT",
        "VALUES",
    }
    assert describe_expected(many).endswith(" or 2 more")


def test_describe_token_kinds() -> None:
    assert describe_token(Token("NAME", "speed")) == "name 'speed'"
    assert describe_token(Token("INT", "5")) == "integer '5'"
    assert describe_token(Token("STRING", "x")) == 'string "x"'
    assert describe_token(Token("LBRACE", "{")) == "'{'"
    assert describe_token(Token("PLAN", "plan")) == "keyword 'plan'"
    assert describe_token(Token("$END", "")) == "end of file"
    assert word("DURATION") == "a duration (like 5s)"
    assert describe_token(Token("DURATION", "2s")) == "duration '2s'"  # not "(like 5s) '2s'"
    assert describe_token(Token("DECIMAL", "1.5")) == "decimal number '1.5'"


def test_keywords_in_capitals_get_a_hint_and_restart_parsing() -> None:
    """`CFS` got no "did you mean", and the `RFS` line after it was swallowed unreported."""
    decls, diags = parse(
        'catalog "K" version "1"\nCFS A { attribute n: int }\nRFS B { attribute n: int }\n'
        'Offer O {}\nsystem S { URL "http://x" }\ncfs Fine {}\n'
    )
    assert [(d.span.line, d.hints) for d in diags] == [
        (2, ("did you mean 'cfs'?",)),
        (3, ("did you mean 'rfs'?",)),
        (4, ("did you mean 'offer'?",)),
        (5, ("did you mean 'url'?",)),
    ]
    assert [type(d) for d in decls][-1] is ast.ProductDecl


@pytest.mark.parametrize(
    "text",
    [
        'offer O { attribute a: string default "abc }\n',
        'decompose O -> A { a = "x }\n',
        'offer O {\n  attribute a: string default "abc }\n',
        'cfs A {}\n"',
    ],
)
def test_an_unterminated_string_is_reported_alone(text: str) -> None:
    """The string runs to the end of its line and takes the `}` with it: "'{' opened at line
    1 is not closed" (E004), or `unexpected string ""` for a lone quote, only echoed E003."""
    _, diags = parse(text)
    assert [(d.code, d.message) for d in diags] == [("E003", "unterminated string")]


@pytest.mark.parametrize(
    ("text", "word", "col"),
    [
        ("offer Télé { }\n", "Télé", 7),
        ("cfs 日本 { attribute n: int }\n", "日本", 5),
        ("cfs Good { attribute é: int }\n", "é", 22),
    ],
)
def test_a_name_with_letters_beyond_ascii_is_one_error(text: str, word: str, col: int) -> None:
    """Each such letter was an E002 and each ASCII piece between them an E001 (`Télé`: three
    errors), none saying what names may hold."""
    _, diags = parse(text)
    assert [(d.code, d.message, d.span.col) for d in diags] == [
        ("E002", f"letters beyond ASCII in the name '{word}'", col)
    ]
    assert diags[0].span.end_col == col + len(word)
    assert diags[0].hints[0].startswith("names are ASCII letters, digits and '_'")
    assert ("write 'Tele';" in diags[0].hints[0]) == (word == "Télé")


@pytest.mark.parametrize(
    ("word", "spelled"),
    [
        ("SportsPaket_Größe", "SportsPaket_Groesse"),  # German: ß ss, ä ae, ö oe, ü ue
        ("Übergröße", "Uebergroesse"),
        ("Télé", "Tele"),  # other accents dropped
        ("Łódź", "Lodz"),  # letters Unicode does not decompose
        ("Ærø", "AEro"),
    ],
)
def test_a_name_beyond_ascii_is_spelt_in_ascii_as_its_language_does(
    word: str, spelled: str
) -> None:
    _, diags = parse(f"offer {word} {{ }}\n")
    assert f"write '{spelled}';" in diags[0].hints[0]


@pytest.mark.parametrize(
    ("condition", "hint"),
    [
        ("50 <= speed <= 500 or fast", "write '50 <= speed and speed <= 500'"),
        ("len(x) + 1 < 5 < f(2, 3)", "write 'len(x) + 1 < 5 and 5 < f(2, 3)'"),
        ("(a < b < c)", "write 'a < b and b < c'"),
    ],
)
def test_a_chained_comparison_is_rewritten_with_its_operands(condition: str, hint: str) -> None:
    bag = DiagnosticBag()
    parse_module("x.om", f'catalog "X" version "1"\ndecompose A -> B when {condition} {{ }}\n', bag)
    (diag,) = bag.items
    assert diag.code == "E001"
    assert diag.hints == (f"comparisons do not chain: {hint}",)


@pytest.mark.parametrize(
    ("condition", "hints"),
    [
        ("speed <> 1", ("'<>' is not an operator here: write '!=' for not equal",)),
        ("speed >< 1", ()),
        ("speed < < 1", ()),
        ("speed < > 1", ()),
        ("speed == == 1", ()),
    ],
)
def test_two_comparison_operators_in_a_row_are_no_chain(
    condition: str, hints: tuple[str, ...]
) -> None:
    """`speed <> 1` got "comparisons do not chain: write 'speed <  and  > 1'": the middle
    operand of the 'chain' is empty."""
    bag = DiagnosticBag()
    parse_module("x.om", f'catalog "X" version "1"\ndecompose A -> B when {condition} {{ }}\n', bag)
    (diag,) = bag.items
    assert (diag.code, diag.hints) == ("E001", hints)


def test_an_empty_values_list_says_it_needs_a_value() -> None:
    """docs/diagnostics.md said an empty `values` list is E042; the grammar makes it E001,
    which said only what token was expected."""
    bag = DiagnosticBag()
    parse_module("x.om", 'catalog "X" version "1"\noffer O { attribute s: int values [] }\n', bag)
    (diag,) = bag.items
    assert (diag.code, diag.hints) == (
        "E001",
        ("a values list needs at least one value; to allow any value, remove `values`",),
    )


def _only(declarations: str) -> Diagnostic:
    """The one diagnostic of ``declarations`` parsed after a catalog header."""
    bag = DiagnosticBag()
    parse_module("x.om", f'catalog "X" version "1"\n{declarations}\n', bag)
    (diag,) = bag.items
    return diag


@pytest.mark.parametrize(
    ("written", "members"),
    [
        ("enum { gold, silver }", "gold, silver"),
        ("enum {gold silver}", "gold, silver"),
        ("enum(gold, silver)", "gold, silver"),
        ('enum ["gold", "silver"]', "gold, silver"),
        ("enum [gold, silver]", "gold, silver"),
        ("enum { }", "..."),
    ],
)
def test_an_enum_written_in_place_says_how_to_declare_it(written: str, members: str) -> None:
    """The type of other schema languages' `tier: enum { ... }` got only "unexpected '{'"."""
    diag = _only(f"offer O {{ attribute service_tier: {written} }}")
    assert (diag.code, diag.hints) == (
        "E001",
        (
            "an attribute's type names an enum declared at the top level: write "
            f"'enum ServiceTier {{ {members} }}' and then 'attribute service_tier: ServiceTier'",
        ),
    )


def test_a_brace_after_a_type_that_is_not_enum_gets_no_enum_hint() -> None:
    diag = _only("offer O { attribute t: Tier { a } }")
    assert diag.code == "E001" and not any("enum" in hint for hint in diag.hints)


@pytest.mark.parametrize(
    ("options", "hint"),
    [
        ("int = 100", "a default value is written 'default 100'"),
        ("Tech = FTTH", "a default value is written 'default FTTH'"),
        ("int default=100", "write the value right after 'default', without '='"),
        ("int default: 100", "write the value right after 'default', without ':'"),
        ('string unit="Mbit/s"', "write the value right after 'unit', without '='"),
        ("bool required=true", "'required' takes no value: an attribute without it is optional"),
        ("int range 1..10", "write 'in 1..10'"),
        ("int min 1 max 10", "write 'in LOW..HIGH'"),
        ("int optional", "an attribute is optional unless it is 'required': remove 'optional'"),
        ("string mandatory", "write 'required'"),
        ('string regex "[0-9]+"', "write 'pattern \"REGEX\"'"),
        ("string enum [a, b]", "write 'values [A, B]'"),
        ("decimal default 1,5", "a decimal is written with a point: '1.5'"),
        (
            "list[list[int]]",
            "lists do not nest: the T of list[T] is int, decimal, string, bool, date or an enum",
        ),
    ],
)
def test_attribute_options_of_other_schema_languages_get_a_hint(options: str, hint: str) -> None:
    diag = _only(f"offer O {{ attribute a: {options} }}")
    assert (diag.code, diag.hints) == ("E001", (hint,))


def test_a_question_mark_says_what_to_write_instead() -> None:
    """`int?` (optional) and `c ? a : b` (conditional) are C-like habits."""
    diag = _only("offer O { attribute a: int? }")
    assert diag.code == "E002"
    assert diag.hints == (
        "'?' means nothing here: an attribute is optional unless it is 'required', and a "
        "conditional value is written 'if CONDITION then A else B'",
    )


WHEN = "a condition here is written 'when CONDITION'"


@pytest.mark.parametrize(
    ("rule", "hint"),
    [
        ("if speed > 10", f"{WHEN} ('if' chooses between two values)"),
        ("when speed is null", "write 'speed == null'"),
        ("when speed > 1 and speed is not null", "write 'speed != null'"),
        ("when len(str(speed)) is null", "write 'len(str(speed)) == null'"),
    ],
)  # fmt: skip
def test_conditions_written_as_in_sql_or_python_get_a_hint(rule: str, hint: str) -> None:
    diag = _only(f"decompose A -> B {rule} {{ }}")
    assert (diag.code, diag.hints) == ("E001", (hint,))


SET_WITH = "mappings and responses set values with '='"


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("decompose A -> B { speed: speed * 2 }", "write 'speed = speed * 2': " + SET_WITH),
        ('plan B on add { callout go: Net GET "/x" response { id: body.id } }',
         "write 'id = body.id': " + SET_WITH),
        ("plan B on add { auto go handler net.go }", 'write it in quotes: "net.go"'),
        ("plan B on add { callout go: Net POST /ports/reserve }",
         'write it in quotes: "/ports/reserve"'),
        ("offer O id 14301 { }", 'write it in quotes: "14301"'),
        ('plan B on add { callout go: Net POST "/x" timeout 30 }',
         "a duration has a unit: '30s' (ms, s, m, h or d)"),
        ("plan B on add { manual fix queue ops expect 2 }",
         "a duration has a unit: '2s' (ms, s, m, h or d)"),
        ('plan B on add { auto go handler "x" if line.speed > 1 }',
         f"{WHEN} ('if' chooses between two values)"),
        ("system Net { url http://127.0.0.1:1 }",
         'write the URL in quotes: "http://..." (bare, // starts a comment)'),
        ('system Net { url: "http://127.0.0.1:1" }',
         "write the value right after 'url', without ':'"),
        ('system Net { url "http://127.0.0.1:1" timeout = 5s }',
         "write the value right after 'timeout', without '='"),
        ('system Net { url "http://127.0.0.1:1" auth bearer env(TOKEN) }',
         'write it in quotes: "TOKEN"'),
        ("decompose A -> B { x = name.upper() }",
         "write upper(name): functions take the value as an argument"),
        ('bundle D { includes Web, Voice, Tv }',
         "one product per includes: write 'includes Web', 'includes Voice' and 'includes Tv'"),
        ("offer T { requires Web, Dsl }",
         "for any one of them write 'requires Web or Dsl'; for all of them, 'requires Web' and "
         "'requires Dsl'"),
        ("offer T { requires Web and Dsl and Box }",
         "for any one of them write 'requires Web or Dsl or Box'; for all of them, "
         "'requires Web' and 'requires Dsl' and 'requires Box'"),
        ('plan B on add { callout go: Net POST "/x" retry 3 }',
         "a retry policy starts with its kind: 'retry fixed 10s max 3' "
         "(or exponential, staggered, none)"),
        ('plan B on add { callout go: Net POST "/x" request { a: 1; b: 2 } }',
         "separate a request's fields with ',' as in JSON; ';' separates mappings"),
        ("decompose A => B { x = 1 }", "write '->' between the source and the target of a rule"),
        ("decompose A --> B", "write '->' between the source and the target of a rule"),
    ],
)  # fmt: skip
def test_values_written_as_in_json_or_yaml_get_a_hint(text: str, hint: str) -> None:
    diag = _only(text)
    assert (diag.code, diag.hints) == ("E001", (hint,))
