"""A CRM's retries against the real service: an order sent again is one order, whatever
server-owned fields the retry adds, and the 409 says whether the order landed (a retry) or
another order has the id; ``Idempotency-Key`` answers a repeat with the order it created,
across restarts."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from service_support import (
    OPS_TOKEN,
    Running,
    Sims,
    open_tasks,
    order_json,
    serve,
    wait_for,
    wait_state,
)

from om_dsl.orders.tmf622 import (
    ITEM_ARRAYS,
    ORDER_ARRAYS,
    PRODUCT_ARRAYS,
    TmfItem,
    TmfOrder,
    TmfProduct,
)

HOME_DUO: dict[str, Any] = {
    "description": "Home Duo for a new customer",
    "externalId": "CRM-RETRY-1",
    "note": [{"author": "agent 7", "date": "2026-11-28T08:00:00Z", "text": "call first"}],
    "relatedParty": [{"id": "CUST-1", "role": "customer", "@referredType": "Customer"}],
    "billingAccount": {"id": "ACC-1"},
    "characteristic": [{"name": "site_id", "value": "SITE-1"}],
    "productOrderItem": [
        {
            "id": "B1",
            "action": "add",
            "productOffering": {"id": "14100", "name": "Home Duo"},
            "productOrderItem": [
                {
                    "id": "B1.1",
                    "action": "add",
                    "productOffering": {"id": "14301"},
                    "product": {"productCharacteristic": [{"name": "speed", "value": 500}]},
                },
                {"id": "B1.2", "action": "add", "productOffering": {"id": "14303"}},
            ],
        }
    ],
    "@type": "ProductOrder",
}


def home_duo(**changes: Any) -> dict[str, Any]:
    order = copy.deepcopy(HOME_DUO)
    order.update(changes)
    return order


def test_a_retry_with_server_owned_fields_is_the_same_order(
    service: Callable[..., Running],
) -> None:
    """A CRM's retry that adds orderDate, state and href, restamps a note or sends each item
    its state is the order that landed: a 409 duplicateOrder with its Location, not a second
    order (it was four orders and four technician tasks)."""
    running = service()
    crm = running.client()
    first = crm.post("/productOrder", json=home_duo())
    assert first.status_code == 201, first.text
    order_id = first.json()["id"]
    assert order_id.startswith("po-") and first.headers["Location"].endswith(order_id)
    retries = [
        home_duo(orderDate="2026-11-28T08:01:00Z"),
        home_duo(state="acknowledged", href="http://crm.example/po/1", id=""),
        home_duo(
            note=[{**HOME_DUO["note"][0], "date": "2026-11-28T08:05:00Z"}],
            completionDate=None,
            expectedCompletionDate="2026-12-01T00:00:00Z",
        ),
        _with_item_states(home_duo(), "inProgress"),
    ]
    for retry in retries:
        again = crm.post("/productOrder", json=retry)
        assert again.status_code == 409, again.text
        assert again.json()["code"] == "duplicateOrder", again.text
        assert again.headers["Location"] == first.headers["Location"]
        assert order_id in again.json()["message"]
    # what GET shows, posted back (the views' @types added), with or without its id
    shown = crm.get(first.headers["Location"]).json()
    for body in (shown, {k: v for k, v in shown.items() if k != "id"}):
        again = crm.post("/productOrder", json=body)
        assert (again.status_code, again.json()["code"]) == (409, "duplicateOrder"), again.text
    listed = crm.get("/productOrder", params={"externalId": "CRM-RETRY-1"})
    assert listed.headers["X-Total-Count"] == "1"
    # what the client wrote in a note is its content: another text is another order
    other = crm.post("/productOrder", json=home_duo(note=[{"text": "call after 6pm"}]))
    assert other.status_code == 201 and other.json()["id"] != order_id


def _with_item_states(order: dict[str, Any], state: str) -> dict[str, Any]:
    for item in order["productOrderItem"]:
        item["state"] = state
        for part in item.get("productOrderItem", []):
            part["state"] = state
    return order


def test_an_id_clash_is_told_apart_from_a_retry(service: Callable[..., Running]) -> None:
    running = service()
    crm = running.client()
    sent = order_json("tmf622-product-order")
    assert crm.post("/productOrder", json=sent).status_code == 201
    retry = crm.post("/productOrder", json=sent)
    assert (retry.status_code, retry.json()["code"]) == (409, "duplicateOrder")
    clash = crm.post("/productOrder", json={**sent, "description": "another order"})
    assert clash.status_code == 409 and clash.json()["code"] == "orderIdClash", clash.text
    assert clash.headers["Location"] == retry.headers["Location"]
    assert retry.headers["Location"].endswith("/productOrder/30001")
    assert clash.json()["@type"] == "Error" and clash.json()["status"] == "409"


def test_an_idempotency_key_answers_with_the_order_it_created(tmp_path: Path, sims: Sims) -> None:
    """Same key, same order: 200 with that order, also after a restart (the key is in the
    store); same key, other order: 409 idempotencyKeyReused; keys are per API client."""
    db = tmp_path / "om.db"
    running = serve(db, sims)
    try:
        crm = running.client()
        key = {"Idempotency-Key": "5f0c6a3e-retry-1"}
        sent = home_duo()
        first = crm.post("/productOrder", json=sent, headers=key)
        assert first.status_code == 201, first.text
        order_id = first.json()["id"]
        reused = crm.post("/productOrder", json=home_duo(description="other"), headers=key)
        assert (reused.status_code, reused.json()["code"]) == (409, "idempotencyKeyReused")
        assert reused.headers["Location"] == first.headers["Location"]
        ops = running.client(OPS_TOKEN)  # another client's key is its own
        theirs = ops.post("/productOrder", json=home_duo(description="ops"), headers=key)
        assert theirs.status_code == 201, theirs.text
    finally:
        running.close()
    restarted = serve(db, sims)
    try:
        crm = restarted.client()
        replay = crm.post("/productOrder", json=home_duo(orderDate="2026-11-29T00:00:00Z"),
                          headers=key)  # fmt: skip
        assert replay.status_code == 200, replay.text
        assert replay.json()["id"] == order_id
        assert replay.headers["Location"] == f"{restarted.url}/productOrder/{order_id}"
        assert crm.get("/productOrder").headers["X-Total-Count"] == "2"
    finally:
        restarted.close()


def test_an_idempotency_key_that_cannot_be_kept_is_refused(
    service: Callable[..., Running],
) -> None:
    running = service()
    crm = running.client()
    for bad in ("", "with blank", "x" * 256):
        answer = crm.post("/productOrder", json=home_duo(), headers={"Idempotency-Key": bad})
        assert answer.status_code == 400, answer.text
        issue = answer.json()["issues"][0]
        assert (issue["code"], issue["path"]) == ("S023", "header.Idempotency-Key")
    two = httpx.Headers([("Idempotency-Key", "k-1"), ("Idempotency-Key", "k-2")])
    answer = crm.post("/productOrder", json=home_duo(), headers=two)
    assert answer.status_code == 400 and "2 Idempotency-Key headers" in answer.text
    assert crm.get("/productOrder").headers["X-Total-Count"] == "0"


def test_nested_bundle_items_keep_their_hierarchy_and_round_trip(
    service: Callable[..., Running],
) -> None:
    """The bundle's parts stay in its productOrderItem (they were listed side by side, and
    a GET -> PATCH lost the bundle's parts: O062)."""
    running = service()
    crm = running.client()
    created = crm.post("/productOrder", json=home_duo(id="DUO-1"))
    assert created.status_code == 201, created.text
    for order in (created.json(), crm.get("/productOrder/DUO-1").json()):
        (bundle,) = order["productOrderItem"]
        assert bundle["id"] == "B1"
        assert [part["id"] for part in bundle["productOrderItem"]] == ["B1.1", "B1.2"]
        assert all(part["@type"] == "ProductOrderItem" for part in bundle["productOrderItem"])
    picked = crm.get("/productOrder/DUO-1", params={"fields": "productOrderItem"}).json()
    assert [p["id"] for p in picked["productOrderItem"][0]["productOrderItem"]] == ["B1.1", "B1.2"]
    revised = crm.get("/productOrder/DUO-1").json()
    fibre = revised["productOrderItem"][0]["productOrderItem"][0]
    fibre["product"]["productCharacteristic"][0]["value"] = 1000
    patched = crm.patch("/productOrder/DUO-1", json=revised)
    assert patched.status_code == 200, patched.text
    fibre = patched.json()["productOrderItem"][0]["productOrderItem"][0]
    assert fibre["product"]["productCharacteristic"] == [{"name": "speed", "value": 1000}]


