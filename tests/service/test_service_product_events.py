"""TMF637 product events through the real service on loopback, to a real listener: a billing
system registers on ``/productInventory/v4/hub`` and hears the product it bills created,
upgraded and terminated, each event showing the product as ``GET`` showed it then; a TMF622
listener hears none of them; a query filters; bad registrations are refused, by URL, query and
role."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from service_support import REPO, TOKEN, Running, Sims, om_serve, stop_om_serve, wait_for
from test_service_inventory import PRODUCTS, _completed, fibre
from test_service_tmf import _assert_shown

from om_dsl.service import read_clients

HUB = "/productInventory/v4/hub"
READ_TOKEN = "test-token-for-billing-reader-0123"
NOWHERE = "http://127.0.0.1:9/x"
ACME = REPO / "examples" / "catalog" / "acme.om"


def _heard(listener: Any, path: str) -> list[dict[str, Any]]:
    """The bodies the listener received at ``path``, oldest first."""
    return [e["body"] for e in listener.events() if e["path"] == path]


def _documented_event() -> dict[str, Any]:
    """docs/service.md's example of a product event, abbreviated (``...`` for the rest)."""
    doc = (REPO / "docs" / "service.md").read_text(encoding="utf-8")
    block = re.search(r'```json\n(\{"eventId": "om-57".*?)```', doc, re.S)
    assert block, "the product event example is gone from docs/service.md"
    text = re.sub(r",\s*\.\.\.", "", block[1].replace("{...}", "{}").replace("[...]", "[]"))
    found: dict[str, Any] = json.loads(text)
    return found


def _register(api: Any, callback: str, query: str | None = None, base: str = HUB) -> str:
    body = {"callback": callback, **({"query": query} if query else {})}
    answer = api.post(base, json=body)
    assert answer.status_code == 201, answer.text
    assert answer.headers["Location"].endswith(f"{HUB}/{answer.json()['id']}")
    return str(answer.json()["id"])


def test_a_billing_system_hears_its_product_created_upgraded_and_terminated(
    service: Callable[..., Running], listener: Any
) -> None:
    api = service().client()
    _register(api, f"{listener.url}/products")
    _register(api, f"{listener.url}/ended", "eventType=ProductStateChangeEvent&status=terminated")
    assert api.post("/hub", json={"callback": f"{listener.url}/orders"}).status_code == 201

    assert api.post("/productOrder", json=fibre("CRM-1", "add", 100)).status_code == 201
    _completed(api, "CRM-1")
    (created,) = listener.wait_for(lambda e: e["path"] == "/products", timeout=20)
    body = created["body"]
    assert (body["eventType"], body["correlationId"]) == ("ProductCreateEvent", "CRM-1")
    assert set(body) >= {"eventId", "eventTime", "eventType", "title", "event"}
    assert body["event"]["product"] == api.get(f"{PRODUCTS}/PRD-FIB-1").json()  # GET's view

    assert api.post("/productOrder", json=fibre("CRM-2", "modify", 1000)).status_code == 201
    _completed(api, "CRM-2")
    upgraded = listener.wait_for(lambda e: e["path"] == "/products", count=2, timeout=20)[1]
    change = upgraded["body"]
    assert (change["eventType"], change["fieldPath"]) == (
        "ProductAttributeValueChangeEvent", "productCharacteristic",
    )  # fmt: skip
    assert {"name": "speed", "value": 1000} in change["event"]["product"]["productCharacteristic"]
    shown = _documented_event()  # every field the docs show, in order, but the id and time
    _assert_shown(shown, {**change, "eventId": "om-57", "eventTime": shown["eventTime"]}, "$")

    assert api.post("/productOrder", json=fibre("CRM-3", "delete", None)).status_code == 201
    _completed(api, "CRM-3")
    ended = listener.wait_for(lambda e: e["path"] == "/products", count=3, timeout=20)[2]
    assert ended["body"]["eventType"] == "ProductStateChangeEvent"
    assert ended["body"]["event"]["product"]["status"] == "terminated"
    assert ended["body"]["event"]["product"] == api.get(f"{PRODUCTS}/PRD-FIB-1").json()
    (filtered,) = listener.wait_for(lambda e: e["path"] == "/ended", timeout=20)
    assert filtered["body"] == ended["body"]

    # the first event still shows the product as it was then, and each has its own id
    assert body["event"]["product"]["status"] == "active"
    heard = _heard(listener, "/products")
    assert len({e["eventId"] for e in heard}) == 3
    # the TMF622 listener hears its orders, and never a product
    wait_for(lambda: api.get("/notifications", params={"state": "pending"}).json() == [])
    orders = _heard(listener, "/orders")
    assert orders and all(e["eventType"].startswith("ProductOrder") for e in orders)
    assert len(_heard(listener, "/products")) == 3 and len(_heard(listener, "/ended")) == 1
    # the outbox lists them as it lists order events
    listed = api.get("/notifications", params={"listener": f"{listener.url}/products"}).json()
    assert [(n["eventType"], n["orderId"], n["orderState"], n["state"]) for n in listed] == [
        ("ProductCreateEvent", "CRM-1", "active", "delivered"),
        ("ProductAttributeValueChangeEvent", "CRM-2", "active", "delivered"),
        ("ProductStateChangeEvent", "CRM-3", "terminated", "delivered"),
    ]  # fmt: skip
    assert [n["eventId"] for n in listed] == [e["eventId"] for e in heard]


