"""A big catalog's map is drawn flat (no columns, labels as xlabels); a small one is unchanged.

Only the DOT is checked: how long Graphviz takes is ``python -m benchmarks catalog_map``'s.
"""

from __future__ import annotations

import functools
import re
import shutil

import graphviz
import pytest

from benchmarks.gen_catalog import generate
from om_dsl.compiler.driver import compile_catalog
from om_dsl.ir.models import Catalog
from om_dsl.render import render, render_catalog
from om_dsl.render.catalog import BIG_MAP, draw_catalog
from om_dsl.render.catalog_model import CatalogMap, MapEdge, MapNode, catalog_map

COLUMNS = ("commercial", "cfs", "rfs", "resource", "systems")


@functools.cache
def _big() -> Catalog:
    """173 products, 185 nodes on the map: above ``BIG_MAP``."""
    return compile_catalog("big.om", generate(3_000)).raise_on_error()


def _dot(graph: graphviz.Digraph) -> str:
    return render(graph, "dot").decode("utf-8")


def _edge_lines(dot: str) -> list[str]:
    return [line for line in dot.splitlines() if " -> " in line]


def _ranked_xlabels(dot: str) -> list[str]:
    """The edges that rank their ends yet have an ``xlabel``: none on a map in columns, where
    only ``constraint=false`` edges take one (see ``test_a_column_map_with_depends_renders``)."""
    return [e for e in _edge_lines(dot) if "xlabel=" in e and "constraint=false" not in e]


def _map(nodes: int) -> CatalogMap:
    """``nodes`` offers in a chain of labelled rule edges, and one system."""
    offers = [MapNode(f"product.O{i}", "offer", f"O{i}") for i in range(nodes - 1)]
    system = MapNode("system.S", "system", "S")
    edges = [
        MapEdge(f"product.O{i}", f"product.O{i + 1}", "rule", f"when x > {i}")
        for i in range(nodes - 2)
    ]
    return CatalogMap("Catalog map: t 1", (*offers, system), tuple(edges))


def test_a_map_above_the_threshold_has_no_columns_and_xlabels() -> None:
    cmap = catalog_map(_big())
    assert len(cmap.nodes) > BIG_MAP
    dot = _dot(render_catalog(_big()))
    for column in COLUMNS:
        assert f"subgraph cluster_{column} " not in dot
    assert "subgraph cluster_legend_catalog" in dot  # the legend keeps its box
    assert re.search(r"subgraph systems_column \{\s*rank=same", dot)  # systems still one rank
    labelled = [e for e in cmap.edges if e.label]
    edges = _edge_lines(dot)
    assert sum(" xlabel=" in line for line in edges) == len(labelled) > 0
    assert not any(re.search(r"[ \[]label=", line) for line in edges)
    assert "drawn without the columns of kinds" in dot
    assert "--focus X draws one product" in dot
    # every node and edge is still drawn, and the same as with the columns otherwise
    columns = _dot(draw_catalog(cmap, flat=False))
    assert len(edges) == len(_edge_lines(columns))
    assert dot.count('tooltip="') == columns.count('tooltip="')


def test_a_map_just_over_the_threshold_is_flat_and_one_at_it_is_not() -> None:
    at, over = _dot(draw_catalog(_map(BIG_MAP))), _dot(draw_catalog(_map(BIG_MAP + 1)))
    assert "subgraph cluster_commercial" in at
    assert re.search(r'[ \[]label="when x > 0"', at) and "xlabel=" not in at
    assert "subgraph cluster_commercial" not in over
    assert ' xlabel="when x > 0"' in over and not re.search(r'[ \[]label="when x > 0"', over)


def test_a_small_map_is_byte_for_byte_the_columns_map(acme: Catalog) -> None:
    cmap = catalog_map(acme)
    assert len(cmap.nodes) <= BIG_MAP
    assert _dot(render_catalog(acme)) == _dot(draw_catalog(cmap, flat=False))
    assert _ranked_xlabels(_dot(render_catalog(acme))) == []


def test_a_focus_in_a_big_catalog_is_small_enough_for_the_columns() -> None:
    dot = _dot(render_catalog(_big(), focus="AccessLine0"))
    assert "subgraph cluster_cfs" in dot
    assert _ranked_xlabels(dot) == []


def test_flat_can_be_asked_for_or_refused_whatever_the_size(acme: Catalog) -> None:
    assert "subgraph cluster_cfs" not in _dot(draw_catalog(catalog_map(acme), flat=True))
    assert "subgraph cluster_cfs" in _dot(draw_catalog(catalog_map(_big()), flat=False))


@pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz")
@pytest.mark.parametrize(("lines", "seed"), [(500, 0), (1_000, 1), (2_500, 2)])
def test_a_column_map_with_depends_renders(lines: int, seed: int) -> None:
    """Graphviz 2.43 failed on these maps ("trouble in init_rank", "lost ... edge": no SVG)
    while a ``depend``'s label was a label node; as an ``xlabel`` it lays them out."""
    catalog = compile_catalog("g.om", generate(lines, seed)).raise_on_error()
    graph = render_catalog(catalog)
    dot = _dot(graph)
    assert "cluster" in dot  # drawn in columns: below BIG_MAP
    depends = [line for line in _edge_lines(dot) if "constraint=false" in line]
    assert depends and all("xlabel=" in line and " label=" not in line for line in depends)
    assert render(graph, "svg").startswith(b"<?xml")
