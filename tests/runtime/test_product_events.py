"""TMF637 product events: the inventory's event-log rows, written by both stores in the commit
that changes a product, the product version kept with each, and the events made of them."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import test_inventory
from test_inventory import done, runtime_of, tmf

from om_dsl.ir import models as ir
from om_dsl.orders.inventory import InventoryProduct, OrderItemRef, ProductChange
from om_dsl.runtime.notify.hub import INVENTORY, EventFilter
from om_dsl.runtime.notify.tmf637 import ProductEvents, product_event
from om_dsl.runtime.store.base import EventRow, Store
from om_dsl.runtime.store.product_log import (
    PRODUCT_CHANGED,
    PRODUCT_CREATED,
    PRODUCT_KINDS,
    PRODUCT_STATUS,
    changed_fields,
    field_path,
    product_rows,
)
from om_dsl.runtime.store.prune import PrunePolicy
from om_dsl.runtime.store.sqlite import SqliteStore

lab = test_inventory.lab
"""The inventory tests' catalog (the ``store`` fixture, memory and SQLite, is conftest's)."""


def product_log(store: Store) -> list[EventRow]:
    return [row for row in store.events() if row.kind in PRODUCT_KINDS]


def test_each_real_change_is_one_row_with_the_version_it_left(
    lab: ir.Catalog, store: Store
) -> None:
    runtime = runtime_of(lab, store)
    done(runtime, tmf("O1", "add", "P1", speed=300))
    done(runtime, tmf("O2", "modify", "P1", speed=500))
    done(runtime, tmf("O3", "noChange", "P1", speed=500))  # nothing changes: no row
    done(runtime, tmf("O4", "modify", "P1", speed=500))  # the same values: no row
    done(runtime, tmf("O5", "delete", "P1", speed=500))
    rows = product_log(store)
    assert [(r.order_id, r.kind, r.from_state, r.to_state) for r in rows] == [
        ("O1", PRODUCT_CREATED, None, "active"),
        ("O2", PRODUCT_CHANGED, "active", "active"),
        ("O5", PRODUCT_STATUS, "active", "terminated"),
    ]  # fmt: skip
    assert [r.item_id for r in rows] == ["1", "1", "1"]
    assert field_path(rows[1].detail) == "productCharacteristic"
    versions = [store.product_version(r.seq) for r in rows]
    assert [v.attributes["speed"] for v in versions if v] == [300, 500, 500]
    assert [v.status for v in versions if v] == ["active", "active", "terminated"]
    assert store.product_version(rows[0].seq - 1) is None  # an order's row: no version
    # the row is in the completing commit: right after the order's completion
    log = store.events(order_id="O1")
    completed = next(r for r in log if r.kind == "order.state" and r.to_state == "completed")
    assert rows[0].seq > completed.seq and abs(rows[0].ts - completed.ts) < 1


def test_the_events_show_each_version_whatever_came_later(lab: ir.Catalog, store: Store) -> None:
    runtime = runtime_of(lab, store)
    done(runtime, tmf("O1", "add", "P1", speed=300))
    done(runtime, tmf("O2", "delete", "P1", speed=300))
    events = ProductEvents(store)
    events.href_base, events.order_base = "https://om/pi/product", "https://om/productOrder"
    created, ended = (events.event(row) for row in product_log(store))
    assert created is not None and ended is not None
    assert (created["eventType"], ended["eventType"]) == (
        "ProductCreateEvent", "ProductStateChangeEvent",
    )  # fmt: skip
    first = created["event"]["product"]
    assert (first["status"], first["href"]) == ("active", "https://om/pi/product/P1")
    assert [i["productOrderId"] for i in first["productOrderItem"]] == ["O1"]
    assert ended["event"]["product"]["status"] == "terminated"
    assert (created["correlationId"], ended["correlationId"]) == ("O1", "O2")
    assert created["eventId"] != ended["eventId"]
    assert created["eventId"] == f"om-{product_log(store)[0].seq}"


def test_an_order_row_makes_no_product_event(lab: ir.Catalog, store: Store) -> None:
    runtime = runtime_of(lab, store)
    done(runtime, tmf("O1", "add", "P1"))
    events = ProductEvents(store)
    made = [events.event(r) for r in store.events(order_id="O1") if r.kind not in PRODUCT_KINDS]
    assert made and not any(made)


def _product(**changes: object) -> InventoryProduct:
    base = InventoryProduct(
        id="P1", status="active", offering="Internet", offering_id="1", name="Internet",
        attributes={"speed": 100}, account="A1", customer="C1", start_date=1.0,
        order_items=(OrderItemRef("O1", "1", "add"),),
    )  # fmt: skip
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


CHANGE = ProductChange("P1", "1", "modify", "Internet", "1", "Internet", {"speed": 100})


def test_rows_name_what_changed() -> None:
    before = _product()
    same = _product(order_items=(*before.order_items, OrderItemRef("O2", "1", "noChange")))
    assert product_rows(before, same, CHANGE, "O2", 2.0) == []
    faster = _product(attributes={"speed": 500}, account="A2")
    (row,) = product_rows(before, faster, CHANGE, "O2", 2.0)
    assert (row[3], field_path(row[7])) == (PRODUCT_CHANGED, "productCharacteristic,billingAccount")
    ended = _product(status="terminated", attributes={"speed": 1}, termination_date=3.0)
    kinds = [row[3] for row in product_rows(before, ended, CHANGE, "O3", 3.0)]
    assert kinds == [PRODUCT_CHANGED, PRODUCT_STATUS]  # a record on a delete: both
    assert changed_fields(before, _product(termination_date=9.0)) == []
    (created,) = product_rows(None, before, CHANGE, "O1", 1.0)
    assert (created[3], created[4], created[5]) == (PRODUCT_CREATED, None, "active")


def test_a_product_id_cannot_fake_the_field_path() -> None:
    tricky = _product(id="X; changed: relatedParty", attributes={"speed": 2})
    (row,) = product_rows(_product(id=tricky.id), tricky, CHANGE, "O2", 2.0)
    assert field_path(row[7]) == "productCharacteristic"


def test_the_event_body_has_the_tmf_shape() -> None:
    row = EventRow(7, 0.0, "O2", "1", PRODUCT_CHANGED, "active", "active", None,
                   "product 'P1': values changed; changed: productCharacteristic")  # fmt: skip
    view = {"id": "P1", "status": "active"}
    assert product_event(row, "ProductAttributeValueChangeEvent", view, "e1") == {
        "eventId": "om-7-e1",
        "eventTime": "1970-01-01T00:00:00.000Z",
        "eventType": "ProductAttributeValueChangeEvent",
        "correlationId": "O2",
        "title": "product P1 changed",
        "description": "product 'P1': values changed; changed: productCharacteristic",
        "event": {"product": view},
        "fieldPath": "productCharacteristic",
    }


def test_the_product_hub_filters_on_its_own_fields() -> None:
    wanted = EventFilter.parse("eventType=ProductStateChangeEvent&product.status=terminated",
                               INVENTORY)  # fmt: skip
    assert wanted.matches("ProductStateChangeEvent", "terminated", "P1")
    assert not wanted.matches("ProductCreateEvent", "active", "P1")
    assert EventFilter.parse("id=P1,P2", INVENTORY).matches("ProductCreateEvent", "active", "P2")
    for never in ("eventType=ProductOrderStateChangeEvent", "status=completed", "state=active",
                  "eventType=ProductDeleteEvent"):  # fmt: skip
        with pytest.raises(ValueError):
            EventFilter.parse(never, INVENTORY)
    with pytest.raises(ValueError, match="ProductCreateEvent"):
        EventFilter.parse("eventType=ProductCreateEvent")  # not a TMF622 event


def test_a_prune_takes_the_versions_with_the_rows(lab: ir.Catalog, tmp_path: Path) -> None:
    sqlite = SqliteStore(tmp_path / "om.db")
    runtime = runtime_of(lab, sqlite)
    done(runtime, tmf("O1", "add", "P1"))
    (row,) = product_log(sqlite)
    sqlite.prune(PrunePolicy(finished_before=float("inf"), include_undelivered=True))
    assert sqlite.product_version(row.seq) is None and sqlite.product("P1") is not None
    runtime.close()
