"""A conditional `depend` (``depend A.x after B.y [within S] when CONDITION``): its parse,
its type checks and its IR, which a `depend` without a condition does not change."""

from __future__ import annotations

import json

from compiler_support import Compile

from om_dsl.errors import DiagnosticBag
from om_dsl.expr.refs import refs
from om_dsl.ir import models as ir
from om_dsl.syntax import ast
from om_dsl.syntax.parser import parse_tokens

PRODUCTS = """
order { attribute express: bool }
rfs InternetService { attribute static_ip: bool  attribute speed: int }
resource StaticAddress { attribute pool: string }
system Inv { url "http://127.0.0.1:1" }
plan InternetService on add, modify { auto configure handler "net.configure" }
plan StaticAddress on add {
  callout assign: Inv POST "/addresses" response { ip = body.ip }
}
"""


def depends(text: str) -> list[ast.DependDecl]:
    bag = DiagnosticBag()
    tree, _ = parse_tokens("t.om", text, bag)
    assert not bag.items
    return [d for d in tree.decls if isinstance(d, ast.DependDecl)]


def test_the_condition_comes_last_after_an_optional_scope() -> None:
    found = depends(
        "depend A.x after B.y within order when line.a\n"
        "depend A.x after B.y when other.b == 1\n"
        "depend A.x after B.y within root\n"
    )
    assert [(d.within and d.within.value) for d in found] == ["order", None, "root"]
    assert [d.when is not None for d in found] == [True, True, False]
    first = found[0]
    assert first.when is not None and first.when.key == "when"
    assert (first.span.line, first.span.end_col) == (1, 46)  # the span covers the condition


def test_when_lowers_to_the_dependency_ir(om: Compile) -> None:
    cat = om(
        PRODUCTS
        + "depend InternetService.configure after StaticAddress.assign within order\n"
        + '    when static_ip and other.pool == "public" and not order.express\n'
    ).catalog
    (dep,) = cat.dependencies
    assert dep.within == "order"
    assert isinstance(dep.when, ir.BinaryOp)
    roots = sorted(r.root for r in refs(dep.when))
    assert roots == ["line", "order", "other"]
    assert json.loads(dep.model_dump_json())["when"]["op"] == "bin"


def test_a_depend_without_when_writes_no_when_field(om: Compile) -> None:
    """The IR of every catalog written before conditions keeps its bytes and its hash."""
    cat = om(PRODUCTS + "depend InternetService.configure after StaticAddress.assign\n").catalog
    (dep,) = cat.dependencies
    assert dep.when is None
    assert "when" not in json.loads(dep.model_dump_json())
    assert '"when"' not in json.dumps(json.loads(cat.model_dump_json())["dependencies"])


def test_changed_and_previous_read_the_waiting_line(om: Compile) -> None:
    compiled = om(
        PRODUCTS
        + "depend InternetService.configure after StaticAddress.assign\n"
        + "    when changed(line.static_ip) and previous(line.speed) != null\n"
    )
    assert compiled.errors == []
    message = om(
        PRODUCTS
        + "depend InternetService.configure after StaticAddress.assign when changed(other.pool)\n"
    ).one("E046")
    assert "takes one attribute of the line" in message.message


def test_outputs_of_items_cannot_be_read(om: Compile) -> None:
    """They do not exist when the plan is built: the hint says what the condition reads."""
    for condition in ("StaticAddress.assign.ip != null", "configure.ok == true"):
        found = om(
            PRODUCTS
            + f"depend InternetService.configure after StaticAddress.assign when {condition}\n"
        ).one("E020")
        assert "decided when the plan is built" in " ".join(found.hints)


def test_unknown_attributes_say_did_you_mean(om: Compile) -> None:
    line = om(
        PRODUCTS
        + "depend InternetService.configure after StaticAddress.assign when line.sped > 1\n"
    ).one("E023")
    assert "'line' has no attribute 'sped'" in line.message
    assert "did you mean 'speed'?" in line.hints
    other = om(
        PRODUCTS
        + 'depend InternetService.configure after StaticAddress.assign when other.pol == ""\n'
    ).one("E023")
    assert "'other' has no attribute 'pol'" in other.message
    assert "did you mean 'pool'?" in other.hints


def test_the_condition_must_be_bool(om: Compile) -> None:
    found = om(
        PRODUCTS + "depend InternetService.configure after StaticAddress.assign when other.pool\n"
    ).one("E045")
    assert found.message == "a condition must be bool, found string"


def test_depend_before_with_a_condition_says_to_swap_its_roots(om: Compile) -> None:
    diag = om(
        PRODUCTS
        + "depend StaticAddress.assign before InternetService.configure when line.pool != null\n"
    ).one("E001")
    assert diag.hints == (
        "write it the other way round: 'depend InternetService.configure after "
        "StaticAddress.assign when line.pool != null' (and swap `line.` and `other.` in its "
        "condition: `line` is the waiting line)",
    )


def test_other_outside_a_depend_s_condition_says_where_it_is_read(om: Compile) -> None:
    """`other.pool` in a plan got "did you mean 'order'?": a plan has no line waited for."""
    found = om(
        PRODUCTS.replace(
            'handler "net.configure"', 'handler "net.configure" when other.pool == "p"'
        )
    ).one("E020")
    assert "unknown name 'other'" in found.message
    assert list(found.hints) == [
        "other.NAME (the line waited for) is read in the condition of a `depend` only; a plan "
        "reads an item of another line as PRODUCT.ITEM.OUTPUT"
    ]
