"""A backup copy is not run by mistake, and a restored store never reuses the original's
eventIds (docs/service.md, "Backups and restores").

What an SRE met: `om serve` started on a copy at a path of its own (to check a backup) resumed
the copy's unfinished orders, calling the real systems and the production listener registered
in it; and after a restore, the events reused ids (``om-<seq>``) the listener had seen from the
original, with other content, so a listener that drops duplicates by id dropped them.  Here
against the real simulators and a real listener on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import pickle
import re
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cli_support import om
from downstream_support import LAB, Sims, compile_text, lab_order, lab_source
from simulators import Listener

from om_dsl import StoreIsBackup
from om_dsl.cli.serve_cmds import _service_runtime
from om_dsl.ir import models as ir
from om_dsl.runtime import Runtime, SqliteStore
from om_dsl.runtime.downstream import DownstreamSettings
from om_dsl.runtime.handlers import HandlerRegistry
from om_dsl.runtime.notify import NotifySettings
from om_dsl.runtime.store import backup_store
from om_dsl.runtime.store.restore import BACKUP_MARK

Lab = Callable[..., Runtime]
FAST = {"backoff_ms": 50, "backoff_cap_ms": 200, "poll_s": 0.05, "max_attempts": 100}
GO = """
offer Web "Web" id "1" { attribute n: int default 1 }
cfs Svc { attribute n: int }
decompose Web { -> Svc { n = n } }
plan Svc on add { wait go event "go" }
"""
PLAIN = re.compile(r"om-\d+(-cancel)?")
EPOCHED = re.compile(r"om-\d+-[0-9a-f]{8}(-cancel)?")


def _settings() -> NotifySettings:
    return NotifySettings(**FAST)  # type: ignore[arg-type]


def _dump(db: Path) -> list[str]:
    """The whole content of a store, as SQL: equal dumps, nothing written."""
    connection = sqlite3.connect(db)
    try:
        return list(connection.iterdump())
    finally:
        connection.close()


def _meta(db: Path, key: str) -> str | None:
    connection = sqlite3.connect(db)
    try:
        row = connection.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    finally:
        connection.close()
    return None if row is None else str(row[0])


def _nothing_sent(sims: Sims, listener: Listener) -> None:
    assert [s.requests() for s in sims.all()] == [[], [], []]
    assert listener.stats() == {"events": 0, "rejected": 0, "down": False}


@pytest.fixture
def copy(lab: Lab, listener: Listener, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """`om backup` of a production store: the CRM's hub registration and three orders that
    have not run yet (their callouts are still to be sent).  The original is closed."""
    original = lab(store=SqliteStore(tmp_path / "om.db"), notify=_settings())
    original.hub.register(f"{listener.url}/crm")
    for n in range(3):
        original.submit(lab_order(f"O{n}", original.catalog))  # type: ignore[arg-type]
    dest = tmp_path / "verify" / "om.db"
    dest.parent.mkdir()
    code, _, err = om(capsys, "backup", str(dest), "--db", str(tmp_path / "om.db"))
    assert code == 0, err
    original.close()
    return dest


def test_om_backup_marks_the_copy_and_not_the_original(copy: Path, tmp_path: Path) -> None:
    mark = json.loads(_meta(copy, BACKUP_MARK) or "{}")
    assert mark["source"] == str((tmp_path / "om.db").resolve())
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", mark["taken_at"])
    assert mark["orders"] == 3
    assert _meta(tmp_path / "om.db", BACKUP_MARK) is None
    copied = SqliteStore(copy, read_only=True)
    assert copied.backup_mark() is not None and copied.event_id_epoch == ""
    copied.close()


def test_a_backup_copy_is_not_run_from_python_and_nothing_is_sent(
    copy: Path, lab: Lab, sims: Sims, listener: Listener
) -> None:
    before = _dump(copy)
    runtime = lab(store=SqliteStore(copy), notify=_settings())
    with pytest.raises(StoreIsBackup) as refused:
        runtime.run_until_idle()
    with pytest.raises(StoreIsBackup):
        runtime.start_background()
    error = refused.value
    assert error.unfinished == 3 and error.db == str(copy)
    assert error.mark.source.endswith("om.db") and error.mark.orders == 3
    first, *rest = str(error).split("\n")
    assert first.startswith(f"{copy} is a backup of {error.mark.source} taken ")
    assert "resumes its 3 unfinished order(s): their callouts go to the downstream" in rest[0]
    assert "`om orders`, `om status`, `om events`" in rest[1]
    assert "--restored" in rest[2] and "SqliteStore(path, restored=True)" in rest[2]
    back: Any = pickle.loads(pickle.dumps(error))
    assert (type(back), str(back), back.mark, back.unfinished) == (
        StoreIsBackup, str(error), error.mark, 3,
    )  # fmt: skip
    assert not runtime.running
    runtime.close()
    _nothing_sent(sims, listener)
    assert _dump(copy) == before


@pytest.fixture
def environ(sims: Sims, monkeypatch: pytest.MonkeyPatch) -> None:
    """The lab's systems at the simulators, for the CLI (which reads the environment)."""
    for name, value in sims.environ().items():
        monkeypatch.setenv(name, value)


