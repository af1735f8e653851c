"""Which catalog a folder stands for: its root files, those that start with a ``catalog``
header.

The library and every command take a folder for the one catalog in it (``om check
examples/catalog``, ``compile_catalog("examples/catalog")``), so this lives with the compiler
and the CLI only words its exit codes.
"""

from __future__ import annotations

import re
from pathlib import Path

from om_dsl.compiler.loader import Unreadable, read_regular
from om_dsl.source import as_read

NO_ROOT = 'a root file starts with: catalog "Name" version "1"'
_HEADER = re.compile(r"^\s*catalog\s*\"", re.MULTILINE)


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
