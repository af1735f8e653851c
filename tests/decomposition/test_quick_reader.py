"""The quick reader accepts only what the thorough reader accepts, with the same result.

The quick reader (``om_dsl/orders/quick.py``) never reports: it returns an order or None, and
on None the thorough reader runs.  So the one thing to check is that whenever it returns an
order, the thorough reader returns exactly the same one (same JSON, key order included), on
the goldens, on every bad order, and on random orders nudged into odd shapes.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from bad_orders import BAD_ORDERS, Bad
from decomposition_support import ACME, EXAMPLE_ORDERS, LAB, decomposer, golden_documents
from hypothesis import given, settings
from hypothesis import strategies as st
from test_decompose_properties import ACME_ORDERS, ACME_PRODUCTS, ACTIONS, LAB_ORDERS, items

from om_dsl.errors import OrderValidationError
from om_dsl.orders.catalog_index import CatalogIndex
from om_dsl.orders.jsondoc import load_document
from om_dsl.orders.limits import DEFAULT_LIMITS, Limits
from om_dsl.orders.parse import read_order
from om_dsl.orders.quick import read_quick


def _quick(catalog: Path, data: Any, limits: Limits = DEFAULT_LIMITS) -> str | None:
    """The quick reader's order as JSON, or None: behind the document checks that always run
    before it (``read_order`` -> ``load_document``), since it relies on them (a number that
    JSON cannot hold, in a field it skips, is theirs to find)."""
    try:
        data = load_document(data, limits)
    except OrderValidationError:
        return None  # the quick reader never sees it
    order = read_quick(data, decomposer(catalog, "compiled").index, limits)
    return None if order is None else order.model_dump_json()


def _thorough(catalog: Path, data: Any, limits: Limits = DEFAULT_LIMITS) -> str | None:
    """The thorough reader's order as JSON, or None when it finds the order invalid."""
    try:
        order = read_order(data, decomposer(catalog, "compiled").index, limits, quick=False)
    except OrderValidationError:
        return None
    return order.model_dump_json()


def _agree(catalog: Path, data: Any, limits: Limits = DEFAULT_LIMITS) -> str | None:
    quick = _quick(catalog, copy.deepcopy(data), limits)
    if quick is not None:
        assert quick == _thorough(catalog, copy.deepcopy(data), limits)
    return quick


GOLDENS = golden_documents()


@pytest.mark.parametrize(("name", "catalog", "data"), GOLDENS, ids=[g[0] for g in GOLDENS])
def test_goldens_read_the_same(name: str, catalog: Path, data: Any) -> None:
    _agree(catalog, data)


def test_the_quick_reader_takes_plain_orders() -> None:
    """It is not a reader that gives up on everything: plain native orders go through it."""
    taken = [name for name, catalog, data in GOLDENS if _agree(catalog, data) is not None]
    assert {"fibre-modify", "copper-delete", "voice-on-existing-fibre"} <= set(taken)


@pytest.mark.parametrize("bad", BAD_ORDERS, ids=lambda b: b.name)
def test_bad_orders_are_left_to_the_thorough_reader(bad: Bad) -> None:
    try:
        data = load_document(bad.raw)
    except OrderValidationError:
        return  # not even a document: the quick reader never sees it
    assert _quick(bad.catalog, data) is None


ODD_VALUES = st.sampled_from(
    [None, "", "x", 0, -1, 1, 2**60, 1.5, float("inf"), True, False, [], {}, ["x"], {"x": 1}]
)
ODD_WORDS = st.sampled_from(
    ["add", "modify", "delete", "noChange", "reliesOn", "bundles", "i0", "Gold", "Gadget"]
)
ODD = ODD_VALUES | ODD_WORDS


@st.composite
def nudged(draw: st.DrawFn, orders: st.SearchStrategy[dict[str, Any]]) -> dict[str, Any]:
    """A random order with a few values replaced, keys added or keys removed anywhere."""
    order = draw(orders)
    for _ in range(draw(st.integers(0, 3))):
        containers = list(_containers(order))
        target = draw(st.sampled_from(containers))
        if isinstance(target, dict):
            key = draw(st.sampled_from([*target, "extra", "previous", "children", "quantity"]))
            if draw(st.booleans()) and key in target:
                del target[key]
            else:
                target[key] = copy.deepcopy(draw(ODD))
        elif target:
            target[draw(st.integers(0, len(target) - 1))] = copy.deepcopy(draw(ODD))
    return order


def _containers(value: Any) -> Any:
    if isinstance(value, dict | list):
        yield value
        for child in value.values() if isinstance(value, dict) else value:
            yield from _containers(child)


@settings(max_examples=300)
@given(nudged(LAB_ORDERS))
def test_random_lab_orders_read_the_same(order: dict[str, Any]) -> None:
    _agree(LAB, order)


