"""Orders of bundles on the example catalog: the quick readers against the thorough reader.

Real orders sell bundles (the TMF622 sample is one).  The orders here are ``bundles`` copies of
``examples/orders/home-trio-tv.json``'s Home Trio (a bundle and three parts: 4 items each), in
three forms that decompose identically (checked first):

- ``native``: the native format, parts nested in ``children``;
- ``tmf622 links``: TMF622 with the parts as items of their own, named by the bundle's
  ``bundles`` relationships (the sample's shape);
- ``tmf622 nested``: TMF622 with the parts nested in the bundle's ``productOrderItem``.

For each form and size, medians over repeats taken round-robin: ``read`` (validation as a host
gets it: the quick reader, which takes these orders) against ``thorough`` (the thorough reader
alone, the baseline: what every bundle order took before the quick readers read bundles), and
``decompose`` (end to end with the compiled engine, validation included).  The ratio is thorough
/ read.  No target: the figures show what the quick path buys on orders of the shape clients send.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from benchmarks import harness
from benchmarks.tmf_form import characteristics, tmf622_item
from om_dsl.compiler.driver import compile_catalog
from om_dsl.orders.catalog_index import CatalogIndex
from om_dsl.orders.decompose import Decomposer
from om_dsl.orders.gc_pause import decomposition_gc
from om_dsl.orders.limits import Limits
from om_dsl.orders.models import Order
from om_dsl.orders.parse import read_order

NAME = "bundles"
REPO = Path(__file__).resolve().parents[1]
CATALOG = REPO / "examples" / "catalog" / "acme.om"
TRIO = REPO / "examples" / "orders" / "home-trio-tv.json"
SIZES = (250, 2_500)
"""Bundles per order: 1,000 and 10,000 items."""
QUICK_SIZES = (25,)
REPEATS = {25: 9, 250: 9, 2_500: 5}
QUICK_REPEATS = 2
FORMS = ("native", "tmf622 links", "tmf622 nested")


def native_order(bundles: int) -> dict[str, Any]:
    """``bundles`` Home Trios, each with its own item ids, in the native format."""
    trio = json.loads(TRIO.read_text())
    items = []
    for k in range(bundles):
        bundle = copy.deepcopy(trio["items"][0])
        bundle["id"] = f"trio{k}"
        for part in bundle["children"]:
            part["id"] = f"{part['id']}{k}"
        items.append(bundle)
    return {**trio, "id": f"BUNDLES-{bundles}", "items": items}


def tmf622_order(native: dict[str, Any], nested: bool) -> dict[str, Any]:
    """The same order as a TMF622 ProductOrder: parts nested, or linked by ``bundles``."""
    items: list[dict[str, Any]] = []
    for bundle in native["items"]:
        head = _tmf_item(bundle)
        parts = [_tmf_item(part) for part in bundle["children"]]
        if nested:
            head["productOrderItem"] = parts
            items.append(head)
        else:
            links = [{"id": p["id"], "relationshipType": "bundles"} for p in parts]
            head["productOrderItemRelationship"] = links
            items += [head, *parts]
    return {
        "id": native["id"],
        "billingAccount": {"id": native["account"]},
        "relatedParty": [{"id": native["customer"], "role": "Customer"}],
        "characteristic": characteristics(native["attributes"]),
        "productOrderItem": items,
    }


def _tmf_item(item: dict[str, Any]) -> dict[str, Any]:
    product = item["product"]
    return tmf622_item(item, {"id": product} if product.isdigit() else {"name": product})


def orders(bundles: int) -> dict[str, str]:
    """Each form's JSON text."""
    native = native_order(bundles)
    return {
        "native": json.dumps(native),
        "tmf622 links": json.dumps(tmf622_order(native, nested=False)),
        "tmf622 nested": json.dumps(tmf622_order(native, nested=True)),
    }


def measure(decomposer: Decomposer, bundles: int, repeats: int) -> dict[str, Any]:
    texts = orders(bundles)
    reference = decomposer.decompose(texts["native"]).lines()
    for form, text in texts.items():
        if decomposer.decompose(text).lines() != reference:
            raise AssertionError(f"the {form} form decomposes differently")
    index, limits = decomposer.index, decomposer.limits
    cases: dict[str, Callable[[harness.Mark], object]] = {}
    for form, text in texts.items():
        cases[f"{form} read"] = lambda _m, t=text: decomposer.read(t)
        cases[f"{form} thorough"] = lambda _m, t=text: thorough(t, index, limits)
        cases[f"{form} decompose"] = lambda _m, t=text: decomposer.decompose(t)
    timings = harness.time_interleaved(cases, repeats)
    return {
        "bundles": bundles,
        "items": bundles * 4,
        "lines": len(reference),
        "timings": {name: t.to_dict() for name, t in timings.items()},
        "ratio_thorough_over_read": {
            form: round(timings[f"{form} thorough"].median / timings[f"{form} read"].median, 2)
            for form in FORMS
        },
    }


def thorough(text: str, index: CatalogIndex, limits: Limits) -> Order:
    """The thorough reader alone, with the collector paused as :meth:`Decomposer.read` pauses
    it (a fair baseline: unpaused, it takes twice as long on 10k items)."""
    with decomposition_gc():
        return read_order(text, index, limits, quick=False)


def _rows(results: Sequence[dict[str, Any]]) -> list[list[str]]:
    rows = []
    for r in results:
        t = r["timings"]
        for form in FORMS:
            rows.append(
                [
                    f"{r['items']:,} items",
                    form,
                    harness.fmt_s(t[f"{form} read"]["median_s"]),
                    harness.fmt_s(t[f"{form} thorough"]["median_s"]),
                    f"{r['ratio_thorough_over_read'][form]:.1f}x",
                    harness.fmt_s(t[f"{form} decompose"]["median_s"]),
                ]
            )
    return rows


def main(argv: Sequence[str]) -> int:
    args = harness.parse_args(NAME, argv, __doc__ or "")
    decomposer = Decomposer(compile_catalog(CATALOG).raise_on_error())
    results = []
    for bundles in QUICK_SIZES if args.quick else SIZES:
        repeats = args.repeats or (QUICK_REPEATS if args.quick else REPEATS[bundles])
        results.append(measure(decomposer, bundles, repeats))
        print(f"  measured {bundles * 4:,} items", flush=True)
    harness.print_table(
        "orders of Home Trio bundles (medians): validation, and decomposition end to end",
        ["order", "form", "read", "thorough", "thorough / read", "decompose"],
        _rows(results),
    )
    if not args.no_write:
        path = harness.write_result(NAME, {"sizes": results}, args.quick)
        print(f"wrote {path}")
    return 0
