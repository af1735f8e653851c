"""Retention: `store.prune` and `om prune` remove finished orders older than a cutoff, with every
row of theirs in every table, and keep what must outlive them (products, event ids, unfinished
and held orders, notifications still owed, backup copies)."""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cli_support import om
from hypothesis import given, settings
from hypothesis import strategies as st
from runtime_support import compile_text

from om_dsl.ir import models as ir
from om_dsl.runtime import (
    HandlerRegistry,
    PermanentFailure,
    PrunePolicy,
    Runtime,
    SqliteStore,
    StoreIsBackup,
)
from om_dsl.runtime.downstream import DownstreamSettings
from om_dsl.runtime.notify import NotifySettings
from om_dsl.runtime.notify.tmf import OrderViews
from om_dsl.runtime.states import OrderState
from om_dsl.runtime.store import MemoryStore, Store, backup_store, sqlite_prune
from om_dsl.runtime.store.base import NewOrder, OrderRecord, WriteBatch
from om_dsl.runtime.store.prune import FINAL_STATES, LAST_EVENT_SEQ
from om_dsl.runtime.store.sqlite_prune import KEPT_TABLES, ORDER_ROWS, store_tables
from om_dsl.service.cancel_records import CancelRecord, CancelRecords
from om_dsl.service.order_requests import OrderRequests

LAB = """
queue field "Field"
offer Internet "Internet" id "1" { attribute speed: int default 100 }
offer Slow "Slow" id "2" { attribute n: int default 1 }
offer Broken "Broken" id "3" { attribute n: int default 1 }
cfs Line { attribute bw: int }
cfs Waiter { attribute n: int }
cfs Bad { attribute n: int }
decompose Internet { -> Line { bw = speed } }
decompose Slow { -> Waiter { n = n } }
decompose Broken { -> Bad { n = n } }
plan Line on add, modify {
  manual survey queue field
  auto install handler "install" after survey
}
plan Waiter on add { wait go event "go" }
plan Bad on add { auto boom handler "boom" }
"""
OLD, NEW, CUTOFF = 1_000_000.0, 2_000_000.0, 1_500_000.0
"""Epoch seconds: the orders that finish at OLD are past the cutoff, those at NEW are not."""


@pytest.fixture(scope="module")
def lab() -> ir.Catalog:
    return compile_text(LAB)


class Clock:
    """The runtime's clock: what each order's rows say about when it changed."""

    def __init__(self) -> None:
        self.now = OLD

    def __call__(self) -> float:
        return self.now


def handlers() -> HandlerRegistry:
    registry = HandlerRegistry()
    registry.register("install", lambda ctx: {"installed": True})

    def boom(ctx: Any) -> dict[str, Any]:
        raise PermanentFailure("no port left")

    registry.register("boom", boom)
    return registry


def tmf(order_id: str, product_id: str, action: str = "add") -> dict[str, Any]:
    return {
        "id": order_id,
        "productOrderItem": [{
            "id": "1", "action": action, "productOffering": {"id": "1"},
            "product": {"id": product_id, "productCharacteristic": [
                {"name": "speed", "value": 300}]},
        }],
    }  # fmt: skip


def native(order_id: str, product: str) -> dict[str, Any]:
    return {"id": order_id, "items": [{"id": "1", "product": product}]}


def finish(runtime: Runtime, order_id: str) -> None:
    """Run the order on; complete its survey by hand when it waits for it."""
    runtime.run_until_idle()
    for item in runtime.status(order_id).items:
        if item.name == "survey" and item.state == "waiting":
            runtime.complete(order_id, item.id, {"surveyed": True})
    runtime.run_until_idle()


def populate(runtime: Runtime, clock: Clock) -> dict[str, str]:
    """Orders of every kind, old and new: id -> state.  The pruned ones are old and final."""
    clock.now = OLD
    for order_id, order in (("DONE-OLD", tmf("DONE-OLD", "P1")),
                            ("WAIT-OLD", native("WAIT-OLD", "Slow")),
                            ("HELD-OLD", native("HELD-OLD", "Broken")),
                            ("CANCEL-OLD", native("CANCEL-OLD", "Slow"))):  # fmt: skip
        runtime.submit(order)
        finish(runtime, order_id)
    runtime.cancel("CANCEL-OLD", "changed my mind")
    runtime.run_until_idle()
    clock.now = NEW
    runtime.submit(tmf("DONE-NEW", "P2"))
    finish(runtime, "DONE-NEW")
    return {record.id: record.state for record in runtime.store.orders()}


