"""The Runtime object's own life: closed is closed, a stop that cannot stop says so, and a
second start is an OmError (found by the embedding hunt: raw sqlite3 errors after close, a
30 s hang in start_background, and a timed-out stop that returned as if stopped)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from runtime_support import compile_text, decomposition, line

from om_dsl import compile_catalog
from om_dsl.errors import NotFound, OmError
from om_dsl.runtime import (
    HandlerRegistry,
    ItemContext,
    MemoryStore,
    OrderState,
    Runtime,
    SqliteStore,
)

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


@pytest.mark.timeout(60)
def test_a_stop_names_the_sync_handlers_that_still_run(tmp_path: Path) -> None:
    """A sync handler that hangs: stop() returned at once as if all had stopped, and the
    process then waited for the handler's thread at its exit, silently."""
    catalog = compile_text(CATALOG)
    release, started = threading.Event(), threading.Event()
    registry = HandlerRegistry()

    @registry.handler("work")
    def work(ctx: ItemContext) -> dict[str, object]:
        started.set()
        release.wait(30)
        return {}

    db = tmp_path / "om.db"
    runtime = Runtime(catalog, store=SqliteStore(db), handlers=registry)
    runtime.submit(decomposition("O1", catalog, [line("V", "V")]))
    runtime.start_background()
    assert started.wait(10)
    still = r"1 sync handler\(s\) still run after 0\.2 s: order O1 item V:work \(handler 'work'\)"
    with pytest.raises(OmError, match=still):
        runtime.stop(timeout=0.2)
    assert not runtime.running
    with pytest.raises(OmError, match=still):
        runtime.close(timeout=0.2)  # told again; nothing closed
    with Runtime(catalog, store=SqliteStore(db)) as other:
        other.claim_store()  # the store is free meanwhile
    release.set()
    runtime.close()
    done = HandlerRegistry()
    done.register("work", lambda ctx: {"attempt": ctx.attempt})
    with Runtime(catalog, store=SqliteStore(db), handlers=done) as again:
        again.run_until_idle()  # the item in flight is re-attempted
        assert again.status("O1").item("V:work").outputs == {"attempt": 2}


HANGS = """
import sys, threading, time
from om_dsl import HandlerRegistry, OmError, Runtime, SqliteStore, compile_catalog
catalog = compile_catalog("h.om", text=sys.stdin.read()).raise_on_error()
started = threading.Event()
registry = HandlerRegistry()
registry.register("work", lambda ctx: (started.set(), time.sleep(60)) and {})
runtime = Runtime(catalog, store=SqliteStore(sys.argv[1]), handlers=registry)
runtime.submit({"id": "O1", "items": [{"id": "1", "product": "W"}]})
runtime.start_background()
started.wait(10)
try:
    runtime.close(timeout=0.2)
except OmError as told:
    print(told, flush=True)
"""


@pytest.mark.timeout(60)
def test_a_hung_sync_handler_does_not_hold_the_process_exit(tmp_path: Path) -> None:
    """The handler sleeps 60 s: the process exited only then, after the host had closed its
    runtime without a word.  Now the host is told, and the exit logs what it leaves behind."""
    text = 'catalog "H" version "1"\noffer W "W" id "1" { attribute a: int default 1 }\n'
    text += "cfs L { attribute a: int }\ndecompose W { -> L { a = a } }\n"
    text += 'plan L on add { auto work handler "work" }\n'
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", HANGS, str(tmp_path / "om.db")],
        input=text, capture_output=True, text=True, timeout=50, check=False,
    )  # fmt: skip
    assert time.monotonic() - started < 30
    assert done.returncode == 0, done.stderr
    assert "1 sync handler(s) still run after 0.2 s: order O1 item 1/L:work" in done.stdout
    assert "the process exits while 1 sync handler(s) still run: order O1 item 1/L:work" in (
        done.stderr
    )


