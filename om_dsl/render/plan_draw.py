"""Draw a :class:`PlanGraph`: shapes by kind, the critical path, the region beyond the PONR.

Every plan view ends here.  Views differ only in the graph they build and in
:class:`PlanOptions` (the live view of phase 2 passes ``node_fill`` to colour by state).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import graphviz

from om_dsl.render.analysis import Schedule, beyond_return, deepest, schedule
from om_dsl.render.legend import add_plan_legend
from om_dsl.render.plan_model import PRECEDENCE, PlanCluster, PlanEdge, PlanGraph, PlanNode
from om_dsl.render.style import (
    BEYOND_RETURN,
    CRITICAL,
    EDGE_STYLES,
    FAINT,
    ITEM_SHAPES,
    MUTED,
    PONR,
    TONES,
    new_graph,
)
from om_dsl.render.text import dot_id, duration, esc, font, plain, row, shorten, table


@dataclass(frozen=True, slots=True)
class PlanOptions:
    """What to emphasise.  ``node_fill`` overrides the fill by kind (e.g. by live state)."""

    critical_path: bool = True
    beyond_return: bool = True
    legend: bool = True
    node_fill: Callable[[PlanNode], str | None] | None = None


@dataclass(frozen=True, slots=True)
class _Facts:
    schedule: Schedule
    beyond: frozenset[str]
    critical_nodes: frozenset[str]
    critical_edges: frozenset[tuple[str, str]]


def draw_plan(plan: PlanGraph, options: PlanOptions | None = None) -> graphviz.Digraph:
    """The Graphviz diagram of ``plan``; deterministic for the same graph."""
    opts = options or PlanOptions()
    facts = _facts(plan, opts)
    graph = new_graph("plan", plan.title, _subtitle(plan, facts, opts))
    _emit_clusters(graph, plan, facts, opts)
    for edge in plan.edges:
        _edge(graph, edge, facts)
    if opts.legend:
        pairs = [(e.source, e.target) for e in plan.edges]
        anchor = deepest([n.id for n in plan.nodes], pairs)
        add_plan_legend(graph, dot_id(anchor) if anchor else None)
    return graph


def _facts(plan: PlanGraph, opts: PlanOptions) -> _Facts:
    nodes, edges = plan.flow_nodes(), plan.flow_edges()
    sched = schedule(nodes, edges, plan.durations())
    ponr = [n.id for n in plan.nodes if n.ponr]
    beyond = frozenset(beyond_return(nodes, edges, ponr)) if opts.beyond_return else frozenset()
    show = opts.critical_path and len(sched.path) > 0
    return _Facts(
        sched,
        beyond,
        frozenset(sched.path) if show else frozenset(),
        sched.path_edges() if show else frozenset(),
    )


def _subtitle(plan: PlanGraph, facts: _Facts, opts: PlanOptions) -> str:
    """What the emphasis means: the critical path's length, and how due offsets are counted."""
    sched = facts.schedule
    head: list[str] = []
    if opts.critical_path and sched.total_ms > 0:
        head.append(
            f"critical path {duration(sched.total_ms)} over {_items(len(sched.path))}, "
            "by expected durations (an item without one counts as 0); "
            "due = expected finish after the plan starts"
        )
    elif opts.critical_path and sched.path:
        head.append(
            f"no expected durations declared: the longest chain "
            f"({_items(len(sched.path))}) is shown as the critical path"
        )
    return " · ".join([*head, *plan.notes])


def _items(count: int) -> str:
    return f"{count} item" if count == 1 else f"{count} items"


# ---- clusters ----------------------------------------------------------------------------------


def _emit_clusters(
    graph: graphviz.Digraph, plan: PlanGraph, facts: _Facts, opts: PlanOptions
) -> None:
    children: dict[str | None, list[PlanCluster]] = {}
    for cluster in plan.clusters:
        children.setdefault(cluster.parent, []).append(cluster)
    members: dict[str | None, list[PlanNode]] = {}
    for node in plan.nodes:
        members.setdefault(node.cluster, []).append(node)
    _fill_scope(graph, None, children, members, facts, opts)


