"""The whole-order plan: why each edge exists, clusters, PONR per root item, skipped, collapse."""

from __future__ import annotations

from dataclasses import replace

import pytest
from render_examples import ORDER_NAMES, example

from om_dsl import decompose
from om_dsl.compiler.driver import compile_catalog
from om_dsl.ir.models import Catalog
from om_dsl.render import PlanOptions, draw_plan, order_plan_graph, render, render_order_plan
from om_dsl.render.analysis import beyond_return, schedule
from om_dsl.render.collapse import collapse_lines, fold_schedule
from om_dsl.render.plan_draw import NEWRANK_LIMIT
from om_dsl.render.plan_model import PlanCluster, PlanEdge, PlanGraph, PlanNode
from om_dsl.render.style import STATE_STYLES
from om_dsl.runtime import build_plan


def _edges(graph: PlanGraph) -> dict[tuple[str, str], tuple[str, str]]:
    return {(e.source, e.target): (e.kind, e.label) for e in graph.edges}


def test_every_item_is_a_node_in_its_line_cluster(acme: Catalog) -> None:
    ex = example("home-duo-add")
    graph = order_plan_graph(acme, ex.plan, ex.work)
    assert [n.id for n in graph.nodes] == [i.id for i in ex.plan.items]
    clusters = {c.id: c for c in graph.clusters}
    for node, item in zip(graph.nodes, ex.plan.items, strict=True):
        line = clusters[node.cluster or ""]
        assert line.line and line.id == f"line:{item.line_id}"
        assert clusters[line.parent or ""].id == f"request:{item.request_id}"


def test_edges_say_why_the_builder_made_them(acme: Catalog) -> None:
    edges = _edges(order_plan_graph(acme, example("home-duo-add").plan))
    assert edges[("order/AccessLine:reserve_port", "order/AccessLine:install")] == ("after", "")
    assert edges[("order/AccessLine:line_ready", "1.1/InternetService:configure")] == (
        "depend",
        "same order",
    )
    assert edges[("1.2/PhoneNumber:reserve_number", "1.2/VoiceService:provision")] == (
        "depend",
        "same root item",
    )
    parent = ("1.1/InternetService:subscribe", "1.1/InternetService/RadiusProfile:create_profile")
    assert edges[parent] == ("parent", "after parent line")
    undo = ("order/AccessLine:reserve_port", "order/AccessLine:release_port")
    assert edges[undo] == ("undo", "undo")


def test_shared_requests_come_first_and_say_so(acme: Catalog) -> None:
    ex = example("tmf622-product-order")
    requests = [c for c in order_plan_graph(acme, ex.plan, ex.work).clusters if not c.line]
    assert [c.label for c in requests] == [
        "fr:relies_on:110 · shared (relies_on scope 110)",
        "fr:account:1513 · shared (account scope 1513)",
        "fr:100 · root item 100",
    ]
    assert [c.tone for c in requests] == ["shared", "shared", "request"]


def test_an_item_whose_output_is_recorded_says_so_on_hover(acme: Catalog) -> None:
    """As on the plan template: the order's plan (and the live one drawn from it) tells which
    item's output the inventory product keeps."""
    nodes = {n.id: n for n in order_plan_graph(acme, example("home-duo-add").plan).nodes}
    text = "record port_id = reserve_port.port_id on the inventory product"
    assert text in nodes["order/AccessLine:reserve_port"].tooltip.splitlines()
    assert text not in nodes["order/AccessLine:install"].tooltip
    assert not any("record " in n.tooltip for i, n in nodes.items() if "AccessLine" not in i)


def test_without_the_decomposition_requests_are_named_from_the_lines(acme: Catalog) -> None:
    ex = example("tmf622-product-order")
    labels = [c.label for c in order_plan_graph(acme, ex.plan).clusters if not c.line]
    assert "fr:100 · root item 100" in labels
    assert "fr:account:1513 · shared (account scope)" in labels


def test_items_skipped_at_plan_time_take_no_time(acme: Catalog) -> None:
    graph = order_plan_graph(acme, example("home-trio-tv").plan)
    skipped = [n for n in graph.nodes if n.state == "skipped"]
    assert [n.id for n in skipped] == [
        "voice[1]/VoiceService:number_ported",
        "voice[2]/VoiceService:number_ported",
    ]
    assert all(graph.durations()[n.id] == 0 for n in skipped)
    assert skipped[0].timeout_ms == 30 * 86_400_000  # still shown: it is the catalog's item
    dot = render(draw_plan(graph), "dot").decode()
    assert f'fillcolor="{STATE_STYLES["skipped"].tone.fill}"' in dot
    assert "2 item(s) skipped at plan time" in dot


