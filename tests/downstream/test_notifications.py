"""TMF622 notifications: shapes, targets, at-least-once through downtime and restarts, hostile
URLs, in-process subscribers."""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx
import pytest
from downstream_support import (
    Sims,
    compile_text,
    lab_order,
    line,
    loopback_http,
    order,
    sqlite,
    url_of,
    wait_until,
)
from simulators import Listener

from om_dsl.errors import OrderValidationError
from om_dsl.orders.models import Order, OrderItem
from om_dsl.runtime import Runtime
from om_dsl.runtime.downstream.urls import shown
from om_dsl.runtime.notify import NotifySettings
from om_dsl.runtime.notify.notifier import _failure as delivery_failure
from om_dsl.service.logs import JsonFormatter

Lab = Callable[..., Runtime]
FAST = {"backoff_ms": 50, "backoff_cap_ms": 200, "poll_s": 0.05}
SIMPLE = """
cfs Line { attribute site: string  attribute technology: string }
plan Line on add { milestone done }
"""


def settings(*urls: str, **extra: Any) -> NotifySettings:
    return NotifySettings(urls=urls, **{**FAST, **extra})


def bodies(listener: Listener, order_id: str) -> list[dict[str, Any]]:
    return [b for b in listener.bodies() if b["event"]["productOrder"]["id"] == order_id]


def states(listener: Listener, order_id: str) -> list[tuple[str, str]]:
    return [
        (b["eventType"], b["event"]["productOrder"]["state"]) for b in bodies(listener, order_id)
    ]


def test_create_state_change_and_completion_events_in_the_tmf622_shape(
    lab: Lab, listener: Listener
) -> None:
    runtime = lab(notify=settings(f"{listener.url}/events"))
    runtime.submit(lab_order("O1", runtime.catalog))  # type: ignore[arg-type]
    runtime.run_until_idle()
    assert runtime.notifications.drain(10)
    logged = [
        e.to_state for e in runtime.events("O1") if e.kind in ("order.created", "order.state")
    ]
    assert logged[-1] == "completed" and len(logged) >= 4  # pending while the callback is due
    assert states(listener, "O1") == [
        ("ProductOrderCreateEvent", "acknowledged"),
        *(("ProductOrderStateChangeEvent", state) for state in logged[1:]),
    ]
    create, *_, done = bodies(listener, "O1")
    assert set(done) >= {"eventId", "eventTime", "eventType", "event"}
    assert done["eventTime"].endswith("Z") and done["eventId"] != create["eventId"]
    product_order = done["event"]["productOrder"]
    assert product_order["@type"] == "ProductOrder" and "completionDate" in product_order
    assert product_order["productOrderItem"] == [
        {"id": "1", "action": "add", "state": "completed", "@type": "ProductOrderItem"}
    ]
    assert {e["path"] for e in listener.events()} == {"/events"}
    delivered = [e for e in runtime.events("O1") if e.kind == "notify.delivered"]
    assert len(delivered) == len(logged) and all(e.attempt == 1 for e in delivered)


def test_the_order_own_listeners_and_hub_registrations_with_a_query(
    lab: Lab, listener: Listener
) -> None:
    catalog = compile_text(SIMPLE)
    runtime = lab(catalog, notify=settings(), serve=False)
    completed_only = runtime.hub.register(
        f"{listener.url}/done", "eventType=ProductOrderStateChangeEvent&state=completed"
    )
    everything = runtime.hub.register(f"{listener.url}/all")
    assert {s.id for s in runtime.hub.list()} == {completed_only, everything}
    native = Order(id="O1", items=[OrderItem(id="1", action="add", product="X")],
                   notify=[f"{listener.url}/mine"])  # fmt: skip
    runtime.submit(order("O1", catalog, [line("L", site="S", technology="FTTH")]), native)
    runtime.run_until_idle()
    assert runtime.notifications.drain(10)
    by_path: dict[str, int] = {}
    for event in listener.events():
        by_path[event["path"]] = by_path.get(event["path"], 0) + 1
    assert by_path == {"/done": 1, "/all": 3, "/mine": 3}
    runtime.hub.unregister(everything)
    runtime.submit(order("O2", catalog, [line("L", site="S", technology="FTTH")]))
    runtime.run_until_idle()
    assert runtime.notifications.drain(10)
    assert [e["path"] for e in listener.events()].count("/all") == 3
    assert [e["path"] for e in listener.events()].count("/done") == 2