@pytest.mark.parametrize(
    ("arguments", "error", "says"),
    [
        ({"store": "om.db"}, TypeError, r"store must be a store, not the path 'om\.db': give "
         r"store=SqliteStore\('om\.db'\)"),
        ({"store": Path("om.db")}, TypeError, r"store=SqliteStore\(PosixPath\('om\.db'\)\)"),
        ({"store": object()}, TypeError, "store must be a SqliteStore, a MemoryStore or another "
         "Store, not object .* \\(it lacks apply, has_catalog"),
        ({"handlers": {"work": lambda ctx: {}}}, TypeError, "handlers must be a HandlerRegistry, "
         "not dict .*registry.register\\(\"name\", function\\)"),
        ({"kinds": {}}, TypeError, "kinds must be a KindRegistry or None, not dict"),
        ({"downstream": {}}, TypeError, "downstream must be a DownstreamSettings or None"),
        ({"concurrency": 0}, ValueError, "concurrency must be at least 1, not 0"),
        ({"handler_threads": 0}, ValueError, "handler_threads must be at least 1, not 0"),
        ({"handler_threads": 2.5}, TypeError, "handler_threads must be a whole number"),
        ({"clock": 5}, TypeError, "clock must be a function"),
    ],
)  # fmt: skip
def test_a_wrong_argument_is_said_at_once(
    arguments: dict[str, object], error: type[Exception], says: str
) -> None:
    """A path as the store failed at the first submit with "'str' object has no attribute
    'has_order'", and a dict of handlers failed every item it ran."""
    with pytest.raises(error, match=says):
        Runtime(compile_text(CATALOG), **arguments)  # type: ignore[arg-type]


def test_a_compile_result_for_a_catalog_is_said_at_once() -> None:
    result = compile_catalog("lab.om", text='catalog "Lab" version "1"\n' + CATALOG)
    with pytest.raises(TypeError, match=r"not the CompileResult of compile_catalog: give "):
        Runtime(result)  # type: ignore[arg-type]
    Runtime(result.raise_on_error(), store=SqliteStore(":memory:"), handlers=None).close()


def test_orders_take_any_collection_of_states_and_refuse_a_text() -> None:
    """`orders(states=...)` was typed frozenset only; a list worked by chance, and one text
    ("held") was read letter by letter, finding nothing."""
    catalog = compile_text(
        CATALOG + 'cfs W { attribute n: int }\nplan W on add { wait go event "go" }\n'
    )
    registry = HandlerRegistry()
    registry.register("work", lambda ctx: {})
    with Runtime(catalog, handlers=registry) as runtime:
        runtime.submit(decomposition("DONE", catalog, [line("V", "V")]))
        runtime.submit(decomposition("WAITS", catalog, [line("W", "W")]))
        runtime.run_until_idle()
        for states in (
            ["pending"],
            ("pending",),
            {"pending"},
            iter(["pending"]),
            [OrderState.PENDING],
        ):
            assert [r.id for r in runtime.orders(states)] == ["WAITS"]
        assert [r.id for r in runtime.orders(["completed", "pending"])] == ["DONE", "WAITS"]
        assert runtime.orders([]) == []
        with pytest.raises(
            TypeError, match=r"a collection of order states, e.g. \['held'\], not the text 'held'"
        ):
            runtime.orders("held")
        with pytest.raises(ValueError, match=r"unknown state\(s\) pendng; use acknowledged, "):
            runtime.orders(["pendng"])


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


def test_run_until_idle_on_a_running_loop_says_to_await_run(
    recwarn: pytest.WarningsRecorder,
) -> None:
    """asyncio's "cannot be called from a running event loop" named neither the way out nor
    the runtime, and left a coroutine never awaited (a RuntimeWarning)."""
    catalog = compile_text(CATALOG)
    registry = HandlerRegistry()
    registry.register("work", lambda ctx: {})
    runtime = Runtime(catalog, store=MemoryStore(), handlers=registry)
    runtime.submit(decomposition("O1", catalog, [line("V", "V")]))

    async def host() -> None:
        with pytest.raises(RuntimeError, match=r"await runtime\.run\(until_idle=True\)"):
            runtime.run_until_idle()
        await runtime.run(until_idle=True)

    asyncio.run(host())
    assert runtime.status("O1").state == OrderState.COMPLETED
    assert not [w for w in recwarn if "never awaited" in str(w.message)]
    runtime.close()
