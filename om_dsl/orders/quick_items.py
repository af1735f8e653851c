"""The items of an order for the quick readers (:mod:`~om_dsl.orders.quick` for native orders,
:mod:`~om_dsl.orders.quick_tmf` for TMF622 ones): each item, given in the native shape, read
on its own, then their reliesOn links together.  Like the readers, it never reports: None sends
the order to the thorough reader.
"""

from __future__ import annotations

from typing import Any, TypeGuard

from om_dsl.graphs import find_cycles
from om_dsl.ir.models import ACTIONS
from om_dsl.orders.catalog_index import CatalogIndex
from om_dsl.orders.limits import Limits
from om_dsl.orders.models import OrderItem, Relationship
from om_dsl.orders.native import NativeItem
from om_dsl.orders.reserved import NO_ACCOUNT, reserved_item_id
from om_dsl.orders.trusted import maker

_ITEM_FIELDS = frozenset(NativeItem.model_fields)
_ACTIONS = frozenset(ACTIONS)
_new_item = maker(OrderItem)
_new_link = maker(Relationship)


def text(value: Any) -> TypeGuard[str]:
    """A non-empty string (``Field(min_length=1)`` of the native models)."""
    return type(value) is str and value != ""


def text_or_none(value: Any) -> bool:
    return value is None or type(value) is str


class Items:
    """The items of one order: each read on its own, then their reliesOn links together."""

    def __init__(self, index: CatalogIndex, limits: Limits, account: str | None) -> None:
        self.index = index
        self.limits = limits
        self.account = account
        self.relies: dict[str, list[str]] = {}
        self.deleted: set[str] = set()

    def read(self, raw: Any, where: str = "items") -> list[OrderItem] | None:
        """The items of the list at ``where`` (each in the native shape), or None."""
        if type(raw) is not list or not raw or len(raw) > self.limits.max_items:
            return None
        items: list[OrderItem] = []
        ids: set[str] = set()
        units, max_units = 0, self.limits.max_units
        for n, entry in enumerate(raw):
            item = self._item(entry, f"{where}[{n}]")
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
        if not text(item_id) or type(action) is not str or action not in _ACTIONS:
            return None
        if account == NO_ACCOUNT or reserved_item_id(item_id) is not None:
            return None  # reserved (O021)
        if type(quantity) is not int or not 1 <= quantity <= self.limits.max_quantity:
            return None
        named = raw.get("product")
        product = self.index.quick_offers.get(named) if type(named) is str else None
        links = self._links(item_id, raw["relationships"]) if "relationships" in raw else []
        values = self._values(product, raw.get("attributes", {}), raw.get("previous"), action)
        if product is None or links is None or values is None or not text_or_none(account):
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
            if link["type"] != "reliesOn" or not text(target):
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
