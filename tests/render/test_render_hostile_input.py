"""Order ids and catalog text that used to break diagrams: found by the renderer bug hunt.

- An order item id ending in a backslash ended the DOT string of its node id: Graphviz
  refused the whole diagram.
- ``a:b`` and ``a%3Ab`` (or ``a"b`` and ``a\\"b``) became one node.
- A product named ``legend`` with an item ``lines`` was drawn as the legend's table.
- A shared line's rules were put on its edges by position: one product's rule on another's.
- A backslash in a tooltip came out as ``\\N`` expanded to the node's name.
- ... and in a box's label too: ``site_id=ACME\\Nord`` was drawn with the node's id in it.
- A completed order's live view said it "can still be cancelled".
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from om_dsl.compiler.driver import compile_catalog
from om_dsl.orders.decompose import Decomposer
from om_dsl.render import render, render_decomposition, render_order_plan, render_plan_template
from om_dsl.render.live import _notes
from om_dsl.runtime.builder import build_plan

CATALOG = r"""catalog "H" version "1"
offer X { family F  attribute a: int default 1 }
offer Y { attribute a: int default 1 }
resource R scope order { attribute a: int merge max }
cfs legend { attribute a: int }
decompose X { -> R { a = a } }
decompose family F { -> R when a > 0 { a = a } }
decompose Y { -> R { a = a } -> legend { a = a } }
plan R on add { auto h handler "h" }
plan legend on add {
  /// Item doc: C:\Net\new \N
  auto lines handler "h"
  auto wait handler "h" after lines
}
"""
IDS = ["x\\", "a:b", "a%3Ab", 'a"b', 'a\\"b']
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz")


@pytest.fixture(scope="module")
def catalog():  # type: ignore[no-untyped-def]
    return compile_catalog("h.om", CATALOG).raise_on_error()


def _order(ids: list[str], product: str = "Y") -> dict[str, object]:
    return {"id": "O\\", "items": [{"id": i, "product": product} for i in ids]}


def _accepted(dot: str) -> str:
    """The SVG Graphviz makes of ``dot``; it must take it without a warning."""
    done = subprocess.run(["dot", "-Tsvg"], input=dot, capture_output=True, text=True, check=False)
    assert done.returncode == 0 and not done.stderr, done.stderr
    return done.stdout


@needs_dot
@pytest.mark.parametrize("view", ["decomposition", "plan"])
def test_every_odd_item_id_is_its_own_node_and_graphviz_takes_the_dot(catalog, view) -> None:  # type: ignore[no-untyped-def]
    d = Decomposer(catalog)
    order = d.read(_order(IDS))
    work = d.decompose(order)
    if view == "decomposition":
        graph = render_decomposition(catalog, order, work)
        expected = {f"item:{i}" for i in IDS}
    else:
        graph = render_order_plan(catalog, build_plan(catalog, work, order))
        expected = {f"{i}/legend:lines" for i in IDS}
    svg = _accepted(render(graph, "dot").decode())
    titles = {t.replace("&quot;", '"') for t in re.findall(r"<title>(.*?)</title>", svg)}
    encoded = {t.replace("%22", '"').replace("%5C", "\\").replace("%3A", ":") for t in titles}
    decoded = {t.replace("%25", "%") for t in encoded}
    assert expected <= decoded, sorted(decoded)


@needs_dot
def test_a_product_named_legend_is_not_the_legend(catalog) -> None:  # type: ignore[no-untyped-def]
    dot = render(render_plan_template(catalog, "legend", "add"), "dot").decode()
    assert dot.count('"legend.lines" [') == 1  # the item, once
    assert '"~legend.lines" [' in dot  # the legend's own table
    svg = _accepted(dot)
    assert "Item doc: C:\u29f5Net\u29f5new \u29f5N" in svg  # not C:Svc.c1et...


@needs_dot
@pytest.mark.parametrize("view", ["decomposition", "plan"])
def test_backslashes_in_labels_are_drawn_as_written(catalog, view) -> None:  # type: ignore[no-untyped-def]
    d = Decomposer(catalog)
    ids = ["1\\G", "2\\N\\E"]
    order = d.read({"id": "O\\T", "items": [{"id": i, "product": "Y"} for i in ids]})
    work = d.decompose(order)
    if view == "decomposition":
        graph = render_decomposition(catalog, order, work)
    else:
        graph = render_order_plan(catalog, build_plan(catalog, work, order))
    svg = _accepted(render(graph, "dot").decode())
    drawn = " ".join(re.findall(r"<text[^>]*>(.*?)</text>", svg))
    assert "O\\T" in drawn and "1\\G" in drawn and "2\\N\\E" in drawn, drawn


def test_each_source_item_gets_the_rules_of_its_own_product(catalog) -> None:  # type: ignore[no-untyped-def]
    d = Decomposer(catalog)
    order = d.read({"id": "O", "items": [{"id": "1", "product": "X"}, {"id": "2", "product": "Y"}]})
    dot = render(render_decomposition(catalog, order, d.decompose(order)), "dot").decode()
    edges = re.findall(r'"item%3A(\d)" -> "line%3Aorder/R" \[label="([^"\\]*)', dot)
    assert sorted(edges) == [("1", "X->R"), ("1", "family F->R"), ("2", "Y->R")]


@pytest.mark.parametrize(
    ("state", "cancelling", "ponr", "says"),
    [
        ("completed", False, {}, "the order is completed: it can no longer change"),
        ("cancelled", False, {}, "the order is cancelled: it can no longer change"),
        ("in_progress", True, {}, "the order is being cancelled: its compensations run"),
        ("in_progress", False, {}, "no point of no return reached: the order can still be"),
        ("in_progress", False, {"1": "1/R:h"}, "root item 1 by 1/R:h: a cancel or amend is"),
    ],
)
def test_the_live_notes_say_what_can_still_happen(
    state: str, cancelling: bool, ponr: dict[str, str], says: str
) -> None:
    class Status:
        def __init__(self) -> None:
            self.state, self.cancelling, self.ponr = state, cancelling, ponr
            self.counts: dict[str, int] = {}
            self.items: list[object] = []
            self.updated_at = 0.0

    class Live:
        status, now = Status(), 0.0

    class Base:
        notes: tuple[str, ...] = ()

    assert _notes(Live(), Base())[0].startswith(says)  # type: ignore[arg-type]


@needs_dot
def test_a_very_long_item_id_is_shortened_in_titles_and_captions(catalog) -> None:  # type: ignore[no-untyped-def]
    """A 150-character id in a card caption made dot lose an edge and exit 1."""
    long_id = "L" * 150
    d = Decomposer(catalog)
    order = d.read({"id": "O", "items": [{"id": long_id, "product": "Y"}]})
    dot = render(render_decomposition(catalog, order, d.decompose(order)), "dot").decode()
    _accepted(dot)
    assert f"item {'L' * 39}\u2026" in dot
