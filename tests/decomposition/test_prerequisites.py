"""Offer prerequisites (``requires``): O044 and O045, native and TMF622, on both engines.

The catalog (``tests/fixtures/valid/requires.om``): Tv requires HomeInternet; Replay requires
Tv and (FibreInternet or DslInternet); Phone and Router require each other; the bundle Duo
(HomeInternet, Tv [0..1]) requires Phone.
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
from om_dsl.orders.prerequisites import Entry, unmet
from om_dsl.orders.quick import read_quick

CATALOG = REPO / "tests" / "fixtures" / "valid" / "requires.om"
OFFERS = ("HomeInternet", "FibreInternet", "DslInternet", "Tv", "Replay", "Phone", "Router")
ACTIONS = ("add", "modify", "delete", "noChange")
IDS = {"HomeInternet": "1", "FibreInternet": "2", "DslInternet": "3", "Tv": "4", "Replay": "5"}
IDS |= {"Phone": "6", "Router": "7", "Duo": "8"}


def item(item_id: str, product: str, action: str = "add", **more: Any) -> dict[str, Any]:
    return {"id": item_id, "product": product, "action": action, **more}


def native(*items: dict[str, Any]) -> dict[str, Any]:
    return {"id": "O1", "items": list(items)}


def tmf(*items: dict[str, Any]) -> dict[str, Any]:
    """The same items as a TMF622 ProductOrder (parts nested as productOrderItem)."""

    def one(it: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": it["id"],
            "action": it["action"],
            "productOffering": {"id": IDS[it["product"]]},
        }
        if "children" in it:
            out["productOrderItem"] = [one(c) for c in it["children"]]
        return out

    return {"productOrderItem": [one(i) for i in items]}


def issues(order: dict[str, Any], engine: str = "compiled") -> list[tuple[str, str, str]]:
    """(code, path, message) of every issue, or [] when the order decomposes."""
    try:
        decomposer(CATALOG, engine).decompose(copy.deepcopy(order))
    except OrderValidationError as exc:
        return [(i.code, i.path, i.message) for i in exc.issues]
    return []


def codes(order: dict[str, Any], engine: str = "compiled") -> list[tuple[str, str]]:
    return [(code, path) for code, path, _ in issues(order, engine)]


@pytest.mark.parametrize("shape", [native, tmf])
def test_an_offer_added_without_what_it_requires_is_refused(shape: Any, engine: str) -> None:
    found = issues(shape(item("n", "FibreInternet"), item("tv", "Tv")), engine)
    where = "items[1]" if shape is native else "productOrderItem[1]"
    assert [(c, p) for c, p, _ in found] == [("O044", where)]
    assert found[0][2] == (
        "item 'tv' adds Tv, and Tv requires HomeInternet: add one to the order, or send the "
        "customer's existing one as a noChange item"
    )


@pytest.mark.parametrize("action", ["add", "modify", "noChange"])
@pytest.mark.parametrize("shape", [native, tmf])
def test_an_item_that_stays_meets_the_requirement(shape: Any, action: str, engine: str) -> None:
    """A customer's existing Internet is sent as a noChange item (TMF622 practice)."""
    assert codes(shape(item("tv", "Tv"), item("n", "HomeInternet", action)), engine) == []


@pytest.mark.parametrize("shape", [native, tmf])
def test_a_part_of_a_bundle_meets_the_requirement(shape: Any, engine: str) -> None:
    duo = item("d", "Duo", children=[item("d.1", "HomeInternet"), item("d.2", "Tv")])
    pair = [item("p", "Phone"), item("r", "Router")]
    assert codes(shape(duo, *pair), engine) == []
    assert codes(shape(item("tv", "Tv"), duo, *pair), engine) == []


def test_a_bundle_requires_too() -> None:
    duo = item("d", "Duo", children=[item("d.1", "HomeInternet")])
    assert codes(native(duo)) == [("O044", "items[0]")]
    assert codes(tmf(duo)) == [("O044", "productOrderItem[0]")]


def test_one_alternative_is_enough_and_each_requires_line_is_needed() -> None:
    base = [item("tv", "Tv"), item("n", "HomeInternet")]
    assert codes(native(*base, item("r", "Replay"), item("f", "DslInternet"))) == []
    found = issues(native(*base, item("r", "Replay")))
    assert [(c, p) for c, p, _ in found] == [("O044", "items[2]")]
    assert "Replay requires FibreInternet or DslInternet: add one of them" in found[0][2]
    found = issues(native(item("n", "HomeInternet"), item("r", "Replay"), item("f", "Fibre")))
    assert ("O030", "items[2].product") in [(c, p) for c, p, _ in found]


def test_every_unmet_requirement_is_reported_at_once() -> None:
    order = native(item("tv", "Tv"), item("r", "Replay"), item("p", "Phone"))
    assert codes(order) == [
        ("O044", "items[0]"),  # Tv: HomeInternet
        ("O044", "items[1]"),  # Replay: FibreInternet or DslInternet (Tv is there)
        ("O044", "items[2]"),  # Phone: Router
    ]


