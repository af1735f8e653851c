"""The TMF637 events of one product reach one listener URL in order, whichever orders changed
it: the second order's event waits while the first order's is retried, at a real listener on
loopback.  It used to be delivered in between (each order had a queue of its own), and a
listener that keeps the latest state of a product ended with a stale one.  Order events keep
their (URL, order) queues; an abandoned event holds nothing back; an older store's outbox
gains the product's key and still delivers."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import test_inventory
from outbox_support import STORES, outbox_of
from runtime_support import Recorder
from simulators import Listener
from simulators.core import Reply, Request
from test_inventory import HANDLERS, done, tmf

from om_dsl.ir import models as ir
from om_dsl.runtime import Runtime
from om_dsl.runtime.downstream import DownstreamSettings
from om_dsl.runtime.notify import NotifySettings
from om_dsl.runtime.notify.outbox import NewRow, Outbox
from om_dsl.runtime.store.base import Store
from om_dsl.runtime.store.sqlite import SqliteStore

lab = test_inventory.lab
FAST = {"backoff_ms": 50, "backoff_cap_ms": 200, "poll_s": 0.05, "max_attempts": 100}
"""Quick retries, and enough of them (about 10 s) that a held event is never given up."""
CHANGE = "ProductAttributeValueChangeEvent"


class Holding(Listener):
    """A listener that answers 503 to the product events of order O1 while :attr:`hold` is
    set, counting them; everything else it records as any listener does."""

    def __init__(self) -> None:
        super().__init__("holding")
        self.hold = threading.Event()
        self.hold.set()
        self.refused = 0

    def _receive(self, request: Request) -> Reply:
        body = request.body
        held = isinstance(body, dict) and body.get("correlationId") == "O1"
        if held and request.path == "/products" and self.hold.is_set():
            self.refused += 1
            return Reply(503, {"error": "busy"})
        return super()._receive(request)


@pytest.fixture
def holding() -> Iterator[Holding]:
    with Holding() as server:
        yield server


def wait_until(condition: Callable[[], object], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def runtime_on(catalog: ir.Catalog, store: Store, **notify: Any) -> Runtime:
    settings = DownstreamSettings(notify=NotifySettings(**{**FAST, **notify}))
    return Runtime(catalog, store=store, handlers=Recorder().registry(HANDLERS),
                   downstream=settings)  # fmt: skip


def heard(listener: Listener, path: str) -> list[dict[str, Any]]:
    return [e["body"] for e in listener.events() if e["path"] == path]


def products(listener: Listener) -> list[tuple[str, str, int]]:
    """(eventType, correlationId, speed) of each product event the listener accepted."""
    return [
        (b["eventType"], b["correlationId"], _speed(b["event"]["product"]))
        for b in heard(listener, "/products")
    ]


def _speed(product: dict[str, Any]) -> int:
    (speed,) = [c["value"] for c in product["productCharacteristic"] if c["name"] == "speed"]
    return int(speed)


def order_states(listener: Listener, order_id: str) -> list[str]:
    return [b["event"]["productOrder"]["state"] for b in heard(listener, "/orders")
            if b["event"]["productOrder"]["id"] == order_id]  # fmt: skip


def logged_states(runtime: Runtime, order_id: str) -> list[str]:
    kinds = ("order.created", "order.state")
    return [str(e.to_state) for e in runtime.events(order_id) if e.kind in kinds]


def two_orders_change_one_product(runtime: Runtime, listener: Holding) -> None:
    """O1 adds P1, whose event the listener refuses while O2 modifies P1; then it takes it.
    O2's product event must wait for O1's, and every order event goes meanwhile."""
    runtime.product_hub.register(f"{listener.url}/products")
    runtime.hub.register(f"{listener.url}/orders")
    done(runtime, tmf("O1", "add", "P1", speed=300))
    wait_until(lambda: listener.refused >= 2)  # O1's product event is being retried
    done(runtime, tmf("O2", "modify", "P1", speed=500))
    url = f"{listener.url}/products"
    wait_until(lambda: runtime.notifications.listed(order_id="O2", listener=url)[1] == 1)
    # the order events of both orders are delivered while O1's product event is retried
    wait_until(lambda: order_states(listener, "O2")[-1:] == ["completed"])
    time.sleep(0.5)  # ten polls: time enough to send O2's product event, were it due
    assert listener.refused >= 3 and products(listener) == []
    (queued,), _ = runtime.notifications.listed(order_id="O2", listener=url)  # never tried
    assert (queued.event_type, queued.state, queued.attempts) == (CHANGE, "pending", 0)
    listener.hold.clear()
    assert runtime.notifications.drain(20)
    assert products(listener) == [("ProductCreateEvent", "O1", 300), (CHANGE, "O2", 500)]
    for order_id in ("O1", "O2"):  # each order's events in order, each once
        assert order_states(listener, order_id) == logged_states(runtime, order_id)
    first = [d for d in runtime.notifications.deliveries("O1") if d.url.endswith("/products")]
    assert [(d.status, d.attempts) for d in first] == [("delivered", listener.refused + 1)]


def test_a_product_event_waits_for_the_earlier_event_of_its_product_from_another_order(
    lab: ir.Catalog, store: Store, holding: Holding
) -> None:
    with runtime_on(lab, store) as runtime:
        two_orders_change_one_product(runtime, holding)


def test_an_abandoned_product_event_holds_the_next_one_back_no_longer(
    lab: ir.Catalog, store: Store, holding: Holding
) -> None:
    with runtime_on(lab, store, max_attempts=3) as runtime:
        runtime.product_hub.register(f"{holding.url}/products")
        done(runtime, tmf("O1", "add", "P1", speed=300))
        done(runtime, tmf("O2", "modify", "P1", speed=500))
        assert runtime.notifications.drain(20)  # O1's given up, then O2's sent
        assert holding.refused == 3
        assert products(holding) == [(CHANGE, "O2", 500)]
        told = [(e.kind, e.order_id) for e in runtime.events() if e.kind.startswith("notify.")]
        assert told[-2:] == [("notify.abandoned", "O1"), ("notify.delivered", "O2")]
        assert runtime.notifications.counts() == {"delivered": 1, "abandoned": 1}
        holding.hold.clear()  # an operator sends it again: it goes, as ever
        assert runtime.notifications.retry_abandoned(order_id="O1") == 1
        assert runtime.notifications.drain(20)
        assert [e[1] for e in products(holding)] == ["O2", "O1"]


# ---- the outbox's rule ------------------------------------------------------------------------

URL, OTHER = "http://127.0.0.1:9/p", "http://127.0.0.1:9/q"


def _row(seq: int, order_id: str, product: str | None, url: str = URL) -> NewRow:
    kind = "ProductCreateEvent" if product else "ProductOrderStateChangeEvent"
    return NewRow(seq, url, order_id, kind, "active", "{}", product)


@pytest.fixture(params=sorted(STORES))
def outbox(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Outbox]:
    with outbox_of(request.param, tmp_path) as box:
        yield box


def test_a_product_row_is_due_when_first_of_its_order_and_of_its_product_at_its_url(
    outbox: Outbox,
) -> None:
    outbox.add([_row(1, "O1", "P1"), _row(2, "O2", "P1"), _row(3, "O2", "P2"),
                _row(4, "O2", "P1", OTHER), _row(5, "O3", None), _row(6, "O4", "P2")],
               now=100.0)  # fmt: skip
    # O2's P1 waits for O1's at URL (and O2's P2 behind it); not at OTHER; P2's O4 behind O2's
    assert [r.event_seq for r in outbox.due(100.0, 10)] == [1, 4, 5]
    (head, *_) = outbox.due(100.0, 10)
    outbox.retry(head.id, 1, next_at=160.0, error="answered 503")
    assert outbox.next_due() == 100.0
    assert outbox.next_due(busy={(URL, "O1"), (OTHER, "O2"), (URL, "O3")}) is None  # no loop
    assert [r.event_seq for r in outbox.due(159.0, 10)] == [4, 5]
    outbox.abandon(head.id, 12, 170.0, "answered 503")  # frees the product as it frees the order
    assert [r.event_seq for r in outbox.due(170.0, 10)] == [2, 4, 5]


# ---- an older store ---------------------------------------------------------------------------

OLD_OUTBOX = (
    """CREATE TABLE outbox (
      id INTEGER PRIMARY KEY, event_seq INTEGER NOT NULL, url TEXT NOT NULL,
      order_id TEXT NOT NULL, event_type TEXT NOT NULL, state_to TEXT, event_json TEXT NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0, next_at REAL NOT NULL, state TEXT NOT NULL,
      last_error TEXT, delivered_at REAL, UNIQUE (event_seq, url)
    )""",
    "CREATE INDEX outbox_pending ON outbox (state, url, order_id, id)",
    "CREATE INDEX outbox_by_order ON outbox (order_id, id)",
)


def test_an_older_store_s_outbox_gains_the_product_key_and_still_delivers(
    lab: ir.Catalog, tmp_path: Path, holding: Holding
) -> None:
    """The outbox as an older om_dsl made it, with a row it left pending: a read-only reader
    lists it, the first writer adds the column, sends the old row and orders the products."""
    path = tmp_path / "om.db"
    runtime_on(lab, SqliteStore(path)).close()
    with sqlite3.connect(path) as db:
        db.execute("DROP TABLE outbox")
        for statement in OLD_OUTBOX:
            db.execute(statement)
        db.execute(
            "INSERT INTO outbox (event_seq, url, order_id, event_type, state_to, event_json, "
            "next_at, state) VALUES (-1000, ?, 'O0', 'ProductCreateEvent', 'active', "
            "'{\"old\": true}', 0, 'pending')",
            (f"{holding.url}/old",),
        )
    db.close()
    with Runtime(store=SqliteStore(path, read_only=True)) as reader:
        (old,), _ = reader.notifications.listed()
        assert (old.order_id, old.state) == ("O0", "pending")
    with runtime_on(lab, SqliteStore(path)) as runtime:
        two_orders_change_one_product(runtime, holding)
        assert heard(holding, "/old") == [{"old": True}]
    with sqlite3.connect(path) as db:
        keys = db.execute("SELECT DISTINCT product_id FROM outbox WHERE url LIKE '%/products'")
        assert keys.fetchall() == [("P1",)]
    db.close()
