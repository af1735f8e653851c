"""The quick reader for TMF622 ProductOrders: a plain one read in one pass over its parsed JSON.

The thorough TMF622 reader (:mod:`~om_dsl.orders.tmf622` -> :mod:`~om_dsl.orders.validate`)
validates the document into pydantic models and keeps a JSON path for every value: some 45 us
per item, five times a native order's quick read.  This reader takes the common case, an
order whose items each name one offer or bundle (bundles by ``bundles`` relationships or by
nested items), and gives the :class:`Order` the thorough reader would, or None as soon as
anything is unusual (a problem, a doubt, a reference that does not name exactly one product).
It translates each item into the native shape (nested items into ``children``) and lets
:class:`~om_dsl.orders.quick_items.Items` read it, so both quick readers check items alike; it
never reports, and ``tests/decomposition`` checks that whatever it accepts the thorough reader
accepts with the same result.

The fields read here must have their TMF types as the thorough reader's models say (strict:
strings stay strings); unknown fields are ignored, as there.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

from om_dsl.orders.catalog_index import CatalogIndex
from om_dsl.orders.dates import is_date_time_or_none
from om_dsl.orders.drafts import ProductRef, RefKind
from om_dsl.orders.limits import Limits
from om_dsl.orders.models import Order
from om_dsl.orders.quick_items import Items, text, text_or_none
from om_dsl.orders.reserved import NO_ACCOUNT
from om_dsl.orders.tmf622 import (
    ITEM_ARRAYS,
    ORDER_ARRAYS,
    PRODUCT_ARRAYS,
    client_fields,
    derived_id,
    is_customer,
    single_account,
)
from om_dsl.orders.trusted import maker

# Final: compiled (om_dsl.accel), a plain module global is a dict look-up on every use.
_ORDER_TEXT: Final = ("id", "externalId", "priority", "category")
_ORDER_DATES: Final = ("requestedStartDate", "requestedCompletionDate")
_PARTY_TEXT: Final = ("id", "role", "@referredType")
_OFFERING_REFS: Final[tuple[tuple[str, RefKind], ...]] = (
    ("id", "offering_id"),
    ("name", "offering_name"),
)
_MEMO_LIMIT: Final = 10_000
_new_order: Final = maker(Order)
_SPEC_REFS: Final[tuple[tuple[str, RefKind], ...]] = (("id", "spec_id"), ("name", "spec_name"))


def read_quick_tmf(data: dict[str, Any], index: CatalogIndex, limits: Limits) -> Order | None:
    """The validated order, or None when the thorough reader must look (see above)."""
    if not all(text_or_none(data.get(f)) for f in _ORDER_TEXT):
        return None
    if not all(is_date_time_or_none(data.get(f)) for f in _ORDER_DATES):
        return None
    if not _arrays(data, ORDER_ARRAYS):
        return None
    raw_items = data.get("productOrderItem")
    parties_ok, customer = _customer(data.get("relatedParty", []))
    order_ref = _ref(data.get("billingAccount"))
    chars = _characteristics(data.get("characteristic", []))
    if type(raw_items) is not list or not parties_ok or order_ref is None or chars is None:
        return None
    translated = _items(raw_items, index)
    if translated is None:
        return None
    account = order_ref.get("id") or single_account(_accounts(translated))
    if account == NO_ACCOUNT:  # reserved (O021)
        return None
    values = index.quick_order.values(chars)
    order_values = None if values is None else index.quick_order.complete(values)
    items = Items(index, limits, account, "productOrderItem").read(translated, "productOrderItem")
    if order_values is None or items is None:
        return None
    client, client_items = client_fields(data)
    return _new_order(  # checked values: made as the native reader's (quick._new_order)
        {
            "id": data.get("id") or derived_id(data),
            "external_id": data.get("externalId"),
            "format": "tmf622",
            "account": account,
            "customer": customer,
            "priority": data.get("priority"),
            "category": data.get("category"),
            "requested_start_date": data.get("requestedStartDate"),
            "requested_completion_date": data.get("requestedCompletionDate"),
            "attributes": order_values,
            "items": items,
            "notify": [],
            "client": client,
            "client_items": client_items,
        }
    )


def _items(raw: Any, index: CatalogIndex) -> list[dict[str, Any]] | None:
    """The items in the native shape (nested ones in ``children``), or None."""
    if type(raw) is not list:
        return None
    items = []
    for entry in raw:
        item = _item(entry, index)
        if item is None:
            return None
        items.append(item)
    return items


def _accounts(items: list[dict[str, Any]]) -> Iterator[str | None]:
    """The account of every item, nested ones too, in document order."""
    for item in items:
        yield item.get("account")
        yield from _accounts(item.get("children", []))


def _item(raw: Any, index: CatalogIndex) -> dict[str, Any] | None:
    """The item in the native shape (product resolved to an offer's or a bundle's name), or
    None."""
    if type(raw) is not dict or not text(raw.get("id")) or type(raw.get("action")) is not str:
        return None
    if not _arrays(raw, ITEM_ARRAYS):
        return None
    nested = raw.get("productOrderItem", [])
    parts = _items(nested, index) if nested != [] else []
    product = raw.get("product")
    if product is not None and type(product) is not dict:
        return None
    product = product or {}
    if not _arrays(product, PRODUCT_ARRAYS):
        return None
    chars = _characteristics(product.get("productCharacteristic", []))
    links = _links(raw.get("productOrderItemRelationship", []))
    account_ref = _ref(raw.get("billingAccount"))
    name = _offer(raw, product, index)
    if chars is None or links is None or account_ref is None or name is None or parts is None:
        return None
    item: dict[str, Any] = {
        "id": raw["id"],
        "action": raw["action"],
        "product": name,
        "attributes": chars,
        "relationships": links,
    }
    if "quantity" in raw:  # absent is 1; anything but a whole number is refused by Items
        item["quantity"] = raw["quantity"]
    if account_ref.get("id") is not None:
        item["account"] = account_ref["id"]
    if parts:
        item["children"] = parts
    return item


def _arrays(raw: dict[str, Any], names: tuple[str, ...]) -> bool:
    """Whether each of the TMF arrays ``names`` that ``raw`` has is an array (the thorough
    reader refuses any other value, ``null`` too)."""
    return all(type(raw.get(name, [])) is list for name in names)


def _offer(raw: dict[str, Any], product: dict[str, Any], index: CatalogIndex) -> str | None:
    """The offer or bundle every reference of the item names (one each, the same), or
    None.  Remembered per catalog: the items of an order name the same few offerings."""
    offering = _ref(raw.get("productOffering"))
    spec = _ref(product.get("productSpecification"))
    if offering is None or spec is None:
        return None
    key = (offering.get("id"), offering.get("name"), spec.get("id"), spec.get("name"))
    memo = index.quick_refs
    if key in memo:
        return memo[key]
    name = _resolve(offering, spec, index)
    if len(memo) < _MEMO_LIMIT:  # the texts come from clients: a bounded table
        memo[key] = name
    return name


def _resolve(offering: dict[str, Any], spec: dict[str, Any], index: CatalogIndex) -> str | None:
    refs = [ProductRef(kind, offering[f], "") for f, kind in _OFFERING_REFS if offering.get(f)]
    refs += [ProductRef(kind, spec[f], "") for f, kind in _SPEC_REFS if spec.get(f)]
    found = [index.resolve(ref) for ref in refs]
    if not found or any(names != found[0] or len(names) != 1 for names in found):
        return None
    return found[0][0]


def _ref(raw: Any) -> dict[str, Any] | None:
    """A reference (``{"id": ..., "name": ...}``, either may be absent or null); ``{}`` for
    none at all; None when it is not one."""
    if raw is None:
        return {}
    if type(raw) is not dict or not text_or_none(raw.get("id")):
        return None
    return raw if text_or_none(raw.get("name")) else None


def _characteristics(raw: Any) -> dict[str, Any] | None:
    """Name -> value of the characteristics (null is absent, but its name is checked), or
    None (a name given twice is the thorough reader's to report)."""
    if type(raw) is not list:
        return None
    out: dict[str, Any] = {}
    for char in raw:
        if type(char) is not dict or type(char.get("name")) is not str:
            return None
        if char["name"] in out:
            return None
        out[char["name"]] = char.get("value")
    return out


def _links(raw: Any) -> list[dict[str, Any]] | None:
    """The relationships in the native shape, as given: :class:`Items` checks them as it
    checks a native order's (a type it takes, a target that is text)."""
    if type(raw) is not list:
        return None
    links = []
    for link in raw:
        if type(link) is not dict:
            return None
        links.append({"type": link.get("relationshipType"), "id": link.get("id")})
    return links


def _customer(parties: Any) -> tuple[bool, str | None]:
    """Whether the related parties are as the thorough reader takes them, and the id of the
    first that is the customer (by ``@referredType`` or ``role``)."""
    if type(parties) is not list:
        return False, None
    for party in parties:
        if type(party) is not dict or "referred_type" in party:  # the field's own name: an alias
            return False, None
        if not all(text_or_none(party.get(f)) for f in _PARTY_TEXT):
            return False, None
    for party in parties:
        if is_customer(party.get("@referredType"), party.get("role")):
            return True, party.get("id")
    return True, None
