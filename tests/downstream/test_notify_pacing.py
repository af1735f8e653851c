"""The notifier's pacing: it sleeps until a row it may send is due, never in a busy loop.

A listener that could not be reached made the notifier spin at 100% CPU for as long as it was
retried (about 18 minutes per order): it slept until the earliest ``next_at`` of any pending
row, and the rows queued behind a (URL, order)'s head in backoff, which cannot be sent before
the head, were long due.  A delivery in flight did the same while it lasted."""

from __future__ import annotations

import math
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from downstream_support import compile_text, line, loopback_http, order, url_of, wait_until
from hypothesis import given
from hypothesis import strategies as st
from outbox_support import STORES, outbox_of

from om_dsl.orders.models import Order, OrderItem
from om_dsl.runtime import Runtime
from om_dsl.runtime.downstream import DownstreamSettings
from om_dsl.runtime.downstream.state import SideDb
from om_dsl.runtime.notify import NotifySettings
from om_dsl.runtime.notify.notifier import Notifier
from om_dsl.runtime.notify.outbox import NewRow, Outbox
from om_dsl.runtime.store.base import Store
from om_dsl.runtime.store.memory import MemoryStore

URL = "http://127.0.0.1:9/x"
SIMPLE = """
cfs Line { attribute site: string  attribute technology: string }
plan Line on add { milestone done }
"""
CATALOG = compile_text(SIMPLE)


def _new(seq: int, order_id: str = "O1", url: str = URL) -> NewRow:
    return NewRow(seq, url, order_id, "ProductOrderStateChangeEvent", "inProgress", "{}")


@pytest.fixture(params=sorted(STORES))
def outbox(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Outbox]:
    """The outbox in the side tables of each kind of store (SQLite: in the store's file)."""
    with outbox_of(request.param, tmp_path) as box:
        yield box


def test_next_due_waits_for_a_head_in_backoff_not_the_rows_behind_it(outbox: Outbox) -> None:
    outbox.add([_new(1), _new(2), _new(3)], now=100.0)
    (head,) = outbox.due(100.0, 10)  # one order to one URL: only its oldest row
    outbox.retry(head.id, 1, next_at=160.0, error="cannot connect")
    assert outbox.next_due() == 160.0  # was 100.0, the rows queued behind: a busy loop
    assert outbox.due(159.0, 10) == []
    assert [r.event_seq for r in outbox.due(160.0, 10)] == [1]

    outbox.add([_new(4, "O2")], now=120.0)  # another queue, sendable at once
    assert outbox.next_due() == 120.0
    assert outbox.next_due(busy={(URL, "O2")}) == 160.0  # in flight: its end wakes the notifier
    assert outbox.next_due(busy={(URL, "O1"), (URL, "O2")}) is None

    outbox.abandon(head.id, 12, 170.0, "cannot connect")  # the next row is the head now
    assert outbox.next_due() == 100.0
    due = outbox.due(170.0, 10)
    assert [r.event_seq for r in due] == [2, 4]
    for row in due:
        outbox.delivered(row.id, 1, 171.0)
    assert [r.event_seq for r in outbox.due(171.0, 10)] == [3]
    (last,) = outbox.due(171.0, 10)
    outbox.delivered(last.id, 1, 172.0)
    assert outbox.next_due() is None and outbox.due(math.inf, 10) == []


_KEYS = [(url, o) for url in ("http://a/x", "http://b/x") for o in ("O1", "O2", "O3")]
_ROWS = st.lists(
    st.tuples(
        st.sampled_from(_KEYS),
        st.integers(0, 20).map(float),  # next_at, with ties
        st.sampled_from(["pending", "pending", "delivered", "abandoned"]),
    ),
    max_size=25,
)


@given(rows=_ROWS, busy=st.sets(st.sampled_from(_KEYS)), now=st.integers(0, 20).map(float))
def test_due_and_next_due_agree_with_a_model_of_the_queues(
    rows: list[tuple[tuple[str, str], float, str]], busy: set[tuple[str, str]], now: float
) -> None:
    """The head of a (URL, order) queue is its oldest pending row; ``due`` gives the heads due
    by ``now`` (soonest first, then oldest), ``next_due`` the soonest head outside ``busy``."""
    side = SideDb(MemoryStore())
    outbox = Outbox(side)
    for seq, ((url, order_id), next_at, state) in enumerate(rows, 1):
        outbox.add([_new(seq, order_id, url)], now=next_at)
        if state == "delivered":
            outbox.delivered(seq, 1, next_at)
        elif state == "abandoned":
            outbox.abandon(seq, 12, next_at, "cannot connect")
    heads: dict[tuple[str, str], tuple[float, int]] = {}
    for seq, (key, next_at, state) in enumerate(rows, 1):
        if state == "pending" and key not in heads:
            heads[key] = (next_at, seq)
    expected_due = sorted(h for h in heads.values() if h[0] <= now)[:4]
    assert [(r.next_at, r.id) for r in outbox.due(now, 4)] == expected_due
    free = [at for key, (at, _) in heads.items() if key not in busy]
    assert outbox.next_due(busy) == min(free, default=None)
    side.close()


