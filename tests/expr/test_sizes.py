"""The longest string or list an expression may build (``MAX_SIZE``), refused before it is
built: nested ``replace(s, "", "0123456789")`` on a 4-character value took gigabytes and ended
in a ``MemoryError`` (a security review).  Each test would build its result without the limit.
"""

from __future__ import annotations

from typing import Any

import pytest

from om_dsl.expr.evaluate import EvalError, compile_expr
from om_dsl.expr.functions import MAX_SIZE
from om_dsl.ir import models as ir

LIMIT = f"past the limit of {MAX_SIZE:,} on a"


V = ir.Ref(type="any", root="source", path=["v"])
"""``source.v``: the value comes from the environment, as an order value would."""


def _lit(value: str) -> ir.Lit:
    return ir.Lit(type="string", value=value)


def _call(fn: str, *args: Any) -> ir.CallOp:
    return ir.CallOp(type="any", fn=fn, args=list(args))


def _run(expr: Any, value: Any) -> Any:
    return compile_expr(expr)({"source": {"v": value}})


def _nested_replace(times: int) -> Any:
    expr: Any = V
    for _ in range(times):
        expr = _call("replace", expr, _lit(""), _lit("0123456789"))
    return expr


def test_nested_replace_stops_at_the_limit_before_building() -> None:
    # 4 -> 54 -> 604 -> 6,654 -> 73,204 -> 805,254 -> 8,857,804 characters
    assert len(_run(_nested_replace(5), "abcd")) == 805_254
    with pytest.raises(EvalError) as caught:
        _run(_nested_replace(8), "abcd")
    assert str(caught.value) == (
        f"replace() failed: the result would have 8,857,804 characters, {LIMIT} string an "
        "expression builds"
    )


def test_replace_that_shrinks_or_keeps_the_length_is_not_counted() -> None:
    big = "a" * MAX_SIZE
    assert _run(_call("replace", V, _lit("a"), _lit("b")), big) == "b" * MAX_SIZE
    assert _run(_call("replace", V, _lit("aa"), _lit("")), big) == ""


def test_concat_and_join_count_their_result_first() -> None:
    half = "x" * (MAX_SIZE // 2 + 1)
    with pytest.raises(EvalError, match=f"concat\\(\\) failed: .*1,048,578 characters, {LIMIT}"):
        _run(_call("concat", V, V), half)
    words = ["ab"] * (MAX_SIZE // 4 + 1)
    joined = _call("join", V, _lit("--"))
    with pytest.raises(EvalError, match=f"join\\(\\) failed: .*1,048,578 characters, {LIMIT}"):
        _run(joined, words)
    assert len(_run(_call("join", V, _lit("-")), words)) == 786_434


def test_plus_of_texts_and_of_lists_is_bounded() -> None:
    plus = ir.BinaryOp(type="any", operator="+", left=V, right=V)
    half = "y" * (MAX_SIZE // 2 + 1)
    with pytest.raises(EvalError, match=f"'\\+' failed: .*1,048,578 characters, {LIMIT} string"):
        _run(plus, half)
    items = [1] * (MAX_SIZE // 2 + 1)  # an `any` output holding a list
    with pytest.raises(EvalError, match=f"'\\+' failed: .*1,048,578 items, {LIMIT} list"):
        _run(plus, items)
    assert _run(plus, "ab") == "abab" and _run(plus, 2) == 4


def test_str_of_a_list_that_holds_itself_over_and_over_is_refused_unbuilt() -> None:
    value: list[Any] = ["0123456789"]
    for _ in range(60):  # 2^60 strings when written out, 61 lists in memory
        value = [value, value]
    with pytest.raises(EvalError, match=f"str\\(\\) failed: .*{LIMIT} string"):
        _run(_call("str", V), value)


def test_a_cheap_result_past_the_limit_is_refused_too() -> None:
    sharp = "ß" * (MAX_SIZE // 2 + 1)  # upper() doubles it
    with pytest.raises(EvalError, match=f"upper\\(\\) failed: .*{LIMIT} string"):
        _run(_call("upper", V), sharp)
    commas = "," * MAX_SIZE
    with pytest.raises(EvalError, match=f"split\\(\\) failed: .*1,048,577 items, {LIMIT} list"):
        _run(_call("split", V, _lit(",")), commas)
