"""Amending an order whose items keep running: the amendment holds the order's next starts.

A chain of items never leaves a moment with nothing running (the step that applies one item's
outcome starts the next), so an amendment used to wait until the order had finished and then
be refused.  These tests are driven by events, not sleeps: handlers block on gates, and the
test learns of the hold through a spy on the engine.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from runtime_support import compile_text, states

from om_dsl.errors import OperatorActionRejected
from om_dsl.ir import models as ir
from om_dsl.runtime import HandlerRegistry, ItemContext, Runtime
from om_dsl.runtime.events import LifecycleEvent
from om_dsl.runtime.revision import Revision
from om_dsl.runtime.store.base import Store

CHAIN = """
offer Web "Web" id "1" { attribute speed: int default 100 }
offer Tv "TV" id "2" { attribute channels: int default 10 }
cfs Line { attribute speed: int }
cfs TvSvc { attribute channels: int }
decompose Web { -> Line { speed = speed } }
decompose Tv { -> TvSvc { channels = channels } }
plan Line on add {
  auto a handler "a"
  auto b handler "b" after a
  auto c handler "c" after b
  auto d handler "d" after c
  auto e handler "e" after d
}
plan TvSvc on add { auto z handler "z" }
"""
CHAIN_ITEMS = ["a", "b", "c", "d", "e"]
WAIT = 10.0
"""Seconds any gate or watch waits at most: a hang fails the test instead of blocking it."""


@pytest.fixture(scope="module")
def chain() -> ir.Catalog:
    return compile_text(CHAIN)


def web(speed: int, tv: bool = False) -> dict[str, Any]:
    items: list[dict[str, Any]] = [{"id": "1", "product": "Web", "attributes": {"speed": speed}}]
    if tv:
        items.append({"id": "2", "product": "Tv"})
    return {"id": "O", "items": items}


class Handlers:
    """Handlers that record the speed each call saw; ``a`` (first call) and ``z`` wait for
    their gate, so the test decides when they finish."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.started = {name: threading.Event() for name in ("a", "z")}
        self.gates = {name: threading.Event() for name in ("a", "z")}
        self.lock = threading.Lock()

    def registry(self) -> HandlerRegistry:
        registry = HandlerRegistry()
        for name in [*CHAIN_ITEMS, "z"]:
            registry.register(name, self._handler(name))
        return registry

    def _handler(self, name: str) -> Callable[[ItemContext], dict[str, Any]]:
        def handle(ctx: ItemContext) -> dict[str, Any]:
            if name in self.gates and not self.started[name].is_set():
                self.started[name].set()
                assert self.gates[name].wait(WAIT)
            with self.lock:
                self.calls.append((ctx.item_id, ctx.line.get("speed")))
            return {}

        return handle


class Watch:
    """Listener: an event per (item id or None for the order, state) the order reached."""

    def __init__(self) -> None:
        self.seen: dict[tuple[str | None, str], threading.Event] = {}
        self.lock = threading.Lock()

    def __call__(self, event: LifecycleEvent) -> None:
        if event.kind in ("item.state", "order.state") and event.to_state is not None:
            self._event(event.item_id, event.to_state).set()

    def _event(self, item_id: str | None, state: str) -> threading.Event:
        with self.lock:
            return self.seen.setdefault((item_id, state), threading.Event())

    def wait(self, item_id: str | None, state: str) -> None:
        assert self._event(item_id, state).wait(WAIT), f"{item_id or 'the order'} not {state}"


def held_spy(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Set once an amendment has put its hold on the order (no public signal says so)."""
    engine = runtime._engine  # the hold is internal: only its effect is public
    held = threading.Event()
    hold = engine.hold_starts

    def spy(order_id: str) -> None:
        hold(order_id)
        held.set()

    monkeypatch.setattr(engine, "hold_starts", spy)
    return held


class Amending(threading.Thread):
    """``runtime.amend`` in a thread (it blocks until the order settles)."""

    def __init__(self, runtime: Runtime, revised: Any, settle: float) -> None:
        super().__init__(daemon=True)
        self.runtime, self.revised, self.settle = runtime, revised, settle
        self.revision: Revision | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.revision = self.runtime.amend("O", self.revised, settle=self.settle)
        except BaseException as exc:
            self.error = exc

    def result(self) -> Amending:
        self.join(WAIT)
        assert not self.is_alive()
        return self


def started(
    chain: ir.Catalog, store: Store, handlers: Handlers, first: Any
) -> tuple[Runtime, Watch]:
    runtime = Runtime(chain, store=store, handlers=handlers.registry())
    watch = Watch()
    runtime.add_listener(watch)
    runtime.submit(first)
    runtime.start_background()
    return runtime, watch


def test_an_amendment_lands_mid_chain_and_the_rest_runs_with_the_new_values(
    chain: ir.Catalog, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    handlers = Handlers()
    runtime, watch = started(chain, store, handlers, web(100))
    held = held_spy(runtime, monkeypatch)
    try:
        assert handlers.started["a"].wait(WAIT)
        amending = Amending(runtime, web(200), settle=30.0)
        amending.start()
        assert held.wait(WAIT)
        handlers.gates["a"].set()  # a finishes while the amendment waits: b must not start
        done = amending.result()
        assert done.error is None and done.revision is not None
        assert done.revision.changed == ("1/Line",)
        watch.wait(None, "completed")
        old = [("1/Line:a", 100)]
        new = [(f"1/Line:{name}", 200) for name in CHAIN_ITEMS]
        assert handlers.calls == old + new  # the old run stopped after a; all else is new
        assert runtime._engine.holds == {}
    finally:
        runtime.close()


def test_a_settle_timeout_lifts_the_hold_and_the_order_goes_on_as_before(
    chain: ir.Catalog, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    handlers = Handlers()
    runtime, watch = started(chain, store, handlers, web(100, tv=True))
    held = held_spy(runtime, monkeypatch)
    try:
        assert handlers.started["a"].wait(WAIT) and handlers.started["z"].wait(WAIT)
        amending = Amending(runtime, web(200, tv=True), settle=1.0)
        amending.start()
        assert held.wait(WAIT)
        handlers.gates["a"].set()
        watch.wait("1/Line:a", "completed")
        assert states(runtime, "O")["1/Line:b"] == "ready"  # held back while z runs
        error = amending.result().error
        assert isinstance(error, OperatorActionRejected) and "while items run" in str(error)
        watch.wait("1/Line:e", "completed")  # the hold was lifted: the chain ran, z still runs
        handlers.gates["z"].set()
        watch.wait(None, "completed")
        assert [speed for _, speed in handlers.calls] == [100] * 5 + [None]
        assert not any(e.kind == "order.amended" for e in runtime.events("O"))
        assert runtime._engine.holds == {} and runtime._engine.parked == []
    finally:
        handlers.gates["z"].set()
        runtime.close()
