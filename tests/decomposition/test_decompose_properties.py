"""Property: random valid orders decompose identically on both engines (and deterministically).

Orders are drawn for the lab catalog (every scope but root, merge rule, chain and condition
kind), the family plan catalog (root scope: bundles whose parts feed one line per bundle, with
their own actions), the bundle attribute catalog (parts whose rules read ``bundle.NAME``, in
conditions durable tests and in one it cannot, with the bundle's values changing on a modify)
and the example catalog: random products, attribute values inside their
constraints, actions (with and without ``previous``), quantities, accounts, reliesOn links to
earlier items and bundles with their parts.  A draw may be invalid for reasons the strategy
does not model (e.g. a merge conflict): then both engines must fail with the same issues.
"""

from __future__ import annotations

from typing import Any

import pytest
from decomposition_support import ACME, BUNDLE, FAMILY, LAB, outcome
from hypothesis import given, settings
from hypothesis import strategies as st

from om_dsl.rules.durable_adapter import durable_available

pytestmark = pytest.mark.skipif(not durable_available(), reason="durable-rules is not here")

ACTIONS = ["add", "modify", "delete", "noChange"]
TIERS = ["Bronze", "Silver", "Gold"]

GADGET = st.fixed_dictionaries(
    {},
    optional={
        "size": st.integers(1, 100),
        "tier": st.sampled_from(TIERS),
        "tags": st.lists(st.sampled_from(["red", "blue", "green"]), max_size=3),
        "fast": st.booleans(),
        "weight": st.one_of(st.integers(0, 500), st.floats(0, 500, allow_nan=False)),
        "label": st.from_regex(r"[a-z]{1,6}", fullmatch=True),
    },
)
WIDGET = st.fixed_dictionaries(
    {"code": st.sampled_from(["a", "b"])},
    optional={"size": st.integers(1, 100), "tier": st.sampled_from(TIERS)},
)
LAB_PRODUCTS = {"Gadget": GADGET, "Widget": WIDGET}

ACME_PRODUCTS = {
    "HomeFibre": st.fixed_dictionaries(
        {}, optional={"speed": st.integers(50, 1000), "static_ip": st.booleans()}
    ),
    "HomeCopper": st.fixed_dictionaries(
        {},
        optional={
            "speed": st.integers(8, 100),
            "technology": st.sampled_from(["FTTH", "FTTC", "DSL"]),
            "static_ip": st.booleans(),
        },
    ),
    "HomeVoice": st.fixed_dictionaries(
        {}, optional={"international": st.booleans(), "port_in_number": st.just("+33 1 23 45 67")}
    ),
    "HomeTv": st.fixed_dictionaries(
        {},
        optional={
            "package": st.sampled_from(["Basic", "Family", "Sports", "Premium"]),
            "boxes": st.integers(1, 4),
        },
    ),
    "TariffPlan": st.fixed_dictionaries(
        {}, optional={"commitment_months": st.sampled_from([0, 12, 24])}
    ),
    "CoverageOptions": st.fixed_dictionaries(
        {}, optional={"coverage": st.sampled_from(["National", "Regional", "International"])}
    ),
}


@st.composite
def items(draw: st.DrawFn, products: dict[str, st.SearchStrategy[dict[str, Any]]]) -> list[Any]:
    count = draw(st.integers(1, 7))
    out: list[dict[str, Any]] = []
    for n in range(count):
        product = draw(st.sampled_from(sorted(products)))
        action = draw(st.sampled_from(ACTIONS))
        item: dict[str, Any] = {
            "id": f"i{n}",
            "product": product,
            "action": action,
            "attributes": draw(products[product]),
            "quantity": draw(st.integers(1, 3)),
        }
        if action == "modify" and draw(st.booleans()):
            item["previous"] = draw(products[product])
        if draw(st.booleans()):
            item["account"] = draw(st.sampled_from(["A1", "A2"]))
        earlier = [o["id"] for o in out if o["action"] != "delete"]
        if earlier and action != "delete" and draw(st.booleans()):
            item["relationships"] = [{"type": "reliesOn", "id": draw(st.sampled_from(earlier))}]
        out.append(item)
    return out


@st.composite
def kits(draw: st.DrawFn) -> dict[str, Any]:
    """A Kit bundle being added, with its parts."""
    gadgets = draw(st.integers(1, 2))
    children = [
        {"id": f"k.g{n}", "product": "Gadget", "attributes": draw(GADGET)} for n in range(gadgets)
    ]
    if draw(st.booleans()):
        children.append({"id": "k.w", "product": "Widget", "attributes": draw(WIDGET)})
    return {"id": "k", "product": "Kit", "children": children}


def _order(order_items: list[Any], attrs: dict[str, Any]) -> dict[str, Any]:
    return {"id": "P", "account": "A0", "attributes": attrs, "items": order_items}


LAB_ORDERS = st.builds(
    lambda its, kit, vip, region: _order(its + kit, {"vip": vip, "region": region}),
    items(LAB_PRODUCTS),
    st.lists(kits(), max_size=1),
    st.booleans(),
    st.sampled_from(["north", "south"]),
)
FAMILY_LINE = st.fixed_dictionaries(
    {}, optional={"msisdn": st.sampled_from(["+461", "+462"]), "data_gb": st.sampled_from([5, 20])}
)