# ---- the notifier's loop ---------------------------------------------------------------------


@contextmanager
def _silent_server() -> Iterator[tuple[str, threading.Event]]:
    """A listener on 127.0.0.1 that takes each request and answers only when the test ends,
    so a delivery stays in flight; says when it first heard one."""
    heard, stopping = threading.Event(), threading.Event()

    class Silent(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            heard.set()
            stopping.wait(30)

        def log_message(self, *args: Any) -> None:
            return None

    with loopback_http(Silent) as server:
        try:
            yield url_of(server, "/x"), heard
        finally:
            stopping.set()  # before the server stops: its handlers wait for it


def _closed_url() -> str:
    """A URL on 127.0.0.1 where nothing listens: a port bound, then closed."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/x"


@pytest.fixture
def steps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """When each pass of the notifier's loop began (every pass reads the log and the outbox)."""
    seen: list[float] = []
    step = Notifier._step

    def counted(self: Notifier, *args: Any) -> None:
        seen.append(time.monotonic())
        step(self, *args)

    monkeypatch.setattr(Notifier, "_step", counted)
    return seen


def _runtime(store: Store | None, notify: NotifySettings) -> Runtime:
    return Runtime(CATALOG, store=store, downstream=DownstreamSettings(notify=notify))


def _submit(runtime: Runtime, order_id: str, url: str) -> None:
    """An order whose own listener is ``url``: three events (created, inProgress, completed)."""
    work = order(order_id, CATALOG, [line("L", site="S", technology="FTTH")])
    native = Order(id=order_id, items=[OrderItem(id="1", action="add", product="X")],
                   notify=[url])  # fmt: skip
    runtime.submit(work, native)


def _passes_in(steps: list[float], seconds: float) -> int:
    start = len(steps)
    time.sleep(seconds)
    return len(steps) - start


POLL = 0.1  # a pass every 0.1 s when idle: about 10 in the window; a busy loop made thousands
WINDOW = 1.0
MOST = 60


@pytest.mark.parametrize("kind", sorted(STORES))
def test_a_listener_that_cannot_be_reached_does_not_make_the_notifier_spin(
    kind: str, steps: list[float], tmp_path: Path
) -> None:
    notify = NotifySettings(backoff_ms=60_000, poll_s=POLL)  # the head waits 30-60 s
    runtime = _runtime(STORES[kind](tmp_path), notify)
    try:
        _submit(runtime, "O1", _closed_url())
        runtime.run_until_idle()  # three events for the order: two queue behind the head
        wait_until(
            lambda: (
                runtime.notifications.pending() == 3
                and any(e.kind == "notify.failed" for e in runtime.events("O1"))
            )
        )  # all three in the outbox, the head in backoff
        assert _passes_in(steps, WINDOW) <= MOST
        failed = [e for e in runtime.events("O1") if e.kind == "notify.failed"]
        assert len(failed) == 1  # nothing is sent behind the head, nor the head before its time
    finally:
        runtime.close()


@pytest.mark.parametrize("slots", [1, 16])
def test_deliveries_in_flight_and_full_slots_do_not_make_the_notifier_spin(
    slots: int, steps: list[float]
) -> None:
    """Two orders to a listener that does not answer yet: with 16 slots both heads are in
    flight; with one, one is and the other is due but has no slot.  Nothing can be sent until
    a delivery ends, which wakes the notifier."""
    notify = NotifySettings(poll_s=POLL, concurrency=slots, timeout_s=20)
    runtime = _runtime(None, notify)
    try:
        with _silent_server() as (url, heard):
            _submit(runtime, "O1", url)
            _submit(runtime, "O2", url)
            runtime.run_until_idle()
            assert heard.wait(10)
            wait_until(lambda: runtime.notifications.pending() == 6)
            assert _passes_in(steps, WINDOW) <= MOST
            runtime.close()  # before the server stops, so that no attempt ends
    finally:
        runtime.close()
