"""Values that expressions compute stay values every reader of the output can represent, and
an expression that fails on a run-time value is a D002 on both engines, never a crash.

Found by a bug hunt: ``int(x * x)`` with x = 1e300 was an internal error (OverflowError) on
the compiled engine and a different error on durable; ``decimal("nan")`` passed ``required``
and a range and reached TMF641 output as ``NaN``; ``x * x`` went past 2^53 silently; durable
refused ordinary decimals that Python writes with an exponent (``1e-05``).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from decomposition_support import engines

from om_dsl.compiler.driver import compile_catalog
from om_dsl.errors import DecompositionError
from om_dsl.orders.decompose import Decomposer
from om_dsl.orders.merge import _RULES
from om_dsl.orders.tmf641 import service_orders

CATALOG = """catalog "S" version "1"
offer A {
  attribute x: decimal default 1.0
  attribute n: int default 1
  attribute s: string default "1"
}
cfs L { attribute v: decimal  attribute w: int }
plan L on add { milestone done }
decompose A -> L { v = VALUE  w = 1 }
"""


def _issues(expression: str, attributes: dict[str, Any], engine: str) -> list[str]:
    catalog = compile_catalog("s.om", CATALOG.replace("VALUE", expression)).raise_on_error()
    order = {"id": "o", "items": [{"id": "1", "product": "A", "attributes": attributes}]}
    with pytest.raises(DecompositionError) as caught:
        Decomposer(catalog, engine).decompose(order)
    return [f"{i.code} {i.message}" for i in caught.value.issues]


@pytest.mark.parametrize("engine", engines())
@pytest.mark.parametrize(
    ("expression", "attributes", "expected"),
    [
        ("x * x", {"x": 1e300}, "1e+300 * 1e+300 gives inf, not a finite number"),
        ("decimal(s)", {"s": "nan"}, "decimal() gives nan, not a finite number"),
        ("decimal(s)", {"s": "-inf"}, "decimal() gives -inf, not a finite number"),
        ("int(x * 10)", {"x": 1e308}, "1e+308 * 10 gives inf, not a finite number"),
        (
            "int(s)",
            {"s": "1e300"},
            "int() gives 100000000000000005250476025520442024870446858110815915491..., beyond",
        ),
        ("int(s)", {"s": "inf"}, "int() failed: cannot convert float infinity to integer"),
        ("n * n", {"n": 2**53}, "beyond the +-2^53 of a whole number"),
        ("round(x, 2)", {"x": 1e300}, ""),  # a finite result: no issue (see below)
        ("date(s)", {"s": "20260101"}, "'20260101' is not a date (YYYY-MM-DD)"),
        ("date(s)", {"s": "2026-01-01junk"}, "'2026-01-01junk' is not a date (YYYY-MM-DD)"),
        ("date(s)", {"s": "2026-W01-1"}, "'2026-W01-1' is not a date (YYYY-MM-DD)"),
        (  # was 2.2 GB and a MemoryError at 8 levels: refused before it is built
            "len(" + "replace(" * 8 + "s" + ', "", "0123456789")' * 8 + ")",
            {"s": "abcd"},
            "replace() failed: the result would have 8,857,804 characters, past the limit of "
            "1,048,576 on a string an expression builds",
        ),
    ],
)
def test_a_value_no_reader_can_represent_is_a_d002(
    engine: str, expression: str, attributes: dict[str, Any], expected: str
) -> None:
    if not expected:
        catalog = compile_catalog("s.om", CATALOG.replace("VALUE", expression)).raise_on_error()
        order = {"id": "o", "items": [{"id": "1", "product": "A", "attributes": attributes}]}
        assert Decomposer(catalog, engine).decompose(order).lines()[0].attributes["v"] == 1e300
        return
    if expression.startswith("date"):
        expression = f'if {expression} > date("2026-01-01") then 1.0 else 2.0'
    (issue,) = _issues(expression, attributes, engine)
    assert issue.startswith("D002 rule A->L") and expected in issue, issue


def test_whole_numbers_in_text_are_read_exactly() -> None:
    catalog = compile_catalog(
        "s.om", CATALOG.replace("w = 1", "w = int(s)").replace("VALUE", "1.0")
    )
    d = Decomposer(catalog.raise_on_error())
    order = {
        "id": "o",
        "items": [{"id": "1", "product": "A", "attributes": {"s": "9007199254740993"}}],
    }
    with pytest.raises(DecompositionError, match="beyond the"):  # not silently ...992
        d.decompose(order)
    order["items"][0]["attributes"] = {"s": " -9007199254740991 "}  # type: ignore[index]
    assert d.decompose(order).lines()[0].attributes["w"] == -9007199254740991
    order["items"][0]["attributes"] = {"s": "12.9"}  # type: ignore[index]
    assert d.decompose(order).lines()[0].attributes["w"] == 12


SUMS = """catalog "S" version "1"
offer A { attribute n: int default 1  attribute d: decimal default 1.0 }
cfs L scope order { attribute s: int merge sum  attribute t: decimal merge sum in 0..1000000.0 }
plan L on add { milestone done }
decompose A -> L { s = n  t = d }
"""


@pytest.mark.parametrize("engine", engines())
def test_a_merged_sum_stays_a_number(engine: str) -> None:
    d = Decomposer(compile_catalog("s.om", SUMS).raise_on_error(), engine)
    big = {"n": 2**53, "d": 1e308}
    items = [{"id": str(i), "product": "A", "attributes": big} for i in range(2)]
    with pytest.raises(DecompositionError) as caught:
        d.decompose({"id": "o", "items": items})
    (issue,) = caught.value.issues
    assert issue.code == "D003"
    assert "s: 18014398509481984 is outside -9007199254740992..9007199254740992" in issue.message
    assert "t: inf is outside 0..1000000.0" in issue.message
    small = [{"id": str(i), "product": "A", "attributes": {"n": 2**52, "d": 2.5}} for i in range(2)]
    (line,) = d.decompose({"id": "o", "items": small}).lines()
    assert line.attributes == {"s": 2**53, "t": 5.0}


CHAIN = """catalog "S" version "1"
offer Data { attribute gb: decimal default 1.0 }
cfs Quota { attribute gb: decimal }
rfs Tiny { attribute gb: decimal }
plan Quota on add { milestone done }
plan Tiny on add { milestone done }
decompose Data -> Quota when gb > 0 { gb = gb }
decompose Quota -> Tiny when gb >= 0.00001 and gb < 10000000000000000.0 { gb = gb / 3 }
"""


@pytest.mark.parametrize("gb", [0.00001, 1e-05, 1.5e-7, 1e15, 1e16, 1e22, 1e-300, 5e-324, 0.1])
def test_decimals_written_with_an_exponent_decompose_alike_on_both_engines(gb: float) -> None:
    catalog = compile_catalog("s.om", CHAIN).raise_on_error()
    order = {"id": "o", "items": [{"id": "1", "product": "Data", "attributes": {"gb": gb}}]}
    outputs = {e: Decomposer(catalog, e).decompose(order).model_dump_json() for e in engines()}
    assert len(set(outputs.values())) == 1
    lines = json.loads(outputs["compiled"])["requests"][0]["lines"]
    assert lines[0]["attributes"] == {"gb": gb}
    assert (len(lines) == 2) == (0.00001 <= gb < 1e16)


def test_tmf641_output_is_strict_json() -> None:
    catalog = compile_catalog("s.om", CATALOG.replace("VALUE", "x / 3")).raise_on_error()
    order = {"id": "o", "items": [{"id": "1", "product": "A", "attributes": {"x": 1e-300}}]}
    d = Decomposer(catalog)
    payloads = service_orders(d.decompose(order), d.read(order), catalog)
    text = json.dumps(payloads, allow_nan=False)
    assert "NaN" not in text and "Infinity" not in text


UNION = """catalog "U" version "1"
offer P { attribute l: list[decimal] default []  attribute b: list[bool] default [] }
offer Q { attribute n: list[int] default [] }
cfs Tot scope order { attribute u: list[decimal] merge union }
cfs Flags scope order { attribute f: list[bool] merge union }
decompose P -> Tot { u = l }
decompose Q -> Tot { u = n }
decompose P -> Flags { f = b }
"""


@pytest.mark.parametrize("engine", engines())
def test_union_keeps_one_of_equal_numbers_but_a_bool_is_not_a_number(engine: str) -> None:
    catalog = compile_catalog("u.om", UNION).raise_on_error()
    items = [
        {"id": "1", "product": "P", "attributes": {"l": [1, 2], "b": [True]}},
        {"id": "2", "product": "P", "attributes": {"l": [1.0, 2.5], "b": [False, True]}},
        {"id": "3", "product": "Q", "attributes": {"n": [2, 3]}},
    ]
    result = Decomposer(catalog, engine).decompose({"id": "o", "items": items})
    values = {line.product: line.attributes for line in result.lines()}
    assert values["Tot"] == {"u": [1, 2, 2.5, 3]}
    assert values["Flags"] == {"f": [True, False]}


def test_union_by_json_equality() -> None:
    assert _RULES["union"]([[True, 1], [1.0, False, 0, "1"]]) == [True, 1, False, 0, "1"]
