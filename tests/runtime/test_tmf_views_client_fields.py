"""TMF622 views show the client's own attributes back: as submitted, then as amended."""

from __future__ import annotations

import time
from typing import Any

from runtime_support import ONE_MANUAL_TASK, compile_text

from om_dsl.runtime import Runtime
from om_dsl.runtime.downstream.world import DownstreamSettings
from om_dsl.runtime.notify import NotifySettings
from om_dsl.runtime.notify.tmf import OrderViews


def _order(description: str, speed: int) -> dict[str, Any]:
    return {
        "id": "T1",
        "description": description,
        "requestedStartDate": "2026-12-01T08:00:00Z",
        "state": "completed",  # the server's to say: never shown back
        "@baseType": "ProductOrder",
        "productOrderItem": [{
            "id": "1", "action": "add", "quantity": 1, "state": "completed",
            "productOffering": {"id": "1", "name": "Internet"},
            "product": {"productCharacteristic": [{"name": "speed", "value": speed}]},
            "itemPrice": [{"priceType": "recurring", "price": {"taxRate": 20}}],
        }],
    }  # fmt: skip


def test_the_view_shows_the_clients_fields_as_submitted_then_as_amended() -> None:
    runtime = Runtime(compile_text(ONE_MANUAL_TASK))
    views = OrderViews(runtime.store)
    runtime.submit(_order("first", 100))
    view = views.product_order("T1")
    assert view is not None
    assert view["description"] == "first"
    assert view["requestedStartDate"] == "2026-12-01T08:00:00Z"
    assert view["@baseType"] == "ProductOrder"
    assert view["state"] == "acknowledged"
    (item,) = view["productOrderItem"]
    assert item["state"] == "inProgress"  # ours, not the "completed" the client wrote
    assert item["itemPrice"] == [{"priceType": "recurring", "price": {"taxRate": 20}}]
    assert item["product"]["productCharacteristic"] == [{"name": "speed", "value": 100}]
    runtime.amend("T1", _order("second", 200))
    views.forget("T1")  # as the service does after an amendment, and its notifier on its event
    view = views.product_order("T1")
    assert view is not None
    assert view["description"] == "second"
    assert view["productOrderItem"][0]["product"]["productCharacteristic"] == [
        {"name": "speed", "value": 200}
    ]


def test_a_native_order_has_no_client_fields_to_show() -> None:
    runtime = Runtime(compile_text(ONE_MANUAL_TASK))
    runtime.submit({"id": "N1", "items": [{"id": "1", "product": "Internet"}]})
    view = OrderViews(runtime.store).product_order("N1")
    assert view is not None
    assert set(view) == {"id", "state", "orderDate", "productOrderItem", "@type"}
    assert set(view["productOrderItem"][0]) == {"id", "action", "state", "@type"}


def test_a_native_orders_requested_dates_show_as_the_days_rules_read() -> None:
    runtime = Runtime(compile_text(ONE_MANUAL_TASK))
    runtime.submit(
        {
            "id": "N2",
            "requested_start_date": "2026-12-01T08:00:00Z",
            "requested_completion_date": "2026-12-24",
            "items": [{"id": "1", "product": "Internet"}],
        }
    )
    view = OrderViews(runtime.store).product_order("N2")
    assert view is not None
    assert view["requestedStartDate"] == "2026-12-01"
    assert view["requestedCompletionDate"] == "2026-12-24"


def test_the_items_are_listed_in_the_clients_order() -> None:
    """They were sorted by id: a client that sent items 3, 1, 2 got them back as 1, 2, 3."""
    runtime = Runtime(compile_text(ONE_MANUAL_TASK))
    items = [{"id": i, "product": "Internet"} for i in ("3", "1", "10", "2")]
    runtime.submit({"id": "N3", "items": items})
    view = OrderViews(runtime.store).product_order("N3")
    assert view is not None
    assert [i["id"] for i in view["productOrderItem"]] == ["3", "1", "10", "2"]


def test_a_subscriber_that_changes_an_event_changes_nothing_for_others() -> None:
    """Each subscriber gets its own copy: the client's values in a view are the cached plan's,
    so an event changed in place would otherwise change later events and views."""
    fast = DownstreamSettings(notify=NotifySettings(poll_s=0.05))
    runtime = Runtime(compile_text(ONE_MANUAL_TASK), downstream=fast)
    heard: list[dict[str, Any]] = []

    def meddle(event: dict[str, Any]) -> None:
        event["event"]["productOrder"]["productOrderItem"][0]["itemPrice"].clear()

    runtime.notifications.subscribe(meddle)
    runtime.notifications.subscribe(heard.append)
    runtime.submit(_order("first", 100))
    runtime.run_until_idle()
    deadline = time.monotonic() + 10
    while len(heard) < 2:
        assert time.monotonic() < deadline, heard
        time.sleep(0.02)
    price = [{"priceType": "recurring", "price": {"taxRate": 20}}]
    for event in heard:
        assert event["event"]["productOrder"]["productOrderItem"][0]["itemPrice"] == price
    view = OrderViews(runtime.store).product_order("T1")
    assert view is not None and view["productOrderItem"][0]["itemPrice"] == price
    runtime.close()
