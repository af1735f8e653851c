"""Arguments that several commands share.

A command that reads a catalog accepts any form a team keeps in git or CI artefacts: the DSL
sources (compiled on the fly, diagnostics printed), named by their root file or by the folder
that holds it, or the compiled IR JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from om_dsl.cli.app import EXIT_ERRORS, EXIT_USAGE, fail
from om_dsl.cli.diagnostics import from_here, print_compiled_briefly, summary
from om_dsl.compiler import roots
from om_dsl.compiler.driver import compile_catalog
from om_dsl.errors import IRLoadError
from om_dsl.ir.io import load_ir
from om_dsl.ir.models import Catalog

CATALOG_HELP = "The catalog: a root .om file, the folder that holds it, or IR JSON."
CatalogArg = Annotated[Path, typer.Argument(help=CATALOG_HELP)]


def one_root(path: Path) -> Path:
    """The catalog a command that reads one catalog gets from ``path``: a folder names its only
    root file, as `om check` finds roots, so `om decompose examples/catalog ...` works like
    `om check examples/catalog`; a folder of several roots is ambiguous (a usage error) and
    says which."""
    try:
        return roots.one_root(path)
    except roots.NotOneRoot as exc:
        fail(str(exc), EXIT_USAGE if exc.roots else EXIT_ERRORS)


def load_catalog_arg(path: Path | str) -> Catalog:
    """The catalog at ``path``: a root ``.om`` file or its folder (compiled) or IR JSON.

    Diagnostics of a compiled catalog go to stderr; any error ends the command with exit 1.
    """
    return load_catalog_and_spans(path)[0]


Spans = Callable[[str], str]
"""How a command names a catalog span in its text output (see :func:`load_catalog_and_spans`)."""


def load_catalog_and_spans(path: Path | str) -> tuple[Catalog, Spans]:
    """The catalog at ``path`` (:func:`load_catalog_arg`), and how text output (`om plan`'s
    "declared at", `--explain`) names its spans: from where `om` runs, as its diagnostics do.
    IR JSON does not say where its sources are, so its spans stay as the compiler wrote them
    (from the root file's folder).  One look at ``path``: a folder's files are read to find
    its root."""
    source = one_root(Path(path))
    if not source.is_file():
        fail(f"{source}: no such file" if not source.exists() else f"{source}: not a file")
    if source.suffix.lower() == ".json":
        try:
            return load_ir(source), _as_written
        except IRLoadError as exc:
            fail(f"{source}: {exc}")
    result = compile_catalog(source)
    print_compiled_briefly(result, source)
    if result.catalog is None:
        errors, _ = summary(result.diagnostics)
        fail(f"{source}: {errors} error(s) in the catalog")
    return result.catalog, from_here(source) or _as_written


def _as_written(span: str) -> str:
    return span
