"""Arguments that several commands share.

A command that reads a catalog accepts either form a team keeps in git or CI artefacts: the
DSL sources (compiled on the fly, diagnostics printed) or the compiled IR JSON.
"""

from __future__ import annotations

from pathlib import Path

from om_dsl.cli.app import fail
from om_dsl.cli.diagnostics import print_text, summary
from om_dsl.compiler.driver import compile_catalog
from om_dsl.errors import IRLoadError
from om_dsl.ir.io import load_ir
from om_dsl.ir.models import Catalog


def load_catalog_arg(path: Path | str) -> Catalog:
    """The catalog at ``path``: a root ``.om`` file (compiled) or IR JSON (``.json``).

    Diagnostics of a compiled catalog go to stderr; any error ends the command with exit 1.
    """
    source = Path(path)
    if not source.is_file():
        fail(f"{source}: no such file" if not source.exists() else f"{source}: not a file")
    if source.suffix.lower() == ".json":
        try:
            return load_ir(source)
        except IRLoadError as exc:
            fail(f"{source}: {exc}")
    result = compile_catalog(source)
    print_text(result.diagnostics, result.sources)
    if result.catalog is None:
        errors, _ = summary(result.diagnostics)
        fail(f"{source}: {errors} error(s) in the catalog")
    return result.catalog