def test_the_hub_registers_lists_and_unregisters_at_every_inventory_base(
    service: Callable[..., Running], listener: Any
) -> None:
    api = service().client()
    first = _register(api, f"{listener.url}/a", "product.id=PRD-FIB-1")
    second = _register(api, f"{listener.url}/b", base=f"/tmf-api{HUB}")
    bases = (HUB, f"/tmf-api{HUB}", "/productInventoryManagement/v4/hub",
             "/tmf-api/productInventoryManagement/v4/hub")  # fmt: skip
    for base in bases:
        listed = api.get(base)
        assert [s["id"] for s in listed.json()] == [first, second], base
        one = api.get(f"{base}/{first}").json()
        assert (one["id"], one["query"]) == (first, "product.id=PRD-FIB-1")
    assert api.get("/hub").json() == []  # TMF622's hub: a namespace of its own
    assert api.get(f"/hub/{first}").status_code == 404
    assert api.delete(f"/hub/{first}").status_code == 404
    assert api.delete(f"{HUB}/{first}").status_code == 204
    assert api.get(f"{HUB}/{first}").status_code == 404
    assert [s["id"] for s in api.get(HUB).json()] == [second]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"callback": "ftp://billing.example/events"}, "S003"),
        ({"callback": "http://169.254.169.254/latest"}, "S003"),
        ({"callback": NOWHERE, "query": "eventType=ProductOrderCreateEvent"}, "S004"),
        ({"callback": NOWHERE, "query": "status=completed"}, "S004"),
        ({"callback": NOWHERE, "query": "eventType=ProductDeleteEvent"}, "S004"),
        ({"callback": NOWHERE, "query": "productOrder.id=CRM-1"}, "S004"),
    ],
)
def test_a_registration_that_cannot_work_is_refused(
    service: Callable[..., Running], body: dict[str, str], code: str
) -> None:
    api = service().client()
    answer = api.post(HUB, json=body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["issues"][0]["code"] == code
    assert api.get(HUB).json() == []


def test_a_reader_may_list_listeners_and_not_register_them(
    service: Callable[..., Running],
) -> None:
    clients = read_clients(f"billing/read:{READ_TOKEN},crm/client:{TOKEN}")
    running = service(tokens=clients.tokens, roles=clients.roles)
    reader, crm = running.client(READ_TOKEN), running.client(TOKEN)
    refused = reader.post(HUB, json={"callback": NOWHERE})
    assert refused.status_code == 403 and "client" in refused.json()["message"]
    sub = _register(crm, NOWHERE)
    assert [s["id"] for s in reader.get(HUB).json()] == [sub]
    assert reader.delete(f"{HUB}/{sub}").status_code == 403
    assert crm.delete(f"{HUB}/{sub}").status_code == 204


def test_om_serve_announces_a_product_to_a_listener_registered_before_a_restart(
    tmp_path: Path, sims: Sims, listener: Any
) -> None:
    """``om serve`` itself, in a process of its own: the registration is kept in the store,
    and the product the next run records is announced to it."""
    db, environ = tmp_path / "om.db", {**sims.environ(), "OM_ACCESS_LOG": "false"}
    headers = {"Authorization": f"Bearer {TOKEN}"}
    process, url = om_serve(ACME, db, environ)
    try:
        with httpx.Client(base_url=url, headers=headers, timeout=30) as api:
            _register(api, f"{listener.url}/products", "eventType=ProductCreateEvent")
    finally:
        stop_om_serve(process)
    process, url = om_serve(ACME, db, environ)
    try:
        with httpx.Client(base_url=url, headers=headers, timeout=30) as api:
            assert api.post("/productOrder", json=fibre("CRM-1", "add", 100)).status_code == 201
            _completed(api, "CRM-1")
            (heard,) = listener.wait_for(lambda e: e["path"] == "/products", timeout=20)
            assert heard["body"]["event"]["product"] == api.get(f"{PRODUCTS}/PRD-FIB-1").json()
            assert heard["body"]["event"]["product"]["href"].startswith(url)
    finally:
        stop_om_serve(process)
