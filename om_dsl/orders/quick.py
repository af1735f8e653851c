"""The quick reader: a plain native order, validated in one pass over its parsed JSON (a TMF622
ProductOrder goes to :mod:`~om_dsl.orders.quick_tmf`; the items of both are read by
:mod:`~om_dsl.orders.quick_items`).

The thorough reader (:mod:`~om_dsl.orders.native` -> :mod:`~om_dsl.orders.drafts` ->
:mod:`~om_dsl.orders.validate`) is the specification.  It finds every problem of an order at
once, each with its JSON path, so it copies the document into models, keeps a path for every
value and resolves every name with its alias: some 20 us per item.  Most orders have no
problem at all and need none of that bookkeeping.

This reader walks a native order's JSON once, with per-product tables built once per catalog
(:class:`~om_dsl.orders.catalog_index.QuickTable`), and returns the :class:`Order` the
thorough reader would, or None as soon as anything is unusual: a problem or a doubt.  Then
the thorough reader runs and reports.  It never reports anything itself, so it
can never word a problem differently; ``tests/decomposition`` checks that whatever it accepts
the thorough reader accepts with the same result (goldens, bad orders and random orders).
"""

from __future__ import annotations

from typing import Any, Final

from om_dsl.orders.catalog_index import CatalogIndex
from om_dsl.orders.dates import is_date_time_or_none
from om_dsl.orders.limits import Limits
from om_dsl.orders.models import Order
from om_dsl.orders.native import NativeOrder
from om_dsl.orders.quick_items import Items, text, text_or_none
from om_dsl.orders.quick_tmf import read_quick_tmf
from om_dsl.orders.reserved import NO_ACCOUNT
from om_dsl.orders.tmf622 import is_tmf622
from om_dsl.orders.trusted import maker

# Final: compiled (om_dsl.accel), a plain module global is a dict look-up on every use.
_ORDER_FIELDS: Final = frozenset(NativeOrder.model_fields)
_TEXT_FIELDS: Final = ("external_id", "account", "customer", "priority", "category")
_DATE_FIELDS: Final = ("requested_start_date", "requested_completion_date")
_new_order: Final = maker(Order)
"""Orders of values this reader checked, every field in declaration order, made without
pydantic's validation (:mod:`~om_dsl.orders.trusted`), as their items are.  Validating them
again bought nothing and, for a 10-item order with cold CPU caches, cost about 110 us of a
1.3 ms decomposition: the validator is a large body of code and data to fetch for one call."""


def read_quick(data: Any, index: CatalogIndex, limits: Limits) -> Order | None:
    """The validated order, or None when the thorough reader must look (see above).

    ``data`` must have passed :func:`~om_dsl.orders.jsondoc.load_document` (as in
    :func:`~om_dsl.orders.parse.read_order`): this reader relies on its checks of the whole
    document (depth, sizes, numbers JSON can hold, such as no ``inf`` in a field it skips).
    """
    if type(data) is not dict:
        return None
    if is_tmf622(data):
        return read_quick_tmf(data, index, limits)
    if not data.keys() <= _ORDER_FIELDS:
        return None
    if not text(data.get("id")) or not all(text_or_none(data.get(f)) for f in _TEXT_FIELDS):
        return None
    if not all(is_date_time_or_none(data.get(f)) for f in _DATE_FIELDS):
        return None
    if data.get("account") == NO_ACCOUNT:  # reserved (O021)
        return None
    notify = data.get("notify", [])
    if type(notify) is not list or not all(type(url) is str for url in notify):
        return None
    attributes = data.get("attributes", {})
    values = index.quick_order.values(attributes) if type(attributes) is dict else None
    order_values = None if values is None else index.quick_order.complete(values)
    items = Items(index, limits, data.get("account")).read(data.get("items"))
    if order_values is None or items is None:
        return None
    return _new_order(
        {
            "id": data["id"],
            "external_id": data.get("external_id"),
            "format": "native",
            "account": data.get("account"),
            "customer": data.get("customer"),
            "priority": data.get("priority"),
            "category": data.get("category"),
            "requested_start_date": data.get("requested_start_date"),
            "requested_completion_date": data.get("requested_completion_date"),
            "attributes": order_values,
            "items": items,
            "notify": list(notify),
            "client": {},
            "client_items": {},
        }
    )