@st.composite
def family_plans(draw: st.DrawFn, n: int) -> dict[str, Any]:
    """A family plan (root scope's case) with its lines, each with an action of its own when
    the plan stays (a new plan's lines are new, a deleted plan's are deleted: O042)."""
    action = draw(st.sampled_from(ACTIONS))
    lines = []
    for k in range(draw(st.integers(1, 3))):
        part = action if action in ("add", "delete") else draw(st.sampled_from(ACTIONS))
        line = {"id": f"f{n}.{k}", "product": "FamilyLine", "action": part}
        line["attributes"] = draw(FAMILY_LINE)
        if part == "modify" and draw(st.booleans()):
            line["previous"] = draw(FAMILY_LINE)
        lines.append(line)
    attrs = {"pool_gb": draw(st.sampled_from([50, 100, 200]))}
    return {"id": f"f{n}", "product": "FamilyPlan", "action": action, "attributes": attrs,
            "children": lines}  # fmt: skip


@st.composite
def family_orders(draw: st.DrawFn) -> dict[str, Any]:
    plans = [draw(family_plans(n)) for n in range(draw(st.integers(1, 3)))]
    solo = {"id": "s", "product": "SimOnly", "quantity": draw(st.integers(1, 3))}
    return _order(plans + draw(st.lists(st.just(solo), max_size=1)), {})


PACK = st.fixed_dictionaries(
    {},
    optional={
        "contract_months": st.sampled_from([12, 24, 36]),
        "term": st.sampled_from(["Monthly", "Annual"]),
        "vip": st.booleans(),
        "promo": st.sampled_from(["no", "spring", "summer"]),
    },
)
FAMILY_BUNDLE = st.fixed_dictionaries(
    {},
    optional={
        "contract_months": st.sampled_from([12, 24]),
        "term": st.sampled_from(["Monthly", "Annual"]),
        "vip": st.booleans(),
    },
)
LINE = st.fixed_dictionaries(
    {"msisdn": st.sampled_from(["", "+461", "+462"])},
    optional={"bundle": st.sampled_from(["x", "y"])},
)
ADDON = st.fixed_dictionaries({}, optional={"name": st.sampled_from(["roaming", "data"])})


@st.composite
def bundles(draw: st.DrawFn, n: int) -> dict[str, Any]:
    """A Pack or a Family bundle with its parts (each with an action of its own when the
    bundle stays), or a stand-alone Line or Addon, whose bundle.NAME reads are null."""
    kind = draw(st.sampled_from(["Pack", "Family", "Line", "Addon"]))
    action = draw(st.sampled_from(ACTIONS))
    values = {"Pack": PACK, "Family": FAMILY_BUNDLE, "Line": LINE, "Addon": ADDON}[kind]
    item: dict[str, Any] = {"id": f"b{n}", "product": kind, "action": action}
    item["attributes"] = draw(values)
    if action == "modify" and draw(st.booleans()):
        item["previous"] = draw(values)
    if kind in ("Line", "Addon"):
        return item
    parts = [("Line", LINE)] * draw(st.integers(1, 3))
    if kind == "Pack" and draw(st.booleans()):
        parts.append(("Addon", ADDON))
    children = []
    for k, (product, strategy) in enumerate(parts):
        part = action if action in ("add", "delete") else draw(st.sampled_from(ACTIONS))
        child = {"id": f"b{n}.{k}", "product": product, "action": part}
        child["attributes"] = draw(strategy)
        if part == "modify" and draw(st.booleans()):
            child["previous"] = draw(strategy)
        children.append(child)
    item["children"] = children
    return item


@st.composite
def bundle_orders(draw: st.DrawFn) -> dict[str, Any]:
    return _order([draw(bundles(n)) for n in range(draw(st.integers(1, 3)))], {})


ACME_ORDERS = st.builds(
    lambda its: _order(its, {"site_id": "S-1"}),
    items(ACME_PRODUCTS),
)


@settings(max_examples=60)
@given(LAB_ORDERS)
def test_lab_orders_are_the_same_on_both_engines(order: dict[str, Any]) -> None:
    compiled = outcome(LAB, order, "compiled")
    assert outcome(LAB, order, "durable") == compiled
    assert outcome(LAB, order, "compiled") == compiled  # and again: no state carried over


@settings(max_examples=40)
@given(family_orders())
def test_family_orders_are_the_same_on_both_engines(order: dict[str, Any]) -> None:
    assert outcome(FAMILY, order, "durable") == outcome(FAMILY, order, "compiled")


@settings(max_examples=40)
@given(bundle_orders())
def test_bundle_orders_are_the_same_on_both_engines(order: dict[str, Any]) -> None:
    assert outcome(BUNDLE, order, "durable") == outcome(BUNDLE, order, "compiled")


@settings(max_examples=40)
@given(ACME_ORDERS)
def test_acme_orders_are_the_same_on_both_engines(order: dict[str, Any]) -> None:
    assert outcome(ACME, order, "durable") == outcome(ACME, order, "compiled")
