"""The visual language shared by every view: fonts, colours, shapes, edge styles, graph defaults.

One table per concept so that the catalog map, the plan template and (later) the whole-order
and live views look alike: a CFS is the same blue everywhere, a callout the same shape.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import graphviz

from om_dsl.render.text import esc, font, row, table

FONT = "Helvetica"
TEXT = "#1a202c"
MUTED = "#4a5568"
FAINT = "#718096"


@dataclass(frozen=True, slots=True)
class Tone:
    """A colour pair: a light fill and a strong line/heading colour."""

    fill: str
    line: str


# ---- products and catalog nodes ---------------------------------------------------------------

MapKind = Literal["bundle", "offer", "family", "cfs", "rfs", "resource", "system", "queue"]

TONES: dict[str, Tone] = {
    "bundle": Tone("#e9d8fd", "#553c9a"),
    "offer": Tone("#f3ebff", "#6b46c1"),
    "family": Tone("#faf5ff", "#805ad5"),
    "cfs": Tone("#dbeafe", "#1d4ed8"),
    "rfs": Tone("#dcfce7", "#15803d"),
    "resource": Tone("#fef3c7", "#b45309"),
    "system": Tone("#e2e8f0", "#334155"),
    "queue": Tone("#ccfbf1", "#0f766e"),
    "external": Tone("#f7fafc", "#a0aec0"),
    # whole-order views: a fulfillment request, and one shared across order items
    "request": Tone("#fcfcfd", "#475569"),
    "shared": Tone("#f0fdfa", "#0f766e"),
}

KIND_TITLES: dict[str, str] = {
    "bundle": "bundle",
    "offer": "offer",
    "family": "family",
    "cfs": "CFS",
    "rfs": "RFS",
    "resource": "resource",
    "system": "system",
    "queue": "queue",
}

# ---- plan items --------------------------------------------------------------------------------

ItemKind = Literal["auto", "callout", "manual", "milestone", "wait"]
ITEM_KINDS: tuple[ItemKind, ...] = ("auto", "callout", "manual", "milestone", "wait")
NodeKind = Literal["auto", "callout", "manual", "milestone", "wait", "line"]
"""What a plan node draws: an item of one of the kinds, or a whole collapsed line."""


@dataclass(frozen=True, slots=True)
class ItemShape:
    shape: str
    style: str
    tone: Tone
    meaning: str


ITEM_SHAPES: dict[str, ItemShape] = {
    "auto": ItemShape("box", "rounded,filled", Tone("#e0f2fe", "#0369a1"), "handler in the host"),
    "callout": ItemShape("component", "filled", Tone("#fef9c3", "#a16207"), "call to a system"),
    "manual": ItemShape("house", "filled", Tone("#ffedd5", "#c2410c"), "task in a work queue"),
    "milestone": ItemShape("diamond", "filled", Tone("#dcfce7", "#15803d"), "milestone"),
    "wait": ItemShape("hexagon", "filled", Tone("#ede9fe", "#6d28d9"), "wait for event/condition"),
    # not an item: a whole fulfillment line drawn as one node (``--collapse N``)
    "line": ItemShape("box3d", "filled", Tone("#f1f5f9", "#334155"), "a line, collapsed"),
}

PONR = Tone("#fee2e2", "#b91c1c")
CRITICAL = "#dc2626"
BEYOND_RETURN = Tone("#f1f1f1", "#9b2c2c")

# ---- item states (live view; ``skipped`` also at plan time) ------------------------------------


@dataclass(frozen=True, slots=True)
class StateStyle:
    tone: Tone
    meaning: str
    dashed: bool = False


# In the order of the lifecycle, so that the legend reads like it.  A test holds the keys to
# ``om_dsl.runtime.states.ItemState``.
STATE_STYLES: dict[str, StateStyle] = {
    "pending": StateStyle(Tone("#f8fafc", "#94a3b8"), "waits for its dependencies"),
    "ready": StateStyle(Tone("#cffafe", "#0e7490"), "can start now"),
    "running": StateStyle(Tone("#bfdbfe", "#1d4ed8"), "an attempt is under way"),
    "waiting": StateStyle(Tone("#fef08a", "#a16207"), "for a person, an event or a callback"),
    "completed": StateStyle(Tone("#bbf7d0", "#15803d"), "done"),
    "failed": StateStyle(Tone("#fed7aa", "#c2410c"), "a retry is scheduled"),
    "fatally_failed": StateStyle(Tone("#fca5a5", "#991b1b"), "retries spent: the order is held"),
    "skipped": StateStyle(Tone("#e5e7eb", "#6b7280"), "will not run (condition false)", True),
    "discarded": StateStyle(Tone("#f3f4f6", "#9ca3af"), "never ran, not needed", True),
    "cancelled": StateStyle(Tone("#e9d5ff", "#7e22ce"), "stopped by an order cancel"),
    "on_hold": StateStyle(Tone("#fbcfe8", "#be185d"), "held, e.g. its system is offline"),
}
JEOPARDY = "#ea580c"

# ---- edges -------------------------------------------------------------------------------------

EDGE_STYLES: dict[str, dict[str, str]] = {
    # plans
    "after": {"color": MUTED, "penwidth": "1.2"},
    "depend": {"color": "#2563eb", "style": "dashed", "penwidth": "1.4", "fontcolor": "#1e40af"},
    "undo": {
        "color": FAINT,
        "style": "dotted",
        "arrowhead": "empty",
        "fontcolor": FAINT,
        "penwidth": "1.2",
    },
    "parent": {"color": "#0f766e", "penwidth": "1.6", "fontcolor": "#0f766e", "arrowhead": "vee"},
    "critical": {"color": CRITICAL, "penwidth": "3", "fontcolor": CRITICAL},
    # catalog
    "includes": {
        "color": TONES["bundle"].line,
        "dir": "back",
        "arrowtail": "diamond",
        "fontcolor": TONES["bundle"].line,
    },
    "member": {"color": TONES["family"].line, "style": "dashed", "arrowhead": "empty"},
    "rule": {"color": MUTED, "penwidth": "1.2", "fontcolor": TEXT},
    "calls": {"color": "#94a3b8", "style": "dashed", "arrowhead": "vee", "arrowsize": "0.7"},
}
REQUIRES = {
    "color": TONES["offer"].line,
    "style": "dashed",
    "arrowhead": "open",
    "fontcolor": TONES["offer"].line,
    "constraint": "false",
}
"""``requires`` between offers: both sit in the offers' column, which it must not widen."""
CATALOG_DEPEND = {**EDGE_STYLES["depend"], "constraint": "false"}
"""A ``depend`` on the catalog map: it must not pull products out of their kind's column."""
CONDITIONAL_DEPEND = {"style": "dotted", "arrowhead": "onormal"}
"""What a ``depend ... when`` changes on a ``depend`` edge: it links only where its condition
holds, so it is drawn dotted, with an open arrowhead (and its condition in the label)."""


