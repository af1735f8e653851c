"""A commit that fails (a full disk, a locked database) loses nothing and half-writes nothing.

The orders a failed commit touched leave memory and come back from the store, as after a
restart, so an operator action that raised did not happen, and the event log stays a
continuous chain of transitions for every item.
"""

from __future__ import annotations

import itertools
import sqlite3
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import pytest
from runtime_support import Recorder, compile_text, states

from om_dsl.runtime import Runtime, RuntimeStopped, SqliteStore
from om_dsl.runtime.events import ITEM_STATE
from om_dsl.runtime.store.base import WriteBatch
from om_dsl.runtime.store.memory import MemoryStore

CATALOG = """
queue field "Field"
offer Internet "Internet" id "1" { attribute speed: int default 100 }
cfs Line { attribute bw: int }
decompose Internet { -> Line { bw = speed } }
plan Line on add {
  manual install queue field
  auto activate handler "net.activate" after install
}
"""
ORDER = {"id": "O1", "items": [{"id": "1", "product": "Internet"}]}


class _FlakyDisk(MemoryStore):
    """A store whose next ``failures`` commits fail, as a full disk makes them."""

    failures = 0

    def apply(self, batch: WriteBatch) -> int:
        if self.failures:
            self.failures -= 1
            raise OSError("disk full")
        return super().apply(batch)


def _runtime(recorder: Recorder) -> tuple[Runtime, _FlakyDisk]:
    store = _FlakyDisk()
    runtime = Runtime(
        compile_text(CATALOG), store=store, handlers=recorder.registry(["net.activate"])
    )
    runtime.submit(ORDER)
    runtime.run_until_idle()
    return runtime, store


def _chains(runtime: Runtime) -> dict[str, list[tuple[str | None, str | None]]]:
    """Each item's transitions, in the order logged."""
    found: dict[str, list[tuple[str | None, str | None]]] = defaultdict(list)
    for event in runtime.events("O1"):
        if event.kind == ITEM_STATE and event.item_id is not None:
            found[event.item_id].append((event.from_state, event.to_state))
    return found


