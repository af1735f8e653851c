"""The read commands open the store read-only: they work for a user who may only read it,
and cannot change it.

`om status`, `om tasks list`, `om systems list` and `om render live` used to open the store
for writing (journal mode, side tables), so an operator or a monitoring account with read
access got "attempt to write a readonly database".
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import om
from test_runtime_cli import lab_folder

from om_dsl.runtime.store.base import WriteBatch
from om_dsl.runtime.store.sqlite import SqliteStore, StoreError

READ_COMMANDS = [
    (("status", "ORD-1"), "order ORD-1: held"),
    (("orders", "--state", "held"), "│ ORD-1 │ held "),
    (("tasks", "list"), "no open tasks"),
    (("systems", "list"), "systems"),
    (("render", "live", "ORD-1", "--format", "dot"), "digraph plan {"),
]
"""Each read command, and what it prints (on stdout or stderr) for the held store."""
IDS = [" ".join(command[:2]) for command, _ in READ_COMMANDS]


@pytest.fixture
def held(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Path:
    """A store with ORD-1 held (configure has no handler), closed."""
    lab_folder(tmp_path, monkeypatch)
    code, _, err = om(capsys, "run", "lab.om", "order.json")
    assert code == 1, err
    return tmp_path / "om.db"


def _snapshot(db: Path) -> tuple[bytes, bytes]:
    """The store's content: the file, and its write-ahead log.  A read-only reader may leave
    SQLite's empty ``-wal`` and its ``-shm`` index behind, as any WAL reader does."""
    wal = db.with_name(db.name + "-wal")
    return db.read_bytes(), wal.read_bytes() if wal.exists() else b""


@pytest.mark.parametrize(("command", "expected"), READ_COMMANDS, ids=IDS)
def test_read_commands_change_nothing(
    held: Path, capsys: pytest.CaptureFixture[str], command: tuple[str, ...], expected: str
) -> None:
    before = _snapshot(held)
    code, out, err = om(capsys, *command)
    assert code == 0, err
    assert expected in out + err
    assert _snapshot(held) == before


def test_a_read_only_store_reads_like_the_store_and_refuses_writes(held: Path) -> None:
    writable = SqliteStore(held)
    expected = (writable.order("ORD-1"), writable.items("ORD-1"), writable.events())
    writable.close()
    store = SqliteStore(held, read_only=True)
    try:
        assert (store.order("ORD-1"), store.items("ORD-1"), store.events()) == expected
        with pytest.raises(StoreError, match="is open read-only: nothing can be changed"):
            store.apply(WriteBatch())
        with pytest.raises(StoreError, match="is open read-only"):
            store.set_cursor("x", 1)
    finally:
        store.close()


def test_read_only_never_makes_a_store(tmp_path: Path) -> None:
    (tmp_path / "empty.db").write_bytes(b"")
    with pytest.raises(StoreError, match=r"empty\.db is not an om store yet"):
        SqliteStore(tmp_path / "empty.db", read_only=True)
    assert (tmp_path / "empty.db").read_bytes() == b""
    with pytest.raises(StoreError, match=r"cannot use .*new\.db as an om store"):
        SqliteStore(tmp_path / "new.db", read_only=True)
    assert not (tmp_path / "new.db").exists()


def test_read_only_keeps_a_foreign_database_untouched(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE t (x)")
    db.commit()
    db.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="is a SQLite database but not an om store"):
        SqliteStore(path, read_only=True)
    assert path.read_bytes() == before


# ---- as a user who may only read ---------------------------------------------------------------

NOBODY = 65534
SETPRIV = shutil.which("setpriv")


@pytest.fixture
def readable_only(held: Path) -> Iterator[Path]:
    """The held store copied to a folder that uid 65534 can read but not write (0555), the
    store file 0444: what a monitoring account sees."""
    if os.geteuid() != 0 or SETPRIV is None:
        pytest.skip("needs root and setpriv to act as another user")
    folder = Path(tempfile.mkdtemp(prefix="om-ro-"))
    try:
        shutil.copy(held, folder / "om.db")
        shutil.copy(held.parent / "lab.om", folder / "lab.om")
        (folder / "om.db").chmod(0o444)
        folder.chmod(0o555)
        yield folder / "om.db"
    finally:
        folder.chmod(0o755)
        shutil.rmtree(folder)


@pytest.mark.parametrize(("command", "expected"), READ_COMMANDS, ids=IDS)
def test_read_commands_work_for_a_user_who_may_only_read(
    readable_only: Path, command: tuple[str, ...], expected: str
) -> None:
    assert SETPRIV is not None
    argv = [SETPRIV, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    argv += [sys.executable, "-c", "from om_dsl.cli import main; main()", *command]
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [*argv, "--db", str(readable_only)],
        capture_output=True,
        text=True,
        cwd=readable_only.parent,
        env={**os.environ, "PYTHONPATH": str(root)},
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert expected in done.stdout + done.stderr
    assert sorted(p.name for p in readable_only.parent.iterdir()) == ["lab.om", "om.db"]
