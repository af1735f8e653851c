"""The Runtime object's own life: closed is closed, a stop that cannot stop says so, and a
second start is an OmError (found by the embedding hunt: raw sqlite3 errors after close, a
30 s hang in start_background, and a timed-out stop that returned as if stopped)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from runtime_support import compile_text, decomposition, line

from om_dsl.errors import NotFound, OmError
from om_dsl.runtime import HandlerRegistry, MemoryStore, Runtime, SqliteStore

CATALOG = """
cfs V { attribute n: int }
plan V on add { auto work handler "work" }
"""


def test_a_closed_runtime_says_so(tmp_path: Path) -> None:
    catalog = compile_text(CATALOG)
    runtime = Runtime(catalog, store=SqliteStore(tmp_path / "om.db"))
    runtime.submit(decomposition("O1", catalog, [line("V", "V")]))
    runtime.close()
    runtime.close()  # twice is fine
    for use in (
        lambda: runtime.status("O1"),
        lambda: runtime.submit(decomposition("O2", catalog, [line("V", "V")])),
        lambda: runtime.cancel("O1"),
        runtime.run_until_idle,
        runtime.start_background,
    ):
        with pytest.raises(OmError, match="the runtime is closed"):
            use()


@pytest.mark.timeout(60)
def test_a_stop_that_cannot_stop_raises_and_keeps_the_store(tmp_path: Path) -> None:
    catalog = compile_text(CATALOG)
    release = threading.Event()
    registry = HandlerRegistry()
    registry.register("work", lambda ctx: release.wait(30) and {}, inline=True)  # blocks the loop
    runtime = Runtime(catalog, store=SqliteStore(tmp_path / "om.db"), handlers=registry)
    runtime.submit(decomposition("O1", catalog, [line("V", "V")]))
    runtime.start_background()
    with pytest.raises(OmError, match="already running in the background"):
        runtime.start_background()
    with pytest.raises(OmError, match=r"did not stop within 0\.2 s"):
        runtime.stop(timeout=0.2)
    with pytest.raises(OmError, match="did not stop"):
        runtime.close(timeout=0.2)  # nothing closed under the running loop
    assert runtime.running
    release.set()
    runtime.close()
    assert not runtime.running


def test_small_mistakes_get_om_errors_or_nothing() -> None:
    """`status.item("nope")` raised KeyError where the operator actions say NotFound, and an
    unsubscribe function called twice raised ValueError."""
    catalog = compile_text(CATALOG)
    with Runtime(catalog) as runtime:
        runtime.submit(decomposition("O1", catalog, [line("V", "V")]))
        with pytest.raises(NotFound, match="order O1 has no item 'nope'"):
            runtime.status("O1").item("nope")
        for unsubscribe in (
            runtime.add_listener(lambda event: None),
            runtime.notifications.subscribe(lambda event: None),
        ):
            unsubscribe()
            unsubscribe()


def test_missing_handlers_are_listed_for_the_catalog_or_a_plan() -> None:
    catalog = compile_text(
        CATALOG + 'cfs W { attribute n: int }\nplan W on add { auto other handler "other" }\n'
    )
    registry = HandlerRegistry()
    registry.register("other", lambda ctx: {})
    with Runtime(catalog, handlers=registry) as runtime:
        assert runtime.missing_handlers() == ["work"]
        plan = runtime.plan(decomposition("O1", catalog, [line("W", "W")]))
        assert runtime.missing_handlers(plan) == []


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_one_orders_events_read_alike_on_both_stores(kind: str, tmp_path: Path) -> None:
    """The memory store reads one order's events through its own index now (it scanned
    every order's, which the notifier does for each order event)."""
    catalog = compile_text("cfs V { attribute n: int }\nplan V on add { milestone done }")
    store = MemoryStore() if kind == "memory" else SqliteStore(tmp_path / "om.db")
    with Runtime(catalog, store=store) as runtime:
        for order_id in ("A", "B", "C"):
            runtime.submit(decomposition(order_id, catalog, [line("V", "V")]))
        runtime.run_until_idle()
        every = runtime.store.events()
        for order_id in ("A", "B", "C"):
            mine = [e for e in every if e.order_id == order_id]
            assert runtime.store.events(order_id=order_id) == mine
            middle = mine[len(mine) // 2].seq
            after = runtime.store.events(order_id=order_id, after_seq=middle, limit=2)
            assert after == [e for e in mine if e.seq > middle][:2]
