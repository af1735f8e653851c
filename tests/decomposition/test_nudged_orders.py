"""Property: odd orders go all the way through, on both engines, to the same outcome.

The reader tests (``test_quick_reader.py``) stop at the validated order.  Here random orders
nudged into odd shapes (values replaced, keys added or removed anywhere; native and TMF622,
with and without bundles) are decomposed end to end.  Whatever the nudge, the only way out is
a result or an :class:`~om_dsl.errors.OrderValidationError` /
:class:`~om_dsl.errors.DecompositionError` (``outcome`` lets anything else through, which
fails the test), and both engines give the same one.  A nudge can leave an order valid but
unusual (a quantity of 2 on a bundle part, an account on a deleted item, a link added to a
part): those are the orders that reach the worlds with shapes the valid-order strategies never
draw.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from decomposition_support import ACME, LAB, engines, outcome
from hypothesis import given, settings
from hypothesis import strategies as st
from test_decompose_properties import ACME_ORDERS, LAB_ORDERS
from test_quick_reader import bundle_orders, nudged, tmf_orders

ORDERS: dict[str, tuple[Path, st.SearchStrategy[dict[str, Any]]]] = {
    "lab": (LAB, nudged(LAB_ORDERS)),
    "acme": (ACME, nudged(ACME_ORDERS)),
    "bundles": (ACME, nudged(bundle_orders())),
    "tmf622": (ACME, nudged(tmf_orders(ACME_ORDERS, ACME))),
    "tmf622 bundles": (ACME, nudged(tmf_orders(bundle_orders(), ACME))),
}


def _same_everywhere(catalog: Path, order: dict[str, Any]) -> str:
    """The outcome on every engine, checked equal (each engine gets its own copy: a reader
    must not depend on what another one did to the data)."""
    results = {e: outcome(catalog, copy.deepcopy(order), e) for e in engines()}
    first = results["compiled"]
    assert all(text == first for text in results.values()), results
    return first


@pytest.mark.parametrize("kind", sorted(ORDERS))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_nudged_orders_decompose_the_same_on_both_engines(kind: str, data: st.DataObject) -> None:
    catalog, orders = ORDERS[kind]
    order = data.draw(orders)
    _same_everywhere(catalog, order)


def test_some_nudged_orders_are_still_decomposed() -> None:
    """Not a test that only ever sees errors: a nudge that leaves an order valid (here a
    quantity added to a bundle's part) is decomposed, on both engines alike."""
    order = {
        "id": "P",
        "account": "A0",
        "attributes": {"site_id": "S-1"},
        "items": [
            {
                "id": "b",
                "product": "HomeDuo",
                "children": [
                    {"id": "f", "product": "HomeFibre", "attributes": {"speed": 500}},
                    {"id": "v", "product": "HomeVoice", "quantity": 1},
                ],
            }
        ],
    }
    assert '"requests"' in _same_everywhere(ACME, order)