def test_an_item_waiting_for_a_technician_is_pending_as_its_order(
    service: Callable[..., Running],
) -> None:
    running = service()
    crm = running.client()
    assert crm.post("/productOrder", json=home_duo(id="DUO-2")).status_code == 201
    wait_for(lambda: open_tasks(crm, "DUO-2"), what="a field task")
    order = wait_for(lambda: (o := crm.get("/productOrder/DUO-2").json())["state"] == "pending"
                     and o)  # fmt: skip
    bundle = order["productOrderItem"][0]
    states = {bundle["state"], *(part["state"] for part in bundle["productOrderItem"])}
    assert "inProgress" not in states and "pending" in states, order


def test_every_tmf_array_is_refused_when_it_is_no_array(service: Callable[..., Running]) -> None:
    running = service()
    crm = running.client()
    order = home_duo(note={"text": "x"})
    order["productOrderItem"][0]["itemPrice"] = {"price": {}}
    order["productOrderItem"][0]["productOrderItem"][0]["product"]["place"] = {"id": "P1"}
    answer = crm.post("/productOrder", json=order)
    assert answer.status_code == 400, answer.text
    found = {(i["code"], i["path"]) for i in answer.json()["issues"]}
    place = "productOrderItem[0].productOrderItem[0].product.place"
    wanted = {("O012", "note"), ("O012", "productOrderItem[0].itemPrice"), ("O012", place)}
    assert wanted <= found, found
    assert crm.get("/productOrder").headers["X-Total-Count"] == "0"