def test_a_listener_down_for_a_while_gets_every_event_once_it_is_back(
    lab: Lab, listener: Listener
) -> None:
    listener.set_down(True)
    runtime = lab(notify=settings(listener.url))
    runtime.submit(lab_order("O1", runtime.catalog))  # type: ignore[arg-type]
    runtime.run_until_idle()
    assert not runtime.notifications.drain(0.5)
    assert listener.stats()["rejected"] >= 2
    failed = [e.detail for e in runtime.events("O1") if e.kind == "notify.failed"]
    assert failed and "answered 503" in failed[0]
    listener.set_down(False)
    assert runtime.notifications.drain(10)
    logged = [
        e.to_state for e in runtime.events("O1") if e.kind in ("order.created", "order.state")
    ]
    assert [s for _, s in states(listener, "O1")] == logged  # all of them, in order


def test_pending_notifications_survive_a_restart(
    lab: Lab, sims: Sims, listener: Listener, tmp_path: Path
) -> None:
    listener.set_down(True)
    first = lab(store=sqlite(tmp_path), notify=settings(listener.url))
    first.submit(lab_order("O1", first.catalog))  # type: ignore[arg-type]
    first.run_until_idle()
    assert not first.notifications.drain(0.3)
    first.close()
    listener.set_down(False)
    second = lab(store=sqlite(tmp_path), notify=settings(listener.url))
    assert second.notifications.drain(10)
    assert ("ProductOrderStateChangeEvent", "completed") in states(listener, "O1")


def test_hostile_listener_urls_are_refused_or_harmless(lab: Lab, listener: Listener) -> None:
    catalog = compile_text(SIMPLE)
    runtime = lab(catalog, notify=settings(max_attempts=2, timeout_s=0.3), serve=False)
    for bad in ("ftp://x/y", "http://user:pw@127.0.0.1/x", "javascript:alert(1)", "http://a b",
                "http:///nohost", "x" * 3000, 42, "http://127.0.0.1:99999/x",
                "http://127.0.0.1:-1/x"):  # fmt: skip
        with pytest.raises(ValueError):
            runtime.hub.register(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="cannot filter on 'secret'"):
        runtime.hub.register(listener.url, "secret=1")
    for never, why in (
        ("eventType=Bogus", "unknown eventType Bogus; use CancelProductOrderCreateEvent, "),
        ("state=finished", "unknown state finished; use "),
        ("productOrder.state=done", "unknown productOrder.state done; use "),
        ("id=", "id without a value"),
    ):
        with pytest.raises(ValueError, match=f"the query can never match: {why}"):
            runtime.hub.register(listener.url, never)
    assert runtime.hub.list() == []
    work = order("O9", catalog, [line("L", site="S", technology="FTTH")])
    native = Order(id="O9", items=[OrderItem(id="1", action="add", product="X")],
                   notify=["file:///etc/passwd", listener.url, "http://[::1"])  # fmt: skip
    with pytest.raises(OrderValidationError) as refused:  # every bad URL, with its place
        runtime.submit(work, native)
    assert [(i.code, i.path) for i in refused.value.issues] == [
        ("O070", "notify[0]"),
        ("O070", "notify[2]"),
    ]
    assert not runtime.has_order("O9") and runtime.hub.list() == []
    with _slow_server() as slow:
        runtime.hub.register(f"http://127.0.0.1:{_closed_port()}/gone")
        runtime.hub.register(slow)
        runtime.hub.register(listener.url)
        runtime.submit(order("O1", catalog, [line("L", site="S", technology="FTTH")]))
        runtime.run_until_idle()
        assert runtime.notifications.drain(15)
    assert runtime.status("O1").state == "completed"
    assert len(bodies(listener, "O1")) == 3
    abandoned = [e.detail or "" for e in runtime.events("O1") if e.kind == "notify.abandoned"]
    assert len(abandoned) == 6  # 3 events x 2 bad listeners, each tried twice
    assert any("cannot connect" in d for d in abandoned)
    assert any("no answer within 0.3 s" in d for d in abandoned)