@settings(max_examples=200)
@given(nudged(ACME_ORDERS), st.integers(1, 3), st.integers(1, 6))
def test_random_acme_orders_read_the_same(
    order: dict[str, Any], max_quantity: int, max_units: int
) -> None:
    _agree(ACME, order, Limits(max_quantity=max_quantity, max_items=5, max_units=max_units))


# ---- TMF622 (om_dsl/orders/quick_tmf.py) ----------------------------------------------------


def _tmf_item(item: dict[str, Any], catalog: Path, style: int) -> dict[str, Any]:
    """A native item as a TMF622 item, naming its offer one of several ways."""
    offer = next(o for o in _catalog(catalog).offers if o.name == item["product"])
    refs: list[dict[str, Any]] = [
        {"productOffering": {"name": offer.name}},
        {"productOffering": {"id": offer.external_id, "name": offer.display_name or offer.name}},
        {"productOffering": {"id": offer.external_id}},
    ]
    out: dict[str, Any] = {"id": item["id"], "action": item.get("action", "add")}
    out.update(refs[style % len(refs)] if offer.external_id else refs[0])
    chars = [{"name": k, "value": v} for k, v in item.get("attributes", {}).items()]
    out["product"] = {"productCharacteristic": chars, "@type": "Product"}
    if "quantity" in item:
        out["quantity"] = item["quantity"]
    if "account" in item:
        out["billingAccount"] = {"id": item["account"]}
    links = item.get("relationships", [])
    if links:
        out["productOrderItemRelationship"] = [
            {"id": link["id"], "relationshipType": link["type"]} for link in links
        ]
    if item.get("children"):
        out["productOrderItem"] = [_tmf_item(i, catalog, style) for i in item["children"]]
    out["state"] = "acknowledged"  # a field the reader ignores
    return out


def _catalog(path: Path) -> Any:
    return decomposer(path, "compiled").catalog


@st.composite
def tmf_orders(draw: st.DrawFn, orders: st.SearchStrategy[dict[str, Any]], catalog: Path) -> Any:
    native = draw(orders)
    flat = [i for i in native["items"] if "previous" not in i]
    style = draw(st.integers(0, 2))
    order: dict[str, Any] = {
        "@type": "ProductOrder",
        "externalId": "X-1",
        "productOrderItem": [_tmf_item(i, catalog, style + n) for n, i in enumerate(flat)],
        "characteristic": [{"name": k, "value": v} for k, v in native["attributes"].items()],
        "relatedParty": [{"id": "C-1", "role": "Customer", "@referredType": "Individual"}],
    }
    if draw(st.booleans()):
        order["id"] = "T-1"
    if draw(st.booleans()):
        order["billingAccount"] = {"id": "A0"}
    return order


def _taken(catalog: Path, data: Any) -> bool:
    return _agree(catalog, data) is not None


@settings(max_examples=200)
@given(nudged(tmf_orders(ACME_ORDERS, ACME)))
def test_random_tmf622_orders_read_the_same(order: dict[str, Any]) -> None:
    if order.get("productOrderItem"):
        _agree(ACME, order)


@settings(max_examples=100)
@given(nudged(tmf_orders(LAB_ORDERS, LAB)))
def test_random_tmf622_lab_orders_read_the_same(order: dict[str, Any]) -> None:
    if order.get("productOrderItem"):
        _agree(LAB, order)


@settings(max_examples=50)
@given(tmf_orders(ACME_ORDERS, ACME))
def test_plain_tmf622_orders_go_through_the_quick_reader(order: dict[str, Any]) -> None:
    """Not a reader that gives up on everything: a plain flat TMF622 order whose items name
    one offer each is read by it (when the thorough reader accepts the order at all)."""
    if order["productOrderItem"] and _thorough(ACME, copy.deepcopy(order)) is not None:
        assert _taken(ACME, order)


def test_the_tmf622_sample_goes_through_the_quick_reader() -> None:
    """The sample's shape (a bundle naming its parts by ``bundles`` relationships) is read by
    the quick reader, as the thorough reader reads it."""
    sample = json.loads((EXAMPLE_ORDERS / "tmf622-product-order.json").read_text())
    assert _agree(ACME, sample) is not None


def test_tmf622_orders_it_leaves_to_the_thorough_reader() -> None:
    """Unknown, ambiguous or disagreeing references, odd parties: None, and the thorough
    reader decides."""
    plain = {"productOrderItem": [{"id": "1", "action": "add", "productOffering": {"id": "x"}}]}
    assert _quick(ACME, plain) is None  # no such offer
    aliased = {
        "productOrderItem": [
            {"id": "1", "action": "add", "productOffering": {"name": "TariffPlan"}}
        ],
        "relatedParty": [{"id": "C", "referred_type": "Customer"}],
    }
    assert _quick(ACME, aliased) is None  # a party field given by its Python name


