"""The catalog map: commercial products on the left, technical ones by kind, then systems.

Clusters follow the reading order: offers and bundles, then CFS, RFS and resources, then the
systems and queues that their plans call.  Rule edges carry a short label (condition, target
scope, wait) and the full rule in their tooltip.

A map of more than :data:`BIG_MAP` nodes is drawn *flat*: no column clusters, and edge labels
as ``xlabel`` (placed once the layout is done).  On a generated catalog of 1,923 products
Graphviz 2.43 spent 93 s in ``dot -Tsvg`` on the columns (62 s of it crossing minimisation:
columns stack the kinds far apart, so nearly every edge is long) and the label nodes (a real
edge label is a node of its own, on ranks doubled for it); flat, 3.2 s, with 34 times fewer
crossings (``benchmarks/bench_catalog_map.py``, docs/diagrams.md).
"""

from __future__ import annotations

import graphviz

from om_dsl.ir import models as ir
from om_dsl.render.analysis import deepest
from om_dsl.render.catalog_model import CatalogMap, MapEdge, MapNode, catalog_map, focus_on
from om_dsl.render.legend import add_catalog_legend
from om_dsl.render.style import (
    CATALOG_DEPEND,
    CONDITIONAL_DEPEND,
    EDGE_STYLES,
    KIND_TITLES,
    MUTED,
    REQUIRES,
    TONES,
    Tone,
    new_graph,
)
from om_dsl.render.text import dot_id, esc, font, plain, row, shorten, table, tooltip

# (cluster id, title, tone, node kinds).  Families stay outside every cluster: a family sits
# in the rank of the technical products, and inside the offers' box it would stack that box on
# top of theirs, sending rule edges around both.
_COLUMNS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("commercial", "Offers and bundles", "offer", ("bundle", "offer")),
    ("cfs", "Customer-facing services (CFS)", "cfs", ("cfs",)),
    ("rfs", "Resource-facing services (RFS)", "rfs", ("rfs",)),
    ("resource", "Resources", "resource", ("resource",)),
    ("systems", "Systems and work queues", "system", ("system", "queue")),
)
CALLERS_SHOWN = 8
BIG_MAP = 150
"""Nodes (products, families, systems, queues) above which a map is drawn flat.  The example
catalog's map has 28; every snapshot in tests/render is below, so their DOT is unchanged."""
_SHAPES = {"family": "folder", "system": "box3d", "queue": "tab"}
_EDGE_STYLES = {"depend": CATALOG_DEPEND, "requires": REQUIRES}
"""The map's own styles, where a plan's style of the same name would not fit."""


def render_catalog(catalog: ir.Catalog, focus: str | None = None) -> graphviz.Digraph:
    """The catalog map, or only ``focus`` and its neighbourhood.

    Raises:
        RenderError: ``focus`` names nothing in the catalog.
    """
    cmap = catalog_map(catalog)
    if focus is not None:
        cmap = focus_on(cmap, focus)
    return draw_catalog(cmap)


def draw_catalog(cmap: CatalogMap, *, flat: bool | None = None) -> graphviz.Digraph:
    """The Graphviz diagram of a (possibly focused) :class:`CatalogMap`.

    ``flat`` draws it without the columns of kinds and with edge labels placed after the
    layout (``xlabel``); by default a map of more than :data:`BIG_MAP` nodes is drawn flat.
    """
    if flat is None:
        flat = len(cmap.nodes) > BIG_MAP
    subtitle = [_counts(cmap)]
    if flat:
        subtitle.append(
            f"{len(cmap.nodes)} boxes: drawn without the columns of kinds (the colour and the"
            " title of each box give its kind); --focus X draws one product's neighbourhood"
        )
    graph = new_graph("catalog", cmap.title, subtitle if flat else subtitle[0])
    for cluster_id, title, tone, kinds in _COLUMNS:
        nodes = [n for n in cmap.nodes if n.kind in kinds]
        if nodes and flat:
            _flat_column(graph, cluster_id, nodes, cmap.focus)
        elif nodes:
            graph.subgraph(_column(cluster_id, title, TONES[tone], nodes, cmap.focus))
    for node in cmap.nodes:
        if node.kind == "family":
            _node(graph, node, node.id == cmap.focus)
    for edge in cmap.edges:
        _edge(graph, edge, flat)
    anchor = deepest([n.id for n in cmap.nodes], [(e.source, e.target) for e in cmap.edges])
    requires = any(e.kind == "requires" for e in cmap.edges)
    conditional = any(e.conditional for e in cmap.edges)
    add_catalog_legend(
        graph, dot_id(anchor) if anchor else None, requires=requires, conditional=conditional
    )
    return graph


