"""`om render ...`: diagrams as files or on stdout.

``catalog`` and ``template`` need the catalog only; ``plan`` and ``decomposition`` also read an
order (validated and decomposed like `om plan` does, with the same one-line issues); ``live``
reads an order's state from a store.  Every subcommand builds a Graphviz graph and hands it to
:func:`emit`, which picks the format (``--format``, else the ``-o`` suffix, else DOT on
stdout), renders it and writes it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import graphviz
import typer

from om_dsl.cli.app import EXIT_USAGE, OmTyper, app, err, fail, output_path, write_file
from om_dsl.cli.common import CatalogArg, load_catalog_arg
from om_dsl.cli.order_args import InstalledBaseOption, decomposer_or_fail, installed_base_or_fail
from om_dsl.cli.plan_cmds import plan_for, read_and_decompose
from om_dsl.cli.runtime_args import exit_code, open_store
from om_dsl.errors import OmError
from om_dsl.orders.explain import explain
from om_dsl.render import (
    GraphvizNotFound,
    PlanOptions,
    RenderError,
    choose_format,
    render,
    render_catalog,
    render_decomposition,
    render_live,
    render_order_plan,
    render_plan_template,
)

render_app = OmTyper(
    name="render",
    help="Draw diagrams with Graphviz: dot (no binary needed), svg, png or pdf.",
    no_args_is_help=True,
)
app.add_typer(render_app, name="render")

OutputOpt = Annotated[
    str | None, typer.Option("-o", "--output", help="Write here; the suffix picks the format.")
]
FormatOpt = Annotated[
    str | None, typer.Option("--format", help="dot, svg, png or pdf (default: from -o, or dot).")
]
OrderArg = Annotated[
    str, typer.Argument(help="The order: TMF622 ProductOrder or native JSON ('-' = stdin).")
]
CollapseOpt = Annotated[
    int | None,
    typer.Option("--collapse", min=0, help="Draw each line of more than N items as one node."),
]


@render_app.command("catalog")
def catalog_cmd(
    catalog: CatalogArg,
    focus: Annotated[
        str | None,
        typer.Option(
            "--focus",
            help="Only this product (or system) and its neighbours: the way to review a big "
            "catalog.",
        ),
    ] = None,
    output: OutputOpt = None,
    fmt: FormatOpt = None,
) -> None:
    """The catalog map: offers and bundles, technical products, rules, systems.

    A map of more than 150 boxes is drawn flat, without the columns of kinds, so that
    Graphviz lays it out in seconds (docs/diagrams.md#catalog-map).
    """
    chosen = _format(fmt, output)
    ir = load_catalog_arg(catalog)
    emit(lambda: render_catalog(ir, focus=focus), chosen, output)


@render_app.command("template")
def template_cmd(
    catalog: CatalogArg,
    product: Annotated[str, typer.Argument(help="A technical product (CFS, RFS or resource).")],
    action: Annotated[str, typer.Argument(help="add, modify, delete or noChange.")],
    output: OutputOpt = None,
    fmt: FormatOpt = None,
) -> None:
    """The plan template of one technical product and action, with its critical path."""
    chosen = _format(fmt, output)
    ir = load_catalog_arg(catalog)
    emit(lambda: render_plan_template(ir, product, action), chosen, output)


@render_app.command("plan")
def plan_cmd(
    catalog: CatalogArg,
    order: OrderArg,
    collapse: CollapseOpt = None,
    output: OutputOpt = None,
    fmt: FormatOpt = None,
    installed_base: InstalledBaseOption = None,
) -> None:
    """An order's whole plan before it runs: critical path, PONR, due offsets."""
    chosen = _format(fmt, output)
    ir = load_catalog_arg(catalog)
    valid, work = read_and_decompose(ir, order, installed_base_or_fail(installed_base, ir))
    plan = plan_for(ir, valid, work)
    emit(lambda: render_order_plan(ir, plan, work, PlanOptions(collapse=collapse)), chosen, output)


@render_app.command("decomposition")
def decomposition_cmd(
    catalog: CatalogArg,
    order: OrderArg,
    output: OutputOpt = None,
    fmt: FormatOpt = None,
    installed_base: InstalledBaseOption = None,
    why: Annotated[
        bool,
        typer.Option(
            "--explain", help="Also draw each rule that made nothing, and why (grey, dashed)."
        ),
    ] = False,
) -> None:
    """An order's items, and the fulfillment requests and lines they decompose into."""
    chosen = _format(fmt, output)
    ir = load_catalog_arg(catalog)
    valid, work = read_and_decompose(ir, order, installed_base_or_fail(installed_base, ir))
    reasons = explain(decomposer_or_fail(ir, "compiled").program, valid, work) if why else None
    emit(lambda: render_decomposition(ir, valid, work, reasons), chosen, output)


@render_app.command("live")
def live_cmd(
    order_id: Annotated[str, typer.Argument(help="The order id.")],
    db: Annotated[Path, typer.Option("--db", help="The SQLite store.")] = Path("om.db"),
    collapse: CollapseOpt = None,
    output: OutputOpt = None,
    fmt: FormatOpt = None,
) -> None:
    """An order's plan as the store has it now: states, attempts, due dates, jeopardy."""
    chosen = _format(fmt, output)
    store = open_store(db, read_only=True)
    try:
        emit(lambda: render_live(store, order_id, collapse=collapse), chosen, output)
    finally:
        store.close()


def _format(fmt: str | None, output: str | None) -> str:
    try:
        return choose_format(fmt, output)
    except RenderError as exc:
        fail(str(exc), EXIT_USAGE)


def emit(build: Callable[[], graphviz.Digraph], fmt: str, output: str | None) -> None:
    """Build the graph, render it as ``fmt`` and write it to ``output`` (or stdout)."""
    try:
        data = render(build(), fmt)
    except GraphvizNotFound as exc:
        fail(str(exc))
    except OmError as exc:  # RenderError, or NotFound for an unknown order
        fail(str(exc), exit_code(exc))
    if output is None or output == "-":
        if fmt != "dot" and sys.stdout.isatty():
            fail(f"{fmt} is binary; write it to a file with -o FILE", EXIT_USAGE)
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    write_file(data, output_path(output))
    err.print(f"wrote {output} ({fmt}, {len(data)} bytes)")