GONE = {"DONE-OLD", "CANCEL-OLD"}


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "om.db"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def stored(lab: ir.Catalog, db: Path, clock: Clock) -> Iterator[Runtime]:
    """A SQLite store with :func:`populate`'s orders, and the service's own tables."""
    runtime = Runtime(lab, store=SqliteStore(db), handlers=handlers(), clock=clock)
    with runtime:
        states = populate(runtime, clock)
        assert states == {"DONE-OLD": "completed", "WAIT-OLD": "pending", "HELD-OLD": "held",
                          "CANCEL-OLD": "cancelled", "DONE-NEW": "completed"}  # fmt: skip
        side_rows(runtime.store)
        yield runtime


def side_rows(store: Store) -> None:
    """Rows of the service's tables and the hub's for every order, as the service writes."""
    requests, cancels = OrderRequests(store), CancelRecords(store)
    assert isinstance(store, SqliteStore)
    for record in store.orders():
        requests.add(record.id, "digest", "crm", f"key-{record.id}")
        cancels.add(-len(record.id), record.id, CancelRecord("why", None))
        with store.transaction() as db:
            db.execute(
                "INSERT INTO subscriptions (id, url, query, order_id, created_at) "
                "VALUES (?, 'http://127.0.0.1:9/x', NULL, ?, 0)",
                (f"sub-{record.id}", record.id),
            )
            db.execute(
                "INSERT INTO callback_tokens (hash, order_id, item_id, attempt, issued_at, "
                "state, payload_json) VALUES (?, ?, 'x', 1, 0, 'used', NULL)",
                (f"hash-{record.id}", record.id),
            )


