"""The TMF637 product inventory through the real service: a CRM adds a fibre product, the
order completes, the product is read back, and a speed upgrade of that product changes the
speed only (no technician moves the line)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
from service_support import REPO, Running, finish_tasks, wait_for, wait_state
from syrupy.assertion import SnapshotAssertion

from om_dsl.orders.inventory import InventoryProduct, OrderItemRef
from om_dsl.runtime.inventory_view import product_view

SAMPLE = REPO / "tests" / "fixtures" / "tmf" / "Product.example.json"
"""A byte-identical copy of the TM Forum's TMF637 sample: the shape the views follow."""
PRODUCTS = "/productInventory/v4/product"
LEGACY = "/productInventoryManagement/v4/product"
"""Where om_dsl served the inventory first: still served."""


def fibre(
    order_id: str, action: str, speed: int | None, site: str = "SITE-LYON-0042", **chars: Any
) -> dict[str, Any]:
    """A TMF622 order of the CRM: one Home Fibre item for product instance PRD-FIB-1, at
    ``site``, with the speed (unless None) and the other characteristics given."""
    given = {"speed": speed, **chars} if speed is not None else chars
    characteristics = [{"name": name, "value": value} for name, value in given.items()]
    return {
        "id": order_id,
        "billingAccount": {"id": "ACC-2001"},
        "relatedParty": [{"id": "CUST-3001", "role": "Customer"}],
        "characteristic": [{"name": "site_id", "value": site}],
        "productOrderItem": [
            {
                "id": "1",
                "action": action,
                "productOffering": {"id": "14301", "name": "Home Fibre"},
                "product": {
                    "id": "PRD-FIB-1",
                    "productCharacteristic": characteristics,
                },
            }
        ],
    }


def _status(api: Any, order_id: str) -> dict[str, dict[str, Any]]:
    answer = api.get(f"/productOrder/{order_id}/status")
    assert answer.status_code == 200, answer.text
    return {item["id"]: item for item in answer.json()["items"]}


def _completed(api: Any, order_id: str) -> None:
    def done() -> bool:
        finish_tasks(api, order_id)
        return wait_state(api, order_id, {"completed", "pending", "inProgress"}) == "completed"

    wait_for(done, timeout=60, what=f"order {order_id} completed")


def test_a_completed_add_is_served_and_a_speed_upgrade_does_not_move_the_line(
    service: Callable[..., Running], sims: Any
) -> None:
    api = service().client()
    assert api.post("/productOrder", json=fibre("CRM-1", "add", 100)).status_code == 201
    unknown = api.get(f"{PRODUCTS}/PRD-FIB-1")
    assert unknown.status_code == 404, unknown.text
    assert unknown.json()["code"] and "PRD-FIB-1" in unknown.json()["message"]
    _completed(api, "CRM-1")

    product = api.get(f"{PRODUCTS}/PRD-FIB-1")
    assert product.status_code == 200, product.text
    view = product.json()
    sample = json.loads(SAMPLE.read_text())[0]
    ours = {"id", "href", "name", "status", "isBundle", "startDate", "productOffering",
            "productCharacteristic", "relatedParty", "productOrderItem", "@type"}  # fmt: skip
    assert ours <= set(view) and ours <= set(sample)
    assert view["href"].endswith(f"{PRODUCTS}/PRD-FIB-1")
    assert (view["status"], view["@type"]) == ("active", "Product")
    assert view["productOffering"]["id"] == "14301"
    assert {"name": "speed", "value": 100} in view["productCharacteristic"]
    assert view["billingAccount"]["id"] == "ACC-2001"
    [ref] = view["productOrderItem"]
    assert (ref["productOrderId"], ref["orderItemId"], ref["orderItemAction"]) == (
        "CRM-1", "1", "add",
    )  # fmt: skip
    assert ref["productOrderHref"].endswith("/productOrder/CRM-1")

    listed = api.get(PRODUCTS, params={"status": "active", "billingAccount.id": "ACC-2001"})
    assert listed.status_code == 200, listed.text
    assert [p["id"] for p in listed.json()] == ["PRD-FIB-1"]
    assert (listed.headers["X-Total-Count"], listed.headers["X-Result-Count"]) == ("1", "1")
    picked = api.get(PRODUCTS, params={"fields": "status", "limit": 1}).json()
    selected = {"id": "PRD-FIB-1", "href": view["href"], "status": "active", "@type": "Product"}
    assert picked == [selected]
    assert api.get(PRODUCTS, params={"status": "gone"}).status_code == 400
    either = api.get(PRODUCTS, params={"status": "active, terminated"})  # as ?state= takes
    assert either.status_code == 200 and [p["id"] for p in either.json()] == ["PRD-FIB-1"]
    assert api.get(PRODUCTS, params={"status": "terminated"}).json() == []
    wrong = api.get(PRODUCTS, params={"status": "active,gone"})
    assert wrong.status_code == 400 and "'gone'" in wrong.json()["message"]
    assert api.get(PRODUCTS, params={"productOffering.id": "14302"}).json() == []
    for path in (f"/tmf-api{PRODUCTS}", LEGACY, f"/tmf-api{LEGACY}"):  # one view, one href
        same = api.get(f"{path}/PRD-FIB-1")
        assert same.status_code == 200 and same.json() == view, path
        assert api.get(path).json() == api.get(PRODUCTS).json()

    # the CRM upgrades the speed: only the speed changes, nobody moves the line
    assert api.post("/productOrder", json=fibre("CRM-2", "modify", 1000)).status_code == 201
    items = _status(api, "CRM-2")
    assert items["order/AccessLine:move"]["state"] == "skipped"
    assert items["order/AccessLine:change_speed"]["state"] != "skipped"
    _completed(api, "CRM-2")
    after = api.get(f"{PRODUCTS}/PRD-FIB-1").json()
    assert {"name": "speed", "value": 1000} in after["productCharacteristic"]
    assert [r["orderItemAction"] for r in after["productOrderItem"]] == ["add", "modify"]


