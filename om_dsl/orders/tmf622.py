"""Reading a TMF622 v4 ProductOrder: the fields decomposition needs, every other field kept
aside for the client.

TMF payloads carry prices, payments, notes, states and vendor extensions (``@type``,
``@schemaLocation``) that say nothing about the technical work, so decomposition ignores
unknown fields; the fields read here must have their TMF types (strings stay strings:
``"quantity": "1"`` is an error, not a guess).  What the client sent is kept as it is
(:func:`client_fields`), less what the server owns, because a TMF622 resource shows it back.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any, ClassVar, Final

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from om_dsl.orders.dates import DateTimeText
from om_dsl.orders.drafts import DraftItem, DraftOrder, Link, ProductRef, Value
from om_dsl.orders.issues import IssueLog, Path, index, key
from om_dsl.orders.shapes import Layout, SoundItem, salvage

_LAYOUT = Layout(
    items="productOrderItem",
    nested="productOrderItem",
    catalog_fields=("productOffering", "product"),
    stand_ins={"id": "?", "action": "add"},
)


class _Tmf(BaseModel):
    """Missing lists default through ``default_factory``: pydantic deep-copies a ``= []``
    default for every instance, which was 40 ms of a 10k-item order's validation."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True, populate_by_name=True)
    what: ClassVar[str] = ""
    """What an object in this place stands for, in a message (see :mod:`.shape_errors`)."""


class TmfRef(_Tmf):
    """productOffering, productSpecification, billingAccount: an id and/or a name."""

    what: ClassVar[str] = "a reference, with an id or a name"

    id: str | None = None
    name: str | None = None


class TmfCharacteristic(_Tmf):
    what: ClassVar[str] = "a characteristic, with a name and a value"
    name: str
    value: Any = None


class TmfProduct(_Tmf):
    what: ClassVar[str] = "a product, with productCharacteristic and productSpecification"
    productCharacteristic: list[TmfCharacteristic] = Field(default_factory=list)
    productSpecification: TmfRef | None = None
    # TMF622 arrays the decomposition does not read: checked to be arrays (see ORDER_ARRAYS)
    agreement: list[Any] = Field(default_factory=list)
    place: list[Any] = Field(default_factory=list)
    product: list[Any] = Field(default_factory=list)
    productOrderItem: list[Any] = Field(default_factory=list)
    productPrice: list[Any] = Field(default_factory=list)
    productRelationship: list[Any] = Field(default_factory=list)
    productTerm: list[Any] = Field(default_factory=list)
    realizingResource: list[Any] = Field(default_factory=list)
    realizingService: list[Any] = Field(default_factory=list)
    relatedParty: list[Any] = Field(default_factory=list)


class TmfRelationship(_Tmf):
    what: ClassVar[str] = "a relationship, with an id and a relationshipType"
    id: str
    relationshipType: str


class TmfItem(_Tmf):
    what: ClassVar[str] = "an order item"
    id: str = Field(min_length=1)  # as a native item's: "" would make a request "fr:"
    action: str
    quantity: int = 1
    product: TmfProduct | None = None
    productOffering: TmfRef | None = None
    billingAccount: TmfRef | None = None
    productOrderItemRelationship: list[TmfRelationship] = Field(default_factory=list)
    productOrderItem: list[TmfItem] = Field(default_factory=list)
    itemPrice: list[Any] = Field(default_factory=list)
    itemTerm: list[Any] = Field(default_factory=list)
    itemTotalPrice: list[Any] = Field(default_factory=list)
    payment: list[Any] = Field(default_factory=list)
    qualification: list[Any] = Field(default_factory=list)


class TmfParty(_Tmf):
    what: ClassVar[str] = "a party, with an id and a role"
    id: str | None = None
    role: str | None = None
    referred_type: str | None = Field(None, alias="@referredType")


class TmfOrder(_Tmf):
    id: str | None = None
    externalId: str | None = None
    priority: str | None = None
    category: str | None = None
    requestedStartDate: DateTimeText | None = None
    requestedCompletionDate: DateTimeText | None = None
    billingAccount: TmfRef | None = None
    relatedParty: list[TmfParty] = Field(default_factory=list)
    productOrderItem: list[TmfItem] = Field(min_length=1)
    characteristic: list[TmfCharacteristic] = Field(default_factory=list)
    """An om_dsl extension: values for the catalog's ``order { ... }`` attributes."""
    agreement: list[Any] = Field(default_factory=list)
    channel: list[Any] = Field(default_factory=list)
    note: list[Any] = Field(default_factory=list)
    orderTotalPrice: list[Any] = Field(default_factory=list)
    payment: list[Any] = Field(default_factory=list)
    productOfferingQualification: list[Any] = Field(default_factory=list)
    quote: list[Any] = Field(default_factory=list)


