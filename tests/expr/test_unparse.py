"""The expression printer: what it prints, and that printing then re-compiling is lossless."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from om_dsl.compiler.driver import compile_catalog
from om_dsl.expr.unparse import unparse
from om_dsl.ir import models as ir

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "catalog" / "acme.om"

_CATALOG = """catalog "T" version "1"
enum Tech {{ FTTH, FTTC }}
order {{ attribute site: string }}
offer O {{
  attribute speed: int
  attribute price: decimal
  attribute name: string
  attribute tech: Tech
  attribute tags: list[string]
  attribute on: bool
}}
cfs C {{
  attribute i: int
  attribute d: decimal
  attribute s: string
  attribute b: bool
  attribute t: Tech
}}
decompose O {{ -> C {{ {target} = {expr} }} }}
"""


def _lower(expr_text: str, tmp_path: Path, target: str = "i") -> Any:
    path = tmp_path / "t.om"
    result = compile_catalog(path, _CATALOG.format(target=target, expr=expr_text))
    assert result.catalog is not None, [d.headline() for d in result.diagnostics]
    return result.catalog.rules[0].mappings[0].expr


CASES = [
    ("i", "speed * 1000"),
    ("i", "(speed + 1) * 2"),
    ("i", "speed - (1 - 2)"),
    ("i", "speed - 1 - 2"),
    ("i", "-speed"),
    ("i", "-(speed + 1)"),
    ("b", "not on"),
    ("b", "not (speed > 1)"),
    ("b", "not on and on"),
    ("b", "not (on and on)"),
    ("b", "on or on and on"),
    ("b", "(on or on) and on"),
    ("b", "(speed > 1) == on"),
    ("b", "speed in [1, 2, 3]"),
    ("b", "name not in tags"),
    ("s", 'if speed >= 500 then "gpon-1g" else "gpon-500"'),
    ("i", "(if on then 1 else 2) + 3"),
    ("s", 'map tech { FTTH: "a", FTTC: "b" }'),
    ("d", "map speed { 1: 1.5, default: 0.25 }"),
    ("b", 'len(coalesce(name, "")) > 0'),
    ("s", 'replace(name, " ", "")'),
    ("s", "order.site"),
    ("s", '"quote \\" and \\\\ backslash"'),
    ("d", "price * 0.0000001"),
    ("s", "null"),
    ("b", "true or false"),
    ("t", "FTTH"),
    ("d", "speed % 7 / 2"),
    ("s", "tags[0]"),
    ("s", "tags[-1]"),
    ("s", "tags[len(tags) - 1]"),
    ("s", 'split(name, ",")[1]'),
    ("s", '[name, "x"][speed]'),
    ("i", "len(tags[0]) + 1"),
]


@pytest.mark.parametrize(("target", "text"), CASES)
def test_prints_what_the_designer_wrote(target: str, text: str, tmp_path: Path) -> None:
    assert unparse(_lower(text, tmp_path, target)) == text


@pytest.mark.parametrize(("target", "text"), CASES)
def test_printing_then_recompiling_gives_the_same_ir(
    target: str, text: str, tmp_path: Path
) -> None:
    lowered = _lower(text, tmp_path, target)
    assert _lower(unparse(lowered), tmp_path, target) == lowered


def test_redundant_parentheses_are_dropped(tmp_path: Path) -> None:
    assert unparse(_lower("((speed) * (2))", tmp_path)) == "speed * 2"
    assert unparse(_lower("(speed * 2) + 1", tmp_path)) == "speed * 2 + 1"


def test_every_expression_of_the_example_catalog_round_trips() -> None:
    catalog = compile_catalog(EXAMPLE).raise_on_error()
    exprs = [r.when for r in catalog.rules if r.when is not None]
    exprs += [m.expr for r in catalog.rules for m in r.mappings]
    assert len(exprs) > 20
    texts = [unparse(e) for e in exprs]
    assert "speed * 1000" in texts
    assert 'map technology { FTTH: "gpon-500", FTTC: "vdsl-100", DSL: "adsl2" }' in texts
    assert 'len(coalesce(port_in_number, "")) > 0' in texts


def test_plan_references_keep_their_root() -> None:
    catalog = compile_catalog(EXAMPLE).raise_on_error()
    plan = next(p for p in catalog.plans if p.product == "AccessLine" and "add" in p.actions)
    activate = next(i for i in plan.items if i.name == "activate_line")
    assert isinstance(activate, ir.CalloutItem) and activate.request is not None
    assert unparse(activate.request) == (
        "{ port_id: reserve_port.port_id, technology: line.technology }"
    )
    mobile = next(p for p in catalog.plans if p.product == "MobileSubscription")
    call = next(i for i in mobile.items if i.name == "activate")
    assert isinstance(call, ir.CalloutItem) and call.request is not None
    assert "iccid: Sim.assign_sim.iccid" in unparse(call.request)


RESPONSE = """catalog "T" version "1"
system S {{ url "http://127.0.0.1:1" }}
cfs C {{ attribute s: string }}
plan C on add {{
  callout call: S POST "/x" response {{ out = {expr} }}
  auto use handler "h" after call when {cond}
}}
"""


@pytest.mark.parametrize(
    ("expr", "cond"),
    [
        ("body.ports[0].id", "call.out[0] != null"),
        ('body["max-speed"]', 'call.out["a-b"][2].c == 1'),
        ('body["port"].id', "len(call.out) > 0"),
        ("body.a[0][1].b.c", "call.out[-1].x[0] == true"),
    ],
)
def test_indexes_of_outputs_print_and_round_trip(expr: str, cond: str, tmp_path: Path) -> None:
    """A field of an item prints as ``.name``; a field read by a text key from a reference
    stays in brackets (``body.port`` is a reference, other IR)."""
    path = tmp_path / "t.om"
    catalog = compile_catalog(path, RESPONSE.format(expr=expr, cond=cond)).raise_on_error()
    call, use = catalog.plans[0].items
    assert isinstance(call, ir.CalloutItem) and call.response
    mapped, when = call.response[0].expr, use.when
    assert (unparse(mapped), unparse(when)) == (expr, cond)
    again = compile_catalog(path, RESPONSE.format(expr=unparse(mapped), cond=unparse(when)))
    call2, use2 = again.raise_on_error().plans[0].items
    assert isinstance(call2, ir.CalloutItem) and call2.response
    assert (call2.response[0].expr, use2.when) == (mapped, when)


def test_a_request_with_lists_of_objects_prints_and_round_trips(tmp_path: Path) -> None:
    text = (
        '{ characteristics: [{ name: "site", value: line.s }, { "max-speed": 1 }], '
        "nested: { items: [{ x: [{ y: true }] }] }, empty: [] }"
    )
    source = (
        'catalog "T" version "1"\nsystem S { url "http://127.0.0.1:1" }\n'
        'cfs C { attribute s: string }\nplan C on add { callout call: S POST "/x" request '
    )
    path = tmp_path / "t.om"
    item = compile_catalog(path, source + text + " }\n").raise_on_error().plans[0].items[0]
    assert isinstance(item, ir.CalloutItem) and item.request is not None
    assert unparse(item.request) == text
    characteristics = item.request.fields[0].value
    assert isinstance(characteristics, ir.ListOp) and characteristics.type == "list[any]"
    assert all(isinstance(i, ir.ObjectOp) for i in characteristics.items)


def test_objects_quote_keys_that_are_not_names() -> None:
    obj = ir.ObjectOp(
        fields=[
            ir.ObjField(key="plain", value=ir.Lit(type="int", value=1)),
            ir.ObjField(key="with space", value=ir.Lit(type="string", value="x")),
        ]
    )
    assert unparse(obj) == '{ plain: 1, "with space": "x" }'
    assert unparse(ir.ObjectOp(fields=[])) == "{}"


def test_values_that_have_no_literal_syntax_still_print() -> None:
    assert unparse(ir.Lit(type="date", value="2026-01-31")) == 'date("2026-01-31")'
    assert unparse(ir.Lit(type="decimal", value=1e-7)) == "0.0000001"
    assert unparse(ir.Lit(type="decimal", value=3.0)) == "3.0"
    assert unparse(ir.Lit(type="list[int]", value=[1, -2])) == "[1, -2]"
    neg = ir.UnaryOp(op="neg", type="int", arg=ir.Lit(type="int", value=-5))
    assert unparse(neg) == "-(-5)"
    assert unparse(ir.Ref(type="any", root="body", path=[])) == "body"
    assert unparse(ir.Ref(type="int", root="source", path=["order"])) == "source.order"
