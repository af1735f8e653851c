"""Reading a commercial order: JSON text or data in, a validated :class:`Order` out.

The one entry point for both formats (TMF622 ProductOrder and native), so that a host service
and ``om decompose`` accept exactly the same documents with exactly the same errors.
"""

from __future__ import annotations

from typing import Any

from om_dsl.errors import OrderValidationError
from om_dsl.expr import patterns
from om_dsl.orders.catalog_index import CatalogIndex
from om_dsl.orders.drafts import DraftOrder
from om_dsl.orders.issues import IssueLog, json_type
from om_dsl.orders.jsondoc import load_document
from om_dsl.orders.limits import DEFAULT_LIMITS, Limits
from om_dsl.orders.models import Order
from om_dsl.orders.native import read_native
from om_dsl.orders.quick import read_quick
from om_dsl.orders.tmf622 import is_tmf622, read_tmf622
from om_dsl.orders.validate import validate_draft

OrderInput = str | bytes | dict[str, Any] | Order
"""JSON text, UTF-8 bytes, parsed JSON, or an already validated :class:`Order`."""


def read_order(
    raw: Any, index: CatalogIndex, limits: Limits = DEFAULT_LIMITS, quick: bool = True
) -> Order:
    """Validate ``raw`` against the catalog behind ``index``.

    ``quick=False`` skips the quick reader (:mod:`~om_dsl.orders.quick`), for the tests that
    check it against the thorough one.

    Raises:
        OrderValidationError: with every issue found, each with its JSON path.
    """
    if isinstance(raw, Order):
        return raw
    with patterns.order_budget():  # one time budget for the pattern checks of both readers
        return _read(raw, index, limits, quick)


def _read(raw: Any, index: CatalogIndex, limits: Limits, quick: bool) -> Order:
    data = load_document(raw, limits)
    fast = read_quick(data, index, limits) if quick else None  # most orders: one pass
    if fast is not None:
        return fast
    log = IssueLog()
    draft = _draft(data, log)
    if draft is None:  # not an order at all: nothing to check against the catalog
        raise OrderValidationError(log.issues)
    return validate_draft(draft, index, limits, log)  # shape errors and catalog errors at once


def _draft(data: Any, log: IssueLog) -> DraftOrder | None:
    if not isinstance(data, dict):
        kind = json_type(data)
        article = "" if kind == "null" else "an " if kind[0] in "aeiou" else "a "
        log.add("O008", "$", f"an order is a JSON object, not {article}{kind}")
        return None
    if is_tmf622(data):
        return read_tmf622(data, log)
    if "items" in data:
        return read_native(data, log)
    log.add(
        "O009", "$",
        "not an order: a TMF622 ProductOrder has 'productOrderItem', a native order has 'items'",
    )  # fmt: skip
    return None