ORDER_ARRAYS: Final = (
    "agreement", "channel", "note", "orderTotalPrice", "payment",
    "productOfferingQualification", "quote", "relatedParty", "productOrderItem",
)  # fmt: skip
"""The arrays of TMF622's ProductOrder (swagger v4.0.0).  Every one is checked to be an
array, whether decomposition reads it or not: ``"note": {"text": ...}`` used to be taken
and shown back as sent, while ``relatedParty`` as an object was refused (O012).  The
models above declare the same names; ``tests/service`` compares both lists with the swagger."""
ITEM_ARRAYS: Final = (
    "itemPrice", "itemTerm", "itemTotalPrice", "payment", "productOrderItem",
    "productOrderItemRelationship", "qualification",
)  # fmt: skip
"""The arrays of TMF622's ProductOrderItem."""
PRODUCT_ARRAYS: Final = (
    "agreement", "place", "product", "productCharacteristic", "productOrderItem",
    "productPrice", "productRelationship", "productTerm", "realizingResource",
    "realizingService", "relatedParty",
)  # fmt: skip
"""The arrays of TMF622's Product (an item's ``product``)."""


ORDER_OWNED = frozenset(
    {"id", "href", "state", "orderDate", "completionDate", "expectedCompletionDate",
     "cancellationDate", "cancellationReason", "productOrderItem"}
)  # fmt: skip
"""ProductOrder attributes the server sets (TMF622: read-only on create, or said once the order
is cancelled, from the cancel), never echoed.  ``@type`` is the client's: a CPQ's subclass
(``CpqProductOrder``) is shown back as sent."""
ITEM_OWNED = frozenset({"id", "action", "state", "productOrderItem"})
"""ProductOrderItem attributes the view writes itself (nested items: see :func:`client_fields`)."""
NESTED = "productOrderItem"
ORDER_TYPE, ITEM_TYPE = "ProductOrder", "ProductOrderItem"
"""The ``@type`` the views give an order and an item that came without one: sent back (a
CRM that posts or patches back what it read), it is the server's word, not the client's."""


def _sent(fields: dict[str, Any], default: str) -> dict[str, Any]:
    """``fields`` without an ``@type`` that only repeats the view's default: a GET body posted
    back was a new order (``po-`` ids) or a clash, and a PATCH of it an amendment of ``@type``."""
    if fields.get("@type") == default:
        return {k: v for k, v in fields.items() if k != "@type"}
    return fields


