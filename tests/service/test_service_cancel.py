"""TMF622 cancellation through the real service: before the point of no return the order is
compensated and cancelled; after it the request is refused with a 409 and the reason."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from service_support import Running, finish_tasks, order_json, wait_for, wait_state
from simulators import Listener

TRIO = "ORD-1004"


def _status(api: Any, order_id: str) -> dict[str, Any]:
    answer = api.get(f"/productOrder/{order_id}/status")
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def _item(api: Any, order_id: str, item_id: str) -> dict[str, Any]:
    return next(i for i in _status(api, order_id)["items"] if i["id"] == item_id)


def _order_events(listener: Listener, order_id: str) -> dict[str, dict[str, Any]]:
    """The order's state-change events heard, by the state they report."""
    found = {}
    for body in listener.bodies():
        order = body.get("event", {}).get("productOrder", {}) if isinstance(body, dict) else {}
        if order.get("id") == order_id and body["eventType"] == "ProductOrderStateChangeEvent":
            found[order["state"]] = order
    return found


def _item_states(order: dict[str, Any]) -> set[str]:
    return {item["state"] for item in order["productOrderItem"]}


def test_cancel_before_the_point_of_no_return_compensates(
    service: Callable[..., Running], sims: Any, listener: Listener
) -> None:
    running = service()
    api = running.client()
    assert api.post("/hub", json={"callback": listener.url}).status_code == 201
    assert api.post("/productOrder", json=order_json("home-trio-tv")).status_code == 201
    wait_state(api, TRIO, {"pending"})  # waiting for the technician, before activation (PONR)
    assert _item(api, TRIO, "order/AccessLine:reserve_port")["state"] == "completed"

    body = {
        "productOrder": {"id": TRIO, "@referredType": "ProductOrder"},
        "cancellationReason": "customer changed their mind",
        "requestedCancellationDate": "2026-01-01T00:00:00Z",
        "@type": "CancelProductOrder",
    }
    created = api.post("/cancelProductOrder", json=body)
    assert created.status_code == 201, created.text
    request = created.json()
    assert request["id"].startswith("cpo-")
    assert request["href"] == created.headers["location"]
    assert request["productOrder"]["id"] == TRIO
    assert request["cancellationReason"] == "customer changed their mind"
    assert request["requestedCancellationDate"] == "2026-01-01T00:00:00Z"
    assert request["state"] in ("inProgress", "done")

    assert wait_state(api, TRIO, {"cancelled", "held"}) == "cancelled"
    done = api.get(f"/cancelProductOrder/{request['id']}").json()
    assert done["state"] == "done" and done["cancellationState"] == "cancelled"
    assert "effectiveCancellationDate" in done
    assert _item(api, TRIO, "order/AccessLine:release_port")["state"] == "completed"
    assert _item(api, TRIO, "order/AccessLine:install")["state"] == "cancelled"
    assert api.get("/tasks").json() == []  # the technician's task left the queue
    # TMF: every item of a cancelled order is cancelled (what had completed was undone)
    assert _item_states(api.get(f"/productOrder/{TRIO}").json()) == {"cancelled"}
    heard = wait_for(lambda: "cancelled" in (e := _order_events(listener, TRIO)) and e)
    assert _item_states(heard["cancelled"]) == {"cancelled"}
    assert _item_states(heard["pendingCancellation"]) == {"pendingCancellation"}

    again = api.post("/cancelProductOrder", json=body)
    assert again.status_code == 409 and "cancelled" in again.json()["message"]


def test_cancel_after_the_point_of_no_return_is_rejected(
    service: Callable[..., Running], sims: Any
) -> None:
    running = service()
    api = running.client()
    sims.network.configure(callback_delay_ms=3000)  # activation (the PONR) takes a while
    assert api.post("/productOrder", json=order_json("home-trio-tv")).status_code == 201
    wait_for(lambda: finish_tasks(api, TRIO), what="the install task")
    wait_for(lambda: _status(api, TRIO)["ponr_reached"], what="the point of no return")

    refused = api.post("/cancelProductOrder", json={"productOrder": {"id": TRIO}})
    assert refused.status_code == 409, refused.text
    error = refused.json()
    assert error["code"] == "rejected" and error["status"] == "409"
    assert "point of no return was reached" in error["message"]
    assert "order/AccessLine:activate_line" in error["message"]
    status = _status(api, TRIO)
    assert status["cancelling"] is False and status["state"] not in ("cancelled",)
    rejected = [e for e in api.get(f"/productOrder/{TRIO}/events").json()
                if e["kind"] == "order.cancel_rejected"]  # fmt: skip
    assert len(rejected) == 1
    record = api.get(f"/cancelProductOrder/cpo-{rejected[0]['seq']}").json()
    assert record["state"] == "terminatedWithError" and record["cancellationState"] == "rejected"


def test_cancel_of_unknown_orders_and_requests(service: Callable[..., Running]) -> None:
    api = service().client()
    unknown = api.post("/cancelProductOrder", json={"productOrder": {"id": "NOPE"}})
    assert unknown.status_code == 404 and unknown.json()["code"] == "notFound"
    for request_id in ("cpo-1", "cpo-x", "nope", "cpo-99999999999999999999999"):
        assert api.get(f"/cancelProductOrder/{request_id}").status_code == 404
    invalid = api.post("/cancelProductOrder", json={"cancellationReason": "no order named"})
    assert invalid.status_code == 400
    assert invalid.json()["issues"][0]["path"] == "body.productOrder"
