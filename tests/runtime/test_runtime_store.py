"""Persistence: one transaction per submit, restart and resume, catalog pinning, the event log."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from runtime_support import ONE_MANUAL_TASK, Recorder, compile_text, decomposition, line, states

from om_dsl.errors import OperatorActionRejected, PlanError
from om_dsl.runtime import (
    ItemContext,
    ItemKind,
    KindRegistry,
    MemoryStore,
    Runtime,
    SqliteStore,
    Waiting,
)
from om_dsl.runtime.events import is_cancel_request
from om_dsl.runtime.store import StoreError, WriteBatch
from om_dsl.runtime.store import sqlite as sqlite_store
from om_dsl.runtime.store.base import ItemRow

LAB = """
cfs Svc { attribute n: int }
plan Svc on add {
  auto configure handler "configure"
  wait go event "go" after configure
  auto provision handler "provision" after go retry fixed 50ms max 3
}
"""
HANDLERS = ["configure", "provision", "other"]


@pytest.fixture(scope="module")
def lab():  # type: ignore[no-untyped-def]
    return compile_text(LAB)


def test_the_sqlite_store_is_in_wal_mode_and_keeps_everything(lab, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "om.db"
    runtime = Runtime(lab, store=SqliteStore(db), handlers=Recorder().registry(HANDLERS))
    runtime.submit(decomposition("O1", lab, [line("S", "Svc", n=1)]))
    runtime.run_until_idle()
    runtime.close()
    assert sqlite3.connect(db).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    other = SqliteStore(db)
    status = Runtime(store=other).status("O1")
    assert status.state == "pending"
    assert [(i.id, i.state) for i in status.items] == [
        ("S:configure", "completed"),
        ("S:go", "waiting"),
        ("S:provision", "pending"),
    ]
    assert status.item("S:configure").outputs == {"by": "configure", "attempt": 1}


def test_a_restarted_runtime_resumes_where_the_store_says(lab, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "om.db"
    first = Runtime(lab, store=SqliteStore(db), handlers=Recorder().registry(HANDLERS))
    first.submit(decomposition("O1", lab, [line("S", "Svc", n=1)]))
    first.run_until_idle()
    first.close()
    second = Runtime(store=SqliteStore(db), handlers=Recorder().registry(HANDLERS))
    assert second.signal("go", "O1") == 1
    second.run_until_idle()
    assert second.status("O1").state == "completed"


def test_an_item_running_at_a_crash_is_reattempted_with_the_same_key(lab, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "om.db"
    store = SqliteStore(db)
    runtime = Runtime(lab, store=store, handlers=Recorder().registry(HANDLERS))
    runtime.submit(decomposition("O1", lab, [line("S", "Svc", n=1)]))
    # what a crash in the middle of the first attempt leaves behind:
    crashed = ItemRow(0, "S:configure", "running", attempt=1, started_at=1.0)
    store.apply(WriteBatch(items={("O1", 0): crashed}))
    store.close()
    recorder = Recorder()
    restarted = Runtime(store=SqliteStore(db), handlers=recorder.registry(HANDLERS))
    restarted.run_until_idle()
    item = restarted.status("O1").item("S:configure")
    assert (item.state, item.attempt) == ("completed", 2)
    assert recorder.keys["S:configure"] == "O1/S:configure"
    requeued = [e for e in restarted.events("O1") if e.detail == "re-attempted after a restart"]
    assert len(requeued) == 1


def test_a_retry_timer_survives_a_restart(lab, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "om.db"
    store = SqliteStore(db)
    runtime = Runtime(lab, store=store, handlers=Recorder().registry(HANDLERS))
    runtime.submit(decomposition("O1", lab, [line("S", "Svc", n=1)]))
    # what a crash leaves while the first attempt's retry is waiting for its due time:
    due = time.time() + 0.3
    waiting = ItemRow(0, "S:configure", "failed", attempt=1, failures=1, due_at=due)
    store.apply(WriteBatch(items={("O1", 0): waiting}))
    store.close()
    restarted = Runtime(store=SqliteStore(db), handlers=Recorder().registry(HANDLERS))
    restarted.run_until_idle()
    item = restarted.status("O1").item("S:configure")
    assert (item.state, item.attempt) == ("completed", 2)
    retried = [e for e in restarted.events("O1") if e.detail == "retry due"]
    assert len(retried) == 1 and retried[0].ts >= due


def test_orders_stay_pinned_to_the_catalog_they_were_submitted_with(lab, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "om.db"
    old = Runtime(lab, store=SqliteStore(db), handlers=Recorder().registry(HANDLERS))
    old.submit(decomposition("O1", lab, [line("S", "Svc", n=1)]))
    old.run_until_idle()
    old.close()
    newer = compile_text(LAB.replace('"provision"', '"other"'))
    assert newer.content_hash != lab.content_hash
    recorder = Recorder()
    runtime = Runtime(newer, store=SqliteStore(db), handlers=recorder.registry(HANDLERS))
    runtime.submit(decomposition("O2", newer, [line("S", "Svc", n=1)]))
    runtime.run_until_idle()
    assert runtime.signal("go") == 2  # both orders wait for it now
    runtime.run_until_idle()
    assert runtime.status("O1").catalog_hash == lab.content_hash
    assert runtime.status("O2").catalog_hash == newer.content_hash
    assert {k for k in recorder.order if k.endswith("provision")} == {"S:provision"}
    assert runtime.status("O1").item("S:provision").outputs == {"by": "provision", "attempt": 1}
    assert runtime.status("O2").item("S:provision").outputs == {"by": "other", "attempt": 1}


def test_a_failed_submit_stores_nothing(
    lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "om.db"
    store = SqliteStore(db)
    runtime = Runtime(lab, store=store, handlers=Recorder().registry(HANDLERS))

    def broken(db: Any, batch: WriteBatch) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(sqlite_store, "_write_signals", broken)
    with pytest.raises(sqlite3.OperationalError):
        runtime.submit(decomposition("O1", lab, [line("S", "Svc", n=1)]))
    raw = sqlite3.connect(db)
    for table in ("orders", "plans", "items", "events", "catalogs"):
        assert raw.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == 0, table
    monkeypatch.undo()
    runtime.submit(decomposition("O1", lab, [line("S", "Svc", n=1)]))
    runtime.run_until_idle()
    assert runtime.status("O1").state == "pending"
    assert raw.execute("SELECT COUNT(*) FROM catalogs").fetchone()[0] == 1


def test_a_plan_error_stores_nothing(tmp_path: Path) -> None:
    catalog = compile_text('cfs X { attribute a: int }\nplan X on add { auto w handler "w" }')
    store = SqliteStore(tmp_path / "om.db")
    runtime = Runtime(catalog, store=store)
    work = decomposition("O1", catalog, [line("L", "X", a=1)])
    with pytest.raises(PlanError, match="another catalog version"):
        runtime.submit(work.model_copy(update={"catalog_hash": "sha256:old"}))
    assert store.orders() == [] and store.events() == []


def test_a_duplicate_order_id_is_rejected(lab) -> None:  # type: ignore[no-untyped-def]
    runtime = Runtime(lab)
    runtime.submit(decomposition("O1", lab, [line("S", "Svc", n=1)]))
    with pytest.raises(OperatorActionRejected, match="already exists"):
        runtime.submit(decomposition("O1", lab, [line("S", "Svc", n=1)]))


def test_the_plan_is_written_once_and_items_row_by_row(lab, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store = SqliteStore(tmp_path / "om.db")
    statements: list[str] = []
    store._db.set_trace_callback(statements.append)
    runtime = Runtime(lab, store=store, handlers=Recorder().registry(HANDLERS))
    runtime.submit(decomposition("O1", lab, [line(f"S{n}", "Svc", n=n) for n in range(20)]))
    runtime.signal("go", "O1")
    runtime.run_until_idle()
    assert runtime.status("O1").state == "completed"
    plan_writes = [s for s in statements if "INTO plans" in s or "UPDATE plans" in s]
    assert len(plan_writes) == 1 and plan_writes[0].startswith("INSERT INTO plans")
    assert not any(s.startswith("UPDATE items") and "WHERE order_id" not in s for s in statements)


def test_the_event_log_records_every_transition_with_its_attempt(lab) -> None:  # type: ignore[no-untyped-def]
    runtime = Runtime(lab, handlers=Recorder(fail_times={"provision": 1}).registry(HANDLERS))
    runtime.submit(decomposition("O1", lab, [line("S", "Svc", n=1)]))
    runtime.signal("go", "O1")
    runtime.run_until_idle()
    moves = [
        (e.from_state, e.to_state, e.attempt)
        for e in runtime.events("O1")
        if e.item_id == "S:provision"
    ]
    assert moves == [
        ("pending", "ready", 0),
        ("ready", "running", 1),
        ("running", "failed", 1),
        ("failed", "ready", 1),
        ("ready", "running", 2),
        ("running", "completed", 2),
    ]
    stamps = [e.ts for e in runtime.events("O1")]
    assert stamps == sorted(stamps)


def test_memory_and_sqlite_stores_record_the_same_history(lab, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    histories = []
    for store in (MemoryStore(), SqliteStore(tmp_path / "om.db")):
        runtime = Runtime(lab, store=store, handlers=Recorder().registry(HANDLERS, inline=True))
        runtime.submit(decomposition("O1", lab, [line(f"S{n}", "Svc", n=n) for n in range(3)]))
        runtime.run_until_idle()
        runtime.signal("go", "O1")
        runtime.run_until_idle()
        histories.append(
            [(e.seq, e.kind, e.item_id, e.from_state, e.to_state) for e in runtime.events()]
        )
        assert [i.state for i in runtime.status("O1").items] == ["completed"] * 9
    assert histories[0] == histories[1]


def test_another_schema_version_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "om.db"
    SqliteStore(db).close()
    raw = sqlite3.connect(db)
    raw.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    raw.commit()
    with pytest.raises(StoreError, match="schema 99"):
        SqliteStore(db)
    (tmp_path / "junk.db").write_text("not a database" * 100)
    with pytest.raises(StoreError, match="cannot use"):
        SqliteStore(tmp_path / "junk.db")


def test_callback_tokens_are_stored_only_as_hashes(tmp_path: Path) -> None:
    class Async(ItemKind):
        async def start(self, ctx: ItemContext) -> Waiting:
            return Waiting("waiting for a callback", token="s3cret-token-123")

    catalog = compile_text(
        "cfs X { attribute a: int }\nplan X on add { manual m queue q }\nqueue q"
    )
    kinds = KindRegistry({"manual": Async()})
    db = tmp_path / "om.db"
    runtime = Runtime(catalog, store=SqliteStore(db), kinds=kinds)
    runtime.submit(decomposition("O1", catalog, [line("L", "X")]))
    runtime.run_until_idle()
    assert b"s3cret-token-123" not in db.read_bytes() + (tmp_path / "om.db-wal").read_bytes()
    assert runtime.resolve_token("s3cret-token-123", {"ok": True}) == ("O1", "L:m")
    runtime.run_until_idle()
    assert runtime.status("O1").state == "completed"
    with pytest.raises(Exception, match="unknown or already used"):
        runtime.resolve_token("s3cret-token-123", {"ok": True})
    assert states(runtime, "O1") == {"L:m": "completed"}


def _event(order_id: str, kind: str, to_state: str | None = None) -> Any:
    return (1.0, order_id, None, kind, None, to_state, None, None)


@pytest.mark.parametrize("make", [MemoryStore, lambda: SqliteStore(":memory:")])
def test_cancel_requests_are_the_request_rows_of_the_log(make: Any) -> None:
    store = make()
    store.apply(
        WriteBatch(
            events=[
                _event("A", "order.state", "inProgress"),
                _event("A", "order.state", "assessingCancellation"),  # accepted
                _event("B", "order.cancel_rejected"),  # rejected past the PONR
                _event("A", "order.state", "pendingCancellation"),
                _event("C", "item.state", "assessingCancellation"),  # an item, not an order
            ]
        )
    )
    store.apply(WriteBatch(events=[_event("C", "order.state", "assessingCancellation")]))
    rows = store.cancel_requests()
    assert [(row.seq, row.order_id) for row in rows] == [(2, "A"), (3, "B"), (6, "C")]
    assert rows == [row for row in store.events() if is_cancel_request(row.kind, row.to_state)]
    assert store.count_cancel_requests() == 3
    assert store.cancel_requests(1, 1) == rows[1:2]
    assert store.cancel_requests(offset=2) == rows[2:]
    assert store.cancel_requests(3) == []


def test_a_store_made_before_the_cancel_index_gets_it_when_opened(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    SqliteStore(db).close()
    with sqlite3.connect(db) as raw:
        raw.execute("DROP INDEX events_cancel_requests")
    SqliteStore(db, read_only=True).close()  # reading changes nothing
    with sqlite3.connect(db) as raw:
        names = {name for (name,) in raw.execute("SELECT name FROM sqlite_master")}
    assert "events_cancel_requests" not in names
    store = SqliteStore(db)
    store.apply(WriteBatch(events=[_event("A", "order.cancel_rejected")]))
    assert [row.order_id for row in store.cancel_requests()] == ["A"]
    store.close()
    with sqlite3.connect(db) as raw:
        names = {name for (name,) in raw.execute("SELECT name FROM sqlite_master")}
    assert "events_cancel_requests" in names


def _quote(order_id: str, quote: str | None) -> dict[str, Any]:
    """A native order of ONE_MANUAL_TASK (it waits for a person) with an external id."""
    order: dict[str, Any] = {"id": order_id, "items": [{"id": "1", "product": "Internet"}]}
    return {**order, "external_id": quote} if quote else order


def _quoted(store: Any, quote: str, **options: Any) -> list[str]:
    return [record.id for record in store.orders(external_id=quote, **options)]


@pytest.mark.parametrize("make", [MemoryStore, lambda: SqliteStore(":memory:")])
def test_orders_are_found_by_their_external_id(make: Any) -> None:
    """A CPQ looks its orders up by its own quote id: an exact match, in creation order, with
    the state filter and paging; an amendment that changes the external id moves it."""
    runtime = Runtime(compile_text(ONE_MANUAL_TASK), store=make())
    for order_id, quote in (("A", "Q-1"), ("B", "Q-2"), ("C", "Q-1"), ("D", None)):
        runtime.submit(_quote(order_id, quote))
    store = runtime.store
    assert _quoted(store, "Q-1") == ["A", "C"]
    assert _quoted(store, "Q-1", offset=1, limit=5) == ["C"]
    assert _quoted(store, "Q-1", states=frozenset({"cancelled"})) == []
    assert _quoted(store, "q-1") == [] and _quoted(store, "Q") == []
    assert store.order("A").external_id == "Q-1"  # type: ignore[union-attr]
    runtime.amend("C", _quote("C", "Q-3"))
    assert _quoted(store, "Q-1") == ["A"] and _quoted(store, "Q-3") == ["C"]
    runtime.cancel("A")
    assert _quoted(store, "Q-1") == ["A"]  # its state changed, not its external id
    runtime.close()


def test_a_store_made_before_external_ids_were_kept_gets_them_when_opened(tmp_path: Path) -> None:
    """An older store's orders table has no external_id column: opened read-only it still
    reads, and opened for writing it gets the column, filled from each order's plan."""
    db = tmp_path / "old.db"
    runtime = Runtime(compile_text(ONE_MANUAL_TASK), store=SqliteStore(db))
    runtime.submit(_quote("A", "Q-1"))
    runtime.submit(_quote("B", None))
    runtime.close()
    with sqlite3.connect(db) as raw:
        raw.execute("DROP INDEX orders_by_external_id")
        raw.execute("ALTER TABLE orders DROP COLUMN external_id")
    before = db.read_bytes()
    reader = SqliteStore(db, read_only=True)
    assert [(r.id, r.external_id) for r in reader.orders()] == [("A", None), ("B", None)]
    reader.close()
    assert db.read_bytes() == before  # reading changed nothing
    store = SqliteStore(db)
    assert _quoted(store, "Q-1") == ["A"]
    assert [(r.id, r.external_id) for r in store.orders()] == [("A", "Q-1"), ("B", None)]
    store.close()
    with sqlite3.connect(db) as raw:
        names = {name for (name,) in raw.execute("SELECT name FROM sqlite_master")}
    assert "orders_by_external_id" in names