def new_graph(
    name: str, title: str, subtitle: str | Sequence[str] = "", *, newrank: bool = True
) -> graphviz.Digraph:
    """An empty left-to-right diagram with the shared defaults and a title on top.

    ``subtitle`` is one line, or several (one row each, empty ones left out).  ``newrank``
    ranks the whole graph at once (rank constraints may cross clusters); plan views turn it
    off, see :func:`om_dsl.render.plan_draw.draw_plan`.  Off means *absent*: Graphviz 2.43
    takes any value of the attribute, ``false`` included, as on.
    """
    graph = graphviz.Digraph(name=name)
    rows = [row(font(esc(title), bold=True), align="LEFT")]
    lines = [subtitle] if isinstance(subtitle, str) else list(subtitle)
    rows += [row(font(esc(line), size=11, colour=MUTED), align="LEFT") for line in lines if line]
    layout = {"newrank": "true"} if newrank else {}
    graph.attr(
        rankdir="LR",
        compound="true",
        label=table(rows, padding=1),
        labelloc="t",
        labeljust="l",
        fontname=FONT,
        fontsize="16",
        fontcolor=TEXT,
        nodesep="0.3",
        ranksep="0.55",
        pad="0.3",
        bgcolor="white",
        **layout,
    )
    graph.attr("node", fontname=FONT, fontsize="11", fontcolor=TEXT, margin="0.12,0.06")
    graph.attr("edge", fontname=FONT, fontsize="9", fontcolor=MUTED, arrowsize="0.8")
    return graph