def rows_of(db: Path, order_ids: set[str]) -> dict[str, int]:
    """How many rows of each table belong to these orders (by order id, or by event seq)."""
    con = sqlite3.connect(db)
    try:
        found: dict[str, int] = {}
        marks = ", ".join("?" * len(order_ids))
        for (table,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
            columns = {row[1] for row in con.execute(f"PRAGMA table_info({table})")}
            if table == "orders":
                where = f"id IN ({marks})"
            elif "order_id" in columns:
                where = f"order_id IN ({marks})"
            elif table == "event_acts":
                where = f"seq IN (SELECT seq FROM events WHERE order_id IN ({marks}))"
            else:
                continue
            sql = f"SELECT COUNT(*) FROM {table} WHERE {where}"
            found[table] = con.execute(sql, tuple(order_ids)).fetchone()[0]
        return found
    finally:
        con.close()


def test_old_finished_orders_go_from_every_table_and_the_rest_stay(
    stored: Runtime, db: Path
) -> None:
    kept = {"WAIT-OLD", "HELD-OLD", "DONE-NEW"}
    before_gone, before_kept = rows_of(db, GONE), rows_of(db, kept)
    for table in ("orders", "plans", "items", "events", "event_acts", "order_products",
                  "tasks", "order_requests", "cancel_requests",
                  "subscriptions", "callback_tokens"):  # fmt: skip
        assert before_gone[table] > 0, table  # each table held rows of the pruned orders
    report = stored.store.prune(PrunePolicy(CUTOFF, pause_s=0))
    assert report.states == {"completed": 1, "cancelled": 1} and report.orders == 2
    assert (report.oldest, report.newest, report.batches) == (OLD, OLD, 1)
    assert report.kept_undelivered == 0
    assert rows_of(db, GONE) == dict.fromkeys(before_gone, 0)
    assert rows_of(db, kept) == before_kept
    assert {r.id: r.state for r in stored.store.orders()} == {
        "WAIT-OLD": "pending", "HELD-OLD": "held", "DONE-NEW": "completed"}  # fmt: skip
    assert [item.order_id for item in stored.fallout()] == ["HELD-OLD"]
    assert stored.store.load_order("DONE-OLD") is None
    assert stored.store.events("DONE-OLD") == []


def test_products_stay_and_keep_naming_the_pruned_orders(stored: Runtime) -> None:
    """A product's order items are ids: they may name an order that is no longer stored."""
    store = stored.store
    store.prune(PrunePolicy(CUTOFF, pause_s=0))
    product = store.product("P1")
    assert product is not None and product.status == "active"
    assert [(r.order_id, r.action) for r in product.order_items] == [("DONE-OLD", "add")]
    assert not store.has_order("DONE-OLD")
    stored.submit(tmf("MOD-1", "P1", action="modify"))  # the inventory still serves a modify:
    stored.run_until_idle()  # the speed it gives is the one recorded: nothing changes
    assert stored.status("MOD-1").state == "completed"
    assert stored.status("MOD-1").items == ()  # noChange: no work at all


def test_every_table_is_either_pruned_or_kept_on_purpose(stored: Runtime) -> None:
    """A new table that holds order data must be added to ORDER_ROWS (or, if its rows belong
    to no order, to KEPT_TABLES with why): a prune would leave its rows behind otherwise."""
    store = stored.store
    assert isinstance(store, SqliteStore)
    tables = store_tables(store.query)
    listed = {rows.table for rows in ORDER_ROWS}
    assert tables - listed - set(KEPT_TABLES) == set(), "classify the new table(s)"
    assert listed | set(KEPT_TABLES) == tables, "ORDER_ROWS or KEPT_TABLES name a table no more"
    assert listed.isdisjoint(KEPT_TABLES)


@pytest.mark.parametrize("kind", ["sqlite", "memory"])
def test_an_event_after_a_prune_of_the_newest_gets_a_greater_seq(
    lab: ir.Catalog, tmp_path: Path, kind: str
) -> None:
    """eventIds are `om-<seq>`: the seq came from max(seq) + 1, so pruning the newest events
    would have issued their ids again to other state changes."""
    store: Store = SqliteStore(tmp_path / "om.db") if kind == "sqlite" else MemoryStore()
    clock = Clock()
    with Runtime(lab, store=store, handlers=handlers(), clock=clock) as runtime:
        runtime.submit(native("W1", "Slow"))
        runtime.run_until_idle()
        runtime.submit(native("C1", "Slow"))
        runtime.run_until_idle()
        runtime.cancel("C1")
        runtime.run_until_idle()
        highest = max(row.seq for row in store.events())
        assert store.events()[-1].order_id == "C1"  # the newest events are C1's
        report = store.prune(PrunePolicy(CUTOFF, pause_s=0))
        assert report.orders == 1 and max(row.seq for row in store.events()) < highest
        runtime.submit(native("W2", "Slow"))
        runtime.run_until_idle()
        seqs = [row.seq for row in store.events("W2")]
    assert seqs and min(seqs) == highest + 1
    if kind == "sqlite":
        reopened = SqliteStore(tmp_path / "om.db")
        assert reopened._meta(LAST_EVENT_SEQ) == str(highest)
        reopened.close()


def _digest(db: Path) -> str:
    return hashlib.sha256(db.read_bytes()).hexdigest()


def test_a_dry_run_says_what_would_go_and_changes_no_byte(
    stored: Runtime, db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    stored.close()
    before = _digest(db)
    monkeypatch.setattr(time, "time", lambda: CUTOFF + 86_400 * 3)
    code, out, err = om(capsys, "prune", "--db", str(db), "--older-than", "3d", "--dry-run")
    assert code == 0, err
    assert out == ""
    lines = err.splitlines()
    assert lines[0] == ("dry run: would prune 2 order(s) finished before 1970-01-18 08:40:00Z: "
                        "1 cancelled, 1 completed")  # fmt: skip
    assert lines[1].startswith("  oldest 1970-01-12 13:46:40Z, newest 1970-01-12 13:46:40Z; about ")
    assert lines[-1] == "nothing was changed"
    assert _digest(db) == before
    code, out, err = om(capsys, "prune", "--db", str(db), "--older-than", "3d", "--dry-run",
                        "--format", "json")  # fmt: skip
    report = json.loads(out)
    assert (report["orders"], report["states"], report["dry_run"]) == (
        2, {"cancelled": 1, "completed": 1}, True)  # fmt: skip
    assert report["bytes"] > 1000 and report["transactions"] == 0
    assert _digest(db) == before
    store = SqliteStore(db, read_only=True)
    assert len(store.orders()) == 5
    store.close()


def test_om_prune_prunes_and_says_so(
    stored: Runtime, db: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    stored.close()
    monkeypatch.setattr(time, "time", lambda: CUTOFF + 90 * 86_400)
    code, _, err = om(capsys, "prune", "--db", str(db), "--older-than", "90d")
    assert code == 0, err
    lines = err.splitlines()
    assert lines[0] == ("pruned 2 order(s) finished before 1970-01-18 08:40:00Z: 1 cancelled, "
                        "1 completed")  # fmt: skip
    assert "1 transaction(s)" in lines[1] and "bytes of the file freed" in lines[1]
    code, _, err = om(capsys, "prune", "--db", str(db), "--older-than", "90d")
    assert (code, err) == (0, "no finished order older than 90d (before 1970-01-18 08:40:00Z) "
                              "is pruned\n")  # fmt: skip
    assert rows_of(db, GONE)["orders"] == 0


def test_vacuum_gives_the_space_back_and_is_refused_beside_a_runner(
    stored: Runtime, db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stored.claim_store()  # as `om serve` holds it
    code, _, err = om(capsys, "prune", "--db", str(db), "--older-than", "1d", "--vacuum")
    assert code == 7, err
    assert "is being run by another Runtime of this process" in err
    assert err.rstrip().endswith("nothing was pruned")
    assert rows_of(db, GONE)["orders"] == 2
    stored.close()
    code, _, err = om(capsys, "prune", "--db", str(db), "--older-than", "1d", "--vacuum")
    assert code == 0, err
    before, after = (int(n) for n in err.split("vacuumed ")[1].split(": ")[1].split(" bytes")[0]
                     .split(" -> "))  # fmt: skip
    assert after < before and after == db.stat().st_size
    assert rows_of(db, GONE)["orders"] == 0


def test_usage_mistakes_are_one_line_with_the_usual_codes(
    stored: Runtime, db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = om(capsys, "prune", "--db", str(db), "--older-than", "90days")
    assert code == 2 and "(did you mean 90d?)" in err and "Traceback" not in err
    code, _, err = om(capsys, "prune", "--db", str(db), "--older-than", "1.5d")
    assert code == 2 and "(did you mean 36h?)" in err
    code, _, err = om(capsys, "prune", "--db", str(db))
    assert code == 2 and "Missing option '--older-than'" in err
    code, _, err = om(capsys, "prune", "--db", str(db), "--older-than", "1d", "--vacuum",
                      "--dry-run")  # fmt: skip
    assert code == 2 and "give one" in err
    code, _, err = om(capsys, "prune", "--db", str(db.parent / "nope.db"), "--older-than", "1d")
    assert code == 5 and "no store at" in err


def test_a_backup_copy_is_pruned_only_as_a_restore(
    stored: Runtime, db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stored.close()
    copy = tmp_path / "copy.db"
    backup_store(db, copy)
    code, _, err = om(capsys, "prune", "--db", str(copy), "--older-than", "1d")
    assert code == 6, err
    assert "not restored: it is not pruned" in err and "give --restored" in err
    with pytest.raises(StoreIsBackup):
        SqliteStore(copy).prune(PrunePolicy(CUTOFF))
    code, _, err = om(capsys, "prune", "--db", str(copy), "--older-than", "1d", "--dry-run")
    assert code == 0 and "would prune 3 order(s)" in err  # reading a copy is never refused
    code, _, err = om(capsys, "prune", "--db", str(copy), "--older-than", "1d", "--restored")
    assert code == 0 and "pruned 3 order(s)" in err
    still = SqliteStore(copy)
    assert still.backup_mark() is not None  # it stays a copy until it is run with --restored
    still.close()


def test_orders_with_notifications_owed_stay_unless_told(
    lab: ir.Catalog, tmp_path: Path, listener: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """An abandoned notification (`om notifications list`) keeps its order: pruning it would
    leave nothing to send again.  --include-undelivered prunes it, outbox rows and all."""
    db = tmp_path / "om.db"
    listener.set_down(True)
    notify = NotifySettings(urls=(listener.url,), max_attempts=1, backoff_ms=10)
    clock = Clock()
    with Runtime(lab, store=SqliteStore(db), handlers=handlers(), clock=clock,
                 downstream=DownstreamSettings(notify=notify)) as runtime:  # fmt: skip
        runtime.submit(native("C1", "Slow"))
        runtime.run_until_idle()
        runtime.cancel("C1")
        runtime.run_until_idle()
        assert runtime.notifications.drain(10.0)
        assert runtime.notifications.counts().get("abandoned")
    code, _, err = om(capsys, "prune", "--db", str(db), "--older-than", "1d", "--dry-run")
    assert code == 0 and "no finished order older than 1d" in err
    assert "kept 1 finished order(s) whose notifications are not all delivered" in err
    code, _, err = om(capsys, "prune", "--db", str(db), "--older-than", "1d")
    assert code == 0 and rows_of(db, {"C1"})["orders"] == 1
    code, _, err = om(capsys, "prune", "--db", str(db), "--older-than", "1d",
                      "--include-undelivered")  # fmt: skip
    assert code == 0 and "pruned 1 order(s)" in err
    assert set(rows_of(db, {"C1"}).values()) == {0}


def test_events_the_notifier_has_not_read_keep_their_order(lab: ir.Catalog) -> None:
    """A store whose notifier has a cursor owes its listeners the events after it."""
    store = MemoryStore()
    with Runtime(lab, store=store, handlers=handlers(), clock=Clock()) as runtime:
        runtime.submit(native("C1", "Slow"))
        runtime.run_until_idle()
        store.set_cursor("notify", 1)
        runtime.cancel("C1")
        runtime.run_until_idle()
        report = store.prune(PrunePolicy(CUTOFF))
        assert (report.orders, report.kept_undelivered) == (0, 1)
        store.set_cursor("notify", store.events()[-1].seq)
        assert store.prune(PrunePolicy(CUTOFF)).orders == 1


def test_a_host_store_without_prune_still_runs(lab: ir.Catalog) -> None:
    """`prune` is optional in the Store protocol, as the inventory methods are."""

    class Bare:
        def __init__(self) -> None:
            self._store = MemoryStore()

        def __getattr__(self, name: str) -> Any:
            if name == "prune":
                raise AttributeError(name)
            return getattr(self._store, name)

    with Runtime(lab, store=Bare(), handlers=handlers()) as runtime:
        runtime.submit(native("W1", "Slow"))
        runtime.run_until_idle()
        assert runtime.status("W1").state == "pending"


# ---- the selection, as a property ------------------------------------------------------------

STATES = sorted(state.value for state in OrderState)
ORDERS = st.lists(
    st.tuples(st.sampled_from(STATES), st.floats(0, 100, allow_nan=False)), max_size=25
)


def synthetic(store: Store, orders: list[tuple[str, float]]) -> None:
    """Orders written straight to the store: a state and a last change each, a plan, an item
    and an event (what a prune reads and removes)."""
    for n, (state, at) in enumerate(orders):
        record = OrderRecord(f"O{n}", "h", state, at, at)
        new = NewOrder(record, "{}", [(0, "1/x:y", "completed", 1, 0, None, at, at, {}, None,
                                       None, 1)])  # fmt: skip
        event = (at, record.id, None, "order.state", None, state, None, None, None, None)
        store.apply(WriteBatch(catalogs={"h": "{}"}, new_orders=[new], events=[event]))


@settings(max_examples=40)
@given(orders=ORDERS, cutoff=st.floats(0, 100, allow_nan=False), batch=st.integers(1, 4))
@pytest.mark.parametrize("kind", ["sqlite", "memory"])
def test_exactly_the_finished_orders_older_than_the_cutoff_go(
    kind: str, orders: list[tuple[str, float]], cutoff: float, batch: int
) -> None:
    store: Store = SqliteStore(":memory:") if kind == "sqlite" else MemoryStore()
    synthetic(store, orders)
    highest = len(orders)
    expected_gone = {f"O{n}" for n, (state, at) in enumerate(orders)
                     if state in FINAL_STATES and at < cutoff}  # fmt: skip
    dry = store.prune(PrunePolicy(cutoff, dry_run=True, batch_size=batch, pause_s=0))
    assert dry.orders == len(expected_gone) and len(store.orders()) == len(orders)
    report = store.prune(PrunePolicy(cutoff, batch_size=batch, pause_s=0))
    assert report.states == dry.states
    left = {record.id for record in store.orders()}
    assert left == {f"O{n}" for n in range(len(orders))} - expected_gone
    assert {row.order_id for row in store.events()} == left
    assert all(store.items(order_id) == [] for order_id in expected_gone)
    store.apply(WriteBatch(events=[(0.0, "X", None, "k", None, None, None, None, None, None)]))
    assert store.events()[-1].seq == highest + 1
    store.close()


# ---- the documented examples -----------------------------------------------------------------

DOC = (Path(__file__).resolve().parents[2] / "docs" / "service.md").read_text(encoding="utf-8")
RETENTION = DOC[DOC.index("## Retention: pruning finished orders\n") : DOC.index("## The TMF622")]


def _epoch(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC).timestamp()


@pytest.mark.parametrize("index", [1, 2])
def test_the_documented_prunes_are_what_om_prune_prints(
    lab: ir.Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], index: int,
) -> None:  # fmt: skip
    """docs/service.md's dry run and prune, on a store where an order was cancelled on May 4,
    one completed on August 12 and one still waits, on November 28 (the sizes aside)."""
    example = RETENTION.split("```console\n$ om ")[index].split("```", 1)[0]
    command, shown = example.split("\n", 1)
    monkeypatch.chdir(tmp_path)
    clock = Clock()
    with Runtime(lab, store=SqliteStore("om.db"), handlers=handlers(), clock=clock) as runtime:
        clock.now = _epoch("2026-05-04 09:12:40")
        runtime.submit(native("C1", "Slow"))
        runtime.run_until_idle()
        runtime.cancel("C1")
        runtime.run_until_idle()
        clock.now = _epoch("2026-08-12 16:03:11")
        runtime.submit(tmf("D1", "P1"))
        finish(runtime, "D1")
        runtime.submit(native("W1", "Slow"))
        runtime.run_until_idle()
    monkeypatch.setattr(time, "time", lambda: _epoch("2026-11-28 02:00:00"))
    code, out, err = om(capsys, *command.split())
    assert (code, out) == (0, "")
    sizes = re.compile(r"\d+ bytes|in \d+\.\d s")
    assert sizes.sub("N", err) == sizes.sub("N", shown)


def test_a_view_read_while_its_order_is_pruned_is_none_not_an_error(stored: Runtime) -> None:
    """The service reads an order in several statements: an `om prune` in between (its row
    read, its items gone) made GET /productOrder a 500; it is a 404 now, and lists skip it."""
    store = stored.store
    assert isinstance(store, SqliteStore)
    views = OrderViews(store)
    assert views.product_order("DONE-OLD") is not None  # its plan's shape is cached
    read = store.order

    def order_then_pruned(order_id: str) -> Any:
        found = read(order_id)
        store.prune(PrunePolicy(CUTOFF, pause_s=0))
        return found

    store.order = order_then_pruned  # type: ignore[method-assign]
    assert views.product_order("DONE-OLD") is None
    assert views.product_order("CANCEL-OLD") is None  # not cached: its plan was gone too
    assert store.load_order("DONE-OLD") is None


def test_ctrl_c_between_two_transactions_keeps_what_each_did(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """600 finished orders: the first transaction (500) commits, Ctrl-C comes in the pause."""
    db = tmp_path / "om.db"
    store = SqliteStore(db)
    synthetic(store, [("completed", 10.0)] * 600)
    store.close()

    def interrupted(seconds: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(sqlite_prune, "sleep", interrupted)
    code, _, err = om(capsys, "prune", "--db", str(db), "--older-than", "1d")
    assert code == 130 and err.startswith("error: interrupted: the orders pruned before stay")
    left = rows_of(db, {f"O{n}" for n in range(600)})
    assert (left["orders"], left["plans"], left["items"], left["events"]) == (100,) * 4
    monkeypatch.undo()
    code, _, err = om(capsys, "prune", "--db", str(db), "--older-than", "1d")
    assert code == 0 and err.startswith("pruned 100 order(s)")
