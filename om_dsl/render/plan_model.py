"""A plan as a generic graph of items: what every plan view draws.

The plan template (one product and action, from the IR) builds one today; the whole-order
plan (from the plan builder) and the live view (from the store) build the same structure in
phase 2, so they share the drawing, the critical path and the point-of-no-return logic.
Nodes and edges keep the order they were added in, which is what makes the DOT deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from om_dsl.render.style import ItemKind

EdgeKind = Literal["after", "depend", "undo"]
PRECEDENCE: frozenset[str] = frozenset({"after", "depend"})


@dataclass(frozen=True, slots=True)
class PlanNode:
    """One item (a task).

    Attributes:
        id: unique in the graph, stable across runs (e.g. ``AccessLine.reserve_port``).
        name: the item's name, the label's first line.
        kind: auto, callout, manual, milestone or wait: the shape.
        details: label lines under the name (system and method, queue, condition, timing).
        expect_ms: the expected duration; ``None`` counts as 0 on the critical path.
        timeout_ms: how long before the item times out (shown, not scheduled).
        ponr: starting this item is the point of no return.
        compensation: the item only runs to undo another one.
        external: an item of another product, shown for context; never on the critical path.
        cluster: the id of the innermost :class:`PlanCluster` holding it, if any.
        state: the live state (phase 2 live view); ``None`` colours the node by kind.
        tooltip: full text shown on hover in SVG.
    """

    id: str
    name: str
    kind: ItemKind
    details: tuple[str, ...] = ()
    expect_ms: int | None = None
    timeout_ms: int | None = None
    ponr: bool = False
    compensation: bool = False
    external: bool = False
    cluster: str | None = None
    state: str | None = None
    tooltip: str = ""


@dataclass(frozen=True, slots=True)
class PlanEdge:
    """``source`` before ``target`` (after, depend), or ``target`` undoes ``source`` (undo)."""

    source: str
    target: str
    kind: EdgeKind
    label: str = ""


@dataclass(frozen=True, slots=True)
class PlanCluster:
    """A box around items: a product's plan, a fulfillment request or line (phase 2).

    ``tone`` names a colour in :data:`om_dsl.render.style.TONES` (``cfs``, ``external``...).
    """

    id: str
    label: str
    tone: str
    parent: str | None = None


@dataclass(frozen=True, slots=True)
class PlanGraph:
    title: str
    nodes: tuple[PlanNode, ...]
    edges: tuple[PlanEdge, ...]
    clusters: tuple[PlanCluster, ...] = ()
    notes: tuple[str, ...] = field(default=())

    def flow_nodes(self) -> list[str]:
        """The items that run forward: not compensations, not other products' context items."""
        return [n.id for n in self.nodes if not (n.compensation or n.external)]

    def flow_edges(self) -> list[tuple[str, str]]:
        """Precedence edges between flow nodes (undo edges are not precedence)."""
        flow = set(self.flow_nodes())
        return [
            (e.source, e.target)
            for e in self.edges
            if e.kind in PRECEDENCE and e.source in flow and e.target in flow
        ]

    def durations(self) -> dict[str, int]:
        return {n.id: n.expect_ms or 0 for n in self.nodes}
