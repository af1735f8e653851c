"""TMF637 v4 events about the products of the inventory: ``ProductCreateEvent`` (a product
first recorded), ``ProductAttributeValueChangeEvent`` (its values changed: a ``modify``, a
plan's ``record``; ``fieldPath`` names the TMF637 fields) and ``ProductStateChangeEvent`` (its
status changed: ``active`` -> ``terminated`` on a ``delete``).  There is no
``ProductDeleteEvent``: the inventory never deletes a product (a ``delete`` terminates it, and
``om prune`` keeps products).

Each comes from one event-log row the store wrote in the commit that changed the product
(:mod:`om_dsl.runtime.store.product_log`), and shows the product as that commit left it (the
version kept with the row), in the view ``GET /productInventory/v4/product/{id}`` answers
(:func:`~om_dsl.runtime.inventory_view.product_view`).  Its ``eventId`` is the row's, as a
TMF622 event's (:func:`~.tmf_text.event_id`): stable across redeliveries, never reused after a
restore.  ``correlationId`` is the id of the order whose completion changed the product.
"""

from __future__ import annotations

from typing import Any

from om_dsl.orders.inventory import STATUSES, InventoryProduct
from om_dsl.runtime.inventory_view import product_view
from om_dsl.runtime.notify.tmf_text import event_id, iso
from om_dsl.runtime.store.base import EventRow, Store
from om_dsl.runtime.store.product_log import (
    PRODUCT_CHANGED,
    PRODUCT_CREATED,
    PRODUCT_STATUS,
    field_path,
)

CREATE_EVENT = "ProductCreateEvent"
ATTRIBUTE_CHANGE_EVENT = "ProductAttributeValueChangeEvent"
STATE_CHANGE_EVENT = "ProductStateChangeEvent"
EVENT_TYPES = {
    PRODUCT_CREATED: CREATE_EVENT,
    PRODUCT_CHANGED: ATTRIBUTE_CHANGE_EVENT,
    PRODUCT_STATUS: STATE_CHANGE_EVENT,
}
PRODUCT_EVENT_TYPES = frozenset(EVENT_TYPES.values())
PRODUCT_STATUSES = frozenset(STATUSES)
_TITLES = {
    PRODUCT_CREATED: "was recorded",
    PRODUCT_CHANGED: "changed",
    PRODUCT_STATUS: "is {status}",
}


class ProductEvents:
    """TMF637 events from the inventory's event-log rows (``notifications.products``)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.href_base: str | None = None
        """The product collection's URL (``<base>/productInventory/v4/product``): each
        product's ``href``; none when None.  The service sets its own, so that its answers
        and the events agree."""
        self.order_base: str | None = None
        """The order collection's URL: each ``productOrderItem``'s ``productOrderHref``."""

    def event(self, row: EventRow) -> dict[str, Any] | None:
        """The TMF637 event of an event-log row, or None (no product row, or a store that
        keeps no versions)."""
        event_type = EVENT_TYPES.get(row.kind)
        read = getattr(self._store, "product_version", None)
        product = read(row.seq) if event_type is not None and read is not None else None
        if event_type is None or not isinstance(product, InventoryProduct):
            return None
        view = product_view(product, self.href_base, self.order_base)
        return product_event(row, event_type, view, self._store.event_id_epoch)


def product_event(
    row: EventRow, event_type: str, view: dict[str, Any], epoch: str
) -> dict[str, Any]:
    """The TMF637 event of ``row`` about the product ``view`` (as the row left it)."""
    title = _TITLES[row.kind].format(status=view["status"])
    event: dict[str, Any] = {
        "eventId": event_id(row.seq, epoch),
        "eventTime": iso(row.ts),
        "eventType": event_type,
        "correlationId": row.order_id,
        "title": f"product {view['id']} {title}",
        "description": row.detail or "",
        "event": {"product": view},
    }
    if row.kind == PRODUCT_CHANGED:
        event["fieldPath"] = field_path(row.detail)
    return event
