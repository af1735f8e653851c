"""A commit that fails (a full disk, a locked database) loses nothing and half-writes nothing.

The orders a failed commit touched leave memory and come back from the store, as after a
restart, so an operator action that raised did not happen, and the event log stays a
continuous chain of transitions for every item.
"""

from __future__ import annotations

import itertools
import threading
from collections import defaultdict

import pytest
from runtime_support import Recorder, compile_text, states

from om_dsl.runtime import Runtime
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
