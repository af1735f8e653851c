"""The quick reader: a plain native order, validated in one pass over its parsed JSON.

The thorough reader (:mod:`~om_dsl.orders.native` -> :mod:`~om_dsl.orders.drafts` ->
:mod:`~om_dsl.orders.validate`) is the specification.  It finds every problem of an order at
once, each with its JSON path, so it copies the document into models, keeps a path for every
value and resolves every name with its alias: some 20 us per item.  Most orders have no
problem at all and need none of that bookkeeping.

This reader walks a native order's JSON once, with per-product tables built once per catalog
(:class:`~om_dsl.orders.catalog_index.QuickTable`), and returns the :class:`Order` the
thorough reader would, or None as soon as anything is unusual: a problem, a doubt, or a case
it leaves to the thorough reader (bundles and nested items, whose rules are checked there
only).  Then the thorough reader runs and reports.  It never reports anything itself, so it
can never word a problem differently; ``tests/decomposition`` checks that whatever it accepts
the thorough reader accepts with the same result (goldens, bad orders and random orders).
"""

from __future__ import annotations

from typing import Any, TypeGuard

from om_dsl.graphs import find_cycles
from om_dsl.ir.models import ACTIONS
from om_dsl.orders.catalog_index import CatalogIndex
from om_dsl.orders.limits import Limits
from om_dsl.orders.models import Order, OrderItem, Relationship
from om_dsl.orders.native import NativeItem, NativeOrder
from om_dsl.orders.reserved import NO_ACCOUNT, reserved_item_id
from om_dsl.orders.tmf622 import is_tmf622
from om_dsl.orders.trusted import maker

_ORDER_FIELDS = frozenset(NativeOrder.model_fields)
_ITEM_FIELDS = frozenset(NativeItem.model_fields)
_TEXT_FIELDS = ("external_id", "account", "customer", "priority", "category")
_ACTIONS = frozenset(ACTIONS)
_new_item = maker(OrderItem)
_new_link = maker(Relationship)


def read_quick(data: Any, index: CatalogIndex, limits: Limits) -> Order | None:
    """The validated order, or None when the thorough reader must look (see above)."""
    if type(data) is not dict or is_tmf622(data) or not data.keys() <= _ORDER_FIELDS:
        return None
    if not _text(data.get("id")) or not all(_text_or_none(data.get(f)) for f in _TEXT_FIELDS):
        return None
    if data.get("account") == NO_ACCOUNT:  # reserved (O021)
        return None
    notify = data.get("notify", [])
    if type(notify) is not list or not all(type(url) is str for url in notify):
        return None
    attributes = data.get("attributes", {})
    values = index.quick_order.values(attributes) if type(attributes) is dict else None
    order_values = None if values is None else index.quick_order.complete(values)
    items = _Items(index, limits, data.get("account")).read(data.get("items"))
    if order_values is None or items is None:
        return None
    return Order(
        id=data["id"],
        external_id=data.get("external_id"),
        format="native",
        account=data.get("account"),
        customer=data.get("customer"),
        priority=data.get("priority"),
        category=data.get("category"),
        attributes=order_values,
        items=items,
        notify=list(notify),
    )


def _text(value: Any) -> TypeGuard[str]:
    """A non-empty string (``Field(min_length=1)`` of the native models)."""
    return type(value) is str and value != ""


def _text_or_none(value: Any) -> bool:
    return value is None or type(value) is str


class _Items:
    """The items of one order: each read on its own, then their reliesOn links together."""

    def __init__(self, index: CatalogIndex, limits: Limits, account: str | None) -> None:
        self.index = index
        self.limits = limits
        self.account = account
        self.relies: dict[str, list[str]] = {}
        self.deleted: set[str] = set()

    def read(self, raw: Any) -> list[OrderItem] | None:
        if type(raw) is not list or not raw or len(raw) > self.limits.max_items:
            return None
        items: list[OrderItem] = []
        ids: set[str] = set()
        units, max_units = 0, self.limits.max_units
        for n, entry in enumerate(raw):
            item = self._item(entry, f"items[{n}]")
            if item is None or item.id in ids:
                return None
            units += item.quantity
            if units > max_units:  # too many units in all (O040)
                return None
            ids.add(item.id)
            items.append(item)
        return items if self._relies_ok(ids) else None

    def _item(self, raw: Any, path: str) -> OrderItem | None:
        """One item, or None (the fields in the order of :class:`OrderItem`)."""
        if type(raw) is not dict or not raw.keys() <= _ITEM_FIELDS:
            return None
        if "children" in raw and raw["children"] != []:  # a bundle's parts: left to the
            return None  # thorough reader (no empty list made per item to compare with)
        item_id, action = raw.get("id"), raw.get("action", "add")
        quantity, account = raw.get("quantity", 1), raw.get("account")
        if not _text(item_id) or type(action) is not str or action not in _ACTIONS:
            return None
        if account == NO_ACCOUNT or reserved_item_id(item_id) is not None:
            return None  # reserved (O021)
        if type(quantity) is not int or not 1 <= quantity <= self.limits.max_quantity:
            return None
        text = raw.get("product")
        product = self.index.quick_offers.get(text) if type(text) is str else None
        links = self._links(item_id, raw["relationships"]) if "relationships" in raw else []
        values = self._values(product, raw.get("attributes", {}), raw.get("previous"), action)
        if product is None or links is None or values is None or not _text_or_none(account):
            return None
        if action == "delete":
            self.deleted.add(item_id)
        fields: dict[str, Any] = {  # one literal: update(**kw) made a dict per call
            "id": item_id,
            "action": action,
            "product": product,
            "attributes": values[0],
            "previous": values[1],
            "quantity": quantity,
            "parent": None,
            "relationships": links,
            "account": account or self.account,
            "path": path,
        }
        return _new_item(fields)

    def _values(
        self, product: str | None, given: Any, previous: Any, action: str
    ) -> tuple[dict[str, Any], dict[str, Any] | None] | None:
        """The item's values with defaults, and its previous values (modify only)."""
        if product is None or type(given) is not dict:
            return None
        table = self.index.quick_tables[product]
        values = table.values(given)
        complete = None if values is None else table.complete(values)
        if previous is None or complete is None:
            return None if complete is None else (complete, None)
        before = table.values(previous) if type(previous) is dict else None
        return None if before is None or action != "modify" else (complete, before)

    def _links(self, item_id: str, raw: Any) -> list[Relationship] | None:
        """reliesOn links (recorded for the checks that need every item); a ``bundles`` link
        is a bundle, left to the thorough reader."""
        if type(raw) is not list:
            return None
        links: list[Relationship] = []
        for link in raw:
            if type(link) is not dict or link.keys() != {"type", "id"}:
                return None
            target = link["id"]
            if link["type"] != "reliesOn" or not _text(target):
                return None
            targets = self.relies.setdefault(item_id, [])
            if target not in targets:
                targets.append(target)
            links.append(_new_link({"type": "reliesOn", "id": target}))
        return links

    def _relies_ok(self, ids: set[str]) -> bool:
        """Every link to another item of the order, no cycle, and nothing that stays relies
        on an item this order deletes."""
        for item_id, targets in self.relies.items():
            if item_id in targets or not ids.issuperset(targets):
                return False
            if item_id not in self.deleted and not self.deleted.isdisjoint(targets):
                return False
        return not find_cycles(self.relies)
