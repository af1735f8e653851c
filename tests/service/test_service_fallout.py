"""``POST /fallout/retry``: after a downstream outage, every item in fallout that a filter
names is retried in one call, each recorded with the client's name and reason as a single
retry is; an empty filter is refused unless it says ``all``."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import pytest
from service_support import Running, order_json, wait_for, wait_state

from om_dsl.runtime.store import sqlite as sqlite_store

BILLING_ORDERS = ("F-1", "F-2", "F-3")
SUBSCRIBE = "7/InternetService:subscribe"


def _outage(api: Any, sims: Any) -> None:
    """Billing answers a permanent 400 (fallout at once) for three orders; the inventory
    refuses a port to a fourth (ORD-1001)."""
    sims.billing.configure(status=400)
    sims.inventory.configure(path="/ports/reserve", status=400)
    for order_id in BILLING_ORDERS:
        assert (
            api.post("/productOrder", json=order_json("fibre-modify", id=order_id)).status_code
            == 201
        )
    assert api.post("/productOrder", json=order_json("home-duo-add")).status_code == 201
    for order_id in (*BILLING_ORDERS, "ORD-1001"):
        assert wait_state(api, order_id, {"held"}) == "held"


def test_a_system_s_fallout_is_retried_in_one_call(
    service: Callable[..., Running], sims: Any
) -> None:
    api = service().client()
    _outage(api, sims)
    fallout = api.get("/fallout").json()
    assert {(f["orderId"], f["system"]) for f in fallout} == {
        *((order_id, "Billing") for order_id in BILLING_ORDERS),
        ("ORD-1001", "Inventory"),
    }
    sims.billing.clear_faults()
    body = {"system": "Billing", "reason": "BSCS outage over (INC-7)"}
    answer = api.post("/fallout/retry", json=body)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "retried": 3,
        "items": [{"orderId": order_id, "itemId": SUBSCRIBE} for order_id in BILLING_ORDERS],
        "refused": 0,
        "refusedItems": [],
    }
    for order_id in BILLING_ORDERS:
        assert wait_state(api, order_id, {"completed", "held"}) == "completed"
        events = api.get(f"/productOrder/{order_id}/events").json()
        mine = [(e["by"], e["reason"], e["detail"]) for e in events if e["by"]]
        assert mine == [("crm", "BSCS outage over (INC-7)",
                         "retried by crm (operator): BSCS outage over (INC-7)")]  # fmt: skip
    (left,) = api.get("/fallout").json()
    assert (left["orderId"], left["system"]) == ("ORD-1001", "Inventory")  # not Billing's


def test_an_empty_filter_is_refused_unless_it_says_all(
    service: Callable[..., Running], sims: Any
) -> None:
    api = service().client()
    sims.inventory.configure(path="/ports/reserve", status=400)
    assert api.post("/productOrder", json=order_json("home-duo-add")).status_code == 201
    assert wait_state(api, "ORD-1001", {"held"}) == "held"
    for body in ({}, {"reason": "everything"}, {"all": False}):
        refused = api.post("/fallout/retry", json=body)
        assert refused.status_code == 400, refused.text
        ((issue),) = refused.json()["issues"]
        assert (issue["code"], issue["path"]) == ("S025", "body")
        assert '"all": true' in issue["message"]
    typo = api.post("/fallout/retry", json={"system": "Biling"})
    assert typo.status_code == 400
    ((issue),) = typo.json()["issues"]
    assert (issue["code"], issue["path"]) == ("S021", "body.system")
    assert "did you mean 'Billing'?" in issue["message"]
    assert api.post("/fallout/retry", json={"orderId": "NOPE"}).status_code == 404
    unknown = api.post("/fallout/retry", json={"sytem": "Billing"})
    assert unknown.json()["issues"][0]["code"] == "S012"
    assert api.get("/fallout").json()[0]["orderId"] == "ORD-1001"  # nothing was retried
    sims.inventory.clear_faults()
    everything = api.post("/fallout/retry", json={"all": True}).json()
    assert (everything["retried"], everything["refused"]) == (1, 0)
    wait_for(lambda: api.get("/fallout").json() == [], what="the fallout to clear")


def test_the_fallout_list_pages_and_filters_as_the_order_list_does(
    service: Callable[..., Running], sims: Any
) -> None:
    """After an outage there are thousands; ``?limit=1`` was a 400 and the list was whole."""
    api = service().client()
    _outage(api, sims)
    every = api.get("/fallout")
    assert (every.headers["X-Total-Count"], every.headers["X-Result-Count"]) == ("4", "4")
    second = api.get("/fallout", params={"limit": 1, "offset": 1})
    assert second.status_code == 200, second.text
    assert second.json() == every.json()[1:2]
    assert (second.headers["X-Total-Count"], second.headers["X-Result-Count"]) == ("4", "1")
    billing = api.get("/fallout", params={"system": "Billing"})
    assert [f["orderId"] for f in billing.json()] == list(BILLING_ORDERS)
    assert billing.headers["X-Total-Count"] == "3"
    one = api.get("/fallout", params={"orderId": "F-2"}).json()
    assert [(f["orderId"], f["itemId"], f["product"]) for f in one] == [
        ("F-2", SUBSCRIBE, "InternetService")]  # fmt: skip
    assert api.get("/fallout", params={"itemIdPattern": "*:subscribe"}).headers[
        "X-Total-Count"] == "3"  # fmt: skip
    assert api.get("/fallout", params={"product": "Nope"}).json() == []
    typo = api.get("/fallout", params={"system": "Biling"})
    assert (typo.status_code, typo.json()["issues"][0]["path"]) == (400, "query.system")
    assert api.get("/fallout", params={"orderId": "NOPE"}).status_code == 404
    assert api.get("/fallout", params={"limit": 0}).status_code == 400


def test_a_page_of_fallout_reads_the_plans_of_its_orders_alone(
    service: Callable[..., Running], sims: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The list was built whole (every held order's plan read), then sliced: after an outage,
    thousands of plans for a page of 20.  The store pages it now."""
    api = service().client()
    _outage(api, sims)
    every = api.get("/fallout").json()
    read: list[str] = []
    real = sqlite_store._plan_items

    def plan_items(db: sqlite3.Connection, order_id: str) -> Any:
        read.append(order_id)
        return real(db, order_id)

    monkeypatch.setattr(sqlite_store, "_plan_items", plan_items)
    second = api.get("/fallout", params={"limit": 1, "offset": 1})
    assert second.json() == every[1:2] and second.headers["X-Total-Count"] == "4"
    assert read == [every[1]["orderId"]]
