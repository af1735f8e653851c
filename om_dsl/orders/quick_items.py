"""The items of an order for the quick readers (:mod:`~om_dsl.orders.quick` for native orders,
:mod:`~om_dsl.orders.quick_tmf` for TMF622 ones): each item, given in the native shape, read
on its own, then their reliesOn links and bundles together (:mod:`.quick_bundles`).  Like the
readers, it never reports: None sends the order to the thorough reader.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, TypeGuard

from om_dsl.graphs import find_cycles
from om_dsl.ir.models import ACTIONS
from om_dsl.orders.catalog_index import CatalogIndex
from om_dsl.orders.limits import Limits
from om_dsl.orders.models import TAKES_RECORDED, OrderItem, Relationship
from om_dsl.orders.native import NativeItem
from om_dsl.orders.prerequisites import all_met
from om_dsl.orders.quick_bundles import Fields, bundle_parents
from om_dsl.orders.relations import RELATIONSHIP_TYPES
from om_dsl.orders.reserved import NO_ACCOUNT, reserved_item_id
from om_dsl.orders.trusted import maker

# Final: compiled (om_dsl.accel), a plain module global is a dict look-up on every use.
_ITEM_FIELDS: Final = frozenset(NativeItem.model_fields)
_ACTIONS: Final = frozenset(ACTIONS)
_LINKS: Final = frozenset(RELATIONSHIP_TYPES)
_new_item: Final = maker(OrderItem)
_new_link: Final = maker(Relationship)


def text(value: Any) -> TypeGuard[str]:
    """A non-empty string (``Field(min_length=1)`` of the native models)."""
    return type(value) is str and value != ""


def text_or_none(value: Any) -> bool:
    return value is None or type(value) is str


class Items:
    """The items of one order: each read on its own, then their links and bundles together."""

    def __init__(
        self, index: CatalogIndex, limits: Limits, account: str | None, nested: str = "children"
    ) -> None:
        self.index = index
        self.limits = limits
        self.account = account
        self.nested = nested
        """The field the parts of a bundle are under, as the document names it (its paths)."""
        self.relies: dict[str, list[str]] = {}
        self.deleted: set[str] = set()
        self.parent: dict[str, str] = {}
        """Part id -> the id of the bundle it is nested in."""
        self.bundles: list[tuple[str, str]] = []
        """(bundle id, part id) of every ``bundles`` link, in document order."""
        self.has_bundle = False
        """Whether an item is a bundle (checked even with no parts: it may need some)."""

    def read(self, raw: Any, where: str = "items") -> list[OrderItem] | None:
        """The items of the list at ``where`` (each in the native shape, a bundle's parts in
        ``children``), in document order (a bundle, then its parts), or None."""
        if type(raw) is not list or not raw:
            return None
        found: list[Fields] = []
        if not self._read(raw, where, None, found) or len(found) > self.limits.max_items:
            return None
        by_id: dict[str, Fields] = {}
        units, max_units = 0, self.limits.max_units
        for fields in found:
            if fields["id"] in by_id:
                return None
            units += fields["quantity"]
            if units > max_units:  # too many units in all (O040)
                return None
            by_id[fields["id"]] = fields
        if not self._relies_ok(by_id):
            return None
        if self.has_bundle or self.parent or self.bundles:
            parents = bundle_parents(by_id, self.parent, self.bundles, self.index.quick_includes)
            if parents is None:
                return None
            for fields in found:
                fields["parent"] = parents.get(fields["id"])
        if self.index.requires and not all_met(
            ((f["id"], f["product"], f["action"]) for f in found), self.index.requires
        ):  # O044, O045
            return None
        return [_new_item(fields) for fields in found]

    def _read(self, raw: list[Any], where: str, parent: str | None, out: list[Fields]) -> bool:
        """Each item of ``raw`` then its parts (the thorough reader's order), into ``out``."""
        for n, entry in enumerate(raw):
            path = f"{where}[{n}]"
            fields = self._item(entry, path)
            if fields is None:
                return False
            out.append(fields)
            if parent is not None:
                self.parent[fields["id"]] = parent
            parts = entry.get("children", [])
            if type(parts) is not list or len(out) > self.limits.max_items:
                return False
            if parts and not self._read(parts, f"{path}.{self.nested}", fields["id"], out):
                return False
        return True

    def _item(self, raw: Any, path: str) -> Fields | None:
        """One item's fields (in the order of :class:`OrderItem`; ``parent`` is settled once
        every item is read), or None."""
        if type(raw) is not dict or not raw.keys() <= _ITEM_FIELDS:
            return None
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
        if product in self.index.quick_includes:
            self.has_bundle = True
        return {  # one literal: update(**kw) made a dict per call
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
            "defaulted": values[2],
        }

    def _values(
        self, product: str | None, given: Any, previous: Any, action: str
    ) -> tuple[dict[str, Any], dict[str, Any] | None, tuple[str, ...]] | None:
        """The item's values with defaults, its previous values (modify only), and which
        values are defaults (modify, delete and noChange: :attr:`OrderItem.defaulted`)."""
        if product is None or type(given) is not dict:
            return None
        table = self.index.quick_tables[product]
        values = table.values(given)
        complete = None if values is None else table.complete(values)
        if complete is None or values is None:
            return None
        defaulted: tuple[str, ...] = ()
        if action in TAKES_RECORDED:
            defaulted = tuple(n for n in complete if n not in values)
        if previous is None:
            return complete, None, defaulted
        before = table.previous(previous) if type(previous) is dict else None
        return None if before is None or action != "modify" else (complete, before, defaulted)

    def _links(self, item_id: str, raw: Any) -> list[Relationship] | None:
        """The item's links, each recorded for the checks that need every item."""
        if type(raw) is not list:
            return None
        links: list[Relationship] = []
        for link in raw:
            if type(link) is not dict or link.keys() != {"type", "id"}:
                return None
            kind, target = link["type"], link["id"]
            if type(kind) is not str or kind not in _LINKS or not text(target):
                return None
            if kind == "bundles":
                self.bundles.append((item_id, target))
            else:
                targets = self.relies.setdefault(item_id, [])
                if target not in targets:
                    targets.append(target)
            links.append(_new_link({"type": kind, "id": target}))
        return links

    def _relies_ok(self, ids: Mapping[str, Fields]) -> bool:
        """Every link to another item of the order (``ids``: the items by id), no cycle, and
        nothing that stays relies on an item this order deletes."""
        for item_id, targets in self.relies.items():
            if item_id in targets or not all(target in ids for target in targets):
                return False
            if item_id not in self.deleted and not self.deleted.isdisjoint(targets):
                return False
        return not find_cycles(self.relies)