def _counts(cmap: CatalogMap) -> str:
    kinds = [n.kind for n in cmap.nodes]
    offers = sum(k in ("offer", "bundle") for k in kinds)
    technical = sum(k in ("cfs", "rfs", "resource") for k in kinds)
    rules = sum(e.kind == "rule" for e in cmap.edges)
    return f"{offers} offers and bundles · {technical} technical products · {rules} rules"


def _column(
    cluster_id: str, title: str, tone: Tone, nodes: list[MapNode], focus: str | None
) -> graphviz.Digraph:
    box = graphviz.Digraph(name=f"cluster_{cluster_id}")
    box.attr(
        label=f"<{font(esc(title), bold=True, colour=tone.line)}>",
        labeljust="l",
        style="rounded",
        color=tone.line,
        penwidth="1",
        fontsize="12",
    )
    for node in nodes:
        _node(box, node, node.id == focus)
    if cluster_id == "systems":  # one column at the right, used or not
        column = graphviz.Digraph(name="systems_column")
        column.attr(rank="same")
        for node in nodes:
            column.node(dot_id(node.id))
        box.subgraph(column)
    return box


def _flat_column(
    graph: graphviz.Digraph, cluster_id: str, nodes: list[MapNode], focus: str | None
) -> None:
    """A column's nodes with no box around them; systems and queues still share a rank."""
    for node in nodes:
        _node(graph, node, node.id == focus)
    if cluster_id == "systems":
        column = graphviz.Digraph(name="systems_column")
        column.attr(rank="same")
        for node in nodes:
            column.node(dot_id(node.id))
        graph.subgraph(column)


def _node(graph: graphviz.Digraph, node: MapNode, focused: bool) -> None:
    tone = TONES[node.kind]
    rows = [
        row(font(esc(KIND_TITLES[node.kind]), size=8, colour=tone.line, bold=True)),
        row(font(esc(node.name), bold=True)),
    ]
    rows += [row(font(esc(shorten(line)), size=9, colour=MUTED)) for line in _lines(node)]
    graph.node(
        dot_id(node.id),
        label=table(rows, padding=1),
        shape=_SHAPES.get(node.kind, "box"),
        style="rounded,filled" if node.kind not in _SHAPES else "filled",
        fillcolor=tone.fill,
        color=tone.line,
        penwidth="3" if focused else "1.2",
        tooltip=tooltip(node.tooltip or node.name),
    )


def _lines(node: MapNode) -> list[str]:
    """The node's own lines, then (systems and queues) who calls it, at most a few."""
    lines = list(node.lines)
    if node.kind not in ("system", "queue"):
        return lines
    shown = node.callers[:CALLERS_SHOWN]
    lines += [f"{product} · {actions}" for product, actions in shown]
    more = len(node.callers) - len(shown) + node.hidden_callers
    if more:
        lines.append(f"+ {more} other product(s)")
    elif not node.callers:
        lines.append("(no plan uses it)")
    return lines


def _edge(graph: graphviz.Digraph, edge: MapEdge, flat: bool = False) -> None:
    """``flat``: the label as an ``xlabel``, which Graphviz places after the layout; a
    ``label`` is a node of its own in the layout, on ranks doubled for it.

    An edge that does not rank its ends (``constraint=false``: a ``depend``, a ``requires``)
    always takes an ``xlabel``: a label node on such an edge between two columns made Graphviz
    2.43 fail ("trouble in init_rank", "lost ... edge") on 10 of 18 generated catalogs of 15
    to 134 products, so ``om render catalog --format svg`` gave no map; with ``xlabel`` none
    failed (tests/render/test_render_catalog_big.py)."""
    attrs = dict(_EDGE_STYLES.get(edge.kind) or EDGE_STYLES[edge.kind])
    if edge.label:
        unranked = attrs.get("constraint") == "false"
        attrs["xlabel" if flat or unranked else "label"] = plain(edge.label)
    if edge.tooltip:
        attrs["tooltip"] = attrs["labeltooltip"] = tooltip(edge.tooltip)
    if edge.conditional:
        attrs.update(CONDITIONAL_DEPEND)
    graph.edge(dot_id(edge.source), dot_id(edge.target), **attrs)