def _fill_scope(
    graph: graphviz.Digraph,
    scope: str | None,
    children: dict[str | None, list[PlanCluster]],
    members: dict[str | None, list[PlanNode]],
    facts: _Facts,
    opts: PlanOptions,
) -> None:
    """Nodes of ``scope`` (those beyond the PONR in a shaded box), then its child clusters."""
    nodes = members.get(scope, [])
    beyond = [n for n in nodes if n.id in facts.beyond]
    for node in nodes:
        if node.id not in facts.beyond:
            _node(graph, node, facts, opts)
    if beyond:
        _beyond_box(graph, scope, beyond, facts, opts)
    for cluster in children.get(scope, []):
        sub = graphviz.Digraph(name=f"cluster_{dot_id(cluster.id)}")
        tone = TONES.get(cluster.tone, TONES["external"])
        dashed = cluster.tone == "external"
        sub.attr(
            label=f"<{font(esc(cluster.label), bold=True, colour=tone.line)}>",
            labeljust="l",
            style="rounded,dashed" if dashed else "rounded,filled",
            color=tone.line,
            fillcolor="#fcfcfd",
            penwidth="1" if dashed else "1.5",
            fontsize="12",
        )
        _fill_scope(sub, cluster.id, children, members, facts, opts)
        graph.subgraph(sub)


def _beyond_box(
    graph: graphviz.Digraph,
    scope: str | None,
    nodes: list[PlanNode],
    facts: _Facts,
    opts: PlanOptions,
) -> None:
    box = graphviz.Digraph(name=f"cluster_{dot_id(scope or 'plan')}__beyond_return")
    label = font(
        esc("beyond the point of no return"), size=10, colour=BEYOND_RETURN.line, bold=True
    )
    box.attr(
        label=f"<{label}>",
        labeljust="r",
        style="filled,dashed",
        fillcolor=BEYOND_RETURN.fill,
        color=BEYOND_RETURN.line,
        penwidth="1.2",
    )
    for node in nodes:
        _node(box, node, facts, opts)
    graph.subgraph(box)


# ---- nodes and edges ---------------------------------------------------------------------------


def _node(graph: graphviz.Digraph, node: PlanNode, facts: _Facts, opts: PlanOptions) -> None:
    shape = ITEM_SHAPES[node.kind]
    tone = TONES["external"] if node.external else shape.tone
    fill = (opts.node_fill(node) if opts.node_fill else None) or tone.fill
    style = shape.style + (",dashed" if node.external or node.compensation else "")
    attrs = {
        "shape": shape.shape,
        "style": style,
        "fillcolor": fill,
        "color": tone.line,
        "penwidth": "1.2",
        "label": table(_label_rows(node, facts)),
        "tooltip": plain(node.tooltip or node.name),
    }
    if node.id in facts.critical_nodes:
        attrs.update(color=CRITICAL, penwidth="2.5")
    if node.ponr:
        attrs.update(peripheries="2", color=PONR.line, penwidth="2")
    graph.node(dot_id(node.id), **attrs)


def _label_rows(node: PlanNode, facts: _Facts) -> list[str]:
    colour = FAINT if node.external else None
    rows = [row(font(esc(node.name), bold=True, colour=colour))]
    rows += [row(font(esc(shorten(d)), size=9, colour=MUTED)) for d in node.details]
    timing = _timing(node, facts)
    if timing:
        rows.append(row(font(esc(timing), size=9, colour=MUTED)))
    if node.ponr:
        badge = font(esc("POINT OF NO RETURN"), size=8, colour="white", bold=True)
        rows.append(row(badge, bgcolor=PONR.line))
    return rows


def _timing(node: PlanNode, facts: _Facts) -> str:
    """``expect 2d · timeout 3d · due +2d``; due offsets only when the plan has durations."""
    parts = []
    if node.expect_ms is not None:
        parts.append(f"expect {duration(node.expect_ms)}")
    if node.timeout_ms is not None:
        parts.append(f"timeout {duration(node.timeout_ms)}")
    finish = facts.schedule.finish_ms.get(node.id)
    if finish is not None and facts.schedule.total_ms > 0:
        parts.append(f"due +{duration(finish)}")
    return " · ".join(parts)


def _edge(graph: graphviz.Digraph, edge: PlanEdge, facts: _Facts) -> None:
    attrs = dict(EDGE_STYLES[edge.kind])
    if edge.kind in PRECEDENCE and (edge.source, edge.target) in facts.critical_edges:
        attrs.update(EDGE_STYLES["critical"])  # a dependency stays dashed, now in red
    if edge.label:
        attrs["label"] = plain(edge.label)
    graph.edge(dot_id(edge.source), dot_id(edge.target), **attrs)
