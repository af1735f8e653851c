"""`make docs`: regenerate ``docs/diagrams/*.svg`` (and their index) from the examples.

Run as ``python -m om_dsl.docs_build [--out DIR] [--format svg|png|...]``.  Each diagram is
one entry in :data:`DIAGRAMS`: the catalog views read the example catalog; the order views
also read an example order (decomposed and planned as `om plan` does); the live view draws a
scripted run of an example order (:mod:`om_dsl.render.sample_run`) at a fixed time, so the
committed SVGs change only when the code or the examples do.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import graphviz

from om_dsl.compiler.driver import compile_catalog
from om_dsl.errors import OmError
from om_dsl.ir.models import Catalog
from om_dsl.orders.decompose import Decomposer
from om_dsl.orders.explain import explain
from om_dsl.orders.models import Decomposition, Order
from om_dsl.render import (
    PlanOptions,
    parse_format,
    render,
    render_catalog,
    render_decomposition,
    render_live,
    render_order_plan,
    render_plan_template,
)
from om_dsl.render.sample_run import SAMPLE_ORDER, sample_run
from om_dsl.runtime.builder import build_plan

REPO = Path(__file__).resolve().parents[1]
EXAMPLE_CATALOG = REPO / "examples" / "catalog" / "acme.om"
EXAMPLE_ORDERS = REPO / "examples" / "orders"
DEFAULT_OUT = REPO / "docs" / "diagrams"
TMF622 = "tmf622-product-order"


@dataclass(frozen=True, slots=True)
class Diagram:
    name: str
    title: str
    about: str
    build: Callable[[Catalog], graphviz.Digraph]


def _template(product: str, action: str) -> Callable[[Catalog], graphviz.Digraph]:
    return lambda catalog: render_plan_template(catalog, product, action)


def _order(catalog: Catalog, name: str) -> tuple[Order, Decomposition]:
    decomposer = Decomposer(catalog)
    order = decomposer.read((EXAMPLE_ORDERS / f"{name}.json").read_bytes())
    return order, decomposer.decompose(order)


def _decomposition(name: str, why: bool = False) -> Callable[[Catalog], graphviz.Digraph]:
    def build(catalog: Catalog) -> graphviz.Digraph:
        order, work = _order(catalog, name)
        reasons = explain(Decomposer(catalog).program, order, work) if why else None
        return render_decomposition(catalog, order, work, reasons)

    return build


def _order_plan(name: str, collapse: int | None = None) -> Callable[[Catalog], graphviz.Digraph]:
    def build(catalog: Catalog) -> graphviz.Digraph:
        order, work = _order(catalog, name)
        plan = build_plan(catalog, work, order)
        return render_order_plan(catalog, plan, work, PlanOptions(collapse=collapse))

    return build


def _live(catalog: Catalog) -> graphviz.Digraph:
    with sample_run(catalog, EXAMPLE_ORDERS) as run:
        return render_live(run.runtime, run.order_id, now=run.now)


DIAGRAMS: tuple[Diagram, ...] = (
    Diagram(
        "catalog",
        "Catalog map",
        "Offers and bundles, technical products by kind, decomposition rules, and the systems "
        "and queues that the plans call.",
        render_catalog,
    ),
    Diagram(
        "catalog-focus-HomeTrio",
        "Catalog map, focused on the HomeTrio bundle",
        "`om render catalog --focus HomeTrio`: only what the bundle includes and produces.",
        lambda catalog: render_catalog(catalog, focus="HomeTrio"),
    ),
    Diagram(
        "plan-AccessLine-add",
        "Plan template: AccessLine on add",
        "A manual installation on the critical path, a point of no return, a compensation, "
        "and three products waiting for the line.",
        _template("AccessLine", "add"),
    ),
    Diagram(
        "plan-MobileSubscription-add",
        "Plan template: MobileSubscription on add",
        "Activation needs the SIM from another product's plan and is the point of no return.",
        _template("MobileSubscription", "add"),
    ),
    Diagram(
        "plan-VoiceService-add",
        "Plan template: VoiceService on add",
        "A wait for an event, and dependencies on two other products.",
        _template("VoiceService", "add"),
    ),
    Diagram(
        f"decomposition-{TMF622}",
        "Decomposition of the TMF622 sample order",
        "`om render decomposition`: the TM Forum sample's bundle and its three items, a "
        "reliesOn group billed once (a shared request) and the customer account (account "
        "scope).",
        _decomposition(TMF622),
    ),
    Diagram(
        "decomposition-home-trio-tv-explained",
        "Decomposition of a Home Trio order, explained",
        "`om render decomposition --explain`: the lines the order made, and the rule that made "
        "none (no static IP: its condition read `static_ip = false`).",
        _decomposition("home-trio-tv", why=True),
    ),
    Diagram(
        f"order-plan-{TMF622}",
        "Plan of the TMF622 sample order",
        "`om render plan`: the mobile activation is the point of no return of root item 100; "
        "billing waits for it and for the account across requests.",
        _order_plan(TMF622),
    ),
    Diagram(
        "order-plan-home-trio-tv",
        "Plan of a Home Trio order (ORD-1004)",
        "Nine lines in a root request and the shared order-scope request: the access line's "
        "installation is the critical path; number porting is skipped at plan time.",
        _order_plan("home-trio-tv"),
    ),
    Diagram(
        "order-plan-home-trio-tv-collapse-2",
        "The same plan with `--collapse 2`",
        "Each line of more than two items is one node; the edges between lines, the critical "
        "path and the point of no return are kept.",
        _order_plan("home-trio-tv", collapse=2),
    ),
    Diagram(
        "live-home-trio-tv",
        "Live plan of ORD-1004, mid-flight",
        f"`om render live`: a scripted run of `{SAMPLE_ORDER}` on day 2 at 18:00 — the line is "
        "active (point of no return passed), the TV boxes' installation is in jeopardy, one "
        "billing callout is on hold and the other fatally failed, so the order is held.",
        _live,
    ),
)


def build(out: Path, fmt: str = "svg", catalog_path: Path = EXAMPLE_CATALOG) -> list[Path]:
    """Render every diagram of :data:`DIAGRAMS` into ``out``; the paths written, in order."""
    catalog = compile_catalog(catalog_path).raise_on_error()
    chosen = parse_format(fmt)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for diagram in DIAGRAMS:
        path = out / f"{diagram.name}.{chosen}"
        path.write_bytes(render(diagram.build(catalog), chosen))
        written.append(path)
    if chosen == "svg":
        written.append(_write_index(out))
    return written


def _write_index(out: Path) -> Path:
    lines = [
        "# Diagrams",
        "",
        "Generated by `make docs` (`python -m om_dsl.docs_build`) from "
        "`examples/catalog/acme.om` and `examples/orders/`; do not edit by hand. "
        "What each view shows and how to read it: [docs/diagrams.md](../diagrams.md).",
        "",
    ]
    for d in DIAGRAMS:
        lines += [f"## {d.title}", "", d.about, "", f"![{d.title}]({d.name}.svg)", ""]
    path = out / "README.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m om_dsl.docs_build", description=__doc__)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    parser.add_argument("--format", default="svg", help="svg (default), png, pdf or dot")
    args = parser.parse_args(argv)
    try:
        written = build(args.out, args.format)
    except OmError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for path in written:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
