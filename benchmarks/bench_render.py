"""Rendering a big plan: ~2,000 items to DOT and to SVG, against plain ``dot -Tsvg``.

The graph is template-like and shaped like the whole-order plan of a large order: fulfillment
requests (clusters) holding lines (nested clusters) of 20 items each, ``after`` chains with
diamonds, cross-line dependencies, a point of no return in some lines, compensations, and
expected durations on most items.  Measured as medians, round-robin (see the harness):

- ``analysis``: critical path and beyond-PONR over the generic graph;
- ``dot``: ``draw_plan`` + ``render(graph, "dot")``, our whole Python side;
- ``svg``: ``draw_plan`` + ``render(graph, "svg")``, what a caller waits for;
- ``baseline``: ``dot -Tsvg`` fed the same DOT source, Graphviz alone.

``svg / baseline`` is our overhead over Graphviz's own layout and rendering.
"""

from __future__ import annotations

import random
import shutil
import subprocess
import time
from collections.abc import Sequence
from typing import Any

from benchmarks import harness
from om_dsl.render import PlanCluster, PlanEdge, PlanGraph, PlanNode, draw_plan, render
from om_dsl.render.analysis import beyond_return, schedule
from om_dsl.render.style import ITEM_KINDS

NAME = "render"
ITEMS = 2_000
QUICK_ITEMS = 400
PER_LINE = 20
LINES_PER_REQUEST = 5
REPEATS = 5
QUICK_REPEATS = 2
EXPECT_MS = (None, 1_000, 60_000, 3_600_000, 86_400_000)
TONES = ("cfs", "rfs", "resource")


def generate(items: int = ITEMS, seed: int = 7) -> PlanGraph:
    """A deterministic plan of ``items`` items (rounded down to whole lines)."""
    rng = random.Random(seed)
    nodes: list[PlanNode] = []
    edges: list[PlanEdge] = []
    clusters: list[PlanCluster] = []
    lines = max(1, items // PER_LINE)
    for line in range(lines):
        request = f"fr{line // LINES_PER_REQUEST}"
        if line % LINES_PER_REQUEST == 0:
            clusters.append(PlanCluster(request, f"FR {line // LINES_PER_REQUEST}", "system"))
        cluster = f"{request}.line{line}"
        clusters.append(PlanCluster(cluster, f"line {line}", TONES[line % 3], parent=request))
        _line(line, cluster, rng, nodes, edges)
        if line % 4:
            edges.append(
                PlanEdge(_id(line - 1, PER_LINE - 2), _id(line, 2), "depend", "same order")
            )
    return PlanGraph(
        f"Synthetic plan: {len(nodes)} items", tuple(nodes), tuple(edges), tuple(clusters)
    )


def _id(line: int, index: int) -> str:
    return f"l{line}.i{index}"


def _line(
    line: int, cluster: str, rng: random.Random, nodes: list[PlanNode], edges: list[PlanEdge]
) -> None:
    """``PER_LINE - 1`` flow items in a chain with diamonds, then one compensation."""
    for index in range(PER_LINE - 1):
        kind = ITEM_KINDS[(line + index) % len(ITEM_KINDS)]
        nodes.append(
            PlanNode(
                id=_id(line, index),
                name=f"item_{line}_{index}",
                kind=kind,
                details=(f"System{index % 4} POST /things/{index}",) if kind == "callout" else (),
                expect_ms=rng.choice(EXPECT_MS),
                ponr=line % 3 == 0 and index == PER_LINE // 2,
                cluster=cluster,
            )
        )
        if index:
            edges.append(PlanEdge(_id(line, index - 1), _id(line, index), "after"))
        if index >= 3 and index % 5 == 0:
            edges.append(PlanEdge(_id(line, index - 3), _id(line, index), "after"))
    undo = PER_LINE - 1
    nodes.append(
        PlanNode(_id(line, undo), f"undo_{line}", "callout", compensation=True, cluster=cluster)
    )
    edges.append(PlanEdge(_id(line, 0), _id(line, undo), "undo", "undo"))


def _analysis(graph: PlanGraph) -> None:
    nodes, edges = graph.flow_nodes(), graph.flow_edges()
    schedule(nodes, edges, graph.durations())
    beyond_return(nodes, edges, [n.id for n in graph.nodes if n.ponr])


def _baseline(source: bytes) -> bytes:
    return subprocess.run(["dot", "-Tsvg"], input=source, capture_output=True, check=True).stdout


def measure(items: int, repeats: int) -> dict[str, Any]:
    graph = generate(items)
    source = render(draw_plan(graph), "dot")
    timings = harness.time_interleaved(
        {
            "analysis": lambda _m: _analysis(graph),
            "dot": lambda _m: render(draw_plan(graph), "dot"),
            "svg": lambda _m: render(draw_plan(graph), "svg"),
            "baseline": lambda _m: _baseline(source),
        },
        repeats,
    )
    return {
        "items": len(graph.nodes),
        "edges": len(graph.edges),
        "clusters": len(graph.clusters),
        "dot_bytes": len(source),
        "timings": timings,
    }


def main(argv: Sequence[str]) -> int:
    args = harness.parse_args(NAME, argv, __doc__ or "")
    if shutil.which("dot") is None:
        print("Graphviz's dot is not installed (apt-get install graphviz); nothing to measure")
        return 1
    items = QUICK_ITEMS if args.quick else ITEMS
    repeats = args.repeats or (QUICK_REPEATS if args.quick else REPEATS)
    start = time.perf_counter()
    result = measure(items, repeats)
    timings: dict[str, harness.Timing] = result.pop("timings")
    ratio = timings["svg"].median / timings["baseline"].median
    rows = [
        [
            key,
            harness.fmt_s(t.median),
            f"{harness.fmt_s(t.best)}..{harness.fmt_s(t.worst)}",
            f"{t.spread * 100:.0f}%",
        ]
        for key, t in timings.items()
    ]
    harness.print_table(
        f"render a plan of {result['items']} items, {result['edges']} edges, "
        f"{result['clusters']} clusters ({repeats} runs, medians)",
        ["case", "median", "min..max", "spread"],
        rows,
    )
    print(f"svg / baseline (dot -Tsvg alone): {ratio:.3f}")
    print(
        f"our Python side (dot case) is {timings['dot'].median / timings['svg'].median:.1%} "
        "of the svg time"
    )
    if not args.no_write:
        harness.write_result(
            NAME,
            {
                **result,
                "timings": {k: t.to_dict() for k, t in timings.items()},
                "ratio_svg_over_baseline": round(ratio, 4),
                "baseline": "dot -Tsvg on the same DOT source",
                "elapsed_s": round(time.perf_counter() - start, 2),
            },
            quick=args.quick,
        )
    return 0