# ---- bundles (om_dsl/orders/quick_bundles.py) ----------------------------------------------

BUNDLES = {
    "HomeDuo": ["HomeFibre", "HomeVoice"],
    "HomeTrio": ["HomeFibre", "HomeCopper", "HomeVoice", "HomeTv"],
}
"""Bundles of the example catalog whose parts the strategies draw values for, with their
parts (a draw may also pick a product the bundle does not include: O061)."""


@st.composite
def bundle_orders(draw: st.DrawFn) -> dict[str, Any]:
    """ACME orders with bundles: parts nested in ``children`` or named by ``bundles`` links
    (before or after the bundle), any actions, quantities and cardinalities; most are valid,
    some break one bundle rule or another."""
    loose = draw(items(ACME_PRODUCTS))
    order_items: list[dict[str, Any]] = []
    for b in range(draw(st.integers(1, 3))):
        bundle = draw(st.sampled_from(sorted(BUNDLES)))
        action = draw(st.sampled_from(ACTIONS))
        head: dict[str, Any] = {"id": f"b{b}", "product": bundle, "action": action}
        if draw(st.integers(0, 4)) == 0:
            head["quantity"] = 2
        products = BUNDLES[bundle] + (["TariffPlan"] if draw(st.integers(0, 5)) == 0 else [])
        parts = []
        for n in range(draw(st.integers(0, 4))):
            product = draw(st.sampled_from(products))
            same = draw(st.integers(0, 4)) > 0
            part = {
                "id": f"b{b}.p{n}",
                "product": product,
                "action": action if same else draw(st.sampled_from(ACTIONS)),
                "attributes": draw(ACME_PRODUCTS[product]),
            }
            if draw(st.integers(0, 3)) == 0:
                part["quantity"] = draw(st.integers(1, 3))
            parts.append(part)
        if draw(st.booleans()):
            head["children"] = parts
            order_items.append(head)
        else:
            head["relationships"] = [{"type": "bundles", "id": p["id"]} for p in parts]
            order_items.extend([*parts, head] if draw(st.booleans()) else [head, *parts])
    return {
        "id": "P",
        "account": "A0",
        "attributes": {"site_id": "S-1"},
        "items": loose + order_items,
    }


@settings(max_examples=300)
@given(nudged(bundle_orders()))
def test_random_bundle_orders_read_the_same(order: dict[str, Any]) -> None:
    _agree(ACME, order)


@settings(max_examples=150)
@given(bundle_orders())
def test_valid_bundle_orders_go_through_the_quick_reader(order: dict[str, Any]) -> None:
    """Not a reader that gives up on bundles: every bundle order the thorough reader accepts
    (nested parts or ``bundles`` links) it reads too."""
    if _thorough(ACME, copy.deepcopy(order)) is not None:
        assert _taken(ACME, order)


@settings(max_examples=200)
@given(nudged(tmf_orders(bundle_orders(), ACME)))
def test_random_tmf622_bundle_orders_read_the_same(order: dict[str, Any]) -> None:
    if order.get("productOrderItem"):
        _agree(ACME, order)


@settings(max_examples=100)
@given(tmf_orders(bundle_orders(), ACME))
def test_valid_tmf622_bundle_orders_go_through_the_quick_reader(order: dict[str, Any]) -> None:
    if order["productOrderItem"] and _thorough(ACME, copy.deepcopy(order)) is not None:
        assert _taken(ACME, order)


def _bundle(item_id: str, product: str, *links: str) -> dict[str, Any]:
    return {
        "id": item_id,
        "product": product,
        "relationships": [{"type": "bundles", "id": link} for link in links],
    }


def _odd(code: str, index: CatalogIndex, order_items: list[dict[str, Any]]) -> None:
    """The quick reader gives up on the order and the thorough reader reports ``code``, and
    nothing else (so nothing else made the quick reader give up)."""
    order = {"id": "P", "items": order_items}
    assert read_quick(copy.deepcopy(order), index, DEFAULT_LIMITS) is None
    with pytest.raises(OrderValidationError) as raised:
        read_order(order, index, quick=False)
    assert {issue.code for issue in raised.value.issues} == {code}


def test_a_part_of_two_bundles_is_left_to_the_thorough_reader() -> None:
    """Each bundle would be complete with the shared part or without it (O053)."""
    tv, fibre = {"id": "t1", "product": "HomeTv"}, {"id": "f", "product": "HomeFibre"}
    order_items = [
        _bundle("a", "HomeTrio", "t1", "f"),
        _bundle("b", "HomeTrio", "t2", "f"),
        tv,
        {**tv, "id": "t2"},
        fibre,
    ]
    _odd("O053", decomposer(ACME, "compiled").index, order_items)


