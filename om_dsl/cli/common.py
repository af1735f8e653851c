"""Arguments that several commands share.

A command that reads a catalog accepts any form a team keeps in git or CI artefacts: the DSL
sources (compiled on the fly, diagnostics printed), named by their root file or by the folder
that holds it, or the compiled IR JSON.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from om_dsl.cli.app import EXIT_USAGE, fail
from om_dsl.cli.diagnostics import print_text, summary
from om_dsl.compiler.driver import compile_catalog
from om_dsl.compiler.loader import Unreadable, read_regular
from om_dsl.errors import IRLoadError
from om_dsl.ir.io import load_ir
from om_dsl.ir.models import Catalog
from om_dsl.source import as_read

CATALOG_HELP = "The catalog: a root .om file, the folder that holds it, or IR JSON."
CatalogArg = Annotated[Path, typer.Argument(help=CATALOG_HELP)]

NO_ROOT = 'a root file starts with: catalog "Name" version "1"'
_HEADER = re.compile(r"^\s*catalog\s*\"", re.MULTILINE)


def catalog_roots(path: Path) -> list[Path]:
    """A directory stands for every catalog root file (one with a header) directly inside it."""
    if not path.is_dir():
        return [path]
    return sorted(p for p in path.glob("*.om") if _has_header(p))


def _has_header(path: Path) -> bool:
    """Whether ``path`` is a catalog root: read as the compiler reads a file (a named pipe or
    a device is not waited on or read without end), a byte order mark allowed."""
    try:
        text = read_regular(path).decode("utf-8", errors="replace")
    except (OSError, Unreadable):  # gone since the listing (an editor saving it), a folder,
        return False  # not a regular file, too large: not a root
    return _HEADER.search(as_read(text)) is not None


def one_root(path: Path) -> Path:
    """The catalog a command that reads one catalog gets from ``path``: a folder names its only
    root file, as `om check` finds roots, so `om decompose examples/catalog ...` works like
    `om check examples/catalog`; a folder of several roots is ambiguous and says which."""
    if not path.is_dir():
        return path
    roots = catalog_roots(path)
    if not roots:
        fail(f"{path}: no catalog root file in this folder ({NO_ROOT})")
    if len(roots) > 1:
        names = ", ".join(str(root) for root in roots)
        fail(f"{path}: this folder holds {len(roots)} catalogs ({names}); name one", EXIT_USAGE)
    return roots[0]


def load_catalog_arg(path: Path | str) -> Catalog:
    """The catalog at ``path``: a root ``.om`` file or its folder (compiled) or IR JSON.

    Diagnostics of a compiled catalog go to stderr; any error ends the command with exit 1.
    """
    source = one_root(Path(path))
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
