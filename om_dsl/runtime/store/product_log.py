"""Event-log rows for inventory changes, written by the stores in the commit that records them.

A product changes only when an order completes (:func:`~om_dsl.orders.inventory.apply_change`,
in the store's transaction).  Each real change gets a row of the completing order's log, and
the product as it was right after it is kept with the row (by its ``seq``), so the TMF637
event the notifier makes of it later (:mod:`om_dsl.runtime.notify.tmf637`) shows that version,
not whatever a later order left: no change goes unannounced, and none is announced that was
not committed.  What is no change makes no row: a ``noChange`` item, an order item recorded
twice, a ``modify`` that gives the values the product has.
"""

from __future__ import annotations

from om_dsl.orders.inventory import InventoryProduct, ProductChange
from om_dsl.orders.issues import show
from om_dsl.runtime.store.base import NewEvent

PRODUCT_CREATED = "product.created"
"""A product first recorded (TMF637 ``ProductCreateEvent``)."""
PRODUCT_CHANGED = "product.changed"
"""Its values changed (``ProductAttributeValueChangeEvent``)."""
PRODUCT_STATUS = "product.status"
"""Its status changed: ``active`` -> ``terminated`` (``ProductStateChangeEvent``)."""
PRODUCT_KINDS = frozenset({PRODUCT_CREATED, PRODUCT_CHANGED, PRODUCT_STATUS})
CHANGED_FIELDS = "; changed: "
"""What precedes the TMF637 names of the fields a ``product.changed`` row's change touched,
last in its detail (the event's ``fieldPath``: :func:`field_path`)."""

_FIELDS = (
    ("productCharacteristic", "attributes"),
    ("productOffering", "offering"),
    ("productOffering", "offering_id"),
    ("name", "name"),
    ("isBundle", "is_bundle"),
    ("billingAccount", "account"),
    ("relatedParty", "customer"),
)
"""TMF637 field -> the record's attribute it shows (the order items and dates are history:
every order adds to them, which is no change of the product itself)."""


def product_rows(
    found: InventoryProduct | None,
    after: InventoryProduct,
    change: ProductChange,
    order_id: str,
    ts: float,
) -> list[NewEvent]:
    """The rows that record how ``change`` turned ``found`` (None: unknown) into ``after``:
    a creation, or a change of values and/or of status, or nothing."""
    shown = f"product {show(after.id)}"
    if found is None:
        return [_row(ts, order_id, change, PRODUCT_CREATED, None, after.status,
                     f"{shown} recorded ({after.status})")]  # fmt: skip
    rows: list[NewEvent] = []
    fields = changed_fields(found, after)
    if fields:
        words = f"{shown}: values changed{CHANGED_FIELDS}{','.join(fields)}"
        rows.append(_row(ts, order_id, change, PRODUCT_CHANGED, found.status, after.status, words))
    if found.status != after.status:
        words = f"{shown}: {found.status} -> {after.status}"
        rows.append(_row(ts, order_id, change, PRODUCT_STATUS, found.status, after.status, words))
    return rows


def changed_fields(found: InventoryProduct, after: InventoryProduct) -> list[str]:
    """The TMF637 fields whose values differ between two versions of a product, each once."""
    names = [tmf for tmf, ours in _FIELDS if getattr(found, ours) != getattr(after, ours)]
    return list(dict.fromkeys(names))


def field_path(detail: str | None) -> str:
    """The ``fieldPath`` of a ``product.changed`` row's event, from its detail (the names
    follow the last :data:`CHANGED_FIELDS`: a product id earlier in the text cannot fake
    them); ``productCharacteristic`` when the detail names none."""
    text = detail or ""
    at = text.rfind(CHANGED_FIELDS)
    return text[at + len(CHANGED_FIELDS) :] if at >= 0 else "productCharacteristic"


def _row(
    ts: float,
    order_id: str,
    change: ProductChange,
    kind: str,
    before: str | None,
    after: str,
    detail: str,
) -> NewEvent:
    return (ts, order_id, change.item_id, kind, before, after, None, detail, None, None)
