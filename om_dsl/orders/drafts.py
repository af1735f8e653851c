"""The format-neutral shape of an order between reading it and validating it against a catalog.

The TMF622 and native readers both produce a :class:`DraftOrder`: the same facts, each with
the JSON path it came from, so that catalog validation is written once and every issue points
into the document the client actually sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from om_dsl.orders.issues import Path
from om_dsl.orders.models import OrderFormat

RefKind = Literal["name", "offering_id", "offering_name", "spec_id", "spec_name"]


@dataclass(frozen=True, slots=True)
class ProductRef:
    """One way the document names the product; the first that matches the catalog wins."""

    kind: RefKind
    text: str
    path: Path


@dataclass(frozen=True, slots=True)
class Value:
    """An attribute value as written: ``name`` may be an attribute's name or its alias."""

    name: str
    value: Any
    path: Path
    name_path: Path


@dataclass(frozen=True, slots=True)
class Link:
    type: str
    id: str
    path: Path
    type_key: str = "type"
    """The name of the type field in the document (``relationshipType`` in TMF622)."""


@dataclass(slots=True)
class DraftItem:
    id: str
    path: Path
    action: str
    quantity: int
    refs: list[ProductRef]
    values: list[Value]
    values_path: Path
    previous: list[Value] | None = None
    previous_path: Path = ""
    nested_in: str | None = None
    """The item this one is nested in (``children`` / nested ``productOrderItem``)."""
    links: list[Link] = field(default_factory=list)
    account: str | None = None


@dataclass(slots=True)
class Unread:
    """The items left out of the catalog checks because their own shape is wrong.

    Their shape errors are reported already.  The other checks use this not to blame their
    absence: a relationship to one of them, or a bundle that seems to lack one, would be an
    echo of the shape error, not a problem of its own.
    """

    ids: set[str] = field(default_factory=set)
    """Their ids as written (a number as its digits)."""
    anonymous: bool = False
    """One of them has no usable id, so any relationship to a missing item may mean it."""
    parents: set[str] = field(default_factory=set)
    """The well-formed items they are nested in: bundles whose parts are not all known."""
    actions: list[tuple[str, Path]] = field(default_factory=list)
    """Their actions that are text, with paths: an unknown action is reported all the same."""
    drafts: list[DraftItem] = field(default_factory=list)
    """Those whose product and attribute values are well formed, read with stand-ins for
    the rest: checked against the catalog for the product and the values alone."""
    count: int = 0

    def may_be(self, item_id: str) -> bool:
        """Whether a relationship to ``item_id``, an id not in the order, may mean one of them."""
        return self.anonymous or item_id in self.ids


@dataclass(slots=True)
class DraftOrder:
    format: OrderFormat
    id: str
    items: list[DraftItem]
    values: list[Value] = field(default_factory=list)
    values_path: Path = "attributes"
    external_id: str | None = None
    account: str | None = None
    account_path: Path | None = None
    """Where the order names its own account (None: it does not, or it came from the items)."""
    customer: str | None = None
    priority: str | None = None
    category: str | None = None
    requested_start_date: str | None = None
    requested_completion_date: str | None = None
    notify: list[str] = field(default_factory=list)
    client: dict[str, Any] = field(default_factory=dict)
    client_items: dict[str, dict[str, Any]] = field(default_factory=dict)
    unread: Unread = field(default_factory=Unread)
    """Items whose shape is wrong; a draft with any is never turned into an order (its shape
    errors come first), only checked for more problems."""