def _kit_with(product: str, low: int, high: int) -> CatalogIndex:
    """The lab catalog's IR with one more include in the Kit: ones the compiler refuses (a
    Kit that includes Kits: E096; Gadget included twice: E024).  The IR loader refuses the
    first too, but a host may build a Catalog in Python, and the readers must hold anyway."""
    catalog = decomposer(LAB, "compiled").catalog
    kit = next(o for o in catalog.offers if o.name == "Kit")
    more = kit.includes[0].model_copy(update={"product": product, "min": low, "max": high})
    offers = [
        o.model_copy(update={"includes": [*o.includes, more]}) if o is kit else o
        for o in catalog.offers
    ]
    return CatalogIndex.build(catalog.model_copy(update={"offers": offers}))


def _self_including_kit() -> CatalogIndex:
    return _kit_with("Kit", 0, 1)


@pytest.mark.parametrize("gadgets", [0, 3])
def test_a_product_included_twice_keeps_both_bounds(gadgets: int) -> None:
    """Gadget [1..2] then Gadget [0..3]: no gadget, or three, pass the second and break the
    first."""
    parts = [{"id": f"g{n}", "product": "Gadget"} for n in range(gadgets)]
    parts.append({"id": "w", "product": "Widget", "attributes": {"code": "a"}})
    _odd("O062", _kit_with("Gadget", 0, 3), [{"id": "k", "product": "Kit", "children": parts}])


@pytest.mark.parametrize(
    ("code", "order_items"),
    [
        ("O052", [_bundle("k", "Kit", "g", "k"), {"id": "g", "product": "Gadget"}]),
        (
            "O054",
            [
                _bundle("k", "Kit", "g", "l"),
                _bundle("l", "Kit", "h", "k"),
                {"id": "g", "product": "Gadget"},
                {"id": "h", "product": "Gadget"},
            ],
        ),
    ],
    ids=["itself", "each-other"],
)
def test_bundles_of_themselves_are_left_to_the_thorough_reader(
    code: str, order_items: list[dict[str, Any]]
) -> None:
    _odd(code, _self_including_kit(), order_items)


def test_a_link_to_a_missing_item_is_left_to_the_thorough_reader() -> None:
    order_items = [_bundle("d", "HomeDuo", "f", "gone"), {"id": "f", "product": "HomeFibre"}]
    _odd("O051", decomposer(ACME, "compiled").index, order_items)


ODD_LEAVES = [None, "", "x", 0, -1, 2**60, 1.5, True, [], {}, ["x"], {"x": 1}, "bundles", "i0"]


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> Any:
    """The path of every value inside ``value`` (containers included, the root excepted)."""
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for k, child in items:
        yield (*path, k)
        if isinstance(child, dict | list):
            yield from _leaves(child, (*path, k))


def _replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    out = copy.deepcopy(value)
    target = out
    for k in path[:-1]:
        target = target[k]
    target[path[-1]] = copy.deepcopy(new)
    return out


@pytest.mark.parametrize(("name", "catalog", "data"), GOLDENS, ids=[g[0] for g in GOLDENS])
def test_any_one_value_of_a_golden_replaced_reads_the_same(
    name: str, catalog: Path, data: Any
) -> None:
    """Every value of every golden order, one at a time, replaced by each odd value: the quick
    reader never raises (a type it did not expect is a doubt, not a crash) and agrees with the
    thorough reader whenever it accepts.  Random nudges seldom reach a deep field."""
    for path in _leaves(data):
        for odd in ODD_LEAVES:
            _agree(catalog, _replaced(data, path, odd))


def test_a_bundle_deleted_alone_is_refused_by_both_readers() -> None:
    """A CRM's cease of a bundle by its product id alone made no work at all: the order
    completed at once with nothing ceased.  It must list the parts it deletes (O062)."""
    index = decomposer(LAB, "compiled").index
    _odd("O062", index, [{"id": "k", "product": "Kit", "action": "delete"}])
    gadget = {"id": "g", "product": "Gadget", "action": "delete"}
    two = {"id": "k", "product": "Kit", "action": "delete", "quantity": 2, "children": [gadget]}
    _odd("O062", index, [two])  # two kits need two gadgets
    kept = {**gadget, "action": "noChange"}
    _odd("O042", index, [{**two, "quantity": 1, "children": [kept]}])  # the part's error alone


def test_a_bundle_deleted_with_its_parts_is_read_by_both_readers() -> None:
    order = {
        "id": "P",
        "items": [
            {
                "id": "k",
                "product": "Kit",
                "action": "delete",
                "children": [{"id": "g", "product": "Gadget", "action": "delete"}],
            }
        ],
    }
    index = decomposer(LAB, "compiled").index
    quick = read_quick(copy.deepcopy(order), index, DEFAULT_LIMITS)
    assert quick is not None
    assert quick == read_order(order, index, quick=False)
