"""Legends: what each shape, colour and line style means, drawn inside the diagram itself.

A legend is a cluster of sample nodes (shapes can only be shown by real nodes) plus one
table of line styles and markers.  Each column of the legend shares one rank, and invisible
edges from the diagram's deepest node (the *anchor*) put those ranks last: the legend sits at
the right edge instead of a row stretched along the ranks of the diagram.

Legend node ids start with ``~``, which no product, item or encoded order id can: a product
named ``legend`` with an item ``lines`` was drawn as the legend's table.
"""

from __future__ import annotations

from dataclasses import dataclass

import graphviz

from om_dsl.render.style import (
    BEYOND_RETURN,
    CRITICAL,
    EDGE_STYLES,
    FAINT,
    ITEM_KINDS,
    ITEM_SHAPES,
    JEOPARDY,
    KIND_TITLES,
    MUTED,
    PONR,
    REQUIRES,
    STATE_STYLES,
    TONES,
)
from om_dsl.render.text import esc, font, row, table

_LEGEND_FONT = "9"


def _legend_box(name: str) -> graphviz.Digraph:
    box = graphviz.Digraph(name=f"cluster_legend_{name}")
    box.attr(
        label=f"<{font('Legend', bold=True, colour=MUTED)}>",
        labeljust="l",
        style="rounded",
        color="#cbd5e0",
        fontsize="10",
    )
    box.attr("node", fontsize=_LEGEND_FONT)
    return box


def _swatch(colour: str, border: str, text: str) -> str:
    cells = (
        f'<TD BGCOLOR="{colour}" COLOR="{border}" BORDER="1" WIDTH="14">&#160;</TD>'
        f'<TD ALIGN="LEFT">{font(esc(text), size=9)}</TD>'
    )
    return f"<TR>{cells}</TR>"


def _line(colour: str, pattern: str, text: str, bold: bool = False) -> str:
    sample = font(esc(pattern), size=9, colour=colour, bold=bold)
    return f'<TR><TD>{sample}</TD><TD ALIGN="LEFT">{font(esc(text), size=9)}</TD></TR>'


def _pin(
    graph: graphviz.Digraph, box: graphviz.Digraph, columns: list[list[str]], anchor: str | None
) -> None:
    """Lay ``columns`` of legend node ids out left to right, after ``anchor``."""
    for index, ids in enumerate(columns):
        column = graphviz.Digraph(name=f"{box.name.removeprefix('cluster_')}_column_{index}")
        column.attr(rank="same")
        for node_id in ids:
            column.node(node_id)
        box.subgraph(column)
        if index:
            box.edge(columns[index - 1][0], ids[0], style="invis")
    graph.subgraph(box)
    if anchor is not None:  # at the top level: an edge inside the box would pull anchor in
        graph.edge(anchor, columns[0][0], style="invis")


@dataclass(frozen=True, slots=True)
class LegendExtras:
    """What a plan diagram shows beyond the template's basics, so its legend explains it."""

    parent_edges: bool = False
    collapsed: bool = False
    states: tuple[str, ...] = ()
    jeopardy: bool = False
    critical_path: bool = True
    kinds: tuple[str, ...] = ITEM_KINDS
    """The item kinds drawn: only their shapes are explained (a legend bigger than the
    diagram explained shapes it did not use)."""
    after_edges: bool = True
    depend_edges: bool = True
    conditional_depends: bool = False
    compensations: bool = True
    ponr: bool = True
    beyond_return: bool = True
    context: bool = True


def add_plan_legend(
    graph: graphviz.Digraph, anchor: str | None = None, extras: LegendExtras | None = None
) -> None:
    """Item shapes, then line styles and markers, then item states (when the view has any);
    ``anchor`` is a node id of the last rank."""
    more = extras or LegendExtras()
    box = _legend_box("plan")
    kinds = [k for k in ITEM_KINDS if k in more.kinds] + (["line"] if more.collapsed else [])
    for kind in kinds:
        _shape_sample(box, kind)
    columns = [[f"~legend.{kind}" for kind in kinds]]
    lines = _plan_lines(more)
    if lines:  # an empty table is no valid label
        box.node("~legend.lines", label=table(lines, padding=1), shape="plain")
        columns.append(["~legend.lines"])
    if more.states or more.jeopardy:
        box.node("~legend.states", label=table(_state_rows(more), padding=1), shape="plain")
        columns.append(["~legend.states"])
    columns = [column for column in columns if column]
    if columns:
        _pin(graph, box, columns, anchor)


def _shape_sample(box: graphviz.Digraph, kind: str) -> None:
    shape = ITEM_SHAPES[kind]
    label = table(
        [
            row(font(esc(kind), bold=True, size=9)),
            row(font(esc(shape.meaning), size=8, colour=MUTED)),
        ],
        padding=0,
    )
    box.node(
        f"~legend.{kind}",
        label=label,
        shape=shape.shape,
        style=shape.style,
        fillcolor=shape.tone.fill,
        color=shape.tone.line,
        margin="0.05,0.02",
    )