def test_a_modify_that_only_asks_for_a_static_ip_keeps_the_speed(
    service: Callable[..., Running], sims: Any
) -> None:
    """The order reader applies defaults: a modify with ``static_ip`` only used to run
    ``change_speed`` 1000 -> 100 and record 100 (the CRM's t10/t16)."""
    api = service().client()
    assert api.post("/productOrder", json=fibre("CRM-1", "add", 1000)).status_code == 201
    _completed(api, "CRM-1")
    answer = api.post("/productOrder", json=fibre("CRM-2", "modify", None, static_ip=True))
    assert answer.status_code == 201, answer.text
    items = _status(api, "CRM-2")
    assert not [name for name in items if "AccessLine" in name], items  # noChange: no work
    assert any("StaticIp" in name for name in items), items
    _completed(api, "CRM-2")
    after = api.get(f"{PRODUCTS}/PRD-FIB-1").json()["productCharacteristic"]
    assert {"name": "speed", "value": 1000} in after
    assert {"name": "static_ip", "value": True} in after


def test_a_modify_at_another_site_moves_the_line(
    service: Callable[..., Running], sims: Any
) -> None:
    """The site is the order's attribute, not the item's: with the inventory, a modify at a
    new site with the same speed used to plan no work at all (the CRM's ORD-M3)."""
    api = service().client()
    assert api.post("/productOrder", json=fibre("CRM-1", "add", 500)).status_code == 201
    _completed(api, "CRM-1")
    moved = fibre("CRM-2", "modify", 500, site="SITE-PARIS-9")
    assert api.post("/productOrder", json=moved).status_code == 201
    assert _status(api, "CRM-2")["order/AccessLine:move"]["state"] != "skipped"
    _completed(api, "CRM-2")
    again = fibre("CRM-3", "modify", 500, site="SITE-PARIS-9")
    assert api.post("/productOrder", json=again).status_code == 201
    assert not [n for n in _status(api, "CRM-3") if "AccessLine" in n]  # nothing changes


