"""Golden DOT text of every view over the example catalog and orders (one reviewable .dot each).

Update after an intended change with ``pytest tests/render --snapshot-update`` and review the
diff: it is the diagram's source, line by line.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from render_examples import ORDER_NAMES, ORDERS, catalog, example
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

from om_dsl.compiler.driver import compile_catalog
from om_dsl.ir.models import Catalog
from om_dsl.orders.decompose import Decomposer
from om_dsl.orders.explain import explain
from om_dsl.render import (
    PlanOptions,
    render,
    render_catalog,
    render_decomposition,
    render_live,
    render_order_plan,
    render_plan_template,
)
from om_dsl.render.sample_run import sample_run
from om_dsl.runtime.builder import build_plan

# Every (product, action) that has a plan in the example catalog.
TEMPLATES = [(plan.product, action) for plan in catalog().plans for action in plan.actions]
ACME_HASH = catalog().content_hash
FOCUSES = ["HomeTrio", "RadiusProfile", "AccessLine", "Inventory", "Broadband"]


class DotSnapshot(SingleFileSnapshotExtension):
    _write_mode = WriteMode.TEXT
    file_extension = "dot"


@pytest.fixture
def snapshot_dot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(DotSnapshot)


def _dot(graph: object) -> str:
    """The DOT text, with the catalog's hash (shown by order views) as a placeholder: an
    unrelated change to the example catalog must not break every order snapshot."""
    text = render(graph, "dot").decode("utf-8")  # type: ignore[arg-type]
    return text.replace(ACME_HASH[:19], "sha256:<catalog>")


def test_catalog_map(acme: Catalog, snapshot_dot: SnapshotAssertion) -> None:
    assert _dot(render_catalog(acme)) == snapshot_dot


@pytest.mark.parametrize("focus", FOCUSES)
def test_catalog_map_focus(acme: Catalog, focus: str, snapshot_dot: SnapshotAssertion) -> None:
    assert _dot(render_catalog(acme, focus=focus)) == snapshot_dot


@pytest.mark.parametrize(("product", "action"), TEMPLATES, ids=[f"{p}-{a}" for p, a in TEMPLATES])
def test_plan_template(
    acme: Catalog, product: str, action: str, snapshot_dot: SnapshotAssertion
) -> None:
    assert _dot(render_plan_template(acme, product, action)) == snapshot_dot


@pytest.mark.parametrize("name", ORDER_NAMES)
def test_decomposition(acme: Catalog, name: str, snapshot_dot: SnapshotAssertion) -> None:
    ex = example(name)
    assert _dot(render_decomposition(acme, ex.order, ex.work)) == snapshot_dot


@pytest.mark.parametrize("name", ["home-trio-tv", "fibre-modify"])
def test_decomposition_explained(acme: Catalog, name: str, snapshot_dot: SnapshotAssertion) -> None:
    ex = example(name)
    reasons = explain(Decomposer(acme).program, ex.order, ex.work)
    assert _dot(render_decomposition(acme, ex.order, ex.work, reasons)) == snapshot_dot


@pytest.mark.parametrize("name", ORDER_NAMES)
def test_order_plan(acme: Catalog, name: str, snapshot_dot: SnapshotAssertion) -> None:
    ex = example(name)
    assert _dot(render_order_plan(acme, ex.plan, ex.work)) == snapshot_dot


@pytest.mark.parametrize("name", ORDER_NAMES)
def test_order_plan_collapsed(acme: Catalog, name: str, snapshot_dot: SnapshotAssertion) -> None:
    ex = example(name)
    graph = render_order_plan(acme, ex.plan, ex.work, PlanOptions(collapse=2))
    assert _dot(graph) == snapshot_dot


def test_order_plan_without_decomposition(acme: Catalog, snapshot_dot: SnapshotAssertion) -> None:
    assert _dot(render_order_plan(acme, example("tmf622-product-order").plan)) == snapshot_dot


@pytest.mark.parametrize("collapse", [None, 2])
def test_live(acme: Catalog, collapse: int | None, snapshot_dot: SnapshotAssertion) -> None:
    with sample_run(acme, ORDERS) as run:
        graph = render_live(run.runtime, run.order_id, now=run.now, collapse=collapse)
    assert _dot(graph) == snapshot_dot


def test_catalog_map_with_requires(snapshot_dot: SnapshotAssertion) -> None:
    """``requires`` edges between offers, and their line in the legend (only on such maps)."""
    path = Path(__file__).resolve().parents[1] / "fixtures" / "valid" / "requires.om"
    assert _dot(render_catalog(compile_catalog(path).raise_on_error())) == snapshot_dot


def test_catalog_map_with_choice_groups(snapshot_dot: SnapshotAssertion) -> None:
    """A choice group's edges, each labelled ``one of`` its cardinality."""
    path = Path(__file__).resolve().parents[1] / "fixtures" / "valid" / "choice_groups.om"
    assert _dot(render_catalog(compile_catalog(path).raise_on_error())) == snapshot_dot


DEPEND_WHEN = Path(__file__).resolve().parents[1] / "fixtures" / "valid" / "depend_when.om"
STATIC_IP_ORDER = b"""{
  "id": "ORD-IP",
  "account": "ACC-1",
  "items": [
    {"id": "1", "product": "Home", "action": "add", "attributes": {"static_ip": true}},
    {"id": "2", "product": "Home", "action": "add", "attributes": {"static_ip": false}}
  ]
}"""


def test_conditional_depends_are_dotted_with_their_condition(
    snapshot_dot: SnapshotAssertion,
) -> None:
    """A `depend ... when` on the map (one edge for three declarations, all conditional), in
    a plan template (each declaration, its condition in the label) and in an order's plan
    (only the pairs it linked: item 1 asks for a static IP, item 2 does not)."""
    cat = compile_catalog(DEPEND_WHEN).raise_on_error()
    decomposer = Decomposer(cat)
    order = decomposer.read(STATIC_IP_ORDER)
    work = decomposer.decompose(order)
    plan = build_plan(cat, work, order)
    assert {i.id: i.deps for i in plan.items if i.name == "configure"} == {
        "1/InternetService:configure": ("1/StaticAddress:assign", "2/StaticAddress:assign"),
        "2/InternetService:configure": (),
    }
    views = [
        render_catalog(cat),
        render_plan_template(cat, "InternetService", "add"),
        render_order_plan(cat, plan, work),
    ]
    text = "\n".join(render(view, "dot").decode("utf-8") for view in views)
    text = text.replace(cat.content_hash[:19], "sha256:<catalog>")
    assert "style=dotted" in text
    assert "when line.static_ip" in text
    assert text == snapshot_dot
