"""A delivery's outcome is one write: the outbox row marked (delivered, failed, abandoned) and
its ``notify.*`` row of the event log.  They were two transactions, and a failure (or a crash)
between them left a row delivered without its event, or the other way round."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from downstream_support import lab_order, sqlite

from om_dsl.runtime import MemoryStore, Runtime, SqliteStore
from om_dsl.runtime.notify import NotifySettings
from om_dsl.runtime.notify.outbox import OutboxRow

Lab = Callable[..., Runtime]
URL = "http://127.0.0.1:9/events"  # never called: the outcomes are recorded by hand here
NO_EVENTS = (
    "CREATE TRIGGER no_room BEFORE INSERT ON events WHEN NEW.kind LIKE 'notify.%' "
    "BEGIN SELECT RAISE(FAIL, 'database or disk is full'); END"
)


def _pending(lab: Lab, store: Any) -> tuple[Runtime, OutboxRow]:
    """A runtime whose outbox holds the order's first event, not sent (nothing runs)."""
    runtime = lab(store=store, notify=NotifySettings(urls=(URL,)), serve=False)
    runtime.submit(lab_order("O1", runtime.catalog))  # type: ignore[arg-type]
    assert runtime.notifications.read_log() >= 1
    (row, *_) = runtime.notifications._outbox.due(float("inf"), 1)
    return runtime, row


def _outcome(runtime: Runtime) -> tuple[list[tuple[str, int]], list[str]]:
    """The first outbox row's (status, attempts), and the order's notify.* rows."""
    sent = [(d.status, d.attempts) for d in runtime.notifications.deliveries("O1")][:1]
    return sent, [e.kind for e in runtime.events("O1") if e.kind.startswith("notify.")]


@pytest.mark.parametrize("outcome", ["delivered", "failed", "abandoned"])
@pytest.mark.parametrize("kind", ["sqlite", "memory"])
def test_the_outbox_row_and_its_event_are_written_together_or_not_at_all(
    lab: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, outcome: str
) -> None:
    store = sqlite(tmp_path) if kind == "sqlite" else MemoryStore()
    runtime, row = _pending(lab, store)
    notifier = runtime.notifications
    error = None if outcome == "delivered" else "answered 503"
    final = outcome == "abandoned"
    if kind == "sqlite":  # SQLite itself fails the event's insert, as a full disk does
        with sqlite3.connect(tmp_path / "om.db") as other:
            other.execute(NO_EVENTS)
    else:

        def full(batch: Any) -> int:
            raise OSError("no room for the event")

        monkeypatch.setattr(store, "apply", full)
    with pytest.raises((sqlite3.DatabaseError, OSError)):
        notifier._record(row, 1, error, final)
    assert _outcome(runtime) == ([("pending", 0)], [])  # neither, where it was one of them
    if kind == "sqlite":
        with sqlite3.connect(tmp_path / "om.db") as other:
            other.execute("DROP TRIGGER no_room")
    else:
        monkeypatch.undo()
    notifier._record(row, 1, error, final)
    status = {"delivered": "delivered", "failed": "pending", "abandoned": "abandoned"}[outcome]
    assert _outcome(runtime) == ([(status, 1)], [f"notify.{outcome}"])


def test_a_replay_and_its_log_rows_are_written_together_or_not_at_all(
    lab: Lab, tmp_path: Path
) -> None:
    runtime, row = _pending(lab, sqlite(tmp_path))
    runtime.notifications._record(row, 1, "answered 400", True)
    with sqlite3.connect(tmp_path / "om.db") as other:
        other.execute(NO_EVENTS)
    with pytest.raises(sqlite3.DatabaseError):
        runtime.notifications.retry_abandoned("O1", by="ops", reason="listener fixed")
    assert _outcome(runtime) == ([("abandoned", 1)], ["notify.abandoned"])


def test_a_memory_store_reader_waits_for_the_whole_write(lab: Lab) -> None:
    """Under the store's lock: a reader of the log sees the outbox row and its event together."""
    store = MemoryStore()
    runtime, _row = _pending(lab, store)
    side = runtime.notifications._side
    seen: list[int] = []
    with side.joint_write():
        reader = threading.Thread(target=lambda: seen.append(len(store.events("O1"))))
        reader.start()
        reader.join(0.3)
        assert reader.is_alive() and not seen  # it waits for the write to end
    reader.join(5)
    assert seen


def test_a_write_inside_a_store_transaction_is_a_savepoint_of_it(tmp_path: Path) -> None:
    """It failed ("cannot start a transaction within a transaction"); now it commits with the
    outer write, and an error undoes its own writes alone."""
    store = SqliteStore(tmp_path / "om.db")
    with store.transaction() as db:
        db.execute("CREATE TABLE t (x INTEGER)")
        db.execute("INSERT INTO t VALUES (1)")
        with pytest.raises(ValueError), store.transaction() as inner:
            inner.execute("INSERT INTO t VALUES (2)")
            raise ValueError("undone")
        with store.transaction() as inner:
            inner.execute("INSERT INTO t VALUES (3)")
    assert store.query("SELECT x FROM t ORDER BY x") == [(1,), (3,)]
    with pytest.raises(ValueError), store.transaction() as db:
        db.execute("INSERT INTO t VALUES (4)")
        with store.transaction() as inner:
            inner.execute("INSERT INTO t VALUES (5)")
        raise ValueError("all of it undone")
    assert store.query("SELECT x FROM t ORDER BY x") == [(1,), (3,)]
    store.close()
