"""Choice groups (``includes A or B [c]``): O062 on the group's total, native and TMF622, on
both engines, and the quick reader in agreement with the thorough one.

The catalog (``tests/fixtures/valid/choice_groups.om``): NordtelOne includes exactly one of
FibreInternet or DslInternet, at most one of Tv or Voice, and one Router; NordtelMax one or
more of FibreInternet, DslInternet or NordtelOne.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from decomposition_support import REPO, decomposer
from hypothesis import given, settings
from hypothesis import strategies as st

from om_dsl.errors import OrderValidationError
from om_dsl.orders.jsondoc import load_document
from om_dsl.orders.limits import DEFAULT_LIMITS
from om_dsl.orders.parse import read_order
from om_dsl.orders.quick import read_quick

CATALOG = REPO / "tests" / "fixtures" / "valid" / "choice_groups.om"
IDS = {"FibreInternet": "1", "DslInternet": "2", "Tv": "3", "Voice": "4", "Router": "5"}
IDS |= {"NordtelOne": "10", "NordtelMax": "11"}
ACCESS = ("FibreInternet", "DslInternet")
ACTIONS = ("add", "modify", "delete", "noChange")


def item(item_id: str, product: str, action: str = "add", **more: Any) -> dict[str, Any]:
    return {"id": item_id, "product": product, "action": action, **more}


def one(*parts: dict[str, Any], action: str = "add", **more: Any) -> dict[str, Any]:
    """A NordtelOne item with its router (unless ``parts`` has one) and ``parts``."""
    router = [] if any(p["product"] == "Router" for p in parts) else [item("r", "Router", action)]
    return item("n", "NordtelOne", action, children=[*router, *parts], **more)


def native(*items: dict[str, Any]) -> dict[str, Any]:
    return {"id": "O1", "items": list(items)}


def tmf(*items: dict[str, Any]) -> dict[str, Any]:
    """The same items as a TMF622 ProductOrder (parts nested as productOrderItem)."""

    def each(it: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": it["id"],
            "action": it["action"],
            "productOffering": {"id": IDS[it["product"]]},
        }
        if "quantity" in it:
            out["quantity"] = it["quantity"]
        if "children" in it:
            out["productOrderItem"] = [each(c) for c in it["children"]]
        return out

    return {"productOrderItem": [each(i) for i in items]}


def issues(order: dict[str, Any], engine: str = "compiled") -> list[tuple[str, str, str]]:
    """(code, path, message) of every issue, or [] when the order decomposes."""
    try:
        decomposer(CATALOG, engine).decompose(copy.deepcopy(order))
    except OrderValidationError as exc:
        return [(i.code, i.path, i.message) for i in exc.issues]
    return []


@pytest.mark.parametrize("shape", [native, tmf])
def test_both_alternatives_are_refused_at_the_bundle(shape: Any, engine: str) -> None:
    order = shape(one(item("f", "FibreInternet"), item("d", "DslInternet")))
    top = "items[0]" if shape is native else "productOrderItem[0]"
    parts = f"{top}.children" if shape is native else f"{top}.productOrderItem"
    assert issues(order, engine) == [
        (
            "O062",
            top,
            "bundle NordtelOne takes exactly 1 of FibreInternet, DslInternet; the order gives 2: "
            f"{parts}[1], {parts}[2]",
        )
    ]


@pytest.mark.parametrize("shape", [native, tmf])
def test_neither_alternative_is_refused_too(shape: Any, engine: str) -> None:
    assert issues(shape(one()), engine) == [
        (
            "O062",
            "items[0]" if shape is native else "productOrderItem[0]",
            "bundle NordtelOne takes exactly 1 of FibreInternet, DslInternet; the order gives 0",
        )
    ]


@pytest.mark.parametrize("access", ACCESS)
@pytest.mark.parametrize("shape", [native, tmf])
def test_either_alternative_alone_is_accepted(shape: Any, access: str, engine: str) -> None:
    assert issues(shape(one(item("a", access))), engine) == []
    assert issues(shape(one(item("a", access), item("t", "Voice"))), engine) == []


def test_an_optional_group_takes_at_most_one() -> None:
    order = native(one(item("a", "DslInternet"), item("t", "Tv"), item("v", "Voice")))
    assert [m for _, _, m in issues(order)] == [
        "bundle NordtelOne takes at most 1 of Tv, Voice; the order gives 2: "
        "items[0].children[2], items[0].children[3]"
    ]


def test_a_group_counts_per_unit_of_its_bundle() -> None:
    """Two NordtelOne take two accesses: one of each, or two of one."""
    routers = item("r", "Router", quantity=2)
    mixed = one(routers, item("f", "FibreInternet"), item("d", "DslInternet"), quantity=2)
    assert issues(native(mixed)) == []
    same = one(routers, item("f", "FibreInternet", quantity=2), quantity=2)
    assert issues(native(same)) == []
    short = one(routers, item("f", "FibreInternet"), quantity=2)
    assert [m for _, _, m in issues(native(short))] == [
        "bundle NordtelOne takes exactly 2 of FibreInternet, DslInternet; the order gives 1: "
        "items[0].children[1]"
    ]


def test_a_modified_bundle_may_list_only_what_changes_but_not_too_many() -> None:
    """As for a single include: ``min`` is not checked for a modified bundle, ``max`` is, on
    the parts that stay (a deleted one does not count)."""
    assert issues(native(one(action="modify"))) == []
    swap = one(item("f", "FibreInternet", "delete"), item("d", "DslInternet"), action="modify")
    assert issues(native(swap)) == []
    both = one(item("f", "FibreInternet", "modify"), item("d", "DslInternet"), action="modify")
    assert [c for c, _, _ in issues(native(both))] == ["O062"]


def test_a_deleted_bundle_lists_the_alternative_it_deletes() -> None:
    gone = one(item("d", "DslInternet", "delete"), action="delete")
    assert issues(native(gone)) == []
    assert [m for _, _, m in issues(native(one(action="delete")))] == [
        "deleting bundle NordtelOne deletes its parts: list at least 1 of FibreInternet, "
        "DslInternet in it, each 'delete'; the order gives 0"
    ]


def test_a_product_outside_every_group_names_the_groups() -> None:
    order = native(item("m", "NordtelMax", children=[item("f", "FibreInternet"), item("t", "Tv")]))
    assert [(c, m) for c, _, m in issues(order)] == [
        (
            "O061",
            "bundle NordtelMax (item 'm') does not include Tv; it includes: FibreInternet or "
            "DslInternet or NordtelOne",
        )
    ]


def test_a_bundle_in_a_group_counts_like_an_offer() -> None:
    inner = one(item("d", "DslInternet"))
    order = native(item("m", "NordtelMax", children=[item("f", "FibreInternet"), inner]))
    assert issues(order) == []


# ---- the quick reader ------------------------------------------------------------------------


def _read_quick(order: dict[str, Any]) -> Any:
    index = decomposer(CATALOG, "compiled").index
    return read_quick(load_document(copy.deepcopy(order)), index, DEFAULT_LIMITS)


@st.composite
def group_orders(draw: st.DrawFn) -> dict[str, Any]:
    """One NordtelOne with any parts of its includes (and now and then a Tv or Voice too
    many, or a part of another action), any quantities."""
    action = draw(st.sampled_from(ACTIONS))
    products = ["Router", *ACCESS, "Tv", "Voice"]
    parts = []
    for n in range(draw(st.integers(0, 5))):
        part = item(f"p{n}", draw(st.sampled_from(products)), action)
        if draw(st.integers(0, 4)) == 0:
            part["action"] = draw(st.sampled_from(ACTIONS))
        if draw(st.integers(0, 3)) == 0:
            part["quantity"] = draw(st.integers(1, 3))
        parts.append(part)
    bundle = item("n", "NordtelOne", action, children=parts)
    if draw(st.integers(0, 3)) == 0:
        bundle["quantity"] = 2
    return native(bundle)


def _expected(order: dict[str, Any]) -> bool:
    """Whether an added bundle whose parts are all added is valid: each include's parts
    together within its cardinality, times the bundle's quantity."""
    bundle = order["items"][0]
    units = bundle.get("quantity", 1)
    count: dict[str, int] = {}
    for part in bundle["children"]:
        count[part["product"]] = count.get(part["product"], 0) + part.get("quantity", 1)
    access = sum(count.get(p, 0) for p in ACCESS)
    extras = count.get("Tv", 0) + count.get("Voice", 0)
    return access == units and extras <= units and count.get("Router", 0) == units


@settings(max_examples=200, deadline=None)
@given(group_orders())
def test_both_readers_agree_on_random_group_orders(order: dict[str, Any]) -> None:
    index = decomposer(CATALOG, "compiled").index
    try:
        thorough = read_order(copy.deepcopy(order), index, quick=False)
    except OrderValidationError:
        assert _read_quick(order) is None
        thorough = None
    else:
        assert _read_quick(order) == thorough
    bundle = order["items"][0]
    if bundle["action"] == "add" and all(p["action"] == "add" for p in bundle["children"]):
        assert (thorough is not None) == _expected(order)