@pytest.mark.parametrize(
    "url", ["http://h:99999/x", "http://h:-1/", "http://h:abc/", "http://[::1", "http://[::1]:0/"]
)
def test_a_url_that_cannot_be_used_is_shown_without_raising(url: str) -> None:
    """A listener URL stored before ports were checked: showing it in a failure reason raised,
    the delivery was never recorded, and the notifier retried it in a hot loop that filled
    the log with tracebacks."""
    assert shown(url) == "(an invalid URL)"


def test_in_process_subscribers_hear_every_event(lab: Lab) -> None:
    catalog = compile_text(SIMPLE)
    runtime = lab(catalog, notify=settings(), serve=False)
    heard: list[dict[str, Any]] = []
    runtime.notifications.subscribe(heard.append)
    runtime.submit(order("O1", catalog, [line("L", site="S", technology="FTTH")]))
    runtime.run_until_idle()
    wait_until(lambda: len(heard) == 3)
    assert [e["event"]["productOrder"]["state"] for e in heard] == [
        "acknowledged", "inProgress", "completed",
    ]  # fmt: skip
    json.dumps(heard)  # plain JSON values


def test_a_notification_given_up_is_logged_without_its_url_s_secrets(
    lab: Lab, caplog: pytest.LogCaptureFixture
) -> None:
    """A notification the notifier gives up on was only an event-log row: an operator reading
    the service's log never heard that a listener missed an order's events."""
    catalog = compile_text(SIMPLE)
    url = f"http://127.0.0.1:{_closed_port()}/gone?key=s3cret-in-the-query"
    runtime = lab(catalog, notify=settings(url, max_attempts=1), serve=False)
    with caplog.at_level(logging.WARNING, "om_dsl.notify"):
        runtime.submit(order("O1", catalog, [line("L", site="S", technology="FTTH")]))
        runtime.run_until_idle()
        assert runtime.notifications.drain(15)
    given_up = [r for r in caplog.records if r.name == "om_dsl.notify"]
    assert len(given_up) == 3 and all(r.levelno == logging.WARNING for r in given_up)
    first = given_up[0].getMessage()
    assert first.startswith("order O1: a notification was given up: ProductOrderCreateEvent")
    assert f"to {shown(url)}: cannot connect; gave up after 1 attempts" in first
    assert not any("s3cret" in r.getMessage() for r in given_up)
    named = json.loads(JsonFormatter().format(given_up[0]))  # as `om serve --log-format json`
    assert {k: named[k] for k in ("event", "order_id", "event_type", "attempt")} == {
        "event": "notification_abandoned", "order_id": "O1",
        "event_type": "ProductOrderCreateEvent", "attempt": 1,
    }  # fmt: skip
    assert "s3cret" not in json.dumps(named)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Slow(BaseHTTPRequestHandler):
    """Accepts the request, then never answers in time."""

    def do_POST(self) -> None:
        self.server.stopping.wait(5)  # type: ignore[attr-defined]

    def log_message(self, *args: Any) -> None:
        return None


@contextmanager
def _slow_server() -> Iterator[str]:
    with loopback_http(_Slow) as server:
        server.stopping = threading.Event()  # type: ignore[attr-defined]
        try:
            yield url_of(server, "/slow")
        finally:
            server.stopping.set()  # type: ignore[attr-defined]


