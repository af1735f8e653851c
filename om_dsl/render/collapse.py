"""``--collapse N``: draw each fulfillment line of more than N items as one node.

A big order's plan has thousands of items; what an architect reads at that size is how the
lines wait for each other.  Collapsing keeps every edge between lines (deduplicated, the
strongest kind kept) and drops the edges inside a line.  The critical path, due offsets and
the region beyond the point of no return are computed on the full plan first and then folded
onto the collapsed nodes (:func:`fold_schedule`, :func:`fold_beyond`), so collapsing never
changes the figures, only the level of detail.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from om_dsl.render.analysis import Schedule
from om_dsl.render.plan_model import PlanCluster, PlanEdge, PlanGraph, PlanNode
from om_dsl.render.style import ITEM_KINDS

# Which state a collapsed line shows: the first one any of its items is in.
STATE_PRIORITY = (
    "fatally_failed",
    "failed",
    "on_hold",
    "running",
    "waiting",
    "ready",
    "cancelled",
    "pending",
    "discarded",
    "completed",
    "skipped",
)
# When two items of the same pair of lines are linked by edges of several kinds, keep one.
_EDGE_STRENGTH = {"depend": 0, "parent": 1, "after": 2, "undo": 3}


@dataclass(frozen=True, slots=True)
class Collapsed:
    """The collapsed graph, and where each item of a collapsed line went."""

    graph: PlanGraph
    into: Mapping[str, str]
    members: Mapping[str, tuple[PlanNode, ...]]


def collapse_lines(plan: PlanGraph, limit: int) -> Collapsed:
    """``plan`` with every line cluster of more than ``limit`` items drawn as one node."""
    by_cluster: dict[str, list[PlanNode]] = {}
    for node in plan.nodes:
        if node.cluster is not None:
            by_cluster.setdefault(node.cluster, []).append(node)
    folded = [c for c in plan.clusters if c.line and len(by_cluster.get(c.id, ())) > limit]
    if not folded:
        return Collapsed(plan, {}, {})
    members = {c.id: tuple(by_cluster[c.id]) for c in folded}
    into = {n.id: c.id for c in folded for n in members[c.id]}
    nodes = _nodes(plan.nodes, {c.id: c for c in folded}, members, into)
    gone = set(members)
    graph = replace(
        plan,
        nodes=tuple(nodes),
        edges=tuple(_edges(plan, into)),
        clusters=tuple(c for c in plan.clusters if c.id not in gone),
        notes=(*plan.notes, _note(limit, len(folded))),
    )
    return Collapsed(graph, into, members)


def _note(limit: int, count: int) -> str:
    lines = "1 line" if count == 1 else f"{count} lines"
    return f"{lines} of more than {limit} items collapsed into one node each"


def _nodes(
    nodes: Iterable[PlanNode],
    folded: Mapping[str, PlanCluster],
    members: Mapping[str, tuple[PlanNode, ...]],
    into: Mapping[str, str],
) -> list[PlanNode]:
    """The nodes in their order, each collapsed line where its first item was."""
    out: list[PlanNode] = []
    for node in nodes:
        target = into.get(node.id)
        if target is None:
            out.append(node)
        elif members[target][0] is node:
            out.append(line_node(folded[target], members[target]))
    return out


def line_node(cluster: PlanCluster, items: tuple[PlanNode, ...]) -> PlanNode:
    """One node standing for the items of a line: what they are, their PONR, their states.

    The line takes a state only when every item has one (the live view): the most pressing
    state of its normal items (a compensation waiting for a cancel that never comes is not
    what the line is doing).
    """
    kinds = Counter(n.kind for n in items)
    details = [f"{len(items)} items", ", ".join(f"{kinds[k]} {k}" for k in ITEM_KINDS if kinds[k])]
    ponr = [n.name for n in items if n.ponr]
    if ponr:
        details.append("point of no return: " + ", ".join(ponr))
    states = Counter(n.state for n in items if n.state)
    normal = Counter(n.state for n in items if n.state and not n.compensation) or states
    every = all(n.state for n in items)
    return PlanNode(
        id=cluster.id,
        name=cluster.label,
        kind="line",
        details=tuple(details),
        ponr=bool(ponr),
        cluster=cluster.parent,
        state=next((s for s in STATE_PRIORITY if normal[s]), None) if every else None,
        roots=tuple(dict.fromkeys(r for n in items for r in n.roots)),
        status=_state_counts(states),
        jeopardy=any(n.jeopardy for n in items),
        tooltip="\n".join(f"{n.id} ({n.kind}{', ' + n.state if n.state else ''})" for n in items),
    )


def _state_counts(states: Counter[str]) -> tuple[str, ...]:
    """``2 completed · 1 waiting``, two states a line so that labels stay narrow."""
    parts = [f"{states[s]} {s.replace('_', ' ')}" for s in STATE_PRIORITY if states[s]]
    return tuple(" · ".join(parts[i : i + 2]) for i in range(0, len(parts), 2))


def _edges(plan: PlanGraph, into: Mapping[str, str]) -> list[PlanEdge]:
    """Edges between collapsed lines (one per pair, the strongest kind); none inside a line.

    Edges between compensations are left out where they touch a collapsed line: they order
    the undo work of a cancel, and folded into lines they would read as normal precedence.
    """
    compensations = {n.id for n in plan.nodes if n.compensation}
    chosen: dict[tuple[str, str], PlanEdge] = {}
    for edge in plan.edges:
        source, target = into.get(edge.source, edge.source), into.get(edge.target, edge.target)
        if source == target:
            continue
        folded = source != edge.source or target != edge.target
        if folded and (edge.source in compensations or edge.target in compensations):
            continue
        mapped = replace(edge, source=source, target=target)
        known = chosen.get((source, target))
        if known is None or _EDGE_STRENGTH[edge.kind] < _EDGE_STRENGTH[known.kind]:
            chosen[(source, target)] = mapped
    return list(chosen.values())


def fold_schedule(sched: Schedule, into: Mapping[str, str]) -> Schedule:
    """The full plan's schedule seen on the collapsed nodes (a line spans its items)."""
    start: dict[str, int] = {}
    finish: dict[str, int] = {}
    for node, value in sched.start_ms.items():
        key = into.get(node, node)
        start[key] = min(value, start.get(key, value))
    for node, value in sched.finish_ms.items():
        key = into.get(node, node)
        finish[key] = max(value, finish.get(key, value))
    path = tuple(k for k, _ in itertools.groupby(into.get(n, n) for n in sched.path))
    return Schedule(start, finish, path, sched.total_ms, sched.items())


def fold_beyond(
    beyond: frozenset[str], collapsed: Collapsed, flow: Iterable[str]
) -> tuple[frozenset[str], PlanGraph]:
    """A collapsed line is beyond the point of no return when all its flow items are; one
    that is only partly beyond stays outside the shaded region, and its node says how many
    of its items are (else collapsing hid that they were).  Returns the nodes beyond, and
    the collapsed graph with those notes."""
    flowing = set(flow)
    kept = {n for n in beyond if n not in collapsed.into}
    partly: dict[str, str] = {}
    for line, items in collapsed.members.items():
        ids = [n.id for n in items if n.id in flowing]
        past = sum(i in beyond for i in ids)
        if ids and past == len(ids):
            kept.add(line)
        elif past:
            partly[line] = f"{past} of {len(ids)} items beyond PONR"
    graph = collapsed.graph
    if partly:
        nodes = tuple(
            replace(n, details=(*n.details, partly[n.id])) if n.id in partly else n
            for n in graph.nodes
        )
        graph = replace(graph, nodes=nodes)
    return frozenset(kept), graph
