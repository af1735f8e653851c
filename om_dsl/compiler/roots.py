"""Which catalog a folder stands for: its root files, those that start with a ``catalog``
header.

The library and every command take a folder for the one catalog in it (``om check
examples/catalog``, ``compile_catalog("examples/catalog")``), so this lives with the compiler
and the CLI only words its exit codes.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from om_dsl.compiler.loader import Unreadable, read_regular
from om_dsl.source import as_read

NO_ROOT = 'a root file starts with: catalog "Name" version "1"'
_HEADER = re.compile(r"^\s*catalog\s*\"", re.MULTILINE)
_IMPORT = re.compile(r'^[ \t]*import[ \t]*"([^"\\\n]*)"', re.MULTILINE)
MAX_LEVELS = 16
"""How many folders up :func:`importer_of` looks for the root file of a file without a header."""
MAX_FILES = 1000
"""How many files of a candidate root's imports :func:`importer_of` reads, at most."""


class NotOneRoot(Exception):
    """A folder that holds no catalog root file, or several (``roots``: which, sorted)."""

    def __init__(self, folder: Path, roots: list[Path]) -> None:
        if roots:
            names = ", ".join(str(root) for root in roots)
            self.reason = f"this folder holds {len(roots)} catalogs ({names}); name one"
        else:
            self.reason = f"no catalog root file in this folder ({NO_ROOT})"
        super().__init__(f"{folder}: {self.reason}")
        self.roots = roots


def catalog_roots(path: Path) -> list[Path]:
    """A directory stands for every catalog root file (one with a header) directly inside it."""
    if not path.is_dir():
        return [path]
    return sorted(p for p in path.glob("*.om") if _has_header(p))


def one_root(path: Path) -> Path:
    """The catalog ``path`` names: itself, or a folder's only root file.

    Raises:
        NotOneRoot: ``path`` is a folder of no root file, or of several.
    """
    if not path.is_dir():
        return path
    roots = catalog_roots(path)
    if len(roots) != 1:
        raise NotOneRoot(path, roots)
    return roots[0]


def _has_header(path: Path) -> bool:
    """Whether ``path`` is a catalog root: read as the compiler reads a file (a named pipe or
    a device is not waited on or read without end), a byte order mark allowed."""
    try:
        text = read_regular(path).decode("utf-8", errors="replace")
    except (OSError, Unreadable):  # gone since the listing (an editor saving it), a folder,
        return False  # not a regular file, too large: not a root
    return _HEADER.search(as_read(text)) is not None


def importer_of(file: Path) -> Path | None:
    """The catalog root file that imports ``file`` (directly or not), for a file without a
    header checked on its own, as an editor's on-save check does.

    Imports stay inside the root file's folder, so the root is in ``file``'s folder or one
    above it: the nearest folder that holds a root file is the only one looked at (its root
    files, following their ``import`` lines), within :data:`MAX_LEVELS` folders.  None when
    none imports it: the file is then a catalog without a header.
    """
    try:
        target = file.resolve()
    except (OSError, RuntimeError):  # a symbolic link loop
        return None
    folder = target.parent
    for _ in range(MAX_LEVELS):
        roots = [r for r in catalog_roots(folder) if r.resolve() != target]
        if roots:
            return next((root for root in roots if _imports(root, target)), None)
        if folder.parent == folder:
            return None
        folder = folder.parent
    return None


def shown_importer(file: Path, importer: Path) -> str:
    """``importer`` as a path the user can type where they typed ``file``."""
    relative = os.path.relpath(importer, file.resolve().parent)
    return os.path.normpath(os.path.join(os.path.dirname(str(file)), relative))


def _imports(root: Path, target: Path) -> bool:
    seen: set[Path] = set()
    todo = [root.resolve()]
    while todo and len(seen) < MAX_FILES:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        try:
            text = as_read(read_regular(current).decode("utf-8", errors="replace"))
        except (OSError, Unreadable):
            continue
        for found in _IMPORT.finditer(text):
            path = (current.parent / found.group(1)).resolve()
            if path == target:
                return True
            todo.append(path)
    return False