def test_critical_path_and_due_offsets(acme: Catalog) -> None:
    dot = render(render_order_plan(acme, example("home-duo-add").plan), "dot").decode()
    assert "critical path 2d 11m over 7 items" in dot
    assert "expect 2d · due +2d" in dot  # the installation


def test_ponr_holds_its_root_items_only() -> None:
    # p (PONR, root A) -> x (root B) -> y (root A): y is beyond return for A, x is not
    nodes = ["p", "x", "y", "z"]
    edges = [("p", "x"), ("x", "y"), ("z", "p")]
    roots = {"p": ("A",), "x": ("B",), "y": ("A",), "z": ("A",)}
    assert beyond_return(nodes, edges, ["p"], roots) == ["p", "y"]
    assert beyond_return(nodes, edges, ["p"]) == ["p", "x", "y"]


def test_the_region_beyond_return_is_named_by_its_root_item(acme: Catalog) -> None:
    dot = render(render_order_plan(acme, example("home-duo-add").plan), "dot").decode()
    assert "beyond the point of no return (root item 1)" in dot
    assert "cluster_line%3Aorder/AccessLine__beyond_return" in dot


def test_lines_without_a_plan_are_listed(acme: Catalog) -> None:
    dot = render(render_order_plan(acme, example("fibre-modify").plan), "dot").decode()
    assert "lines without a plan for their action: order/Router (modify)" in dot


# ---- collapse ----------------------------------------------------------------------------------


def test_collapse_draws_big_lines_as_one_node_and_keeps_cross_line_edges(acme: Catalog) -> None:
    graph = order_plan_graph(acme, example("home-trio-tv").plan)
    folded = collapse_lines(graph, 2)
    ids = {n.id for n in folded.graph.nodes}
    assert "line:order/AccessLine" in ids
    assert "order/AccessLine:install" not in ids
    assert "order/Router:ship" in ids  # one item: not collapsed
    line = next(n for n in folded.graph.nodes if n.id == "line:order/AccessLine")
    assert line.kind == "line" and line.ponr
    assert line.cluster == "request:fr:order"
    assert line.details[:2] == ("5 items", "3 callout, 1 manual, 1 milestone")
    edges = _edges(folded.graph)
    assert edges[("line:order/AccessLine", "tv/TvService:install_boxes")][0] == "depend"
    assert edges[("line:order/AccessLine", "line:voice[1]/VoiceService")][0] == "depend"
    assert all(s != t for s, t in edges)
    assert len(edges) == len(folded.graph.edges)  # one edge per pair
    assert "line:order/AccessLine" not in {c.id for c in folded.graph.clusters}


def test_collapse_keeps_the_figures_of_the_full_plan(acme: Catalog) -> None:
    graph = order_plan_graph(acme, example("home-trio-tv").plan)
    full = schedule(graph.flow_nodes(), graph.flow_edges(), graph.durations())
    folded = collapse_lines(graph, 2)
    seen = fold_schedule(full, folded.into)
    assert seen.total_ms == full.total_ms
    assert seen.path[0] == "line:order/AccessLine"
    assert seen.finish_ms["line:order/AccessLine"] == full.finish_ms["order/AccessLine:line_ready"]
    assert seen.items() == len(full.path) == 6 and len(seen.path) == 3
    dot = render(draw_plan(graph, PlanOptions(collapse=2)), "dot").decode()
    assert "critical path 2d 4h 10m over 6 items" in dot  # items, not the 3 nodes drawn
    assert "POINT OF NO RETURN INSIDE" in dot
    assert "3 lines of more than 2 items collapsed into one node each" in dot


def test_a_line_partly_beyond_return_says_how_much_of_it_is(acme: Catalog) -> None:
    graph = order_plan_graph(acme, example("home-trio-tv").plan)
    full = render(draw_plan(graph), "dot").decode()
    assert 'cluster_line%3Avoice[1]/VoiceService__beyond_return" {' in full  # shaded in part
    dot = render(draw_plan(graph, PlanOptions(collapse=2)), "dot").decode()
    voice = next(line for line in dot.splitlines() if '"line%3Avoice[1]/VoiceService" [' in line)
    assert "2 of 3 items beyond PONR" in voice


