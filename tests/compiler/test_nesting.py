"""Deeply nested expressions: refused with E052 where the IR could not be used, fine below.

A `when` of 300 `or` terms used to crash the compiler (pydantic refused to serialise the IR)
and 500 `+` terms or leading `-` hit Python's recursion limit.  The limit
(:data:`om_dsl.expr.depth.MAX_DEPTH`) is checked before the checker recurses, and is low
enough that whatever compiles can be serialised, loaded (also by pydantic's JSON parser),
evaluated and printed back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from compiler_support import HEADER
from hypothesis import event, given, settings
from hypothesis import strategies as st

from om_dsl.compiler.driver import compile_catalog
from om_dsl.expr.depth import MAX_DEPTH, ir_depth
from om_dsl.expr.evaluate import compile_expr
from om_dsl.expr.unparse import unparse
from om_dsl.ir import models as ir
from om_dsl.ir.io import dump_ir, load_ir

CATALOG = (
    HEADER
    + """
system S {{ url "http://127.0.0.1:9" }}
offer O "O" id "1" {{
  attribute n: int default 1
  attribute code: string default "C7"
  attribute on: bool default true
}}
cfs L {{ attribute i: int  attribute s: string  attribute b: bool }}
decompose O -> L when {when} {{ i = {i}  s = {s}  b = {b} }}
plan L on add {{ callout c: S POST "/x" request {{ {request} }} }}
"""
)
SOURCE = {"n": 1, "code": "C7", "on": True}


def catalog(
    when: str = "on", i: str = "n", s: str = "code", b: str = "on", request: str = "a: 1"
) -> str:
    return CATALOG.format(when=when, i=i, s=s, b=b, request=request)


def compiled(text: str) -> Any:
    return compile_catalog("main.om", text=text)


def usable(cat: ir.Catalog) -> None:
    """Everything downstream can take the IR: JSON both ways, evaluation and printing."""
    text = dump_ir(cat)
    assert load_ir(text) == cat
    assert ir.Catalog.model_validate_json(text) == cat  # pydantic's own JSON parser
    rule = cat.rules[0]
    exprs = [m.expr for m in rule.mappings] + ([rule.when] if rule.when else [])
    request = cat.plans[0].items[0]
    assert isinstance(request, ir.CalloutItem) and request.request is not None
    for expr in [*exprs, request.request]:
        assert ir_depth(expr) <= MAX_DEPTH
        compile_expr(expr)({"source": SOURCE, "line": SOURCE})
        assert unparse(expr)


# ---- realistic chains compile, run and print ---------------------------------------------


@pytest.mark.parametrize("terms", [2, 50, 100, 120])
def test_long_left_associative_chains_compile_and_evaluate(terms: int) -> None:
    ors = " or ".join(f'code == "C{k}"' for k in range(terms))
    ands = " and ".join(["n < 5"] * terms)
    plus = " + ".join(["n"] * terms)
    concat = " + ".join(f'"{k}"' for k in range(terms))
    result = compiled(catalog(when=ors, i=plus, s=concat, b=ands))
    assert result.diagnostics == []
    assert result.catalog is not None
    usable(result.catalog)
    rule = result.catalog.rules[0]
    assert compile_expr(rule.when)({"source": SOURCE}) is (terms > 7)
    values = {m.target: compile_expr(m.expr)({"source": SOURCE}) for m in rule.mappings}
    assert values == {"i": terms, "s": "".join(map(str, range(terms))), "b": True}


# ---- too deep: one E052, never an exception ----------------------------------------------


def _join(op: str, n: int, term: str = "n") -> str:
    return f" {op} ".join([term] * n)


TOO_DEEP = {
    "or-chain": {"when": " or ".join(f'code == "C{k}"' for k in range(300))},
    "plus-chain": {"i": _join("+", 500)},
    "minus-chain": {"i": _join("-", 500)},
    "leading-minus": {"i": "-" * 500 + "n"},
    "not": {"when": "not " * 500 + "on"},
    "calls": {"i": "abs(" * 200 + "n" + ")" * 200},
    "lists": {"i": "len(" + "[" * 200 + "]" * 200 + ")"},
    "right-nested": {"i": "n + (" * 200 + "n" + ")" * 200},
    "ifs": {"i": "if on then n else " * 200 + "n"},
    "maps": {"i": "map n { default: " * 100 + "n" + " }" * 100},
    "map-keys": {"i": "map n { " + "[" * 200 + "]" * 200 + ": 1, default: 2 }"},
    "objects": {"request": "a: { " * 100 + "b: 1" + " }" * 100},
}


@pytest.mark.parametrize("parts", TOO_DEEP.values(), ids=TOO_DEEP.keys())
def test_too_deep_expressions_get_one_e052(parts: dict[str, str]) -> None:
    text = catalog(**parts)
    result = compiled(text)
    assert [d.code for d in result.diagnostics] == ["E052"]
    diag = result.diagnostics[0]
    assert f"the limit is {MAX_DEPTH}" in diag.message
    assert any("in [" in hint for hint in diag.hints)
    assert diag.span is not None  # the whole expression
    line = text.split("\n")[diag.span.line - 1]
    written = next(iter(parts.values()))
    if "request" in parts:  # the request is the object
        written = "{ " + written + " }"
    shown = line[diag.span.col - 1 : diag.span.end_col - 1]
    assert shown.rstrip(")") == written.rstrip(")")  # a span ends at its last operand


def test_parentheses_alone_do_not_nest() -> None:
    result = compiled(catalog(i="(" * 2000 + "n" + ")" * 2000))
    assert result.diagnostics == []


def test_the_limit_is_where_the_ir_stays_usable() -> None:
    """An `or` chain one level under the limit compiles; one level more is refused."""
    fits = MAX_DEPTH - 2  # a Ref under `terms - 1` ors and one `==`
    ok = compiled(catalog(when=" or ".join(['code == "x"'] * fits)))
    assert ok.catalog is not None, [d.headline() for d in ok.diagnostics]
    assert ok.catalog.rules[0].when is not None
    assert ir_depth(ok.catalog.rules[0].when) == MAX_DEPTH
    usable(ok.catalog)
    refused = compiled(catalog(when=" or ".join(['code == "x"'] * (fits + 1))))
    assert [d.code for d in refused.diagnostics] == ["E052"]


# ---- property: any nesting either compiles to usable IR or gets E052 --------------------

Wrap = Callable[[str], str]
INT_WRAPS: list[Wrap] = [
    lambda e: f"{e} + n",
    lambda e: f"n - ({e})",
    lambda e: f"-{e}" if not e.startswith("-") else f"-({e})",
    lambda e: f"abs({e})",
    lambda e: f"len([{e}, n])",
    lambda e: f"(if on then {e} else n)",
    lambda e: f"map n {{ 1: {e}, default: n }}",
    lambda e: f"({e}) * 2 % 7",
]
BOOL_WRAPS: list[Wrap] = [
    lambda e: f'{e} or code == "x"',
    lambda e: f"on and ({e})",
    lambda e: f"not {e}",
    lambda e: f"({e}) == on",
    lambda e: f"(if {e} then on else false)",
]
REQUEST_WRAPS: list[Wrap] = [
    lambda e: f"a: {{ {e} }}",
    lambda e: f"x: line.i, y: {{ {e} }}",
]


def nested(wraps: list[Wrap], seed: str) -> st.SearchStrategy[str]:
    def build(picks: list[Wrap]) -> str:
        text = seed
        for wrap in picks:
            text = wrap(text)
        return text

    # Wrappers add 1 to 4 levels each: up to 100 of them fall on both sides of the limit.
    sizes = st.integers(0, 100)
    picks = sizes.flatmap(lambda n: st.lists(st.sampled_from(wraps), min_size=n, max_size=n))
    return picks.map(build)


@settings(max_examples=100, deadline=None)
@given(
    i=nested(INT_WRAPS, "n"),
    b=nested(BOOL_WRAPS, "on"),
    request=nested(REQUEST_WRAPS, "z: 1"),
)
def test_any_nesting_compiles_to_usable_ir_or_is_refused(i: str, b: str, request: str) -> None:
    result = compiled(catalog(i=i, b=b, when=b, request=request))
    codes = {d.code for d in result.diagnostics}
    assert codes <= {"E052"}, [d.headline() for d in result.diagnostics]
    event("refused" if codes else "compiled")
    if result.catalog is not None:
        usable(result.catalog)
