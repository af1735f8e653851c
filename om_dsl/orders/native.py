"""The native order format: a small JSON document designed for om_dsl, published as JSON Schema.

It says what TMF622 says, with less ceremony: items name catalog products directly, attribute
values are a plain object, bundles nest their parts in ``children``, and ``previous`` gives the
values before a ``modify``.  Unknown fields are errors here (typos must not pass silently),
unlike TMF622, where extensions are common and ignored.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from om_dsl.ir.models import ACTIONS
from om_dsl.orders.dates import DateTimeText
from om_dsl.orders.drafts import DraftItem, DraftOrder, Link, ProductRef, Value
from om_dsl.orders.issues import IssueLog, Path, index, key
from om_dsl.orders.relations import RELATIONSHIP_TYPES
from om_dsl.orders.shapes import Layout, SoundItem, salvage

_LAYOUT = Layout(
    items="items",
    nested="children",
    catalog_fields=("product", "attributes", "previous"),
    stand_ins={"id": "?"},
)


_REQUESTED = "A date or a date-time (ISO 8601); rules and plans read its date."


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)
    what: ClassVar[str] = ""
    """What an object in this place stands for, in a message (see :mod:`.shape_errors`)."""


class NativeRelationship(_Strict):
    """``reliesOn``: this item relies on item ``id``; ``bundles``: item ``id`` is a part of it."""

    what: ClassVar[str] = "a relationship, with a type and an item id"
    # Text to the model, checked with the catalog checks (O050) like TMF622's relationshipType:
    # a typo gets a suggestion and does not keep the item out of the other checks.
    type: str = Field(json_schema_extra={"enum": list(RELATIONSHIP_TYPES)})
    id: str = Field(min_length=1)


class NativeItem(_Strict):
    """One order item: a catalog offer or bundle, with what to do with it."""

    what: ClassVar[str] = "an order item"
    id: str = Field(min_length=1, description="Unique within the order.")
    product: str = Field(
        min_length=1, description="The catalog name of an offer or bundle, or its offering id."
    )
    # Text to the model, checked with the catalog checks (O013), as in TMF622 (see ``type``).
    action: str = Field(
        "add",
        description="What to do; children of an add must be add.",
        json_schema_extra={"enum": list(ACTIONS)},
    )
    quantity: int = Field(
        1,
        description="Units; each unit gets its own technical lines.",
        json_schema_extra={"minimum": 1, "maximum": 1000},
    )
    account: str | None = Field(None, description="Billing account; the order's by default.")
    attributes: dict[str, Any] = Field(
        default_factory=dict, description="Values by attribute name (or alias); null = absent."
    )
    previous: dict[str, Any] | None = Field(
        None,
        description=(
            "modify only: the values before the change (unlisted = unchanged, null = had no value)."
        ),
    )
    children: list[NativeItem] = Field(
        default_factory=list, description="Items bundled in this one (the parts of a bundle)."
    )
    relationships: list[NativeRelationship] = Field(default_factory=list)


class NativeOrder(_Strict):
    """A commercial order in om_dsl's native format (``om schema order``)."""

    id: str = Field(min_length=1)
    external_id: str | None = None
    account: str | None = Field(None, description="The billing account of every item.")
    customer: str | None = None
    priority: str | None = None
    category: str | None = None
    requested_start_date: DateTimeText | None = Field(None, description=_REQUESTED)
    requested_completion_date: DateTimeText | None = Field(None, description=_REQUESTED)
    attributes: dict[str, Any] = Field(
        default_factory=dict, description="Values for the catalog's order { ... } attributes."
    )
    notify: list[str] = Field(default_factory=list, description="Listener URLs for events.")
    items: list[NativeItem] = Field(min_length=1)


def read_native(data: dict[str, Any], log: IssueLog) -> DraftOrder:
    """The draft of a native order; when its shape is wrong, the shape errors go to ``log``
    and the draft holds what is well formed (see :mod:`.shapes`)."""
    try:
        order = NativeOrder.model_validate(data)
    except ValidationError as exc:
        return _partial(data, exc, log)
    items: list[DraftItem] = []
    _items(order.items, "items", None, items)
    return DraftOrder(
        format="native",
        id=order.id,
        items=items,
        values=_values(order.attributes, "attributes"),
        values_path="attributes",
        external_id=order.external_id,
        account=order.account,
        account_path="account",
        customer=order.customer,
        priority=order.priority,
        category=order.category,
        requested_start_date=order.requested_start_date,
        requested_completion_date=order.requested_completion_date,
        notify=list(order.notify),
    )


def _partial(data: dict[str, Any], exc: ValidationError, log: IssueLog) -> DraftOrder:
    found = salvage(data, exc, log, NativeOrder, _LAYOUT, _sound_item)
    attributes = data.get("attributes", {}) if found.faults.field_ok("attributes") else {}
    return DraftOrder(
        format="native",
        id="",
        items=found.items,
        values=_values(attributes, "attributes"),
        unread=found.unread,
    )


def _sound_item(item: SoundItem) -> DraftItem:
    return _item(NativeItem.model_validate(item.raw), item.path, item.parent)


def _items(items: list[NativeItem], path: Path, parent: str | None, out: list[DraftItem]) -> None:
    for i, item in enumerate(items):
        here = index(path, i)
        out.append(_item(item, here, parent))
        _items(item.children, key(here, "children"), item.id, out)


def _item(item: NativeItem, path: Path, parent: str | None) -> DraftItem:
    previous = None if item.previous is None else _values(item.previous, key(path, "previous"))
    return DraftItem(
        id=item.id,
        path=path,
        action=item.action,
        quantity=item.quantity,
        refs=[ProductRef("name", item.product, key(path, "product"))],
        values=_values(item.attributes, key(path, "attributes")),
        values_path=key(path, "attributes"),
        previous=previous,
        previous_path=key(path, "previous"),
        nested_in=parent,
        links=[
            Link(r.type, r.id, index(key(path, "relationships"), j))
            for j, r in enumerate(item.relationships)
        ],
        account=item.account,
    )


def _values(values: dict[str, Any], path: Path) -> list[Value]:
    out = []
    for name, value in values.items():
        where = key(path, name)
        out.append(Value(name, value, where, where))
    return out
