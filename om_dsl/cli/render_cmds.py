"""`om render ...`: diagrams as files or on stdout (catalog map, plan template).

Every subcommand builds a Graphviz graph and hands it to :func:`emit`, which picks the format
(``--format``, else the ``-o`` suffix, else DOT on stdout), renders it and writes it.  Later
views (``plan``, ``decomposition``, ``live``) register on :data:`render_app` the same way.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import graphviz
import typer

from om_dsl.cli.app import EXIT_USAGE, app, err, fail
from om_dsl.cli.common import load_catalog_arg
from om_dsl.render import GraphvizNotFound, RenderError, choose_format, render
from om_dsl.render.catalog import render_catalog
from om_dsl.render.template import render_plan_template

render_app = typer.Typer(
    name="render",
    help="Draw diagrams with Graphviz: dot (no binary needed), svg, png or pdf.",
    no_args_is_help=True,
)
app.add_typer(render_app, name="render")

CatalogArg = Annotated[Path, typer.Argument(help="The catalog: a root .om file or IR JSON.")]
OutputOpt = Annotated[
    str | None, typer.Option("-o", "--output", help="Write here; the suffix picks the format.")
]
FormatOpt = Annotated[
    str | None, typer.Option("--format", help="dot, svg, png or pdf (default: from -o, or dot).")
]


@render_app.command("catalog")
def catalog_cmd(
    catalog: CatalogArg,
    focus: Annotated[
        str | None,
        typer.Option("--focus", help="Only this product (or system) and its neighbours."),
    ] = None,
    output: OutputOpt = None,
    fmt: FormatOpt = None,
) -> None:
    """The catalog map: offers and bundles, technical products, rules, systems."""
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
    except RenderError as exc:
        fail(str(exc))
    if output is None or output == "-":
        if fmt != "dot" and sys.stdout.isatty():
            fail(f"{fmt} is binary; write it to a file with -o FILE", EXIT_USAGE)
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    write_bytes(data, Path(output))
    err.print(f"wrote {output} ({fmt}, {len(data)} bytes)")


def write_bytes(data: bytes, target: Path) -> None:
    """Write atomically: a reader never sees a half-written diagram."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
