"""A consistent copy of a SQLite store, taken while it runs (``om backup``).

The store is in WAL mode: a commit goes to ``om.db-wal`` first, and reaches ``om.db`` only at
a checkpoint.  Copying ``om.db`` alone (``cp``, a file-level snapshot of that one file) misses
every commit since the last checkpoint, silently, and a copy made while a checkpoint writes the
file can be torn.  SQLite's online backup API (``sqlite3.Connection.backup``) copies the
database as one read transaction sees it: every commit up to that moment, the WAL's included,
and nothing of a transaction still open.  Readers do not block writers in WAL mode, so the
running service goes on meanwhile.

The copy goes to a temporary file next to the destination, is checked (``PRAGMA
integrity_check``), made durable (fsync), and only then renamed into place: a backup that
fails leaves nothing behind, and an existing destination is replaced only when asked.

The copy is marked as a backup (where from, when: :mod:`.restore`) before it is checked: a
runner refuses it until it is accepted as a restore, so that checking a backup with
``om serve`` does not resume its orders against the real systems.  The store itself is only
read.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from om_dsl.runtime.store.restore import mark_copy
from om_dsl.runtime.store.sqlite import SqliteStore, StoreError


@dataclass(frozen=True, slots=True)
class Backup:
    """What :func:`backup_store` wrote."""

    path: Path
    orders: int
    size: int


def backup_store(db: str | Path, dest: str | Path, *, force: bool = False) -> Backup:
    """Copy the om store at ``db`` to ``dest``, consistently, whoever uses the store meanwhile.

    Args:
        db: the store (opened read-only: an account that may only read it can back it up).
        dest: the copy, a new file unless ``force``.
        force: replace ``dest`` when it exists.

    Raises:
        StoreError: ``db`` is no om store, ``dest`` exists (without ``force``), is ``db``
            itself or a folder, its folder does not exist, or the copy failed or is damaged
            (nothing was written then).
        OSError: the destination's folder cannot be written.
    """
    target = Path(dest)
    _check_destination(Path(db), target, force)
    source = SqliteStore(db, read_only=True)
    try:
        tmp, orders = _copy(source, target)
    finally:
        source.close()
    try:
        os.chmod(tmp, stat.S_IMODE(os.stat(db).st_mode))  # who may read the store may read it
        _fsync(tmp)
        os.replace(tmp, target)
    except BaseException:
        _discard(tmp)
        raise
    _fsync_folder(target.parent)
    return Backup(target, orders, target.stat().st_size)


def _check_destination(db: Path, target: Path, force: bool) -> None:
    if target.is_dir():
        raise StoreError(f"{target} is a folder: name the backup file in it")
    if not target.parent.is_dir():
        raise StoreError(f"the folder {target.parent.absolute()} does not exist")
    if target.exists() or target.is_symlink():
        if os.path.realpath(target) == os.path.realpath(db):
            raise StoreError(f"{target} is the store itself: back it up to another file")
        if not force:
            raise StoreError(f"{target} exists: give --force to replace it")


def _copy(source: SqliteStore, target: Path) -> tuple[Path, int]:
    """The store copied to a new temporary file next to ``target``, checked: its path, and
    how many orders the copy holds."""
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        copy = sqlite3.connect(tmp, isolation_level=None)
        try:
            source.backup_to(copy)
            orders = int(copy.execute("SELECT COUNT(*) FROM orders").fetchone()[0])
            mark_copy(copy, source.path, orders)  # checked with the rest, then renamed
            _check(copy)
        finally:
            copy.close()
    except sqlite3.Error as exc:
        _discard(tmp)
        raise StoreError(f"the backup to {target} failed: {exc}; nothing was written") from None
    except BaseException:
        _discard(tmp)
        raise
    return tmp, orders


def _check(copy: sqlite3.Connection) -> None:
    """The copy reads back whole (a bad disk under the destination would show here)."""
    found = [str(row[0]) for row in copy.execute("PRAGMA integrity_check").fetchall()]
    if found != ["ok"]:
        raise sqlite3.DatabaseError(f"the copy is damaged: {'; '.join(found[:5])}")
    # one file, whatever the store's journal: a restore copies it back alone
    copy.execute("PRAGMA journal_mode=DELETE")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_folder(folder: Path) -> None:
    """The rename made durable too (not every platform lets a folder be opened)."""
    with contextlib.suppress(OSError):
        _fsync(folder)


def _discard(tmp: Path) -> None:
    for leftover in (tmp, Path(f"{tmp}-journal"), Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        leftover.unlink(missing_ok=True)
