"""Rendering a big order's plan: ~2,000 items to DOT and to SVG, against plain ``dot -Tsvg``.

The order is generated for the example catalog (``examples/catalog/acme.om``) and goes through
the real pipeline (validate, decompose, ``build_plan``), so the plan has the real shape: Home
Trio and Home Duo bundles and TMF25 mobile bundles in turn, one order-scoped access line and
router shared by every home bundle (a hub of ``depend`` edges), reliesOn billing groups and a
shared customer account, parent/child lines, points of no return, items skipped at plan time
and compensations.  Measured as medians, round-robin (see the harness), without and with
``--collapse 2``:

- ``dot``: ``render_order_plan`` + ``render(graph, "dot")``, our whole Python side;
- ``svg``: the same to SVG, what a caller waits for;
- ``baseline``: ``dot -Tsvg`` fed the same DOT source, Graphviz alone.

``svg / baseline`` is our overhead over Graphviz's own layout and rendering; ``collapsed /
full`` is what ``--collapse 2`` saves.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks import harness
from om_dsl.compiler.driver import compile_catalog
from om_dsl.ir import models as ir
from om_dsl.orders.decompose import Decomposer
from om_dsl.orders.models import Decomposition
from om_dsl.render import PlanOptions, render, render_order_plan
from om_dsl.runtime.builder import build_plan
from om_dsl.runtime.plan import OrderPlan

NAME = "render"
ROOTS = 230  # root order items: 1,969 plan items
QUICK_ROOTS = 50
COLLAPSE = 2
REPEATS = 5
QUICK_REPEATS = 2
CATALOG = Path(__file__).resolve().parents[1] / "examples" / "catalog" / "acme.om"


# ---- the workload -----------------------------------------------------------------------------


def generate_order(roots: int) -> dict[str, Any]:
    """A native order of ``roots`` bundles: Home Trio, Home Duo, then two TMF25, in turn."""
    makers = (_trio, _duo, _mobile, _mobile)
    items = [makers[r % len(makers)](r) for r in range(roots)]
    return {"id": "BIG-1", "account": "ACC-9", "attributes": {"site_id": "SITE-1"}, "items": items}


def _trio(r: int) -> dict[str, Any]:
    children = [
        {"id": f"t{r}.net", "product": "HomeFibre", "attributes": {"speed": 500}},
        {"id": f"t{r}.voice", "product": "HomeVoice", "quantity": 2},
        {"id": f"t{r}.tv", "product": "HomeTv", "attributes": {"package": "Family"}},
    ]
    return {"id": f"t{r}", "product": "HomeTrio", "action": "add", "children": children}


def _duo(r: int) -> dict[str, Any]:
    net = {"speed": 500, "static_ip": True}
    children = [
        {"id": f"d{r}.net", "product": "HomeFibre", "attributes": net},
        {"id": f"d{r}.voice", "product": "HomeVoice"},
    ]
    return {"id": f"d{r}", "product": "HomeDuo", "action": "add", "children": children}


def _mobile(r: int) -> dict[str, Any]:
    line = f"m{r}.line"
    relies = [{"type": "reliesOn", "id": line}]
    children = [
        {"id": line, "product": "MobileTelephony", "attributes": {"msisdn": f"+3360{r:07d}"}},
        {"id": f"m{r}.plan", "product": "TariffPlan", "relationships": relies},
        {"id": f"m{r}.cover", "product": "CoverageOptions", "relationships": relies},
    ]
    return {"id": f"m{r}", "product": "TMF25", "action": "add", "children": children}


def plan_order(catalog: ir.Catalog, roots: int) -> tuple[OrderPlan, Decomposition]:
    """The generated order, validated, decomposed and planned."""
    decomposer = Decomposer(catalog)
    order = decomposer.read(json.dumps(generate_order(roots)))
    work = decomposer.decompose(order)
    return build_plan(catalog, work, order), work


# ---- measuring --------------------------------------------------------------------------------


def _baseline(source: bytes) -> bytes:
    return subprocess.run(["dot", "-Tsvg"], input=source, capture_output=True, check=True).stdout


def measure(roots: int, repeats: int) -> dict[str, Any]:
    catalog = compile_catalog(CATALOG).raise_on_error()
    plan, work = plan_order(catalog, roots)
    full, folded = PlanOptions(), PlanOptions(collapse=COLLAPSE)
    source = render(render_order_plan(catalog, plan, work, full), "dot")
    collapsed = render(render_order_plan(catalog, plan, work, folded), "dot")
    timings = harness.time_interleaved(
        {
            "dot": lambda _m: render(render_order_plan(catalog, plan, work, full), "dot"),
            "svg": lambda _m: render(render_order_plan(catalog, plan, work, full), "svg"),
            "baseline": lambda _m: _baseline(source),
            "dot collapsed": lambda _m: render(
                render_order_plan(catalog, plan, work, folded), "dot"
            ),
            "svg collapsed": lambda _m: render(
                render_order_plan(catalog, plan, work, folded), "svg"
            ),
            "baseline collapsed": lambda _m: _baseline(collapsed),
        },
        repeats,
    )
    return {
        "items": len(plan.items),
        "lines": len(plan.lines),
        "requests": len({line.request for line in plan.lines}),
        "edges": sum(len(item.deps) + len(item.compensation_of) for item in plan.items),
        "collapse": COLLAPSE,
        "dot_bytes": len(source),
        "dot_bytes_collapsed": len(collapsed),
        "timings": timings,
    }


def _ratios(timings: dict[str, harness.Timing]) -> dict[str, float]:
    def ratio(a: str, b: str) -> float:
        return round(timings[a].median / timings[b].median, 4)

    return {
        "svg_over_baseline": ratio("svg", "baseline"),
        "svg_collapsed_over_baseline_collapsed": ratio("svg collapsed", "baseline collapsed"),
        "svg_collapsed_over_svg": ratio("svg collapsed", "svg"),
        "dot_over_svg": ratio("dot", "svg"),
    }


def main(argv: Sequence[str]) -> int:
    args = harness.parse_args(NAME, argv, __doc__ or "")
    if harness.dot_missing():
        return 1
    roots = QUICK_ROOTS if args.quick else ROOTS
    repeats = args.repeats or (QUICK_REPEATS if args.quick else REPEATS)
    start = time.perf_counter()
    result = measure(roots, repeats)
    timings: dict[str, harness.Timing] = result.pop("timings")
    ratios = _ratios(timings)
    rows = harness.timing_rows(timings)
    harness.print_table(
        f"render the plan of an order of {result['items']} items on {result['lines']} lines, "
        f"{result['edges']} edges ({repeats} runs, medians; collapsed = --collapse {COLLAPSE})",
        harness.TIMING_HEADERS,
        rows,
    )
    print(f"svg / baseline (dot -Tsvg alone): {ratios['svg_over_baseline']:.3f}")
    print(
        f"svg collapsed / baseline collapsed: {ratios['svg_collapsed_over_baseline_collapsed']:.3f}"
    )
    print(f"collapsed / full (svg): {ratios['svg_collapsed_over_svg']:.3f}")
    print(f"our Python side (dot case) is {ratios['dot_over_svg']:.1%} of the svg time")
    if not args.no_write:
        harness.write_result(
            NAME,
            {
                **result,
                "timings": {k: t.to_dict() for k, t in timings.items()},
                "ratios": ratios,
                "baseline": "dot -Tsvg on the same DOT source",
                "elapsed_s": round(time.perf_counter() - start, 2),
            },
            quick=args.quick,
        )
    return 0