@pytest.mark.parametrize("name", ORDER_NAMES)
def test_collapse_beyond_every_line_changes_nothing(acme: Catalog, name: str) -> None:
    graph = order_plan_graph(acme, example(name).plan)
    assert collapse_lines(graph, 1000).graph is graph


def test_collapsed_lines_show_the_states_of_their_items(acme: Catalog) -> None:
    graph = order_plan_graph(acme, example("home-duo-add").plan)
    states = {"order/AccessLine:reserve_port": "completed", "order/AccessLine:install": "waiting"}
    nodes = tuple(replace(n, state=states.get(n.id, "pending")) for n in graph.nodes)
    folded = collapse_lines(replace(graph, nodes=nodes), 3)
    line = next(n for n in folded.graph.nodes if n.id == "line:order/AccessLine")
    assert line.state == "waiting"
    assert line.status == ("1 waiting · 3 pending", "1 completed")


def test_big_plans_are_ranked_per_cluster(acme: Catalog) -> None:
    small = render(render_order_plan(acme, example("home-trio-tv").plan), "dot").decode()
    assert "newrank=true" in small
    count = NEWRANK_LIMIT + 1
    nodes = tuple(PlanNode(f"i{k}", f"i{k}", "auto", cluster=f"l{k // 10}") for k in range(count))
    edges = tuple(PlanEdge(f"i{k - 1}", f"i{k}", "after") for k in range(1, count))
    lines = tuple(PlanCluster(f"l{k}", f"line {k}", "cfs", line=True) for k in range(51))
    big = draw_plan(PlanGraph("big", nodes, edges, lines))
    assert "newrank" not in big.source  # Graphviz 2.43 reads newrank=false as on


def test_a_depend_edge_says_why_on_hover(acme: Catalog) -> None:
    """The `///` comment of a `depend` is kept in the IR and is the edge's tooltip."""
    graph = order_plan_graph(acme, example("home-duo-add").plan)
    tips = {(e.source, e.target): e.tooltip for e in graph.edges if e.kind == "depend"}
    assert tips[("order/AccessLine:line_ready", "1.1/InternetService:configure")] == (
        "depend InternetService.configure after AccessLine.line_ready within order\n"
        "The internet service is configured once the access line is up."
    )
    dot = render(render_order_plan(acme, example("home-duo-add").plan), "dot").decode()
    assert "The internet service is configured once the access line is up." in dot


def test_the_legend_explains_only_what_the_diagram_draws(acme: Catalog) -> None:
    graph = PlanGraph("one item", (PlanNode(id="a", name="a", kind="auto"),), ())
    dot = render(draw_plan(graph), "dot").decode()
    assert '"~legend.auto"' in dot and '"~legend.manual"' not in dot
    assert "compensation: undoes" not in dot and "point of no return" not in dot
    assert "critical path (longest" in dot  # the one item is the critical path
    full = render(render_order_plan(acme, example("home-trio-tv").plan), "dot").decode()
    for shown in ('"~legend.manual"', "compensation: undoes", "point of no return (double"):
        assert shown in full


def test_an_item_that_fails_when_ready_says_so() -> None:
    """As `om plan` flags it: a `depend` whose condition failed (a division by zero) links
    the pair and fails the waiting item when it becomes ready; the diagram says so on the
    item, with the reason on hover."""
    result = compile_catalog(
        "failing.om",
        text="""
        catalog "Failing" version "1"
        offer Web { attribute speed: int default 0 }
        rfs Service { attribute speed: int }
        resource Address { attribute size: int }
        decompose Web { -> Service { speed = speed } -> Address { size = 1 } }
        plan Service on add { auto configure handler "lab.configure" }
        plan Address on add { auto assign handler "lab.assign" }
        depend Service.configure after Address.assign when 100 / line.speed > 1
        """,
    )
    catalog = result.catalog
    assert catalog is not None
    order = {"id": "O1", "items": [{"id": "1", "product": "Web", "action": "add"}]}
    plan = build_plan(catalog, decompose(catalog, order))
    graph = order_plan_graph(catalog, plan)
    nodes = {n.id: n for n in graph.nodes}
    assert nodes["1/Service:configure"].status == ("fails when ready (depend condition)",)
    assert "fails when ready: the condition of `depend Service.configure after " in (
        nodes["1/Service:configure"].tooltip
    )
    assert nodes["1/Address:assign"].status == ()
