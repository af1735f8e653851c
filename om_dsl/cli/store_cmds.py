"""`om backup`: a consistent copy of a store, safe while `om serve` (or `om run`) runs it.

The store is SQLite in WAL mode, so copying its file alone misses the commits still in its
write-ahead log; this copies it with SQLite's online backup API instead (see
:mod:`om_dsl.runtime.store.backup`).  It only reads the store: it takes no runner lock and
works beside the process that runs it, and for an account that may only read it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from om_dsl.cli.app import EXIT_NOT_FOUND, app, err, fail, shown
from om_dsl.cli.runtime_args import DbOption
from om_dsl.runtime.store.backup import backup_store
from om_dsl.runtime.store.sqlite import StoreError


@app.command("backup")
def backup_cmd(
    dest: Annotated[Path, typer.Argument(help="The backup file to write.")],
    db: DbOption = Path("om.db"),
    force: Annotated[bool, typer.Option("--force", help="Replace DEST when it exists.")] = False,
) -> None:
    """Copy the store to DEST consistently, also while `om serve` runs it (SQLite's backup API).

    Copying the store's file alone misses what is still in its write-ahead log (om.db-wal).

    The copy is checked (integrity_check) and renamed into place only when whole.

    Restore: stop the service, replace the store by the copy, delete the old -wal and -shm files.
    """
    # One sentence per paragraph: the help keeps a docstring's line breaks (test_help_text.py).
    if not db.is_file():
        fail(f"no store at {db}", EXIT_NOT_FOUND)
    try:
        done = backup_store(db, dest, force=force)
    except StoreError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot write {dest}: {exc.strerror or exc}")
    err.print(
        f"backed up {shown(str(db))} to {shown(str(done.path))}: {done.orders} order(s), "
        f"{done.size} bytes; integrity check ok",
        highlight=False,
    )