def test_a_modify_under_another_billing_account_is_a_400_and_stores_nothing(
    service: Callable[..., Running], sims: Any
) -> None:
    """A modify of PRD-FIB-1 under another account moved the product to that customer."""
    api = service().client()
    assert api.post("/productOrder", json=fibre("CRM-1", "add", 500)).status_code == 201
    _completed(api, "CRM-1")
    before = api.get(f"{PRODUCTS}/PRD-FIB-1").json()
    other = {**fibre("CRM-2", "modify", 1000), "billingAccount": {"id": "ACC-6666"}}
    refused = api.post("/productOrder", json=other)
    assert refused.status_code == 400, refused.text
    assert "O076" in refused.text and "'ACC-2001'" in refused.text and "'ACC-6666'" in refused.text
    assert "productOrderItem[0].product.id" in refused.text
    assert api.get("/productOrder/CRM-2").status_code == 404
    assert api.get(f"{PRODUCTS}/PRD-FIB-1").json() == before


def test_the_product_view(snapshot: SnapshotAssertion) -> None:
    product = InventoryProduct(
        id="PRD-1",
        status="terminated",
        offering="HomeFibre",
        offering_id="14301",
        name="Home Fibre",
        attributes={"speed": 500, "static_ip": False},
        account="ACC-1",
        customer="CUST-1",
        start_date=1_790_000_000.0,
        termination_date=1_790_086_400.5,
        order_items=(OrderItemRef("O1", "1", "add"), OrderItemRef("O/2", "7", "delete")),
    )
    base = "http://127.0.0.1:8080"
    assert product_view(product, f"{base}{PRODUCTS}", f"{base}/productOrder") == snapshot
    assert "href" not in product_view(product)


def _port_of(api: Any) -> Any:
    chars = api.get(f"{PRODUCTS}/PRD-FIB-1").json()["productCharacteristic"]
    return next((c["value"] for c in chars if c["name"] == "port_id"), None)


def _calls(sim: Any, path: str) -> list[dict[str, Any]]:
    """The bodies of the requests ``sim`` applied at ``path`` (once each, retries aside)."""
    return [e["body"] for e in sim.effects() if e["path"] == path]


def test_the_port_fulfilment_reserved_is_recorded_and_a_delete_by_id_releases_it(
    service: Callable[..., Running], sims: Any
) -> None:
    """The CRM's case: Home Fibre is added with a product id and no port (the reserve_port
    callout finds one), and later deleted by product id alone, as TMF clients do.  The delete
    went to fallout ("missing required fields: port_id") before the add plan recorded the
    port on the product (``record port_id = reserve_port.port_id``)."""
    api = service().client()
    assert api.post("/productOrder", json=fibre("CRM-1", "add", 100)).status_code == 201
    _completed(api, "CRM-1")
    [reserved] = [e["response"]["port"]["id"] for e in sims.inventory.effects()
                  if e["path"] == "/ports/reserve"]  # fmt: skip
    assert _port_of(api) == reserved
    assert api.get(f"{PRODUCTS}/PRD-FIB-1").json()["status"] == "active"

    # a speed upgrade keeps the port, and nobody moves the line
    assert api.post("/productOrder", json=fibre("CRM-2", "modify", 1000)).status_code == 201
    items = _status(api, "CRM-2")
    assert items["order/AccessLine:move"]["state"] == "skipped"
    _completed(api, "CRM-2")
    after = api.get(f"{PRODUCTS}/PRD-FIB-1").json()["productCharacteristic"]
    assert {"name": "speed", "value": 1000} in after
    assert {"name": "port_id", "value": reserved} in after

    # the delete names the product only: the recorded port is deactivated and released
    assert api.post("/productOrder", json=fibre("CRM-3", "delete", None)).status_code == 201
    _completed(api, "CRM-3")
    assert _calls(sims.inventory, "/ports/release") == [{"port_id": reserved}]
    [deactivated] = _calls(sims.network, "/deactivations")
    assert deactivated["port_id"] == reserved
    port = httpx.get(f"{sims.inventory.url}/ports/{reserved}").json()["port"]
    assert port["status"] == "released"
    gone = api.get(f"{PRODUCTS}/PRD-FIB-1").json()
    assert gone["status"] == "terminated"
    assert {"name": "port_id", "value": reserved} in gone["productCharacteristic"]
    assert [r["orderItemAction"] for r in gone["productOrderItem"]] == ["add", "modify", "delete"]