def client_fields(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The order's and each item's fields as the client sent them, less what the server owns.

    A bundle item that nests items keeps ``productOrderItem`` as the list of their ids, in the
    place the client wrote it: the view puts the nested items' views back there, so that a
    GET gives the hierarchy the client sent (and a GET -> PATCH round trip keeps it).  It used
    to list every item side by side, and the bundle lost its parts.

    The values are the parsed JSON's own objects, not copies: an order is read once and they
    are never changed.
    """
    order = _sent({k: v for k, v in data.items() if k not in ORDER_OWNED}, ORDER_TYPE)
    items: dict[str, dict[str, Any]] = {}
    stack = [data.get(NESTED, [])]
    while stack:
        for item in stack.pop():
            kept = {k: (_ids(v) if k == NESTED else v) for k, v in item.items()
                    if k not in ITEM_OWNED or (k == NESTED and v)}  # fmt: skip
            items[item["id"]] = _sent(kept, ITEM_TYPE)
            stack.append(item.get(NESTED, []))
    return order, items


def _ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["id"] for item in items]


def is_tmf622(data: dict[str, Any]) -> bool:
    return "productOrderItem" in data or data.get("@type") == "ProductOrder"


def read_tmf622(data: dict[str, Any], log: IssueLog) -> DraftOrder:
    """The draft of a TMF622 ProductOrder; when its shape is wrong, the shape errors go to
    ``log`` and the draft holds what is well formed (see :mod:`.shapes`)."""
    try:
        order = TmfOrder.model_validate(data)
    except ValidationError as exc:
        return _partial(data, exc, log)
    items: list[DraftItem] = []
    _items(order.productOrderItem, "productOrderItem", None, items)
    client, client_items = client_fields(data)
    return DraftOrder(
        format="tmf622",
        id=order.id or derived_id(data),
        items=items,
        values=_characteristics(order.characteristic, "characteristic"),
        values_path="characteristic",
        external_id=order.externalId,
        account=_account(order, items),
        account_path="billingAccount.id"
        if order.billingAccount and order.billingAccount.id
        else None,
        customer=_customer(order.relatedParty),
        priority=order.priority,
        category=order.category,
        requested_start_date=order.requestedStartDate,
        requested_completion_date=order.requestedCompletionDate,
        client=client,
        client_items=client_items,
    )


def _partial(data: dict[str, Any], exc: ValidationError, log: IssueLog) -> DraftOrder:
    found = salvage(data, exc, log, TmfOrder, _LAYOUT, _sound_item)
    chars = data.get("characteristic", []) if found.faults.field_ok("characteristic") else []
    return DraftOrder(
        format="tmf622",
        id="",
        items=found.items,
        values=_characteristics(
            [TmfCharacteristic.model_validate(c) for c in chars], "characteristic"
        ),
        values_path="characteristic",
        unread=found.unread,
    )


def _sound_item(item: SoundItem) -> DraftItem:
    return _item(TmfItem.model_validate(item.raw), item.path, item.parent)


NO_ID = ("", None)
"""The ids of a TMF622 order that mean "none yet": some clients send ``"id": ""`` on create."""


def derived_id(data: dict[str, Any]) -> str:
    """A create request has no id yet; the same order always gets the same one
    (``po-`` + the first 16 hex digits of :func:`content_digest`)."""
    return "po-" + content_digest(data)[:16]


def content_digest(data: dict[str, Any]) -> str:
    """The SHA-256 (hex) of what the server keeps of an order: its identity, as a CRM's
    retry sends it again.

    Left out: the order's ``id`` (an order without one gets its id from this digest, and a
    clash of client ids is told apart by it), every attribute the server owns and discards
    (:data:`ORDER_OWNED`: ``href``, ``state``, ``orderDate``, ...; each item's ``state``,
    at any depth), each note's ``date``, and an ``@type`` that is the views' default
    (``ProductOrder``, ``ProductOrderItem``: a GET body posted back).  A CRM that retries
    rebuilds its request, and stamps ``orderDate`` or a note's ``date`` with the time of the
    retry: with them in the hash, each retry of one order was a new order with a new id.  A
    note's text, author and id are the client's content and count; so does everything else
    the client sent.
    """
    canonical = json.dumps(_kept(data), sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _kept(data: dict[str, Any]) -> dict[str, Any]:
    kept = _sent({k: v for k, v in data.items() if k not in ORDER_OWNED or k == NESTED}, ORDER_TYPE)
    if isinstance(kept.get("note"), list):
        kept["note"] = [_undated(note) for note in kept["note"]]
    if isinstance(kept.get(NESTED), list):
        kept[NESTED] = [_stateless(item) for item in kept[NESTED]]
    return kept


def _undated(note: Any) -> Any:
    return {k: v for k, v in note.items() if k != "date"} if isinstance(note, dict) else note


def _stateless(item: Any) -> Any:
    """An item without its ``state`` (the server's), nested items too."""
    if not isinstance(item, dict):
        return item
    kept = _sent({k: v for k, v in item.items() if k != "state"}, ITEM_TYPE)
    if isinstance(kept.get(NESTED), list):
        kept[NESTED] = [_stateless(part) for part in kept[NESTED]]
    return kept


def _items(items: list[TmfItem], path: Path, parent: str | None, out: list[DraftItem]) -> None:
    for i, item in enumerate(items):
        here = index(path, i)
        out.append(_item(item, here, parent))
        _items(item.productOrderItem, key(here, "productOrderItem"), item.id, out)


def _item(item: TmfItem, path: Path, parent: str | None) -> DraftItem:
    product_path = key(path, "product")
    chars_path = key(product_path, "productCharacteristic")
    chars = item.product.productCharacteristic if item.product else []
    return DraftItem(
        id=item.id,
        path=path,
        action=item.action,
        quantity=item.quantity,
        refs=_refs(item, path),
        values=_characteristics(chars, chars_path),
        values_path=chars_path,
        nested_in=parent,
        links=[
            Link(
                r.relationshipType,
                r.id,
                index(key(path, "productOrderItemRelationship"), j),
                "relationshipType",
            )
            for j, r in enumerate(item.productOrderItemRelationship)
        ],
        account=item.billingAccount.id if item.billingAccount else None,
    )


def _refs(item: TmfItem, path: Path) -> list[ProductRef]:
    """Offering id, offering name, spec id, spec name: the order the catalog is searched in."""
    refs: list[ProductRef] = []
    offering, offering_path = item.productOffering, key(path, "productOffering")
    if offering is not None:
        if offering.id:
            refs.append(ProductRef("offering_id", offering.id, key(offering_path, "id")))
        if offering.name:
            refs.append(ProductRef("offering_name", offering.name, key(offering_path, "name")))
    spec = item.product.productSpecification if item.product else None
    spec_path = key(key(path, "product"), "productSpecification")
    if spec is not None:
        if spec.id:
            refs.append(ProductRef("spec_id", spec.id, key(spec_path, "id")))
        if spec.name:
            refs.append(ProductRef("spec_name", spec.name, key(spec_path, "name")))
    return refs


def _characteristics(chars: list[TmfCharacteristic], path: Path) -> list[Value]:
    return [
        Value(c.name, c.value, key(index(path, i), "value"), key(index(path, i), "name"))
        for i, c in enumerate(chars)
    ]


def _account(order: TmfOrder, items: list[DraftItem]) -> str | None:
    """The order's billing account; else the one account its items name, if they agree."""
    if order.billingAccount and order.billingAccount.id:
        return order.billingAccount.id
    return single_account(i.account for i in items)


def single_account(accounts: Iterable[str | None]) -> str | None:
    """The one account items name (blanks aside), or None when they name none or disagree."""
    named = {a for a in accounts if a}
    return named.pop() if len(named) == 1 else None


def _customer(parties: list[TmfParty]) -> str | None:
    for party in parties:
        if is_customer(party.referred_type, party.role):
            return party.id
    return None


def is_customer(referred_type: str | None, role: str | None) -> bool:
    """Whether a related party is the order's customer (by ``@referredType`` or ``role``)."""
    return (referred_type or "").lower() == "customer" or (role or "").lower() == "customer"
