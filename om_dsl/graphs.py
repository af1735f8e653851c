"""Cycle finding for every graph om_dsl checks: bundles, decomposition chains, task
dependencies (compiler and plan builder) and relationships between order items."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import TypeVar

N = TypeVar("N", bound=Hashable)


def find_cycles(graph: Mapping[N, Sequence[N]]) -> list[list[N]]:
    """One path per cycle, each closed (first node repeated last), in a deterministic order.

    Iterative DFS: catalogs with long chains must not hit Python's recursion limit.  Each
    strongly connected region is reported once, from the first node that reaches it.
    """
    state: dict[N, int] = {}  # 1 = on the stack, 2 = done
    cycles: list[list[N]] = []
    reported: set[frozenset[N]] = set()
    for start in graph:
        if state.get(start) or not graph[start]:
            # Done already, or a node with no successors: it is on no cycle, so a walk from it
            # finds none (it is still visited from any node that reaches it).  Most nodes of a
            # task graph are such leaves.
            continue
        stack: list[tuple[N, int]] = [(start, 0)]
        path: list[N] = [start]
        state[start] = 1
        while stack:
            node, index = stack[-1]
            successors = graph.get(node, ())
            if index >= len(successors):
                stack.pop()
                path.pop()
                state[node] = 2
                continue
            stack[-1] = (node, index + 1)
            nxt = successors[index]
            mark = state.get(nxt)
            if mark == 1:
                cycle = [*path[path.index(nxt) :], nxt]
                key = frozenset(cycle)
                if key not in reported:
                    reported.add(key)
                    cycles.append(cycle)
            elif mark is None:
                state[nxt] = 1
                stack.append((nxt, 0))
                path.append(nxt)
    return cycles
