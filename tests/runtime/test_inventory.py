"""The product inventory: recorded when an order completes, read back by the next modify."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from runtime_support import Recorder, compile_text

from om_dsl.errors import OrderValidationError
from om_dsl.ir import models as ir
from om_dsl.orders.decompose import decomposer_for
from om_dsl.orders.inventory import (
    InventoryProduct,
    ProductChange,
    apply_change,
    product_from_json,
    with_inventory,
)
from om_dsl.runtime import Runtime
from om_dsl.runtime.store.base import ProductFilter, Store
from om_dsl.runtime.store.memory import MemoryStore
from om_dsl.runtime.store.sqlite import SqliteStore

LAB = """
offer Internet "Internet" id "1" {
  attribute speed: int in 1..1000 default 100
  attribute site: string default "A"
}
offer Tv "TV" id "2" { attribute channels: int default 10 }
cfs Line {
  attribute bw: int
  attribute site: string
}
cfs TvSvc { attribute channels: int }
decompose Internet { -> Line { bw = speed; site = site } }
decompose Tv { -> TvSvc { channels = channels } }
plan Line on add {
  auto install handler "install"
  wait go event "go" after install
}
plan Line on modify {
  auto change_speed handler "speed" when changed(line.bw)
  auto move handler "move" when changed(line.site)
}
plan Line on delete { auto cease handler "cease" }
plan TvSvc on add, modify, delete { auto tv handler "tv" }
"""
HANDLERS = ["install", "speed", "move", "cease", "tv"]


@pytest.fixture(scope="module")
def lab() -> ir.Catalog:
    return compile_text(LAB)


def tmf(
    oid: str, action: str, pid: str, speed: int = 100, site: str = "A", offer: str = "1"
) -> dict[str, Any]:
    characteristic = [{"name": "speed", "value": speed}, {"name": "site", "value": site}]
    if offer == "2":
        characteristic = [{"name": "channels", "value": speed}]
    return {
        "id": oid,
        "billingAccount": {"id": "ACC-1"},
        "relatedParty": [{"id": "CUST-1", "role": "Customer"}],
        "productOrderItem": [
            {
                "id": "1",
                "action": action,
                "productOffering": {"id": offer},
                "product": {"id": pid, "productCharacteristic": characteristic},
            }
        ],
    }


def runtime_of(lab: ir.Catalog, store: Store) -> Runtime:
    return Runtime(lab, store=store, handlers=Recorder().registry(HANDLERS))


def done(runtime: Runtime, order: Any, signal: bool = True) -> str:
    order_id = runtime.submit(order)
    runtime.run_until_idle()
    if signal and runtime.status(order_id).state == "pending":
        runtime.signal("go", order_id=order_id)
        runtime.run_until_idle()
    return order_id


def test_a_product_is_recorded_when_its_order_completes_not_before(
    lab: ir.Catalog, store: Store
) -> None:
    runtime = runtime_of(lab, store)
    done(runtime, tmf("O1", "add", "P1", speed=300), signal=False)
    assert runtime.status("O1").state == "pending"
    assert store.product("P1") is None and store.count_products() == 0
    runtime.signal("go", order_id="O1")
    runtime.run_until_idle()
    product = store.product("P1")
    assert product is not None
    assert (product.status, product.offering, product.offering_id, product.name) == (
        "active", "Internet", "1", "Internet",
    )  # fmt: skip
    assert product.attributes == {"speed": 300, "site": "A"}
    assert (product.account, product.customer) == ("ACC-1", "CUST-1")
    assert product.start_date is not None and product.termination_date is None
    assert [(r.order_id, r.item_id, r.action) for r in product.order_items] == [("O1", "1", "add")]


def test_a_modify_then_a_delete_add_order_items_and_terminate(
    lab: ir.Catalog, store: Store
) -> None:
    runtime = runtime_of(lab, store)
    done(runtime, tmf("O1", "add", "P1"))
    done(runtime, tmf("O2", "modify", "P1", speed=500))
    modified = store.product("P1")
    assert modified is not None and modified.attributes["speed"] == 500
    assert [r.order_id for r in modified.order_items] == ["O1", "O2"]
    done(runtime, tmf("O3", "delete", "P1", speed=500))
    gone = store.product("P1")
    assert gone is not None and gone.status == "terminated"
    assert gone.termination_date is not None and gone.start_date == modified.start_date
    assert [r.action for r in gone.order_items] == ["add", "modify", "delete"]


def test_a_cancelled_order_records_nothing(lab: ir.Catalog, store: Store) -> None:
    runtime = runtime_of(lab, store)
    done(runtime, tmf("O1", "add", "P1"), signal=False)
    runtime.cancel("O1")
    runtime.run_until_idle()
    assert runtime.status("O1").state == "cancelled"
    assert store.product("P1") is None and store.products() == []


def test_a_native_order_records_nothing(lab: ir.Catalog, store: Store) -> None:
    runtime = runtime_of(lab, store)
    done(runtime, {"id": "N1", "items": [{"id": "1", "product": "Internet"}]})
    assert runtime.status("N1").state == "completed" and store.count_products() == 0


def test_products_are_listed_and_filtered(lab: ir.Catalog, store: Store) -> None:
    runtime = runtime_of(lab, store)
    done(runtime, tmf("O1", "add", "P1"))
    done(runtime, tmf("O2", "add", "P2", speed=20, offer="2"))
    done(runtime, tmf("O3", "delete", "P1"))
    assert [p.id for p in store.products()] == ["P1", "P2"]
    assert [p.id for p in store.products(ProductFilter(status="active"))] == ["P2"]
    either = ProductFilter(status=frozenset({"active", "terminated"}))
    assert [p.id for p in store.products(either)] == ["P1", "P2"]
    assert store.count_products(ProductFilter(status=frozenset({"terminated"}))) == 1
    assert [p.id for p in store.products(ProductFilter(offering_id="1"))] == ["P1"]
    assert store.count_products(ProductFilter(account="ACC-1", customer="CUST-1")) == 2
    assert [p.id for p in store.products(offset=1, limit=1)] == ["P2"]
    assert store.products(ProductFilter(id="nope")) == []


# ---- modify reads the values before from the inventory -------------------------------------


def test_a_speed_upgrade_changes_the_speed_and_does_not_move_the_line(
    lab: ir.Catalog, store: Store
) -> None:
    runtime = runtime_of(lab, store)
    done(runtime, tmf("O1", "add", "P1", speed=100, site="A"))
    plan = runtime.plan(tmf("O2", "modify", "P1", speed=500, site="A"))
    line = plan.line("1/Line")
    assert (line.action, line.changed, line.previous) == ("modify", ("bw",), {"bw": 100})
    skipped = {item.name for item in plan.items if item.initial == "skipped"}
    assert skipped == {"move"}


def test_a_modify_that_changes_nothing_is_no_change(lab: ir.Catalog, store: Store) -> None:
    runtime = runtime_of(lab, store)
    done(runtime, tmf("O1", "add", "P1", speed=100))
    assert runtime.plan(tmf("O2", "modify", "P1", speed=100)).line("1/Line").action == "noChange"


def partial(oid: str, pid: str, **values: Any) -> dict[str, Any]:
    """A TMF modify that says only some characteristics, as CRMs send them."""
    order = tmf(oid, "modify", pid)
    chars = [{"name": name, "value": value} for name, value in values.items()]
    order["productOrderItem"][0]["product"]["productCharacteristic"] = chars
    return order


def test_a_partial_modify_keeps_the_recorded_values_it_does_not_say(
    lab: ir.Catalog, store: Store
) -> None:
    """The order reader fills in defaults: a modify of the speed only must not move the line
    back to the default site (nor record it there)."""
    runtime = runtime_of(lab, store)
    done(runtime, tmf("O1", "add", "P1", speed=100, site="B"))
    plan = runtime.plan(partial("O2", "P1", speed=700))
    line = plan.line("1/Line")
    assert (line.action, line.changed, line.previous) == ("modify", ("bw",), {"bw": 100})
    assert line.attributes == {"bw": 700, "site": "B"}
    assert {item.name for item in plan.items if item.initial == "skipped"} == {"move"}
    done(runtime, partial("O2", "P1", speed=700))
    done(runtime, partial("O3", "P1", site="C", speed=None))  # null: not given either
    product = store.product("P1")
    assert product is not None and product.attributes == {"speed": 700, "site": "C"}


def test_a_partial_modify_of_an_unknown_product_records_the_defaults(
    lab: ir.Catalog, store: Store
) -> None:
    runtime = runtime_of(lab, store)
    line = runtime.plan(partial("O1", "P-OLD", speed=500)).line("1/Line")
    assert (line.action, line.attributes) == ("modify", {"bw": 500, "site": "A"})
    done(runtime, partial("O1", "P-OLD", speed=500))
    product = store.product("P-OLD")
    assert product is not None and product.attributes == {"speed": 500, "site": "A"}


def test_the_readers_say_which_values_of_a_modify_are_defaults(lab: ir.Catalog) -> None:
    """The quick reader (JSON text) and the thorough one (an order with an issue on the way)
    agree; items other than modify pay nothing."""
    decomposer = decomposer_for(lab)
    order = partial("O1", "P1", speed=500)
    assert decomposer.read(order).items[0].defaulted == ("site",)
    native = {"id": "N", "items": [{"id": "1", "action": "modify", "product": "Internet",
                                    "attributes": {"site": "B", "speed": None}}]}  # fmt: skip
    assert decomposer.read(json.dumps(native)).items[0].defaulted == ("speed",)
    assert decomposer.read(native).items[0].defaulted == ("speed",)
    assert decomposer.read(tmf("O2", "add", "P1")).items[0].defaulted == ()


def test_a_no_change_by_product_id_alone_carries_the_recorded_values(
    lab: ir.Catalog, store: Store
) -> None:
    """A bundle modify's untouched part comes as a noChange with no characteristics: its
    context lines had the catalog's defaults (speed 100, site A), not what is installed, and
    an attribute without a default (a recorded port) was missing from them."""
    runtime = runtime_of(lab, store)
    done(runtime, tmf("O1", "add", "P1", speed=300, site="B"))
    order = tmf("O2", "noChange", "P1")
    order["productOrderItem"][0]["product"]["productCharacteristic"] = []
    decomposer = decomposer_for(lab)
    assert decomposer.read(order).items[0].defaulted == ("speed", "site")
    lines = decomposer.decompose(order, inventory=store).lines()
    assert [(line.action, line.attributes) for line in lines] == [
        ("noChange", {"bw": 300, "site": "B"})
    ]
    told = tmf("O3", "noChange", "P1", speed=300, site="B")  # values given are kept as given
    assert decomposer.decompose(told, inventory=store).lines()[0].attributes == {
        "bw": 300, "site": "B",
    }  # fmt: skip


SITE_LAB = 'order { attribute site_id: string default "S1" }\n' + LAB.replace(
    "site = site }", "site = order.site_id }"
)
"""The lab with the site an order-level attribute, as the example catalog has it."""


def at_site(order: dict[str, Any], site: str | None) -> dict[str, Any]:
    """``order`` at this site (``characteristic`` of the order), or at none (an order
    recorded before the order's attributes were)."""
    if site is not None:
        order["characteristic"] = [{"name": "site_id", "value": site}]
    return order


def test_a_modify_at_another_site_is_a_move(store: Store) -> None:
    """Both worlds read the order's own attributes: with the inventory, a modify at a new
    site used to change nothing and complete with no work (the CRM's ORD-M3)."""
    runtime = runtime_of(compile_text(SITE_LAB), store)
    done(runtime, at_site(tmf("O1", "add", "P1", speed=500), "S1"))
    recorded = store.product("P1")
    assert recorded is not None and recorded.order_attributes == {"site_id": "S1"}
    moved = runtime.plan(at_site(partial("O2", "P1", speed=500), "S2")).line("1/Line")
    assert (moved.action, set(moved.changed)) == ("modify", {"bw", "site"})
    assert moved.attributes == {"bw": 500, "site": "S2"}  # a partial modify keeps the speed
    done(runtime, at_site(partial("O2", "P1", speed=500), "S2"))
    after = store.product("P1")
    assert after is not None and after.order_attributes == {"site_id": "S2"}
    same = runtime.plan(at_site(partial("O3", "P1", speed=500), "S2")).line("1/Line")
    assert same.action == "noChange"


def test_a_product_recorded_without_order_attributes_is_compared_as_before(
    store: Store,
) -> None:
    runtime = runtime_of(compile_text(SITE_LAB), store)
    found = apply_change(None, _change("add", 500, 1), "O1", 1.0)
    assert found.order_attributes is None
    assert product_from_json({k: v for k, v in found.to_json().items()
                              if k != "order_attributes"}) == found  # fmt: skip
    inventory = _Fixed(found)
    order = decomposer_for(runtime.catalog).read(at_site(partial("O2", "P1", speed=700), "S2"))
    assert with_inventory(order, inventory).items[0].previous == {"speed": 500}


class _Fixed:
    """An inventory of one product."""

    def __init__(self, product: InventoryProduct) -> None:
        self.found = product

    def product(self, product_id: str) -> InventoryProduct | None:
        return self.found if product_id == self.found.id else None


def test_an_unknown_product_id_keeps_every_attribute_changed(lab: ir.Catalog, store: Store) -> None:
    runtime = runtime_of(lab, store)
    line = runtime.plan(tmf("O2", "modify", "P-OLD", speed=500)).line("1/Line")
    assert (line.action, set(line.changed)) == ("modify", {"bw", "site"})


def test_a_modify_of_a_terminated_product_is_o072(lab: ir.Catalog, store: Store) -> None:
    runtime = runtime_of(lab, store)
    done(runtime, tmf("O1", "add", "P1"))
    done(runtime, tmf("O2", "delete", "P1"))
    with pytest.raises(OrderValidationError) as caught:
        runtime.plan(tmf("O3", "modify", "P1", speed=500))
    [issue] = caught.value.issues
    assert (issue.code, issue.path) == ("O072", "productOrderItem[0].product.id")
    assert "terminated (by order O2)" in issue.message


def test_a_modify_under_another_offer_is_o073(lab: ir.Catalog, store: Store) -> None:
    runtime = runtime_of(lab, store)
    done(runtime, tmf("O1", "add", "P1"))
    with pytest.raises(OrderValidationError) as caught:
        runtime.submit(tmf("O2", "modify", "P1", speed=5, offer="2"))
    [issue] = caught.value.issues
    assert (issue.code, issue.path) == ("O073", "productOrderItem[0].product.id")
    assert not runtime.has_order("O2")


@pytest.mark.parametrize(("action", "code"), [("noChange", "O072"), ("noChange", "O073")])
def test_a_no_change_must_fit_its_product_too(
    lab: ir.Catalog, store: Store, action: str, code: str
) -> None:
    """A noChange of a terminated product made it active again (the CRM's t7)."""
    runtime = runtime_of(lab, store)
    done(runtime, tmf("O1", "add", "P1"))
    if code == "O072":
        done(runtime, tmf("O2", "delete", "P1"))
    with pytest.raises(OrderValidationError) as caught:
        runtime.submit(tmf("O3", action, "P1", offer="2" if code == "O073" else "1"))
    assert [(i.code, i.path) for i in caught.value.issues] == [
        (code, "productOrderItem[0].product.id")
    ]
    assert code != "O072" or "cannot be kept (noChange)" in caught.value.issues[0].message


def test_a_no_change_records_its_order_item_and_changes_nothing_else(
    lab: ir.Catalog, store: Store
) -> None:
    """A noChange sent with other values (and, before O076, under another account and
    customer) rewrote the record."""
    runtime = runtime_of(lab, store)
    done(runtime, tmf("O1", "add", "P1", speed=300, site="B"))
    before = store.product("P1")
    other = tmf("O2", "noChange", "P1", speed=5, site="Z")
    done(runtime, other)
    after = store.product("P1")
    assert before is not None and after is not None
    assert [(r.order_id, r.action) for r in after.order_items] == [
        ("O1", "add"), ("O2", "noChange"),
    ]  # fmt: skip
    assert dataclasses.replace(after, order_items=before.order_items) == before


@pytest.mark.parametrize("deleted", [False, True])
def test_an_add_of_a_product_the_inventory_has_is_o074(
    lab: ir.Catalog, store: Store, deleted: bool
) -> None:
    """A CRM's retry with an edited description and a fresh Idempotency-Key installed the
    product twice (a second billing subscription) and overwrote its record."""
    runtime = runtime_of(lab, store)
    done(runtime, tmf("O1", "add", "P1", speed=300))
    if deleted:
        done(runtime, tmf("O2", "delete", "P1"))
    recorded = store.product("P1")
    with pytest.raises(OrderValidationError) as caught:
        runtime.submit(tmf("O3", "add", "P1", speed=500))
    [issue] = caught.value.issues
    assert (issue.code, issue.path) == ("O074", "productOrderItem[0].product.id")
    if deleted:
        assert "was terminated by order O2: a new product needs a new id" in issue.message
    else:
        assert "already in the inventory (active since 20" in issue.message
        assert "added by order O1): modify it, or give a new product a new id" in issue.message
    assert not runtime.has_order("O3") and store.product("P1") == recorded
    done(runtime, tmf("O4", "add", "P2"))  # a new id is fine


def owned_by(order: dict[str, Any], account: str | None, customer: str | None) -> dict[str, Any]:
    """``order`` under this billing account and customer (None: the order names none)."""
    order.pop("billingAccount")
    order.pop("relatedParty")
    if account is not None:
        order["billingAccount"] = {"id": account}
    if customer is not None:
        order["relatedParty"] = [{"id": customer, "role": "Customer"}]
    return order


@pytest.mark.parametrize("action", ["modify", "delete", "noChange"])
@pytest.mark.parametrize(
    ("account", "customer", "named"),
    [
        ("ACC-9", "CUST-1", "billing account 'ACC-1' in the inventory, but the order is for "
                            "billing account 'ACC-9':"),
        ("ACC-1", "CUST-9", "customer 'CUST-1' in the inventory, but the order is for "
                            "customer 'CUST-9':"),
        ("ACC-9", "CUST-9", "billing account 'ACC-1' and customer 'CUST-1' in the inventory, "
                            "but the order is for billing account 'ACC-9' and customer 'CUST-9':"),
    ],
    ids=["account", "customer", "both"],
)  # fmt: skip
def test_an_order_under_another_owner_is_o076_and_stores_nothing(
    lab: ir.Catalog, store: Store, action: str, account: str, customer: str, named: str
) -> None:
    """A modify under another billing account or customer moved the product to that
    customer unchecked (and a delete or noChange read its recorded values into their
    order)."""
    runtime = runtime_of(lab, store)
    done(runtime, tmf("O1", "add", "P1", speed=300))
    recorded = store.product("P1")
    with pytest.raises(OrderValidationError) as caught:
        runtime.submit(owned_by(tmf("O2", action, "P1", speed=500), account, customer))
    [issue] = caught.value.issues
    assert (issue.code, issue.path) == ("O076", "productOrderItem[0].product.id")
    assert issue.message.startswith(f"product 'P1' belongs to {named} name a product of the ")
    assert "300" not in issue.message and "Internet" not in issue.message  # ids only
    assert not runtime.has_order("O2") and store.product("P1") == recorded
    assert sum(store.count_orders().values()) == 1


def test_an_item_account_is_compared_before_the_orders(lab: ir.Catalog, store: Store) -> None:
    """The product records the item's account (else the order's): so is it compared."""
    runtime = runtime_of(lab, store)
    done(runtime, tmf("O1", "add", "P1"))
    other = tmf("O2", "modify", "P1", speed=500)
    other["productOrderItem"][0]["billingAccount"] = {"id": "ACC-9"}
    with pytest.raises(OrderValidationError) as caught:
        runtime.submit(other)
    assert [i.code for i in caught.value.issues] == ["O076"]
    same = owned_by(tmf("O3", "modify", "P1", speed=500), "ACC-9", "CUST-1")
    same["productOrderItem"][0]["billingAccount"] = {"id": "ACC-1"}
    done(runtime, same)  # the item's own account is the product's


def test_an_order_that_names_no_owner_keeps_the_recorded_one(lab: ir.Catalog, store: Store) -> None:
    """A modify without billingAccount or customer is not compared on them, and does not
    blank them: a blank one would let the next order under any account through O076."""
    runtime = runtime_of(lab, store)
    done(runtime, tmf("O1", "add", "P1"))
    done(runtime, owned_by(tmf("O2", "modify", "P1", speed=500), None, None))
    product = store.product("P1")
    assert product is not None and (product.account, product.customer) == ("ACC-1", "CUST-1")
    assert product.attributes["speed"] == 500
    with pytest.raises(OrderValidationError) as caught:
        runtime.submit(owned_by(tmf("O3", "modify", "P1", speed=700), "ACC-9", "CUST-9"))
    assert [i.code for i in caught.value.issues] == ["O076"]


def test_a_product_recorded_without_an_owner_takes_the_orders(
    lab: ir.Catalog, store: Store
) -> None:
    runtime = runtime_of(lab, store)
    done(runtime, owned_by(tmf("O1", "add", "P1"), None, None))
    done(runtime, tmf("O2", "modify", "P1", speed=500))
    product = store.product("P1")
    assert product is not None and (product.account, product.customer) == ("ACC-1", "CUST-1")


def test_a_second_order_for_a_product_in_flight_is_o075(lab: ir.Catalog, store: Store) -> None:
    """Two orders in flight for one product: the second compared with a stale record, and
    its change was lost when the first completed (the CRM's t11)."""
    runtime = runtime_of(lab, store)
    done(runtime, tmf("O1", "add", "P1", speed=100), signal=False)
    assert runtime.status("O1").state == "pending"
    with pytest.raises(OrderValidationError) as caught:
        runtime.submit(tmf("O2", "modify", "P1", speed=500))
    [issue] = caught.value.issues
    assert (issue.code, issue.path) == ("O075", "productOrderItem[0].product.id")
    assert issue.message == (
        "product 'P1' is being changed by order O1 (pending): wait for it to complete, or "
        "amend that order"
    )
    assert not runtime.has_order("O2")
    runtime.amend("O1", tmf("O1", "add", "P1", speed=300))  # its own product: no O075
    runtime.signal("go", order_id="O1")
    runtime.run_until_idle()
    done(runtime, tmf("O2", "modify", "P1", speed=500))
    product = store.product("P1")
    assert product is not None and product.attributes["speed"] == 500


def test_orders_submitted_at_once_for_one_product_cannot_both_pass(
    lab: ir.Catalog, tmp_path: Path
) -> None:
    """The check is made in the transaction that writes the order: two runtimes of one store
    (two processes, say) that submit at the same moment do not both see no order in flight."""
    path = tmp_path / "om.db"
    runtimes = [runtime_of(lab, SqliteStore(path)) for _ in range(4)]
    start = threading.Barrier(len(runtimes))
    outcomes: list[str] = []

    def submit(n: int) -> None:
        start.wait()
        try:
            runtimes[n].submit(tmf(f"O{n}", "add", "P1"))
            outcomes.append("stored")
        except OrderValidationError as exc:
            outcomes.append(exc.issues[0].code)

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(len(runtimes))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for runtime in runtimes:
        runtime.close()
    assert sorted(outcomes) == ["O075"] * (len(runtimes) - 1) + ["stored"]


def test_previous_values_the_order_gives_win(lab: ir.Catalog, store: Store) -> None:
    runtime = runtime_of(lab, store)
    done(runtime, tmf("O1", "add", "P1", speed=100, site="A"))
    order = decomposer_for(lab).read(tmf("O2", "modify", "P1", speed=100, site="B"))
    assert with_inventory(order, store).items[0].previous == {"speed": 100, "site": "A"}
    given = order.items[0].model_copy(update={"previous": {"site": "C"}})
    own = order.model_copy(update={"items": [given]})
    assert with_inventory(own, store) is own


# ---- the SQLite tables ---------------------------------------------------------------------


def test_an_older_store_gets_the_inventory_tables_and_keeps_its_own(tmp_path: Path) -> None:
    path = tmp_path / "om.db"
    SqliteStore(path).close()
    with sqlite3.connect(path) as db:
        db.execute("DROP TABLE products")
        db.execute("DROP TABLE order_products")
    read = SqliteStore(path, read_only=True)
    assert read.products() == [] and read.product("P1") is None and read.count_products() == 0
    read.close()
    SqliteStore(path).close()
    with sqlite3.connect(path) as db:
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master")}
    assert {"products", "order_products", "orders", "items"} <= tables


def test_recording_is_kept_across_a_restart(lab: ir.Catalog, tmp_path: Path) -> None:
    path = tmp_path / "om.db"
    with runtime_of(lab, SqliteStore(path)) as runtime:
        done(runtime, tmf("O1", "add", "P1"), signal=False)
    with runtime_of(lab, SqliteStore(path)) as runtime:
        runtime.signal("go", order_id="O1")
        runtime.run_until_idle()
        product = runtime.store.product("P1")
    assert product is not None and product.status == "active"


# ---- properties ------------------------------------------------------------------------------

ACTIONS = st.sampled_from(["add", "modify", "delete", "noChange"])
CHANGES = st.lists(st.tuples(ACTIONS, st.integers(1, 1000)), min_size=1, max_size=6)


def _change(action: str, speed: int, n: int) -> ProductChange:
    return ProductChange("P1", str(n), action, "Internet", "1", "Internet", {"speed": speed})


@settings(max_examples=60, deadline=None)
@given(CHANGES)
def test_recording_is_idempotent_and_survives_a_store_row(changes: list[tuple[str, int]]) -> None:
    product = None
    for n, (action, speed) in enumerate(changes):
        change = _change(action, speed, n)
        once = apply_change(product, change, f"O{n}", float(n))
        assert apply_change(once, change, f"O{n}", float(n)) == once
        assert product_from_json(once.to_json()) == once
        product = once
    assert product is not None and len(product.order_items) == len(changes)
    said = [action for action, _ in changes if action != "noChange"]  # noChange keeps it
    assert product.status == ("terminated" if said[-1:] == ["delete"] else "active")


def test_a_hosts_own_store_without_an_inventory_still_plans_modify_orders(
    lab: ir.Catalog,
) -> None:
    """A store written by a host before the inventory existed has no ``product``: its
    runtime has no inventory, and a modify lists every attribute as changed, as before."""

    class OldStore:
        def __getattr__(self, name: str) -> object:
            if name in ("product", "products", "count_products"):
                raise AttributeError(name)
            return getattr(self._inner, name)

        def __init__(self) -> None:
            self._inner = MemoryStore()

    runtime = runtime_of(lab, OldStore())  # type: ignore[arg-type]
    assert runtime.inventory is None
    done(runtime, tmf("O1", "add", "P1", speed=100, site="A"))
    line = runtime.plan(tmf("O2", "modify", "P1", speed=500, site="A")).line("1/Line")
    assert (line.action, set(line.changed)) == ("modify", {"bw", "site"})


def test_a_store_hands_out_copies_of_its_products(lab: ir.Catalog, store: Store) -> None:
    """A host that edited a product it read changed a memory store's inventory itself."""
    runtime = runtime_of(lab, store)
    done(runtime, tmf("O1", "add", "P1", speed=300))
    read = store.product("P1")
    assert read is not None
    read.attributes["speed"] = 1
    store.products()[0].attributes["speed"] = 2
    again = store.product("P1")
    assert again is not None and again.attributes["speed"] == 300
