"""Draw a :class:`PlanGraph`: shapes by kind, the critical path, the region beyond the PONR.

Every plan view ends here (template, whole order, live).  Views differ only in the graph they
build and in :class:`PlanOptions`: a node with a ``state`` takes that state's colours (the
live view; skipped items at plan time), and ``collapse`` folds big lines into one node each.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import graphviz

from om_dsl.render.analysis import Schedule, beyond_return, deepest, schedule
from om_dsl.render.collapse import collapse_lines, fold_beyond, fold_schedule
from om_dsl.render.legend import LegendExtras, add_plan_legend
from om_dsl.render.plan_model import (
    DONE,
    NOT_RUN,
    PRECEDENCE,
    PlanCluster,
    PlanEdge,
    PlanGraph,
    PlanNode,
)
from om_dsl.render.style import (
    BEYOND_RETURN,
    CONDITIONAL_DEPEND,
    CRITICAL,
    EDGE_STYLES,
    FAINT,
    ITEM_SHAPES,
    JEOPARDY,
    MUTED,
    PONR,
    STATE_STYLES,
    TONES,
    Tone,
    new_graph,
)
from om_dsl.render.text import dot_id, duration, esc, font, plain, row, shorten, table, tooltip

NEWRANK_LIMIT = 500
"""Plans of up to this many nodes are ranked globally (``newrank``): the layout reads better
(shared requests on top, ranks aligned across lines).  Beyond it, each cluster is ranked on its
own: Graphviz 2.43's global ranking failed on order plans of 1,700 items ("trouble in
init_rank") or never finished placing them (> 20 min), where per-cluster ranking draws 2,000
items in seconds.  Measured fine up to 1,300 items, so the limit leaves a wide margin."""


@dataclass(frozen=True, slots=True)
class PlanOptions:
    """What to emphasise.

    Attributes:
        critical_path: emphasise the longest chain by expected durations.
        beyond_return: shade what follows a point of no return.
        legend: draw the legend.
        node_fill: overrides a node's fill (by kind, or by state when it has one).
        collapse: draw each line of more than this many items as one node (``None``: never).
        due_offsets: show each item's due offset (``due +2d``) from the plan's start.
        state_legend: list every item state in the legend (the live view), not only the
            states that occur.
        from_now: the live view: the critical path is what is left from now (the nodes'
            ``remaining_ms``), and is shown only while something is left.
    """

    critical_path: bool = True
    beyond_return: bool = True
    legend: bool = True
    node_fill: Callable[[PlanNode], str | None] | None = None
    collapse: int | None = None
    due_offsets: bool = True
    state_legend: bool = False
    from_now: bool = False


@dataclass(frozen=True, slots=True)
class _Facts:
    schedule: Schedule
    beyond: frozenset[str]
    critical_nodes: frozenset[str]
    critical_edges: frozenset[tuple[str, str]]


def draw_plan(plan: PlanGraph, options: PlanOptions | None = None) -> graphviz.Digraph:
    """The Graphviz diagram of ``plan``; deterministic for the same graph."""
    opts = options or PlanOptions()
    sched, beyond = _analyse(plan, opts)
    if opts.collapse is not None:
        folded = collapse_lines(plan, max(opts.collapse, 0))
        if folded.into:
            sched = fold_schedule(sched, folded.into)
            beyond, plan = fold_beyond(beyond, folded, plan.flow_nodes())
    facts = _facts(sched, beyond, opts)
    graph = new_graph(
        "plan", plan.title, _subtitle(plan, facts, opts), newrank=len(plan.nodes) <= NEWRANK_LIMIT
    )
    _emit_clusters(graph, plan, facts, opts)
    for edge in plan.edges:
        _edge(graph, edge, facts)
    if opts.legend:
        pairs = [(e.source, e.target) for e in plan.edges]
        anchor = deepest([n.id for n in plan.nodes], pairs)
        add_plan_legend(graph, dot_id(anchor) if anchor else None, _extras(plan, facts, opts))
    return graph


def _analyse(plan: PlanGraph, opts: PlanOptions) -> tuple[Schedule, frozenset[str]]:
    """The schedule and the items beyond a point of no return, on the full plan."""
    nodes, edges = plan.flow_nodes(), plan.flow_edges()
    sched = schedule(nodes, edges, plan.durations())
    if opts.from_now:
        sched = _from_now(sched, plan)
    if not opts.beyond_return:
        return sched, frozenset()
    ponr = [n.id for n in plan.nodes if n.ponr]
    return sched, frozenset(beyond_return(nodes, edges, ponr, plan.roots()))


def _from_now(sched: Schedule, plan: PlanGraph) -> Schedule:
    """The critical path without the items already done that lead to it: from now on."""
    done = {n.id for n in plan.nodes if n.state in DONE}
    path = list(sched.path)
    while path and path[0] in done:
        path.pop(0)
    return replace(sched, path=tuple(path))


def _facts(sched: Schedule, beyond: frozenset[str], opts: PlanOptions) -> _Facts:
    # From now, a path of zero length is only work already done: nothing to emphasise.
    show = opts.critical_path and len(sched.path) > 0 and not (opts.from_now and not sched.total_ms)
    return _Facts(
        sched,
        beyond,
        frozenset(sched.path) if show else frozenset(),
        sched.path_edges() if show else frozenset(),
    )


def _extras(plan: PlanGraph, facts: _Facts, opts: PlanOptions) -> LegendExtras:
    """The legend rows this diagram needs beyond the basic ones (so small ones stay small)."""
    present = {n.state for n in plan.nodes if n.state}
    states = tuple(s for s in STATE_STYLES if opts.state_legend or s in present)
    edges = {e.kind for e in plan.edges}
    return LegendExtras(
        parent_edges="parent" in edges,
        collapsed=any(n.kind == "line" for n in plan.nodes),
        states=states,
        jeopardy=opts.state_legend or any(n.jeopardy for n in plan.nodes),
        critical_path=bool(facts.critical_nodes) or (opts.critical_path and not opts.from_now),
        kinds=tuple(dict.fromkeys(n.kind for n in plan.nodes)),
        after_edges="after" in edges,
        depend_edges=any(e.kind == "depend" and not e.conditional for e in plan.edges),
        conditional_depends=any(e.conditional for e in plan.edges),
        compensations=any(n.compensation for n in plan.nodes),
        ponr=any(n.ponr for n in plan.nodes),
        beyond_return=bool(facts.beyond),
        context=any(n.external for n in plan.nodes),
    )


def _subtitle(plan: PlanGraph, facts: _Facts, opts: PlanOptions) -> list[str]:
    """What the emphasis means (the critical path's length, how due offsets are counted),
    then the view's own notes, one line each."""
    sched = facts.schedule
    head: list[str] = []
    if opts.critical_path and opts.from_now:
        head.extend(_remaining_note(facts))
    elif opts.critical_path and sched.total_ms > 0:
        head.append(
            f"critical path {duration(sched.total_ms)} over {_items(sched.items())}, "
            "by expected durations (an item without one counts as 0); "
            "due = expected finish after the plan starts"
        )
    elif opts.critical_path and sched.path:
        head.append(
            f"no expected durations declared: the longest chain "
            f"({_items(sched.items())}) is shown as the critical path"
        )
    return [*head, *plan.notes]


def _remaining_note(facts: _Facts) -> list[str]:
    sched = facts.schedule
    if not facts.critical_nodes:
        return []
    return [
        f"critical path from now {duration(_whole_seconds(sched.total_ms))} over "
        f"{_items(sched.items())}: what is left of their expected durations "
        "(done items count 0, a late item 0 more)"
    ]


def _whole_seconds(ms: int) -> int:
    """What is left of a running item counts to the millisecond: ``2d 4h 9m 8s 685ms`` read
    like a log.  From a minute up, whole seconds are enough."""
    return ms if ms < 60_000 else ms // 1000 * 1000


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
            fillcolor=tone.fill if cluster.tone in ("request", "shared") else "#fcfcfd",
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
    label = font(esc(_beyond_title(nodes)), size=10, colour=BEYOND_RETURN.line, bold=True)
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


def _beyond_title(nodes: list[PlanNode]) -> str:
    roots = list(dict.fromkeys(r for n in nodes for r in n.roots))
    if not roots:
        return "beyond the point of no return"
    which = "root item" if len(roots) == 1 else "root items"
    return f"beyond the point of no return ({which} {shorten(', '.join(roots), 30)})"


# ---- nodes and edges ---------------------------------------------------------------------------


def _tone(node: PlanNode) -> tuple[Tone, bool]:
    """The node's colours (external, else by state, else by kind) and whether it is dashed."""
    state = STATE_STYLES.get(node.state or "")
    if node.external:
        return TONES["external"], True
    if state is not None:
        return state.tone, state.dashed or node.compensation
    return ITEM_SHAPES[node.kind].tone, node.compensation


def _node(graph: graphviz.Digraph, node: PlanNode, facts: _Facts, opts: PlanOptions) -> None:
    shape = ITEM_SHAPES[node.kind]
    tone, dashed = _tone(node)
    fill = (opts.node_fill(node) if opts.node_fill else None) or tone.fill
    attrs = {
        "shape": shape.shape,
        "style": shape.style + (",dashed" if dashed else ""),
        "fillcolor": fill,
        "color": tone.line,
        "penwidth": "1.2",
        "label": table(_label_rows(node, facts, opts)),
        "tooltip": tooltip(node.tooltip or node.name),
    }
    if node.id in facts.critical_nodes:
        attrs.update(color=CRITICAL, penwidth="2.5")
    if node.ponr:
        attrs.update(peripheries="2", color=PONR.line, penwidth="2")
    if node.jeopardy:
        attrs.update(color=JEOPARDY, penwidth="3.5")
    graph.node(dot_id(node.id), **attrs)


def _label_rows(node: PlanNode, facts: _Facts, opts: PlanOptions) -> list[str]:
    colour = FAINT if node.external else None
    rows = [row(font(esc(node.name), bold=True, colour=colour))]
    rows += [row(font(esc(shorten(d)), size=9, colour=MUTED)) for d in node.details]
    timing = _timing(node, facts, opts)
    if timing:
        rows.append(row(font(esc(timing), size=9, colour=MUTED)))
    rows += _state_rows(node)
    if node.ponr:
        text = "POINT OF NO RETURN" + (" INSIDE" if node.kind == "line" else "")
        rows.append(_badge(text, PONR.line))
    if node.jeopardy:
        rows.append(_badge("IN JEOPARDY", JEOPARDY))
    return rows


def _state_rows(node: PlanNode) -> list[str]:
    """The state in words (colour alone is not enough), then the live details."""
    style = STATE_STYLES.get(node.state or "")
    if style is None:
        return [row(font(esc(shorten(s)), size=9, colour=MUTED)) for s in node.status]
    name = node.state.replace("_", " ") if node.state else ""
    band = row(font(esc(name), size=9, colour=style.tone.line, bold=True))
    return [band, *(row(font(esc(shorten(s)), size=9)) for s in node.status)]


def _badge(text: str, colour: str) -> str:
    return row(font(esc(text), size=8, colour="white", bold=True), bgcolor=colour)


def _timing(node: PlanNode, facts: _Facts, opts: PlanOptions) -> str:
    """``expect 2d · timeout 3d · due +2d``; due offsets only when the plan has durations."""
    parts = []
    if node.expect_ms is not None:
        parts.append(f"expect {duration(node.expect_ms)}")
    if node.timeout_ms is not None:
        parts.append(f"timeout {duration(node.timeout_ms)}")
    finish = facts.schedule.finish_ms.get(node.id)
    runs = node.state not in NOT_RUN
    if opts.due_offsets and runs and finish is not None and facts.schedule.total_ms > 0:
        parts.append(f"due +{duration(finish)}")
    return " · ".join(parts)


def _edge(graph: graphviz.Digraph, edge: PlanEdge, facts: _Facts) -> None:
    attrs = dict(EDGE_STYLES[edge.kind])
    if edge.kind in PRECEDENCE and (edge.source, edge.target) in facts.critical_edges:
        attrs.update(EDGE_STYLES["critical"])  # a dependency stays dashed, now in red
    if edge.label:
        attrs["label"] = plain(edge.label)
    if edge.tooltip:
        attrs["tooltip"] = tooltip(edge.tooltip)
    if edge.conditional:
        attrs.update(CONDITIONAL_DEPEND)
    graph.edge(dot_id(edge.source), dot_id(edge.target), **attrs)
