"""Graph facts that plan views emphasise: the critical path and what lies beyond the PONR.

Plain functions over node ids and ``(before, after)`` pairs, independent of any IR or
Graphviz type, so the template, the whole-order plan and the live view all reuse them.
Ties are broken by the order of ``nodes``, never by hashing, so results are deterministic.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from om_dsl.render.errors import RenderError

Edge = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Schedule:
    """Earliest start and finish of each node when every node takes its expected duration.

    ``finish_ms`` is each node's due offset from the start of the plan; ``path`` is a longest
    chain (the critical path) and ``total_ms`` its length.
    """

    start_ms: Mapping[str, int]
    finish_ms: Mapping[str, int]
    path: tuple[str, ...]
    total_ms: int
    path_items: int | None = None
    """How many items the path holds when ``path`` is drawn on collapsed lines (fewer
    nodes); None when ``path`` is the items themselves."""

    def items(self) -> int:
        """The items of the critical path, whatever the diagram folds them into."""
        return len(self.path) if self.path_items is None else self.path_items

    def path_edges(self) -> frozenset[Edge]:
        return frozenset(itertools.pairwise(self.path))


def _predecessors(nodes: Sequence[str], edges: Iterable[Edge]) -> dict[str, list[str]]:
    known = set(nodes)
    preds: dict[str, list[str]] = {n: [] for n in nodes}
    for before, after in edges:
        if before in known and after in known and before not in preds[after]:
            preds[after].append(before)
    return preds


def topological_order(nodes: Sequence[str], edges: Iterable[Edge]) -> list[str]:
    """``nodes`` sorted so every edge points forward; among ready nodes, the first listed.

    Raises:
        RenderError: the edges form a cycle (named in the message).
    """
    preds = _predecessors(nodes, edges)
    position = {n: i for i, n in enumerate(nodes)}
    succs: dict[str, list[str]] = {n: [] for n in nodes}
    for node, before in preds.items():
        for b in before:
            succs[b].append(node)
    waiting = {n: len(preds[n]) for n in nodes}
    ready = [(position[n], n) for n in nodes if waiting[n] == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        _, node = heapq.heappop(ready)
        order.append(node)
        for nxt in succs[node]:
            waiting[nxt] -= 1
            if waiting[nxt] == 0:
                heapq.heappush(ready, (position[nxt], nxt))
    if len(order) < len(nodes):
        stuck = [n for n in nodes if waiting[n] > 0]
        raise RenderError(f"the plan has a dependency cycle through: {', '.join(stuck[:6])}")
    return order


def schedule(nodes: Sequence[str], edges: Iterable[Edge], durations: Mapping[str, int]) -> Schedule:
    """Forward pass of the critical path method (missing durations count as 0).

    Among chains of equal length the one with more items wins, so a plan without expected
    durations still shows its longest chain; remaining ties go to the first node listed.
    """
    preds = _predecessors(nodes, edges)
    position = {n: i for i, n in enumerate(nodes)}
    start: dict[str, int] = {}
    finish: dict[str, int] = {}
    hops: dict[str, int] = {}
    via: dict[str, str | None] = {}
    for node in topological_order(nodes, edges):
        best = _best(preds[node], finish, hops, position)
        start[node] = finish[best] if best is not None else 0
        finish[node] = start[node] + max(durations.get(node, 0), 0)
        hops[node] = hops[best] + 1 if best is not None else 1
        via[node] = best
    end = _best(list(nodes), finish, hops, position)
    path: list[str] = []
    while end is not None:
        path.append(end)
        end = via[end]
    path.reverse()
    total = finish[path[-1]] if path else 0
    return Schedule(start, finish, tuple(path), total)


def _best(
    candidates: list[str],
    finish: Mapping[str, int],
    hops: Mapping[str, int],
    position: Mapping[str, int],
) -> str | None:
    if not candidates:
        return None
    return max(candidates, key=lambda n: (finish[n], hops[n], -position[n]))


def beyond_return(
    nodes: Sequence[str],
    edges: Iterable[Edge],
    ponr: Iterable[str],
    roots: Mapping[str, Sequence[str]] | None = None,
) -> list[str]:
    """The PONR nodes and everything that can only start after one of them, in ``nodes`` order.

    The point of no return is reached when a PONR item *starts*, so the item itself is
    beyond return, as is every item downstream of it.  With ``roots`` (the root order items
    of each node) a PONR holds only its own roots: a downstream item counts when it serves
    one of the root items of the PONR that it follows.
    """
    succs: dict[str, list[str]] = {n: [] for n in nodes}
    for before, after in edges:
        if before in succs and after in succs:
            succs[before].append(after)
    groups: dict[tuple[str, ...], list[str]] = {}
    for start in ponr:
        if start in succs:
            key = tuple(roots.get(start, ())) if roots is not None else ()
            groups.setdefault(key, []).append(start)
    seen: set[str] = set()
    for key, starts in groups.items():
        reached = _reach(starts, succs)
        if roots is not None:
            own, first = set(key), set(starts)
            reached = {n for n in reached if n in first or own.intersection(roots.get(n, ()))}
        seen |= reached
    return [n for n in nodes if n in seen]


def _reach(starts: list[str], succs: Mapping[str, list[str]]) -> set[str]:
    seen: set[str] = set()
    stack = list(starts)
    while stack:
        node = stack.pop()
        if node not in seen:
            seen.add(node)
            stack.extend(succs[node])
    return seen


def deepest(nodes: Sequence[str], edges: Iterable[Edge]) -> str | None:
    """The node at the end of the longest chain by edge count (for placing a legend last).

    The first such node listed wins; with a cycle there is no order, and the last node wins.
    """
    pairs = list(edges)
    try:
        order = topological_order(nodes, pairs)
    except RenderError:
        return nodes[-1] if nodes else None
    preds = _predecessors(nodes, pairs)
    position = {n: i for i, n in enumerate(nodes)}
    depth: dict[str, int] = {}
    for node in order:
        depth[node] = max((depth[p] + 1 for p in preds[node]), default=0)
    return max(nodes, key=lambda n: (depth[n], -position[n]), default=None)