def test_orders_an_older_version_adds_to_an_upgraded_store_are_found(tmp_path: Path) -> None:
    """An older om_dsl still runs on an upgraded store, and leaves the external_id of the
    orders it adds NULL; they were never found by it (an adversarial probe)."""
    db = tmp_path / "up.db"
    runtime = Runtime(compile_text(ONE_MANUAL_TASK), store=SqliteStore(db))
    for order_id, quote in (("A", "Q-1"), ("B", None), ("C", "Q-2")):
        runtime.submit(_quote(order_id, quote))
    runtime.close()
    with sqlite3.connect(db) as raw:  # as the older version's rows read: no word on it
        raw.execute("UPDATE orders SET external_id = NULL WHERE id IN ('B', 'C')")
        kept = raw.execute("SELECT id, external_id FROM orders ORDER BY id").fetchall()
    assert kept == [("A", "Q-1"), ("B", None), ("C", None)]
    store = SqliteStore(db)
    assert _quoted(store, "Q-2") == ["C"]
    store.close()
    with sqlite3.connect(db) as raw:  # '' is "none": read once, not at every opening
        rows = raw.execute("SELECT id, external_id FROM orders ORDER BY id").fetchall()
    assert rows == [("A", "Q-1"), ("B", ""), ("C", "Q-2")]


