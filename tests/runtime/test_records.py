"""``record`` statements at run time: what fulfilment produced, kept on inventory products.

A completed order records each TMF product of its items with the values the order gave; a
plan's ``record port_id = reserve.port`` adds what a task produced, on the products of the
line's order items whose offer declares the attribute, in the commit that completes the
order.  A later delete by product id then sends it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from runtime_support import compile_text

from om_dsl.errors import OperatorActionRejected
from om_dsl.ir import models as ir
from om_dsl.orders.inventory import ProductChange, Recorded
from om_dsl.runtime import HandlerRegistry, Runtime
from om_dsl.runtime.store.base import NewOrder, OrderRecord, Store, WriteBatch
from om_dsl.runtime.store.sqlite import SqliteStore

LAB = """
offer Fibre "Fibre" id "1" {
  attribute speed: int in 1..1000 default 100
  attribute port_id: string pattern "^PORT-[0-9]+$"
  attribute fast: bool default false
}
offer Copper "Copper" id "2" {
  attribute speed: int default 50
  attribute port_id: string
}
offer Voice "Voice" id "3" { attribute number: string default "100" }
cfs Access scope order {
  attribute speed: int merge max
  attribute port_id: string merge first
  attribute fast: bool merge any
}
decompose Fibre -> Access { speed = speed; port_id = port_id; fast = fast }
decompose Copper -> Access { speed = speed; port_id = port_id }
decompose Voice -> Access {}
plan Access on add {
  auto reserve handler "reserve"
  auto boost handler "boost" when line.fast
  record port_id = reserve.port
  record speed = boost.speed
}
plan Access on delete { auto release handler "release" }
"""
OFFERS = {"Fibre": "1", "Copper": "2", "Voice": "3"}


@pytest.fixture(scope="module")
def lab() -> ir.Catalog:
    return compile_text(LAB)


class Network:
    """The handlers: ``reserve`` answers the port it is told to, ``release`` keeps the port
    its line had."""

    def __init__(self, port: Any = "PORT-7") -> None:
        self.port = port
        self.released: list[Any] = []

    def registry(self) -> HandlerRegistry:
        handlers = HandlerRegistry()
        handlers.register("reserve", lambda ctx: {"port": self.port})
        handlers.register("boost", lambda ctx: {"speed": 700})
        handlers.register("release", self._release)
        return handlers

    def _release(self, ctx: Any) -> dict[str, Any]:
        self.released.append(ctx.line["port_id"])
        return {}


def tmf(order_id: str, action: str, *items: tuple[str, str, dict[str, Any]]) -> dict[str, Any]:
    """A TMF622 order of (offer, product id, characteristics) items."""
    return {
        "id": order_id,
        "productOrderItem": [
            {
                "id": str(n),
                "action": action,
                "productOffering": {"id": OFFERS[offer]},
                "product": {
                    "id": product,
                    "productCharacteristic": [{"name": k, "value": v} for k, v in chars.items()],
                },
            }
            for n, (offer, product, chars) in enumerate(items, 1)
        ],
    }


def run(runtime: Runtime, order: dict[str, Any]) -> str:
    order_id = runtime.submit(order)
    runtime.run_until_idle()
    return order_id


def attributes(store: Store, product_id: str) -> dict[str, Any]:
    found = store.product(product_id)
    assert found is not None, product_id
    return found.attributes


def test_each_product_whose_offer_declares_the_attribute_gets_the_value(
    lab: ir.Catalog, store: Store
) -> None:
    """One order-scoped line fed by three items: the two whose offers declare port_id get
    the port; Voice does not.  ``boost`` did not run (not fast): its record records nothing."""
    runtime = Runtime(lab, store=store, handlers=Network().registry())
    order = tmf("O1", "add", ("Fibre", "P1", {}), ("Copper", "P2", {}), ("Voice", "P3", {}))
    assert runtime.status(run(runtime, order)).state == "completed"
    assert attributes(store, "P1") == {"speed": 100, "port_id": "PORT-7", "fast": False}
    assert attributes(store, "P2") == {"speed": 50, "port_id": "PORT-7"}
    assert attributes(store, "P3") == {"number": "100"}


def test_a_task_that_ran_records_and_one_that_did_not_records_nothing(
    lab: ir.Catalog, store: Store
) -> None:
    runtime = Runtime(lab, store=store, handlers=Network().registry())
    run(runtime, tmf("O1", "add", ("Fibre", "P1", {"fast": True})))
    assert attributes(store, "P1")["speed"] == 700
    run(runtime, tmf("O2", "add", ("Fibre", "P2", {"fast": False, "speed": 300})))
    assert attributes(store, "P2")["speed"] == 300


def test_a_delete_by_product_id_sends_the_recorded_value(lab: ir.Catalog, store: Store) -> None:
    network = Network()
    runtime = Runtime(lab, store=store, handlers=network.registry())
    run(runtime, tmf("O1", "add", ("Fibre", "P1", {"speed": 500})))
    assert runtime.status(run(runtime, tmf("O2", "delete", ("Fibre", "P1", {})))).state == (
        "completed"
    )
    assert network.released == ["PORT-7"]
    gone = store.product("P1")
    assert gone is not None and gone.status == "terminated"
    assert gone.attributes == {"speed": 500, "port_id": "PORT-7", "fast": False}


def test_a_null_value_records_nothing(lab: ir.Catalog, store: Store) -> None:
    runtime = Runtime(lab, store=store, handlers=Network(port=None).registry())
    assert runtime.status(run(runtime, tmf("O1", "add", ("Fibre", "P1", {})))).state == (
        "completed"
    )
    assert "port_id" not in attributes(store, "P1")


def test_an_output_the_offer_refuses_is_fallout_and_never_recorded(
    lab: ir.Catalog, store: Store
) -> None:
    """A port that breaks Fibre's pattern fails ``reserve`` for good, as an output that is
    not JSON does: the order is held, and an operator completes the item with a good one."""
    runtime = Runtime(lab, store=store, handlers=Network(port="port 7").registry())
    order_id = run(runtime, tmf("O1", "add", ("Fibre", "P1", {})))
    status = runtime.status(order_id)
    reserve = next(i for i in status.items if i.name == "reserve")
    assert (status.state, reserve.state) == ("held", "fatally_failed")
    assert reserve.reason is not None
    assert "record port_id" in reserve.reason and "'port 7'" in reserve.reason
    assert "P1" in reserve.reason and "pattern" in reserve.reason
    assert store.product("P1") is None
    with pytest.raises(OperatorActionRejected, match="record port_id"):
        runtime.complete(order_id, reserve.id, {"port": "port 8"})
    runtime.complete(order_id, reserve.id, {"port": "PORT-8"})
    runtime.run_until_idle()
    assert runtime.status(order_id).state == "completed"
    assert attributes(store, "P1")["port_id"] == "PORT-8"


def test_an_order_without_product_ids_records_nothing(lab: ir.Catalog, store: Store) -> None:
    runtime = Runtime(lab, store=store, handlers=Network().registry())
    native = {"id": "N1", "items": [{"id": "1", "product": "Fibre", "action": "add"}]}
    assert runtime.status(run(runtime, native)).state == "completed"
    assert store.count_products() == 0


def _new_order(order_id: str, products: list[ProductChange]) -> NewOrder:
    now = time.time()
    record = OrderRecord(order_id, "sha256:lab", "inProgress", now, now)
    return NewOrder(record, "{}", [], products)


def test_the_values_land_in_the_commit_that_completes_the_order(store: Store) -> None:
    """Both stores apply the recorded values with the order's move to completed, in one
    transaction: a commit that fails leaves neither."""
    change = ProductChange("P1", "1", "add", "Fibre", "1", "Fibre", {"speed": 100})
    store.apply(WriteBatch(catalogs={"sha256:lab": "{}"}, new_orders=[_new_order("O1", [change])]))
    assert store.order_products("O1") == [change]
    done = OrderRecord("O1", "sha256:lab", "completed", 1.0, 2.0)
    recorded = {"O1": [Recorded("1", "port_id", "PORT-7"), Recorded("2", "port_id", "X")]}
    failing = WriteBatch(
        new_orders=[_new_order("O1", [])],  # the id exists: the whole batch is refused
        orders={"O1": done},
        completed=["O1"],
        recorded=recorded,
    )
    with pytest.raises(Exception):  # noqa: B017 - each store raises its own
        store.apply(failing)
    stored = store.order("O1")
    assert stored is not None and stored.state == "inProgress"
    assert store.product("P1") is None
    store.apply(WriteBatch(orders={"O1": done}, completed=["O1"], recorded=recorded))
    assert store.order("O1").state == "completed"  # type: ignore[union-attr]
    assert attributes(store, "P1") == {"speed": 100, "port_id": "PORT-7"}


def test_a_sqlite_commit_that_fails_after_recording_rolls_the_values_back(
    tmp_path: Path,
) -> None:
    """The batch fails on its event rows, written after the products: the transaction
    holds neither the completion nor the recorded port."""
    store = SqliteStore(tmp_path / "om.db")
    change = ProductChange("P1", "1", "add", "Fibre", "1", "Fibre", {"speed": 100})
    store.apply(WriteBatch(catalogs={"sha256:lab": "{}"}, new_orders=[_new_order("O1", [change])]))
    done = OrderRecord("O1", "sha256:lab", "completed", 1.0, 2.0)
    recorded = {"O1": [Recorded("1", "port_id", "PORT-7")]}
    broken: Any = [("not an event row",)]
    with pytest.raises(Exception):  # noqa: B017 - sqlite3's error for the bad row
        store.apply(WriteBatch(orders={"O1": done}, completed=["O1"], recorded=recorded,
                               events=broken))  # fmt: skip
    assert store.order("O1").state == "inProgress"  # type: ignore[union-attr]
    assert store.product("P1") is None
    store.close()