def test_a_new_hub_listener_hears_what_happens_from_now_on(
    lab: Lab, listener: Listener, tmp_path: Path
) -> None:
    """Not the store's history: a first `POST /hub` on a store with orders received every
    event since the store was made (found by the TMF conformance hunt)."""
    catalog = compile_text(SIMPLE)
    runtime = lab(catalog, store=sqlite(tmp_path), notify=settings())
    runtime.submit(order("OLD", catalog, [line("L", site="S", technology="FTTH")]))
    runtime.run_until_idle()  # nobody listens: the notifier does not even start
    runtime.hub.register(f"{listener.url}/new")
    runtime.submit(order("NEW", catalog, [line("L", site="S", technology="FTTH")]))
    runtime.run_until_idle()
    assert runtime.notifications.drain(10)
    assert bodies(listener, "OLD") == []
    assert states(listener, "NEW")[0] == ("ProductOrderCreateEvent", "acknowledged")
    assert states(listener, "NEW")[-1] == ("ProductOrderStateChangeEvent", "completed")


def test_the_tmf_view_lists_every_order_item_with_the_action_it_was_sent(lab: Lab) -> None:
    """An item that produced no line was left out of the ProductOrder (201, GET, events),
    and an item showed its first line's action (found by the TMF conformance hunt)."""
    catalog = compile_text(
        """
        offer Box { attribute extra: bool default false }
        offer Opt { attribute on: bool default false }
        cfs Main { attribute n: int }
        cfs Extra { attribute n: int }
        decompose Box { -> Extra when extra { n = 1 } -> Main { n = 1 } }
        decompose Opt -> Extra when on { n = 2 }
        plan Main on * { milestone done }
        plan Extra on * { milestone done }
        """
    )
    runtime = lab(catalog, notify=settings(), serve=False)
    native = {
        "id": "ACT-1",
        "items": [
            {"id": "b", "product": "Box", "action": "modify", "attributes": {"extra": True},
             "previous": {"extra": False}},
            {"id": "o", "product": "Opt", "action": "add"},
        ],
    }  # fmt: skip
    runtime.submit(native)
    runtime.run_until_idle()
    view = runtime.notifications.product_order("ACT-1")
    assert view is not None
    assert [(i["id"], i["action"], i["state"]) for i in view["productOrderItem"]] == [
        ("b", "modify", "completed"),
        ("o", "add", "completed"),
    ]


def test_an_event_read_late_shows_the_order_as_it_was_then(
    lab: Lab, listener: Listener, tmp_path: Path
) -> None:
    """Events carried the item states of the moment the notifier read them: a create event
    read after the run showed its items completed (found by the TMF conformance hunt)."""
    catalog = compile_text(SIMPLE)
    runtime = lab(catalog, store=sqlite(tmp_path), notify=settings())
    runtime.submit(order("LATE", catalog, [line("L", site="S", technology="FTTH")]))
    runtime.run_until_idle()  # nobody listens yet: nothing is read
    runtime.notifications.add_url(f"{listener.url}/late")  # a runtime-wide URL hears it all
    assert runtime.notifications.drain(10)
    seen = [
        (b["eventType"], b["event"]["productOrder"]["state"],
         [i["state"] for i in b["event"]["productOrder"]["productOrderItem"]])
        for b in bodies(listener, "LATE")
    ]  # fmt: skip
    assert seen[0] == ("ProductOrderCreateEvent", "acknowledged", ["acknowledged"])
    assert seen[-1] == ("ProductOrderStateChangeEvent", "completed", ["completed"])
    assert all(states[0] != "completed" for _, _, states in seen[:-1])


AMENDABLE = """
offer Web "Web" id "1" { attribute speed: int default 100 }
cfs Line { attribute speed: int }
decompose Web -> Line { speed = speed }
plan Line on add { wait go event "go" }
"""


def _web(speed: int) -> dict[str, Any]:
    return {"id": "A1", "items": [{"id": "1", "product": "Web", "attributes": {"speed": speed}}]}