def test_store_errors_worth_a_retry_are_told_from_bugs(tmp_path: Path) -> None:
    """What a host may answer "try again later" (`om serve`: 503) rather than "a bug" (500),
    each made by SQLite for real: a full disk, a read-only store, a database locked beyond the
    busy timeout, a file that cannot be opened."""
    db = tmp_path / "om.db"
    SqliteStore(db).close()
    made: list[BaseException] = []

    def caught(*statements: str, target: Path = db, timeout: float = 5.0) -> None:
        try:
            connection = sqlite3.connect(target, timeout=timeout, isolation_level=None)
        except sqlite3.Error as exc:
            made.append(exc)
            return
        try:
            for statement in statements:
                connection.execute(statement)
        except sqlite3.Error as exc:
            made.append(exc)
        finally:
            connection.close()

    pages = sqlite3.connect(db).execute("PRAGMA page_count").fetchone()[0]
    caught(f"PRAGMA max_page_count = {pages}", "INSERT INTO meta VALUES ('x', zeroblob(99999))")
    caught("PRAGMA query_only = 1", "INSERT INTO meta VALUES ('y', 'y')")
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    caught("BEGIN IMMEDIATE", timeout=0.05)
    holder.execute("ROLLBACK")
    holder.close()
    caught("SELECT 1", target=tmp_path / "no such folder" / "om.db")
    assert [str(exc) for exc in made] == [
        "database or disk is full",
        "attempt to write a readonly database",
        "database is locked",
        "unable to open database file",
    ]
    assert all(sqlite_store.store_unavailable(exc) for exc in made)
    caught("SELEC 1")  # a bug's error: not worth a retry
    caught("INSERT INTO meta VALUES ('schema_version', 'x')")  # a constraint
    assert not any(sqlite_store.store_unavailable(exc) for exc in made[4:])
    assert not sqlite_store.store_unavailable(OSError("disk full"))