def _plan_lines(more: LegendExtras) -> list[str]:
    rows = []
    if more.critical_path:
        rows.append(
            _line(CRITICAL, "━━━", "critical path (longest by expected durations)", bold=True)
        )
    wanted = [
        (more.after_edges, _line(MUTED, "───", "after (same product)")),
        (
            more.depend_edges,
            _line(EDGE_STYLES["depend"]["color"], "- - -", "depends on another product's item"),
        ),
        (
            more.conditional_depends,
            _line(EDGE_STYLES["depend"]["color"], "· · ▷", "depends on it when a condition holds"),
        ),
        (
            more.parent_edges,
            _line(EDGE_STYLES["parent"]["color"], "───>", "waits for its parent line"),
        ),
        (more.compensations, _line(FAINT, "· · ·", "compensation: undoes the item it points from")),
        (
            more.ponr,
            _swatch(
                PONR.line, PONR.line, "point of no return (double border): no cancel once it starts"
            ),
        ),
        (
            more.beyond_return,
            _swatch(BEYOND_RETURN.fill, BEYOND_RETURN.line, "beyond the point of no return"),
        ),
        (
            more.context,
            _swatch(
                TONES["external"].fill, TONES["external"].line, "item of another product (context)"
            ),
        ),
    ]
    return rows + [text for shown, text in wanted if shown]


def _state_rows(more: LegendExtras) -> list[str]:
    rows = [
        _swatch(STATE_STYLES[s].tone.fill, STATE_STYLES[s].tone.line, _state_text(s))
        for s in more.states
    ]
    if more.jeopardy:
        rows.append(
            _swatch(JEOPARDY, JEOPARDY, "in jeopardy: past its expected duration or due time")
        )
    return rows


def _state_text(state: str) -> str:
    return f"{state.replace('_', ' ')}: {STATE_STYLES[state].meaning}"


def add_catalog_legend(
    graph: graphviz.Digraph,
    anchor: str | None = None,
    *,
    requires: bool = False,
    conditional: bool = False,
) -> None:
    """Product colours, then the meaning of each edge style, after ``anchor``'s rank;
    ``requires`` edges only on a map that has some (most catalogs have none)."""
    box = _legend_box("catalog")
    rows = [_swatch(TONES[k].fill, TONES[k].line, KIND_TITLES[k]) for k in KIND_TITLES]
    lines = [
        _line(EDGE_STYLES["includes"]["color"], "◆───", "bundle includes [min..max]"),
        _line(EDGE_STYLES["member"]["color"], "- - ▷", "member of a family"),
        _line(MUTED, "───▶", "decomposes into (when …, scope, wait)"),
        _line(EDGE_STYLES["calls"]["color"], "- - >", "its plans call the system or queue"),
        _line(EDGE_STYLES["depend"]["color"], "- - -", "its plan waits for the other's (depend)"),
    ]
    if conditional:
        lines.append(
            _line(EDGE_STYLES["depend"]["color"], "· · ▷", "waits for it when a condition holds")
        )
    if requires:
        lines.append(_line(REQUIRES["color"], "- - >", "an order of it needs one (requires)"))
    box.node("~legend.catalog", label=table([*rows, *lines], padding=1), shape="plain")
    _pin(graph, box, [["~legend.catalog"]], anchor)


def add_decomposition_legend(
    graph: graphviz.Digraph, anchor: str | None = None, not_matched: bool = False
) -> None:
    """Item and line colours, shared requests and lines, then the meaning of each edge (and of
    the rules that made nothing, when the diagram explains them)."""
    box = _legend_box("decomposition")
    kinds = ("bundle", "offer", "cfs", "rfs", "resource")
    rows = [_swatch(TONES[k].fill, TONES[k].line, KIND_TITLES[k]) for k in kinds]
    rows += [
        _swatch(
            TONES["shared"].fill,
            TONES["shared"].line,
            "shared request (order, account or reliesOn scope): used by root requests",
        ),
        _swatch(
            TONES["shared"].line, TONES["shared"].line, "shared line: the order items it serves"
        ),
        _line(EDGE_STYLES["rule"]["color"], "───▶", "decomposed by the named rule (when …)"),
        _line(EDGE_STYLES["member"]["color"], "- - ▷", "reliesOn between order items"),
    ]
    if not_matched:
        rows.append(_line(MUTED, "- - ▶", "a rule that matched nothing, and why (--explain)"))
    box.node("~legend.decomposition", label=table(rows, padding=1), shape="plain")
    _pin(graph, box, [["~legend.decomposition"]], anchor)