def test_offers_that_require_each_other_are_ordered_together() -> None:
    assert codes(native(item("p", "Phone"), item("r", "Router"))) == []
    assert codes(native(item("p", "Phone"))) == [("O044", "items[0]")]


@pytest.mark.parametrize("action", ["add", "modify", "noChange"])
@pytest.mark.parametrize("shape", [native, tmf])
def test_deleting_what_an_item_that_stays_requires_is_refused(
    shape: Any, action: str, engine: str
) -> None:
    found = issues(shape(item("tv", "Tv", action), item("n", "HomeInternet", "delete")), engine)
    where = "items[0]" if shape is native else "productOrderItem[0]"
    assert [(c, p) for c, p, _ in found] == [("O045", where)]
    assert found[0][2] == (
        f"item 'tv' ('{action}') is Tv, and Tv requires HomeInternet, but item 'n' deletes "
        "HomeInternet and the order keeps no other: keep one (the customer's other one as a "
        "noChange item), or delete Tv too"
    )


def test_a_delete_is_fine_when_something_else_meets_the_requirement() -> None:
    gone, kept = item("n", "HomeInternet", "delete"), item("m", "HomeInternet", "noChange")
    assert codes(native(item("tv", "Tv", "noChange"), gone, kept)) == []
    assert codes(native(item("tv", "Tv", "delete"), gone)) == []
    replay = [item("tv", "Tv", "noChange"), item("n", "HomeInternet", "noChange")]
    fibre_out = item("f", "FibreInternet", "delete")
    assert codes(native(*replay, item("r", "Replay", "noChange"), fibre_out)) == [
        ("O045", "items[2]")
    ]
    dsl_in = item("d", "DslInternet")
    assert codes(native(*replay, item("r", "Replay", "noChange"), fibre_out, dsl_in)) == []


def test_a_change_alone_is_not_checked() -> None:
    """CPQ sends a modify without the customer's other products; they are there all the same."""
    assert codes(native(item("tv", "Tv", "modify"))) == []
    assert codes(native(item("tv", "Tv", "noChange"))) == []


def test_an_unknown_product_is_not_blamed_twice() -> None:
    """The unknown item may be the one required: its own error is the one to fix."""
    assert codes(native(item("tv", "Tv"), item("n", "HomeInternt"))) == [
        ("O030", "items[1].product")
    ]


def _read_quick(order: dict[str, Any]) -> Any:
    index = decomposer(CATALOG, "compiled").index
    data = load_document(copy.deepcopy(order), DEFAULT_LIMITS)
    return read_quick(data, index, DEFAULT_LIMITS)


def test_the_quick_reader_leaves_unmet_requirements_to_the_thorough_one() -> None:
    for order in (native(item("tv", "Tv")), tmf(item("tv", "Tv"))):
        assert _read_quick(order) is None
    for order in (native(item("tv", "Tv"), item("n", "HomeInternet", "noChange")),
                  tmf(item("tv", "Tv"), item("n", "HomeInternet", "noChange"))):  # fmt: skip
        quick = _read_quick(order)
        assert quick is not None
        index = decomposer(CATALOG, "compiled").index
        assert quick == read_order(copy.deepcopy(order), index, quick=False)


# ---- properties ----------------------------------------------------------------------------


@st.composite
def orders(draw: st.DrawFn) -> dict[str, Any]:
    chosen = draw(st.lists(st.tuples(st.sampled_from(OFFERS), st.sampled_from(ACTIONS)),
                           min_size=1, max_size=8))  # fmt: skip
    return native(*(item(f"i{n}", p, a) for n, (p, a) in enumerate(chosen)))


def _requirements() -> dict[str, tuple[tuple[str, ...], ...]]:
    return decomposer(CATALOG, "compiled").index.requires


@settings(max_examples=200, deadline=None)
@given(orders())
def test_both_readers_agree_on_random_orders(order: dict[str, Any]) -> None:
    index = decomposer(CATALOG, "compiled").index
    try:
        thorough = read_order(copy.deepcopy(order), index, quick=False)
    except OrderValidationError as exc:
        assert {i.code for i in exc.issues} <= {"O044", "O045"}
        assert _read_quick(order) is None
        return
    quick = _read_quick(order)
    assert quick is None or quick == thorough


@settings(max_examples=200, deadline=None)
@given(orders())
def test_adding_what_is_required_clears_every_prerequisite_error(order: dict[str, Any]) -> None:
    """A noChange item of one alternative of each unmet requirement makes the order valid."""
    items = order["items"]
    entries: list[Entry] = [(i["id"], i["product"], i["action"]) for i in items]
    extra = []
    for n, problem in enumerate(unmet(entries, _requirements())):
        extra.append(item(f"x{n}", problem.group[0], "noChange"))
    fixed = native(*items, *extra)
    # an extra item may need something of its own (Router for a Phone): once more settles it
    entries = [(i["id"], i["product"], i["action"]) for i in fixed["items"]]
    more = [item(f"y{n}", p.group[0], "noChange") for n, p in
            enumerate(unmet(entries, _requirements()))]  # fmt: skip
    assert codes(native(*fixed["items"], *more)) == []