# ---- the installation id ------------------------------------------------------------------------


def test_a_store_keeps_its_installation_id_and_another_store_has_another(tmp_path: Path) -> None:
    """The id salts callouts' Idempotency-Key (docs/downstream.md): the same after a restart
    and in a copy of the file (a restored backup runs on as the same installation), another in
    another store, in memory too."""
    db = tmp_path / "om.db"
    first = SqliteStore(db)
    made = first.installation_id
    first.close()
    assert len(made) == 32 and int(made, 16) >= 0
    assert Runtime(store=SqliteStore(db)).installation_id == made
    assert SqliteStore(db, read_only=True).installation_id == made
    copy = tmp_path / "copy.db"
    copy.write_bytes(db.read_bytes())
    assert SqliteStore(copy).installation_id == made
    others = {SqliteStore(tmp_path / "other.db").installation_id, made}
    others |= {MemoryStore().installation_id, MemoryStore().installation_id}
    assert len(others) == 4


def test_a_store_made_before_installation_ids_gets_one_when_opened(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    SqliteStore(db).close()
    with sqlite3.connect(db) as raw:
        raw.execute("DELETE FROM meta WHERE key = 'installation_id'")
    reader = SqliteStore(db, read_only=True)
    with pytest.raises(StoreError, match="has no installation id yet"):
        _ = reader.installation_id
    reader.close()
    given = SqliteStore(db).installation_id
    assert SqliteStore(db).installation_id == given
