"""A name that is unknown only because the file that declares it is not imported.

A forgotten ``import "common/types.om"`` made every type, enum member, system and queue of
that file unknown (20 errors for one missing line), with hints that led away from the fix
("to match a text value, quote it").  When a name is unknown (E020, E025, E026) and an
``.om`` file in the catalog root that the catalog does not load declares it, the error's hint
becomes the import to add.

Only files inside the catalog root are read (symlinks that lead out of it are skipped, as
imports are refused there), at most :data:`MAX_FILES` of them, each up to the loader's size
limit, and only when a compile already has such an error.
"""

from __future__ import annotations

import os
import re
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import Final

from om_dsl.errors import Diagnostic, DiagnosticBag
from om_dsl.source import SourceFile
from om_dsl.suggest import closest
from om_dsl.syntax import ast
from om_dsl.syntax.parser import parse_module

UNKNOWN_NAME_CODES: Final = frozenset({"E020", "E025", "E026"})
MAX_FILES: Final = 200
_MAX_BYTES: Final = 1024 * 1024
_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MISSING: Final = re.compile(r"cannot find '(.+)'")
"""The message of the E010 of an import whose file does not exist (the loader's)."""


def hint_imports(
    diagnostics: list[Diagnostic], sources: dict[str, SourceFile], root_folder: Path
) -> list[Diagnostic]:
    """``diagnostics``, each unknown name that an unloaded file declares hinted to its import;
    or, when that file is the one a failed import most likely meant (``import
    "common/type.om"`` for ``common/types.om``), left out and counted on that import's E010:
    its fix is the import's, and "add import ..." hints sent the designer to the wrong file."""
    unknown = {i: name for i, d in enumerate(diagnostics) if (name := _unknown_name(d, sources))}
    if not unknown:
        return diagnostics
    declared = _declared_elsewhere(root_folder, set(sources))
    meant = _meant_by_failed_imports(diagnostics, {rel for rel, _ in declared.values()})
    out: list[Diagnostic | None] = list(diagnostics)
    left_out: dict[int, int] = {}
    for i, name in unknown.items():
        found = declared.get(name)
        span = diagnostics[i].span
        if found is None or span is None:
            continue
        failed = meant.get(found[0])
        if failed is not None:
            out[i] = None
            left_out[failed] = left_out.get(failed, 0) + 1
        else:
            out[i] = replace(diagnostics[i], hints=(_import_hint(name, found, span.file),))
    for i, count in left_out.items():
        out[i] = replace(diagnostics[i], hints=(*diagnostics[i].hints, _follow_on_hint(count)))
    return [d for d in out if d is not None]


def _meant_by_failed_imports(diagnostics: list[Diagnostic], unloaded: set[str]) -> dict[str, int]:
    """Unloaded file -> the index of the E010 of the failed import that most likely meant it."""
    meant: dict[str, int] = {}
    for i, diag in enumerate(diagnostics):
        missing = _MISSING.fullmatch(diag.message) if diag.code == "E010" else None
        close = closest(missing.group(1), unloaded) if missing else None
        if close is not None:
            meant.setdefault(close, i)
    return meant


def _follow_on_hint(count: int) -> str:
    errors = "1 error" if count == 1 else f"{count} errors"
    return f"{errors} about names that file declares are left out: they go once this is fixed"


def _unknown_name(diag: Diagnostic, sources: dict[str, SourceFile]) -> str | None:
    """The name an unknown-name error points at, read from the source under its span."""
    if diag.code not in UNKNOWN_NAME_CODES or diag.span is None:
        return None
    source = sources.get(diag.span.file)
    if source is None or diag.span.line != diag.span.end_line:
        return None
    text = source.line_text(diag.span.line)[diag.span.col - 1 : diag.span.end_col - 1]
    return text if _NAME.fullmatch(text) else None


def _declared_elsewhere(folder: Path, loaded: set[str]) -> dict[str, tuple[str, str]]:
    """Name -> (file relative to the root, what declares it), over the unloaded files that
    another catalog does not own (a file with a ``catalog`` header is a root of its own:
    importing it is E013)."""
    declared: dict[str, tuple[str, str]] = {}
    for rel in _unloaded_files(folder, loaded):
        text = _small_text(folder / rel)
        if text is None:
            continue
        module = parse_module(rel, text, DiagnosticBag())
        if any(isinstance(decl, ast.CatalogDecl) for decl in module.decls):
            continue
        for name, what in _names(module):
            declared.setdefault(name, (rel, what))
    return declared


def _small_text(path: Path) -> str | None:
    """The file's text, unless it is larger than :data:`_MAX_BYTES` (never read whole: a
    1.5 GB file next to the catalog cost 10 s and its size in memory) or not UTF-8."""
    try:
        with path.open("rb") as handle:
            data = handle.read(_MAX_BYTES + 1)
        return None if len(data) > _MAX_BYTES else data.decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _unloaded_files(folder: Path, loaded: set[str]) -> list[str]:
    """The first :data:`MAX_FILES` ``.om`` files of the root the catalog does not load (the
    loaded ones are left out first: a catalog of 400 files still gets its hint)."""
    try:
        root = folder.resolve()
        found = sorted(p for p in root.rglob("*.om") if p.is_file())
    except OSError:
        return []
    out: list[str] = []
    for path in found:
        rel = path.relative_to(root).as_posix()
        if rel in loaded or not path.resolve().is_relative_to(root):
            continue
        out.append(rel)
        if len(out) == MAX_FILES:
            break
    return out


def _names(module: ast.Module) -> list[tuple[str, str]]:
    names: list[tuple[str, str]] = []
    for decl in module.decls:
        if isinstance(decl, ast.EnumDecl):
            names.append((decl.name.value, f"enum {decl.name.value}"))
            names += [(m.value, f"enum {decl.name.value}") for m in decl.members]
        elif isinstance(decl, ast.ProductDecl):
            names.append((decl.name.value, f"{decl.kind} {decl.name.value}"))
        elif isinstance(decl, ast.SystemDecl):
            names.append((decl.name.value, f"system {decl.name.value}"))
        elif isinstance(decl, ast.QueueDecl):
            names.append((decl.name.value, f"queue {decl.name.value}"))
        elif isinstance(decl, ast.TableDecl):
            names.append((decl.name.value, f"table {decl.name.value}"))
    return names


def _import_hint(name: str, found: tuple[str, str], importer: str) -> str:
    rel, what = found
    path = os.path.relpath(rel, PurePosixPath(importer).parent.as_posix() or ".")
    shown = "" if what.endswith(f" {name}") else f" ({what})"
    return (
        f"'{name}'{shown} is declared in {rel}, which the catalog does not import: "
        f'add import "{PurePosixPath(path).as_posix()}" to {importer}'
    )
