"""`om check --watch`: check again each time a catalog file changes.

Designers run `om check` dozens of times a day; with ``--watch`` the check re-runs on save, as
``tsc --watch`` and ``ruff check --watch`` do.  Changes are found by polling each ``.om`` file's
modification time and size: no platform file-event API and no extra dependency, and a stat of
the few hundred files of a catalog costs well under a millisecond per file.  The folders
polled are those of the paths given: a root's imports stay inside its folder, so a file that
an import names but that does not exist yet is seen as soon as it is created.  Hidden folders
(``.venv``, ``.git``) and ``node_modules`` are not looked into.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

Snapshot = dict[Path, tuple[int, int]]

DEFAULT_INTERVAL_S = 0.5
MIN_INTERVAL_S = 0.05
MAX_INTERVAL_S = 60.0


def folders(paths: Sequence[Path]) -> list[Path]:
    """The folders to poll: a folder given as is, a file's own folder; each once."""
    out: list[Path] = []
    for path in paths:
        folder = (path if path.is_dir() else path.parent).resolve()
        if folder not in out:
            out.append(folder)
    return out


SKIPPED = frozenset({"node_modules", "__pycache__"})
"""Folders never looked into, besides hidden ones (``.git``, ``.venv``): walking a virtualenv
on every look took 57 ms in this repository, against 4 ms for everything else."""


def snapshot(roots: Iterable[Path]) -> Snapshot:
    """(mtime in ns, size) of every ``.om`` file under ``roots``; unreadable ones are skipped."""
    found: Snapshot = {}
    for root in roots:
        for path in om_files(root):
            _add(found, path)
    return found


def om_files(root: Path) -> Iterator[Path]:
    """Every ``.om`` file under the folder ``root``, folder by folder in name order (also
    what `om fmt` formats in a folder).  Hidden files are skipped like hidden folders: an
    editor's lock or backup (Emacs's ``.#x.om``) is not a catalog file."""
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith(".") and d not in SKIPPED)
        for name in sorted(files):
            if name.endswith(".om") and not name.startswith("."):
                yield Path(folder, name)


def _add(found: Snapshot, path: Path) -> None:
    try:
        stat = path.stat()
    except OSError:  # removed since the listing, or not readable
        return
    found[path] = (stat.st_mtime_ns, stat.st_size)


def changes(before: Snapshot, after: Snapshot) -> list[Path]:
    """The files added, removed or modified between two snapshots, in path order."""
    return sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))


def wait_for_change(
    before: Snapshot,
    roots: Sequence[Path],
    interval: float,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[Snapshot, list[Path]]:
    """Poll until a ``.om`` file under ``roots`` differs from ``before``; the new snapshot and
    the changed files."""
    while True:
        sleep(interval)
        after = snapshot(roots)
        changed = changes(before, after)
        if changed:
            return after, changed