def test_the_models_check_every_array_of_the_tmf622_swagger() -> None:
    """The arrays each model checks are those TMF622 v4 defines (the swagger, when the
    shared copy is there)."""
    for names, model in ((ORDER_ARRAYS, TmfOrder), (ITEM_ARRAYS, TmfItem),
                         (PRODUCT_ARRAYS, TmfProduct)):  # fmt: skip
        assert set(names) <= set(model.model_fields), model
    swagger = Path("/work/shared/tmf/TMF622-ProductOrdering-v4.0.0.swagger.json")
    if not swagger.exists():
        return
    definitions = json.loads(swagger.read_text())["definitions"]
    for names, name in ((ORDER_ARRAYS, "ProductOrder_Create"), (ITEM_ARRAYS, "ProductOrderItem"),
                        (PRODUCT_ARRAYS, "Product")):  # fmt: skip
        props = definitions[name]["properties"]
        assert set(names) == {k for k, v in props.items() if v.get("type") == "array"}, name


def test_minor_refusals_say_what_to_do(service: Callable[..., Running]) -> None:
    running = service()
    crm = running.client()
    assert crm.post("/productOrder", json=home_duo(id="DUO-3")).status_code == 201
    empty = crm.get("/productOrder", params={"fields": ""})
    assert empty.status_code == 400 and empty.json()["issues"][0]["code"] == "S014"
    blank = crm.get("/productOrder/DUO-3", params={"fields": " , "})
    assert blank.status_code == 400 and blank.json()["issues"][0]["code"] == "S014"
    held = crm.patch("/productOrder/DUO-3", json=home_duo(id="DUO-3", state="held"))
    assert held.status_code == 400, held.text
    issue = held.json()["issues"][0]
    assert issue["code"] == "S020" and "POST /cancelProductOrder" in issue["message"]
    wait_state(crm, "DUO-3", ["pending"])  # waits for a technician: it stays so
    current = crm.get("/productOrder/DUO-3").json()
    current["description"] = "a new description"
    same_state = crm.patch("/productOrder/DUO-3", json=current)  # GET -> PATCH round trip
    assert same_state.status_code == 200, same_state.text
    assert same_state.json()["description"] == "a new description"
    # a state the order had (the GET was a moment ago): taken too, the order stays pending
    stale = {**current, "state": "acknowledged", "description": "newer"}
    assert crm.patch("/productOrder/DUO-3", json=stale).status_code == 200
    assert crm.get("/productOrder/DUO-3").json()["state"] == "pending"
    deleted = crm.delete("/productOrder/DUO-3")
    assert deleted.status_code == 405 and "POST /cancelProductOrder" in deleted.json()["message"]
    assert deleted.headers["Allow"] == "GET, PATCH"


def test_an_amendment_event_names_the_attributes_it_changed(
    service: Callable[..., Running],
) -> None:
    running = service()
    crm = running.client()
    assert crm.post("/productOrder", json=home_duo(id="DUO-4")).status_code == 201
    revised = home_duo(id="DUO-4", description="new words", externalId="CRM-RETRY-2")
    assert crm.patch("/productOrder/DUO-4", json=revised).status_code == 200
    views = running.runtime.notifications.views
    (row,) = [e for e in running.runtime.store.events(order_id="DUO-4")
              if e.kind == "order.amended"]  # fmt: skip
    event = views.event(row)
    assert event is not None
    assert event["fieldPath"] == "description,externalId", event
    assert "; attributes changed: description, externalId; amended by " in event["description"]
    bundle = event["event"]["productOrder"]["productOrderItem"][0]
    assert [p["id"] for p in bundle["productOrderItem"]] == ["B1.1", "B1.2"]