def wait_until(condition: Callable[[], bool], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def _assert_continuous(runtime: Runtime) -> None:
    for item, steps in _chains(runtime).items():
        for (_, reached), (left, _) in itertools.pairwise(steps):
            assert reached == left, f"{item}: {steps}"


def test_an_operator_action_whose_commit_fails_did_not_happen() -> None:
    runtime, store = _runtime(Recorder())
    before = runtime.status("O1")
    store.failures = 1
    with pytest.raises(OSError, match="disk full"):
        runtime.complete("O1", "1/Line:install", {"done": True})
    assert runtime.status("O1") == before
    runtime.complete("O1", "1/Line:install", {"done": True})  # not "it is completed"
    runtime.run_until_idle()
    assert runtime.status("O1").state == "completed"
    assert [to for _, to in _chains(runtime)["1/Line:install"]].count("completed") == 1
    _assert_continuous(runtime)


def test_a_retry_whose_commit_fails_leaves_the_item_failed() -> None:
    recorder = Recorder(fail_times={"net.activate": 99})
    runtime, store = _runtime(recorder)
    runtime.complete("O1", "1/Line:install", {"done": True})
    runtime.run_until_idle()
    assert states(runtime, "O1")["1/Line:activate"] == "fatally_failed"
    store.failures = 1
    with pytest.raises(OSError, match="disk full"):
        runtime.retry("O1", "1/Line:activate")
    runtime.run_until_idle()  # nothing was made ready: nothing runs
    assert states(runtime, "O1")["1/Line:activate"] == "fatally_failed"
    assert recorder.attempts["1/Line:activate"] == 1
    recorder.fail_times.clear()
    runtime.retry("O1", "1/Line:activate")
    runtime.run_until_idle()
    assert runtime.status("O1").state == "completed"
    _assert_continuous(runtime)


def test_a_step_whose_commit_fails_is_taken_again_from_the_store() -> None:
    """The loop stops on the error; the next run takes the order back from the store and
    runs what the lost commit had started (nothing ran: items start after their commit)."""
    recorder = Recorder()
    runtime, store = _runtime(recorder)
    runtime.complete("O1", "1/Line:install", {"done": True})
    store.failures = 1  # the step that marks activate running
    with pytest.raises(OSError, match="disk full"):
        runtime.run_until_idle()
    assert states(runtime, "O1")["1/Line:activate"] == "ready"
    done = threading.Event()

    def again() -> None:
        runtime.run_until_idle()
        done.set()

    threading.Thread(target=again, daemon=True).start()
    assert done.wait(10), "the order never finished: memory still held the lost step"
    assert runtime.status("O1").state == "completed"
    assert recorder.attempts["1/Line:activate"] == 1
    _assert_continuous(runtime)
    runtime.close()


FULL_DISK = (
    "CREATE TRIGGER full_disk BEFORE UPDATE OF state ON items {when} "
    "BEGIN SELECT RAISE(FAIL, 'database or disk is full'); END"
)
"""A store error made by SQLite itself (a subclass of the store, as above, is not the real
store): an update of an item row fails, when it sets the state ``{when}`` names."""


def test_a_background_loop_that_stops_on_an_error_takes_no_new_work(tmp_path: Path) -> None:
    """A dead background loop used to leave a runtime that took orders and actions, stored
    them and never ran them; it now refuses them (``RuntimeStopped``), says why it stopped
    (``failure``, the ``on_failure`` hooks) and takes work again once it runs again."""
    db = tmp_path / "om.db"
    recorder = Recorder()
    runtime = Runtime(
        compile_text(CATALOG), store=SqliteStore(db), handlers=recorder.registry(["net.activate"])
    )
    heard: list[Exception] = []
    runtime.on_failure(heard.append)
    runtime.start_background()
    try:
        runtime.submit(ORDER)
        wait_until(lambda: states(runtime, "O1")["1/Line:install"] == "waiting")
        with sqlite3.connect(db) as other:
            other.execute(FULL_DISK.format(when="WHEN NEW.state = 'running'"))
        runtime.complete("O1", "1/Line:install", {"done": True})  # the loop's start fails
        wait_until(lambda: runtime.failure is not None)
        assert heard == [runtime.failure] and not runtime.running
        assert "database or disk is full" in str(runtime.failure)
        with pytest.raises(RuntimeStopped, match="stopped on an error"):
            runtime.submit({**ORDER, "id": "O2"})
        with pytest.raises(RuntimeStopped):
            runtime.cancel("O1")
        assert not runtime.has_order("O2")
        with sqlite3.connect(db) as other:
            other.execute("DROP TRIGGER full_disk")
        runtime.start_background()  # as a restart: the order is taken back and goes on
        assert runtime.failure is None
        wait_until(lambda: runtime.status("O1").state == "completed")
        runtime.submit({**ORDER, "id": "O2"})
        _assert_continuous(runtime)
    finally:
        runtime.close()
    assert recorder.attempts["1/Line:activate"] == 1


def test_a_loop_that_dies_as_it_starts_is_said_at_once(tmp_path: Path) -> None:
    """Loading the store's orders failed in the loop's thread, and `start_background`
    waited its whole timeout (30 s) before it said "did not start"."""
    db = tmp_path / "om.db"
    runtime = Runtime(compile_text(CATALOG), store=SqliteStore(db))
    runtime.submit(ORDER)
    runtime.close()
    runtime = Runtime(compile_text(CATALOG), store=SqliteStore(db))
    with sqlite3.connect(db) as other:
        other.execute("UPDATE items SET state = 'running'")  # as if it crashed mid-item
        other.execute(FULL_DISK.format(when=""))  # recovery re-queues it: an update
    started = time.monotonic()
    try:
        with pytest.raises(RuntimeStopped, match="as it started"):
            runtime.start_background(timeout=20)
        assert time.monotonic() - started < 5
        assert isinstance(runtime.failure, sqlite3.IntegrityError)
    finally:
        runtime.close()
