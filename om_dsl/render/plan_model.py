"""A plan as a generic graph of items: what every plan view draws.

The plan template (one product and action, from the IR), the whole-order plan (from the plan
builder) and the live view (from the store) all build this structure, so they share the
drawing, the critical path and the point-of-no-return logic.  Nodes and edges keep the order
they were added in, which is what makes the DOT deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from om_dsl.render.style import NodeKind

EdgeKind = Literal["after", "depend", "parent", "undo"]
PRECEDENCE: frozenset[str] = frozenset({"after", "depend", "parent"})
NOT_RUN: frozenset[str] = frozenset({"skipped", "discarded"})
"""States of items that take no time: they count as 0 on the critical path."""
DONE: frozenset[str] = NOT_RUN | {"completed", "cancelled"}
"""States after which an item takes no more time (the live view's critical path from now)."""


@dataclass(frozen=True, slots=True)
class PlanNode:
    """One item (a task).

    Attributes:
        id: unique in the graph, stable across runs (e.g. ``AccessLine.reserve_port``).
        name: the item's name, the label's first line.
        kind: auto, callout, manual, milestone or wait: the shape (``line``: a whole
            line collapsed into one node).
        details: label lines under the name (system and method, queue, condition, timing).
        expect_ms: the expected duration; ``None`` counts as 0 on the critical path.
        timeout_ms: how long before the item times out (shown, not scheduled).
        ponr: starting this item is the point of no return.
        compensation: the item only runs to undo another one.
        external: an item of another product, shown for context; never on the critical path.
        cluster: the id of the innermost :class:`PlanCluster` holding it, if any.
        state: the item's state (live view; ``skipped`` at plan time): the colours.
            ``None`` colours the node by kind.
        roots: the root order items it serves; a PONR holds only the items of its roots.
        status: live lines under the timing (attempt, due date, reason), in the state colour.
        jeopardy: an active item past its expected duration or its due time.
        tooltip: full text shown on hover in SVG.
        remaining_ms: live: what is left of the item's expected duration at the time drawn
            (0 once it is done or will not run); when set, the critical path counts it
            instead of ``expect_ms``.
    """

    id: str
    name: str
    kind: NodeKind
    details: tuple[str, ...] = ()
    expect_ms: int | None = None
    timeout_ms: int | None = None
    ponr: bool = False
    compensation: bool = False
    external: bool = False
    cluster: str | None = None
    state: str | None = None
    roots: tuple[str, ...] = ()
    status: tuple[str, ...] = ()
    jeopardy: bool = False
    tooltip: str = ""
    remaining_ms: int | None = None


@dataclass(frozen=True, slots=True)
class PlanEdge:
    """``source`` before ``target``, or ``target`` undoes ``source`` (undo).

    Precedence kinds: ``after`` (same plan), ``depend`` (another product's item), ``parent``
    (a child line waits for its parent line, or the reverse).
    """

    source: str
    target: str
    kind: EdgeKind
    label: str = ""
    tooltip: str = ""
    conditional: bool = False
    """A ``depend ... when``: drawn dotted (see ``style.CONDITIONAL_DEPEND``)."""


@dataclass(frozen=True, slots=True)
class PlanCluster:
    """A box around items: a product's plan, a fulfillment request or line.

    ``tone`` names a colour in :data:`om_dsl.render.style.TONES` (``cfs``, ``external``...);
    ``line`` marks a fulfillment line, which ``--collapse`` may draw as one node.
    """

    id: str
    label: str
    tone: str
    parent: str | None = None
    line: bool = False


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
        """Expected durations (what is left of them, in a live graph); an item that will not
        run (skipped, discarded) takes none."""
        return {n.id: _duration(n) for n in self.nodes}

    def roots(self) -> dict[str, tuple[str, ...]] | None:
        """Root order items per node, or ``None`` when the graph does not know them."""
        if not any(n.roots for n in self.nodes):
            return None
        return {n.id: n.roots for n in self.nodes}


def _duration(node: PlanNode) -> int:
    if node.state in NOT_RUN:
        return 0
    if node.remaining_ms is not None:
        return node.remaining_ms
    return node.expect_ms or 0
