"""Orders (what comes in) and fulfillment requests (what decomposition produces).

These models are the contract between decomposition, the plan builder, the runtime and the
renderer.  An :class:`Order` is the validated, catalog-resolved form of a TMF622 ProductOrder
or a native order; a :class:`Decomposition` is the technical work it implies.
"""

from __future__ import annotations

from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict

from om_dsl.ir.models import Action, Scope, SourceSpan
from om_dsl.orders.dates import day

OrderFormat = Literal["tmf622", "native"]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Relationship(Frozen):
    """``bundles`` (parent -> child) or ``reliesOn`` (this item relies on ``id``)."""

    type: str
    id: str


TAKES_RECORDED: Final = frozenset({"modify", "delete", "noChange"})
"""The actions whose items take the values the inventory recorded for what they do not give
(:attr:`OrderItem.defaulted`)."""


class OrderItem(Frozen):
    id: str
    action: Action
    product: str
    """The catalog name of the offer or bundle the item was matched to."""
    attributes: dict[str, Any] = {}
    """Values after defaults were applied, keyed by attribute name (not alias)."""
    previous: dict[str, Any] | None = None
    """On modify: the values before the change, when the order says them."""
    quantity: int = 1
    parent: str | None = None
    """The bundle item that includes this one (from ``bundles`` relationships or nesting)."""
    relationships: list[Relationship] = []
    account: str | None = None
    path: str = ""
    """Where the item is in the submitted document, e.g. ``productOrderItem[2]``."""
    defaulted: tuple[str, ...] = ()
    """On ``modify``, ``delete`` and ``noChange``: the attributes whose value is the catalog's
    default because the order gave none.  A TMF ``modify`` says only what changes, and a
    ``delete`` or a ``noChange`` names the product by id alone, so for a product the inventory
    knows the recorded value stands for them, not the default
    (:func:`.inventory.with_inventory`)."""

    def values_before(self) -> dict[str, Any]:
        """The values the rules read in the world before the order: ``previous`` over the new
        values (what the order does not say changed is taken as unchanged)."""
        return {**self.attributes, **self.previous} if self.previous else self.attributes

    def changed_attributes(self) -> list[str]:
        """The attributes whose value before the order (:meth:`values_before`, the world the
        decomposition compares with) differs from their value after it: on a ``modify``, those
        ``previous`` gives with another value.  Empty when the item does not say its previous
        values: what changed is then unknown, and its lines count every attribute changed."""
        if self.action != "modify" or not self.previous:
            return []
        before, after = self.values_before(), self.attributes
        return [n for n in dict.fromkeys((*after, *before)) if before.get(n) != after.get(n)]


class Order(Frozen):
    id: str
    external_id: str | None = None
    format: OrderFormat = "native"
    account: str | None = None
    customer: str | None = None
    priority: str | None = None
    category: str | None = None
    requested_start_date: str | None = None
    """As the order gave it (a date or a date-time); rules and plans read its date."""
    requested_completion_date: str | None = None
    attributes: dict[str, Any] = {}
    """Order-level attributes (the catalog's ``order { ... }`` block)."""
    items: list[OrderItem]
    notify: list[str] = []
    """Listener URLs to notify of this order's events."""
    client: dict[str, Any] = {}
    """A TMF622 order's own fields as the client sent them (description, notes, dates,
    parties, ...), less those the server owns (state, dates it sets, items): its views show
    them back, as TMF622 resources do.  Rules never read them."""
    client_items: dict[str, dict[str, Any]] = {}
    """Item id -> that item's fields as the client sent them (product, productOffering,
    relationships, prices, ...), less id, action, state and nested items."""

    def item(self, item_id: str) -> OrderItem:
        return next(i for i in self.items if i.id == item_id)

    def roots(self) -> list[OrderItem]:
        return [i for i in self.items if i.parent is None]

    def order_fields(self) -> dict[str, Any]:
        """What ``order.x`` reads in expressions."""
        fields: dict[str, Any] = {
            "id": self.id,
            "external_id": self.external_id,
            "account": self.account,
            "customer": self.customer,
            "priority": self.priority,
            "category": self.category,
            "requested_start_date": day(self.requested_start_date),
            "requested_completion_date": day(self.requested_completion_date),
        }
        fields.update(self.attributes)
        return fields


class FulfillmentLine(Frozen):
    """One technical product instance: a CFS, RFS or resource, with mapped attributes."""

    id: str
    product: str
    kind: Literal["cfs", "rfs", "resource"]
    scope: Scope
    action: Action
    attributes: dict[str, Any] = {}
    changed: list[str] = []
    """On modify: the attributes whose value differs from before (every attribute when the
    order did not say what the values were before)."""
    previous: dict[str, Any] = {}
    """On modify: the values before, for the attributes in ``changed`` (when known)."""
    source_items: list[str]
    """Order item ids this line was produced from (several for a many-to-one merge)."""
    root_items: list[str]
    """Root order items (bundles or stand-alone items) this line serves."""
    rules: list[str]
    """Ids of the decomposition rules that produced it (one per source for merged lines)."""
    rule_spans: list[SourceSpan] = []
    parent_line: str | None = None
    """For technical -> technical rules: the line this one was produced from."""
    wait: Literal["none", "after_parent", "before_parent"] = "none"
    request: str
    """The id of the fulfillment request the line belongs to."""


class FulfillmentRequest(Frozen):
    """One per root order item; shared lines (order / relies_on / account scope) get their own."""

    id: str
    root_item: str | None = None
    shared: bool = False
    scope: Literal["line", "order", "account", "relies_on"] = "line"
    key: str | None = None
    """For a shared request: the relies_on group (id of its first item) or the account."""
    lines: list[FulfillmentLine] = []
    uses: list[str] = []
    """Ids of shared requests whose lines this request's root relies on."""


class Decomposition(Frozen):
    order_id: str
    catalog_hash: str
    requests: list[FulfillmentRequest]

    def lines(self) -> list[FulfillmentLine]:
        return [line for request in self.requests for line in request.lines]
