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
class DraftOrder:
    format: OrderFormat
    id: str
    items: list[DraftItem]
    values: list[Value] = field(default_factory=list)
    values_path: Path = "attributes"
    external_id: str | None = None
    account: str | None = None
    customer: str | None = None
    priority: str | None = None
    category: str | None = None
    notify: list[str] = field(default_factory=list)
