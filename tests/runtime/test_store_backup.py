"""`om backup`: a consistent copy of a store in WAL mode, taken while another connection writes
it, checked, and written whole or not at all."""

from __future__ import annotations

import shutil
import sqlite3
import threading
from pathlib import Path

import pytest
from cli_support import om
from runtime_support import compile_text

from om_dsl.ir import models as ir
from om_dsl.runtime import Runtime, SqliteStore
from om_dsl.runtime.store import StoreError, backup_store

LAB = """
offer Web "Web" id "1" { attribute n: int default 1 }
cfs Svc { attribute n: int }
decompose Web { -> Svc { n = n } }
plan Svc on add { wait go event "go" }
"""


@pytest.fixture(scope="module")
def lab() -> ir.Catalog:
    return compile_text(LAB)


def _order(order_id: str) -> dict[str, object]:
    return {"id": order_id, "items": [{"id": "1", "product": "Web"}]}


def _stored(db: Path) -> list[str]:
    """The ids of the orders a copy holds, each checked whole: its plan and its item rows."""
    store = SqliteStore(db, read_only=True)
    try:
        ids = [record.id for record in store.orders()]
        for order_id in ids:
            stored = store.load_order(order_id)
            assert stored is not None and stored.items, order_id
        return ids
    finally:
        store.close()


def test_a_copy_of_the_file_alone_misses_commits_and_om_backup_does_not(
    lab: ir.Catalog, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The store is in WAL mode: committed orders wait in om.db-wal for a checkpoint, and a
    `cp om.db` (what docs/service.md now warns against) silently lacks them."""
    db = tmp_path / "om.db"
    with Runtime(lab, store=SqliteStore(db)) as runtime:  # open: nothing checkpointed yet
        for n in range(5):
            runtime.submit(_order(f"O{n}"))
        shutil.copyfile(db, tmp_path / "copied.db")
        code, _, err = om(capsys, "backup", str(tmp_path / "backup.db"), "--db", str(db))
    assert code == 0, err
    size = (tmp_path / "backup.db").stat().st_size
    assert err == (
        f"backed up {db} to {tmp_path / 'backup.db'}: 5 order(s), {size} bytes; "
        "integrity check ok\n"
    )
    copied = sqlite3.connect(tmp_path / "copied.db")
    assert copied.execute("SELECT name FROM sqlite_master").fetchall() == []  # not even tables
    copied.close()
    assert _stored(tmp_path / "backup.db") == [f"O{n}" for n in range(5)]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "backup.db", "copied.db", "om.db", "om.db.runner.lock",
    ]  # fmt: skip  # one file: no -wal, -shm or temporary file left beside it


def test_om_backup_is_consistent_while_another_connection_writes(
    lab: ir.Catalog, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Another runtime submits orders all along: the copy holds every order committed before
    it began, each whole, and a prefix of the commits (one moment of the store)."""
    db = tmp_path / "om.db"
    committed: list[str] = []
    stop = threading.Event()
    writer = Runtime(lab, store=SqliteStore(db))

    def write() -> None:
        n = 0
        while not stop.is_set():
            writer.submit(_order(f"W{n:05d}"))
            committed.append(f"W{n:05d}")
            n += 1

    thread = threading.Thread(target=write)
    thread.start()
    try:
        while len(committed) < 30:
            stop.wait(0.01)
        before = list(committed)
        code, _, err = om(capsys, "backup", str(tmp_path / "backup.db"), "--db", str(db))
        after = len(committed)
    finally:
        stop.set()
        thread.join(30)
        writer.close()
    assert code == 0, err
    assert "integrity check ok" in err
    copied = _stored(tmp_path / "backup.db")
    assert copied[: len(before)] == before
    assert copied == committed[: len(copied)] and len(copied) <= after + 1
    check = sqlite3.connect(tmp_path / "backup.db")
    assert check.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    check.close()


def test_om_backup_replaces_an_existing_file_only_when_forced(
    lab: ir.Catalog, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, dest = tmp_path / "om.db", tmp_path / "backup.db"
    with Runtime(lab, store=SqliteStore(db)) as runtime:
        runtime.submit(_order("O1"))
    dest.write_bytes(b"yesterday's backup")
    code, _, err = om(capsys, "backup", str(dest), "--db", str(db))
    assert (code, err) == (1, f"error: {dest} exists: give --force to replace it\n")
    assert dest.read_bytes() == b"yesterday's backup"
    code, _, err = om(capsys, "backup", str(dest), "--db", str(db), "--force")
    assert code == 0, err
    assert _stored(dest) == ["O1"]
    code, _, err = om(capsys, "backup", str(db), "--db", str(db), "--force")
    assert (code, err) == (1, f"error: {db} is the store itself: back it up to another file\n")


def test_a_failed_backup_leaves_nothing_behind(tmp_path: Path) -> None:
    """Not an om store: refused before anything is written, and what DEST held stays."""
    foreign, dest = tmp_path / "other.db", tmp_path / "backup.db"
    connection = sqlite3.connect(foreign)
    connection.execute("CREATE TABLE t (x)")
    connection.commit()
    connection.close()
    dest.write_bytes(b"the last good backup")
    with pytest.raises(StoreError, match="is a SQLite database but not an om store"):
        backup_store(foreign, dest, force=True)
    with pytest.raises(StoreError, match=r"the folder .*nowhere does not exist"):
        backup_store(foreign, tmp_path / "nowhere" / "backup.db")
    assert dest.read_bytes() == b"the last good backup"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["backup.db", "other.db"]


def test_a_restored_backup_runs_on(
    lab: ir.Catalog, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The restore that docs/service.md describes: the copy in place of the store, run as a
    restore (a backup copy is refused otherwise: tests/downstream/test_restore_safety.py)."""
    db, dest = tmp_path / "om.db", tmp_path / "backup.db"
    with Runtime(lab, store=SqliteStore(db)) as runtime:
        runtime.submit(_order("O1"))
        runtime.run_until_idle()
        assert om(capsys, "backup", str(dest), "--db", str(db))[0] == 0
        runtime.signal("go", "O1")  # after the backup: lost with the restore
    for name in ("om.db", "om.db-wal", "om.db-shm"):
        (tmp_path / name).unlink(missing_ok=True)
    shutil.copyfile(dest, db)
    with Runtime(lab, store=SqliteStore(db, restored=True)) as runtime:
        assert runtime.status("O1").item("1/Svc:go").state == "waiting"
        assert runtime.signal("go", "O1") == 1
        runtime.run_until_idle()
        assert runtime.status("O1").state == "completed"