def test_an_amendment_is_a_productorderattributevaluechangeevent(
    lab: Lab, listener: Listener
) -> None:
    """The originating system heard nothing of an amendment that left the order's state as it
    was (the OSM probe): it gets TMF622's attribute change event, with what the revision did.
    A hub registration may ask for it alone; one for another state hears nothing of it."""
    runtime = lab(compile_text(AMENDABLE), notify=settings(f"{listener.url}/events"))
    runtime.hub.register(
        f"{listener.url}/changes", "eventType=ProductOrderAttributeValueChangeEvent"
    )
    runtime.hub.register(f"{listener.url}/done", "state=completed")
    runtime.submit(_web(100))
    runtime.run_until_idle()
    runtime.amend("A1", _web(200))
    runtime.amend("A1", _web(200))  # sent again: no revision, no event
    assert runtime.notifications.drain(10)
    kinds = [b["eventType"] for b in bodies(listener, "A1")]
    assert kinds.count("ProductOrderAttributeValueChangeEvent") == 2  # /events and /changes
    [change] = [e["body"] for e in listener.events() if e["path"] == "/changes"]
    assert change["title"] == "order A1 was amended"
    assert change["fieldPath"] == "productOrderItem"
    assert change["description"].startswith("revision 1: 1 line(s) changed, 0 added, 0 removed")
    assert change["event"]["productOrder"]["state"] == "pending"  # as it was: waiting for "go"
    assert not [e for e in listener.events() if e["path"] == "/done"]


WAITING = """
cfs Line { attribute site: string  attribute technology: string }
plan Line on add { wait go event "go" }
"""


def test_a_cancel_request_is_told_with_its_own_events(lab: Lab, listener: Listener) -> None:
    """Besides the order's state changes, TMF622's CancelProductOrderCreateEvent and
    CancelProductOrderStateChangeEvent, to every listener (a URL gets both events of the row
    that records the request: one does not stand in for the other in the outbox)."""
    catalog = compile_text(WAITING)
    runtime = lab(catalog, notify=settings(listener.url), serve=False)
    heard: list[dict[str, Any]] = []
    runtime.notifications.subscribe(heard.append)
    runtime.submit(order("O1", catalog, [line("L", site="S", technology="FTTH")]))
    runtime.run_until_idle()
    runtime.cancel("O1", "the customer moved")
    runtime.run_until_idle()
    assert runtime.notifications.drain(15)
    request = next(e.seq for e in runtime.events("O1") if e.to_state == "assessingCancellation")
    told = [(e["eventType"], e["event"]["cancelProductOrder"]) for e in heard
            if "cancelProductOrder" in e["event"]]  # fmt: skip
    reference = {"id": "O1", "@referredType": "ProductOrder"}
    created = {
        "id": f"cpo-{request}",
        "cancellationReason": "the customer moved",
        "productOrder": reference,
        "state": "inProgress",
        "cancellationState": "assessingCancellation",
        "@type": "CancelProductOrder",
    }
    assert told[0] == ("CancelProductOrderCreateEvent", created)
    assert told[1][0] == "CancelProductOrderStateChangeEvent"
    assert told[1][1]["state"] == "done" and told[1][1]["cancellationState"] == "cancelled"
    assert told[1][1]["effectiveCancellationDate"].endswith("Z")
    assert len(told) == 2
    delivered = [b["eventType"] for b in listener.bodies()]
    assert delivered == [e["eventType"] for e in heard]  # the same events, in the same order
    assert len(set(b["eventId"] for b in listener.bodies())) == len(heard)


def test_a_listener_error_text_is_kept_as_one_line() -> None:
    """The text of a delivery's exception is kept in the outbox, put in the event's detail
    and in the "given up" log line: its newline forged a line there."""
    url = "http://127.0.0.1:9/events?token=s3cret"
    error = httpx.RemoteProtocolError(f"bad answer from {url}\nINFO forged line\x1b[2K")
    said = delivery_failure(error, 5.0, url)
    assert said == (f"RemoteProtocolError: bad answer from {shown(url)} INFO forged line\\x1b[2K")
    assert said.isprintable() and "s3cret" not in said
    long = delivery_failure(RuntimeError("x\n" * 500), 5.0, url)
    assert long.endswith("...") and len(long) == len("RuntimeError: ") + 200 + 3