@pytest.mark.usefixtures("environ")
def test_om_resume_run_and_serve_refuse_a_copy_and_read_only_commands_read_it(
    copy: Path,
    sims: Sims,
    listener: Listener,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = _dump(copy)
    code, _, err = om(capsys, "resume", "--db", str(copy))
    assert code == 6, err
    assert err.startswith(f"error: {copy} is a backup of {(tmp_path / 'om.db').resolve()} taken ")
    assert "\n  running it resumes its 3 unfinished order(s)" in err
    catalog = tmp_path / "lab.om"
    catalog.write_text(lab_source(LAB + WEB_OFFER), encoding="utf-8")
    order = tmp_path / "new.json"
    order.write_text(json.dumps(WEB_ORDER), encoding="utf-8")
    code, _, err = om(capsys, "run", str(catalog), str(order), "--db", str(copy))
    assert code == 6 and "is a backup of" in err, err
    code, _, err = om(capsys, "serve", "--catalog", str(catalog), "--db", str(copy),
                      "--port", "0")  # fmt: skip
    assert code == 1 and "is a backup of" in err and "Traceback" not in err, err
    for command in (["orders"], ["status", "O1"], ["events", "O1"]):
        code, out, err = om(capsys, *command, "--db", str(copy))
        assert code == 0 and out, (command, err)
    _nothing_sent(sims, listener)
    assert _dump(copy) == before


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.usefixtures("environ")
def test_a_refused_copy_is_left_byte_for_byte_and_gets_no_lock_file(
    copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`om serve` on a copy switched its journal mode to WAL (a header write) and left
    ``<copy>.runner.lock`` before it refused it (an older copy's schema could be upgraded
    first); `om status`, a read, left the lock file too.  A copy kept by checksum failed its
    check.  The mark is now read read-only before anything opens the copy to write."""
    # an item in fallout: `om status` then asks who runs the store, for its hints
    with contextlib.closing(sqlite3.connect(copy)) as db, db:
        db.execute("UPDATE items SET state = 'fatally_failed' WHERE order_id = 'O1'")
    digest = _sha256(copy)
    catalog = tmp_path / "lab.om"
    catalog.write_text(lab_source(LAB + WEB_OFFER), encoding="utf-8")
    order = tmp_path / "new.json"
    order.write_text(json.dumps(WEB_ORDER), encoding="utf-8")
    commands = [
        (["resume", "--db", str(copy)], 6),
        (["run", str(catalog), str(order), "--db", str(copy)], 6),
        (["serve", "--catalog", str(catalog), "--db", str(copy), "--port", "0"], 1),
        (["status", "O1", "--db", str(copy)], 0),
    ]
    for command, expected in commands:
        code, _, err = om(capsys, *command)
        assert code == expected, (command, err)
        assert _sha256(copy) == digest, command
        assert sorted(p.name for p in copy.parent.iterdir()) == ["om.db"], command
    runtime = Runtime(compile_text(), store=SqliteStore(copy))  # a host's, in Python
    with runtime, pytest.raises(StoreIsBackup):
        runtime.claim_store()
    assert not Path(f"{copy}.runner.lock").exists()  # refused before the lock file is made


def test_sqlite_store_leaves_a_copy_byte_for_byte_and_refuses_to_write_it(
    copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`SqliteStore(path)` on a copy switched its journal mode to WAL (its sha256 changed)
    before anything refused it, where `om serve`, `om run` and `om resume` read it first."""
    digest = _sha256(copy)
    store = SqliteStore(copy)
    assert [o.id for o in store.orders()] == ["O0", "O1", "O2"]  # it reads as any store
    store.close()
    assert _sha256(copy) == digest
    store = SqliteStore(copy)
    assert store.read_only and store.copy_mark is not None
    with pytest.raises(StoreIsBackup) as refused, store.transaction() as db:
        db.execute("DELETE FROM orders")  # pragma: no cover - refused before
    assert str(refused.value).startswith(f"{copy} is a backup of ")
    assert "not restored: it is not changed" in str(refused.value)
    with pytest.raises(StoreIsBackup):
        Runtime(compile_text(), store=store).claim_store()
    store.close()
    assert _sha256(copy) == digest
    assert sorted(p.name for p in copy.parent.iterdir()) == ["om.db"]
    code, _, err = om(capsys, "systems", "offline", "Net", "--db", str(copy))
    assert code == 6 and "it is not changed" in err and "Traceback" not in err, err
    code, _, err = om(capsys, "retry", "--all-failed", "--db", str(copy))  # was "internal error"
    assert code == 0 and "nothing to retry" in err, err  # nothing in fallout: nothing to write
    assert _sha256(copy) == digest
    restored = SqliteStore(copy, restored=True)  # a restore opens it to write
    assert not restored.read_only and restored.copy_mark is None
    restored.close()


WEB_OFFER = """
offer Web "Web" id "100" {
  attribute site: string default "SITE-1"
  attribute technology: string default "FTTH"
}
decompose Web { -> Line { site = site; technology = technology } }
"""
WEB_ORDER = {"id": "NEW-1", "items": [{"id": "1", "product": "Web"}]}


@pytest.mark.usefixtures("environ")
def test_om_resume_restored_runs_the_copy_once_told_and_then_without_the_flag(
    copy: Path, sims: Sims, listener: Listener, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = om(capsys, "resume", "--restored", "--db", str(copy))
    assert code != 6 and "is a backup" not in err, err
    assert sims.inventory.requests(), "the restored store runs its orders"
    assert _meta(copy, BACKUP_MARK) is None
    epoch = _meta(copy, "event_id_epoch")
    assert epoch is not None and re.fullmatch(r"[0-9a-f]{8}", epoch)
    ids = [body["eventId"] for body in listener.bodies()]
    assert ids and all(EPOCHED.fullmatch(i) and epoch in i for i in ids), ids
    code, _, err = om(capsys, "resume", "--db", str(copy))  # accepted once: no flag needed
    assert code != 6 and "is a backup" not in err, err
    assert _meta(copy, "event_id_epoch") == epoch


def test_om_serve_restored_accepts_the_copy(copy: Path) -> None:
    runtime = _service_runtime(compile_text(), copy, HandlerRegistry(), 1, None, True)
    try:
        assert runtime.store.event_id_epoch and _meta(copy, BACKUP_MARK) is None
    finally:
        runtime.close()


@pytest.fixture(scope="module")
def go() -> ir.Catalog:
    return compile_text(GO)


def _order(order_id: str) -> dict[str, Any]:
    return {"id": order_id, "items": [{"id": "1", "product": "Web"}]}


def _runtime(catalog: ir.Catalog, store: SqliteStore, listener: Listener) -> Runtime:
    downstream = DownstreamSettings(notify=NotifySettings(urls=(f"{listener.url}/crm",), **FAST))  # type: ignore[arg-type]
    return Runtime(catalog, store=store, downstream=downstream)


def _restore(backup: Path, db: Path) -> None:
    """docs/service.md's restore: the store moved aside with its -wal and -shm, the backup
    copied in its place."""
    for name in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
        name.unlink(missing_ok=True)
    shutil.copyfile(backup, db)


def _ids_since(listener: Listener, count: int) -> list[str]:
    return [body["eventId"] for body in listener.bodies()[count:]]


def test_a_restored_store_never_reuses_an_eventid_the_original_sent(
    go: Any, listener: Listener, tmp_path: Path
) -> None:
    """The SRE's case: the original goes on after the backup, then the backup is restored
    and goes on differently.  Both send events with the same sequence numbers; their ids
    differ, so every id the listener heard stands for one content."""
    db, backup = tmp_path / "om.db", tmp_path / "backup.db"
    with _runtime(go, SqliteStore(db), listener) as original:
        for order_id in ("O1", "O2", "O3"):
            original.submit(_order(order_id))
        original.run_until_idle()
        assert original.notifications.drain(10)
        backup_store(db, backup)
        heard = len(listener.bodies())
        original.signal("go", "O1")
        original.cancel("O2")
        original.run_until_idle()
        assert original.notifications.drain(10)
        after_original = _ids_since(listener, heard)
    _restore(backup, db)
    heard = len(listener.bodies())
    with _runtime(go, SqliteStore(db, restored=True), listener) as restored:
        restored.cancel("O1")
        restored.signal("go", "O2")
        restored.run_until_idle()
        assert restored.notifications.drain(10)
        epoch = restored.store.event_id_epoch
    after_restore = _ids_since(listener, heard)
    assert after_original and all(PLAIN.fullmatch(i) for i in after_original), after_original
    assert after_restore and all(EPOCHED.fullmatch(i) for i in after_restore), after_restore
    assert all(epoch in i for i in after_restore)
    assert any(i.endswith("-cancel") for i in after_restore)
    seqs = {i.split("-")[1] for i in after_original} & {i.split("-")[1] for i in after_restore}
    assert seqs, "the restore rewound the sequence: the same seqs were used again"
    assert not set(after_original) & set(after_restore)
    contents: dict[str, set[str]] = {}
    for body in listener.bodies():
        contents.setdefault(body["eventId"], set()).add(json.dumps(body, sort_keys=True))
    assert all(len(seen) == 1 for seen in contents.values())
    _restore(backup, db)  # the same backup restored again: ids of its own again
    with _runtime(go, SqliteStore(db, restored=True), listener) as again:
        again.claim_store()
        assert again.store.event_id_epoch not in ("", epoch)


def test_events_queued_before_the_backup_keep_their_ids_after_the_restore(
    go: Any, listener: Listener, tmp_path: Path
) -> None:
    """The outbox stores each event whole: what the backup had still to deliver goes out with
    the id the original gave it, and the events after the restore with the new epoch."""
    db, backup = tmp_path / "om.db", tmp_path / "backup.db"
    listener.set_down(True)
    with _runtime(go, SqliteStore(db), listener) as original:
        original.submit(_order("O1"))
        original.run_until_idle()
        original.notifications.read_log()  # queued, not delivered: the listener is down
        assert original.notifications.pending() > 0
        backup_store(db, backup)
    _restore(backup, db)
    listener.set_down(False)
    with _runtime(go, SqliteStore(db, restored=True), listener) as restored:
        restored.signal("go", "O1")
        restored.run_until_idle()
        assert restored.notifications.drain(10)
    ids = [body["eventId"] for body in listener.bodies()]
    queued = [i for i in ids if PLAIN.fullmatch(i)]
    assert queued and ids[: len(queued)] == queued, ids
    assert ids[len(queued) :] and all(EPOCHED.fullmatch(i) for i in ids[len(queued) :]), ids


def test_a_store_never_restored_keeps_its_eventids(
    go: Any, listener: Listener, tmp_path: Path
) -> None:
    with _runtime(go, SqliteStore(tmp_path / "om.db", restored=True), listener) as runtime:
        runtime.submit(_order("O1"))
        runtime.run_until_idle()  # restored=True on a store that is no copy changes nothing
        assert runtime.notifications.drain(10)
        assert runtime.store.event_id_epoch == ""
    ids = [body["eventId"] for body in listener.bodies()]
    assert ids and all(re.fullmatch(r"om-\d+", i) for i in ids), ids
