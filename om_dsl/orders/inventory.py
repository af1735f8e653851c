"""The product inventory: what completed orders installed, by TMF product instance id.

A TMF622 ``modify`` item says only the new values (TMF622 v4 has no place for previous ones),
so without an inventory every attribute of its lines counts as changed, and a speed upgrade
also "moves" the access line.  The runtime's store keeps, for each product instance a
completed order named (the order item's ``product.id``), the offer, the attribute values after
that order, its status and the order items that touched it (the TM Forum TMF637 Product
resource).  Decomposition then reads the values before a ``modify`` from it
(:func:`with_inventory`), so only what really changes is ``changed``.

This module holds the records and the rules, shared by both stores and the decomposer: what
an order will record (:func:`product_changes`), how a completed order changes a product
(:func:`apply_change`), and how the inventory fills ``previous`` (:func:`with_inventory`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from om_dsl.errors import OrderIssue, OrderValidationError
from om_dsl.orders.issues import key, show

if TYPE_CHECKING:  # the stores import the records: no pydantic models for them
    from om_dsl.ir import models as ir
    from om_dsl.orders.models import Order, OrderItem

ACTIVE = "active"
TERMINATED = "terminated"
STATUSES = (
    "created", "pendingActive", "cancelled", ACTIVE, "pendingTerminate", TERMINATED,
    "suspended", "aborted",
)  # fmt: skip
"""TMF637's product statuses; om_dsl records ``active`` and ``terminated``."""


@dataclass(frozen=True, slots=True)
class OrderItemRef:
    """One order item that touched a product (TMF637 ``productOrderItem``)."""

    order_id: str
    item_id: str
    action: str
    """The order item's action, as TMF622 names it (``add``, ``modify``, ...)."""


@dataclass(frozen=True, slots=True)
class ProductChange:
    """What one order item will record once its order completes (kept with the order)."""

    product_id: str
    item_id: str
    action: str
    offering: str
    """The catalog name of the offer or bundle."""
    offering_id: str | None
    """The offer's ``id "..."`` in the catalog (TMF ``productOffering.id``)."""
    name: str | None
    """The offer's display name."""
    attributes: dict[str, Any]
    """The item's values after the order, defaults applied."""
    account: str | None = None
    customer: str | None = None
    is_bundle: bool = False
    defaulted: tuple[str, ...] = ()
    """On ``modify``: the attributes the order did not give (their value above is the
    default): the product's recorded values stay for them (:func:`apply_change`)."""
    path: str = ""
    """Where the item is in the order (``productOrderItem[0]``), for the issues about it."""
    order_attributes: dict[str, Any] | None = None
    """The order's own attributes (the catalog's ``order { ... }`` block, such as the site):
    rules read them too, so a later ``modify`` under other ones is a move
    (:func:`with_inventory`)."""
    recorded: dict[str, Any] | None = None
    """The values the plans' ``record`` statements set on the product as the order
    completed (:func:`with_recorded`); never stored with the order (they are known only
    then, and applied in the commit that completes it)."""


@dataclass(frozen=True, slots=True)
class Recorded:
    """One value a completing order's plans record on the product of one of its items."""

    item_id: str
    """The order item whose product it is (its :class:`ProductChange`)."""
    name: str
    value: Any


def with_recorded(change: ProductChange, values: Sequence[Recorded]) -> ProductChange:
    """``change`` with the values that ``values`` set on its product (the others' are for
    other items)."""
    mine = {r.name: r.value for r in values if r.item_id == change.item_id}
    return replace(change, recorded=mine) if mine else change


@dataclass(frozen=True, slots=True)
class InventoryProduct:
    """One product instance as completed orders left it (TMF637 Product)."""

    id: str
    status: str
    offering: str
    offering_id: str | None
    name: str | None
    attributes: dict[str, Any]
    account: str | None = None
    customer: str | None = None
    is_bundle: bool = False
    start_date: float | None = None
    """When the order that added it (or first recorded it) completed (epoch seconds)."""
    termination_date: float | None = None
    order_items: tuple[OrderItemRef, ...] = field(default_factory=tuple)
    order_attributes: dict[str, Any] | None = None
    """The order-level attributes of the last order that added or modified it; None for a
    product recorded before om_dsl kept them."""

    def to_json(self) -> dict[str, Any]:
        """Plain JSON, for a store row (:func:`product_from_json` reads it back)."""
        data = asdict(self)
        data["order_items"] = [list(ref) for ref in _refs(self.order_items)]
        return data


def _refs(refs: Sequence[OrderItemRef]) -> list[tuple[str, str, str]]:
    return [(r.order_id, r.item_id, r.action) for r in refs]


def product_from_json(data: dict[str, Any]) -> InventoryProduct:
    """The product a store row holds (:meth:`InventoryProduct.to_json`)."""
    refs = tuple(OrderItemRef(*ref) for ref in data.get("order_items", ()))
    return InventoryProduct(**{**data, "order_items": refs})


def change_from_json(data: dict[str, Any]) -> ProductChange:
    """The change a store row holds; a row written before ``defaulted`` existed has none."""
    return ProductChange(**{**data, "defaulted": tuple(data.get("defaulted", ()))})


def change_to_json(change: ProductChange) -> dict[str, Any]:
    """A change as the store keeps it with its order: without ``recorded`` (applied only at
    completion), so that an older om_dsl still reads the row."""
    data = asdict(change)
    del data["recorded"]
    return data


class ProductInventory(Protocol):
    """What decomposition reads of the inventory (the runtime's stores implement it)."""

    def product(self, product_id: str) -> InventoryProduct | None:
        """The product instance with this id, or None when the inventory does not know it."""
        ...


def product_id_of(order: Order, item: OrderItem) -> str | None:
    """The TMF product instance id an order item names (``product.id``), or None.

    Native orders have no such field: they say ``previous`` themselves, and are not recorded.
    """
    product = order.client_items.get(item.id, {}).get("product")
    found = product.get("id") if isinstance(product, dict) else None
    return found if isinstance(found, str) and found else None


def product_changes(order: Order, catalog: ir.Catalog) -> list[ProductChange]:
    """What each item of ``order`` that names a product instance records on completion."""
    products = {p.name: p for p in catalog.offers}
    changes = []
    for item in order.items:
        product_id = product_id_of(order, item)
        offer = products.get(item.product)
        if product_id is None or offer is None:
            continue
        changes.append(
            ProductChange(
                product_id=product_id,
                item_id=item.id,
                action=item.action,
                offering=item.product,
                offering_id=offer.external_id,
                name=offer.display_name,
                attributes=dict(item.attributes),
                account=item.account or order.account,
                customer=order.customer,
                is_bundle=offer.kind == "bundle",
                defaulted=item.defaulted,
                path=item.path,
                order_attributes=dict(order.attributes),
            )
        )
    return changes


def apply_change(
    found: InventoryProduct | None, change: ProductChange, order_id: str, ts: float
) -> InventoryProduct:
    """The product after a completed order's item ``change``; ``found``: before it.

    An ``add`` (or a first record) takes the item's values; a ``modify`` lays those the order
    gave over the recorded ones (what the order does not say stays: not its default); a
    ``delete`` terminates the product and keeps its values; a ``noChange`` of a recorded
    product records only its order item (its status, offer, account, customer and values
    stay: the order says nothing new about them).  An order that names no account or no
    customer keeps the recorded one (it says nothing new about it either; one that names
    another is refused before, O076).  Whatever the action, the values the
    plans' records set (``change.recorded``) are laid over the result: fulfilment learnt them.
    Recording the same item twice changes nothing (a store may be asked again after a
    restart).
    """
    ref = OrderItemRef(order_id, change.item_id, change.action)
    if found is not None and ref in found.order_items:
        return found
    recorded = change.recorded or {}
    if found is not None and change.action == "noChange":  # it stays as it was
        kept = {**found.attributes, **recorded} if recorded else found.attributes
        return replace(found, attributes=kept, order_items=(*found.order_items, ref))
    if found is None or change.action == "add":
        attributes = dict(change.attributes)
        start = ts if found is None or change.action == "add" else found.start_date
    else:
        attributes = dict(found.attributes)
        if change.action == "modify":
            attributes.update(_given(change))
        start = found.start_date
    attributes.update(recorded)
    deleted = change.action == "delete"
    said = change.order_attributes
    return InventoryProduct(
        id=change.product_id,
        status=TERMINATED if deleted else ACTIVE,
        offering=change.offering,
        offering_id=change.offering_id,
        name=change.name,
        attributes=attributes,
        account=change.account or (found.account if found is not None else None),
        customer=change.customer or (found.customer if found is not None else None),
        is_bundle=change.is_bundle,
        start_date=start,
        termination_date=ts if deleted else None,
        order_items=(*(found.order_items if found is not None else ()), ref),
        order_attributes=said if said is not None or found is None else found.order_attributes,
    )


def _given(change: ProductChange) -> dict[str, Any]:
    if not change.defaulted:
        return change.attributes
    return {n: v for n, v in change.attributes.items() if n not in change.defaulted}


def busy_issues(
    changes: Sequence[ProductChange], holders: dict[str, tuple[str, str]]
) -> list[OrderIssue]:
    """O075 for each change whose product an unfinished order changes already.

    ``holders``: product id -> (order id, state) of the unfinished orders (other than the one
    of ``changes``) that record it.  Each order compares with the inventory as it is when it
    is submitted: the second of two orders in flight for one product compared with a stale
    record, and what it changed was lost when the first completed after it (OSM refuses it
    the same way)."""
    issues = []
    for change in changes:
        holder = holders.get(change.product_id)
        if holder is None:
            continue
        message = (
            f"product {show(change.product_id)} is being changed by order {holder[0]} "
            f"({holder[1]}): wait for it to complete, or amend that order"
        )
        path = key(key(change.path, "product"), "id") if change.path else "$"
        issues.append(OrderIssue("O075", path, message))
    return issues


def with_inventory(order: Order, inventory: ProductInventory | None) -> Order:
    """``order`` with the values before each ``modify`` that the inventory knows.

    A ``modify`` item that names a known product and gives no ``previous`` of its own gets
    ``previous`` = the recorded values of the attributes it has, so only what really changes
    is ``changed``; the attributes it does not give take their recorded values, not the
    catalog's defaults (a TMF ``modify`` says only what changes: a speed of 1000 must not go
    back to the default 100 because the order only asks for a static IP).  A ``delete`` or a
    ``noChange`` takes the recorded values of the attributes it does not give too.  An
    unknown product id is no error (the CRM may know products installed before om_dsl): the
    item stays as it was (every attribute changed).

    Raises:
        OrderValidationError: O072 (a ``modify``, ``delete`` or ``noChange`` of a terminated
            product), O073 (one of a product of another offer), O074 (an ``add`` of a product
            the inventory has), O076 (one under another billing account or customer than
            the product's).
    """
    if inventory is None:
        return order
    issues: list[OrderIssue] = []
    items = [_with_previous(order, item, inventory, issues) for item in order.items]
    if issues:
        raise OrderValidationError(issues)
    if all(a is b for a, b in zip(items, order.items, strict=True)):
        return order
    return order.model_copy(update={"items": items})


def _with_previous(
    order: Order, item: OrderItem, inventory: ProductInventory, issues: list[OrderIssue]
) -> OrderItem:
    product_id = product_id_of(order, item)
    found = None if product_id is None else inventory.product(product_id)
    if found is None:
        return item
    misfit = _misfit(item, found) or _other_owner(order, item, found)
    if misfit is not None:
        issues.append(OrderIssue(misfit[0], key(key(item.path, "product"), "id"), misfit[1]))
        return item
    if item.action in ("delete", "noChange"):
        return _with_recorded(item, found.attributes)
    if item.action != "modify" or item.previous is not None:
        return item  # the caller's previous values win
    return _over_recorded(item, found.attributes, _moved(order, found))


def _with_recorded(item: OrderItem, recorded: dict[str, Any]) -> OrderItem:
    """A ``delete`` or ``noChange`` of a recorded product: the values it does not give are the
    recorded ones (a TMF client names the product by id alone), so a delete's lines release
    what the product was installed with (the port the add recorded), and a ``noChange`` part
    of a bundle under a ``modify`` gives its context lines their real values, not the
    catalog's defaults or nothing."""
    kept = _not_given(item, recorded)
    return item.model_copy(update={"attributes": {**item.attributes, **kept}}) if kept else item


def _not_given(item: OrderItem, recorded: dict[str, Any]) -> dict[str, Any]:
    """The recorded values of the attributes ``item`` does not give: those it holds only as
    the catalog's default (:attr:`OrderItem.defaulted`), and those it lacks (an attribute
    without a default, such as a port that a plan recorded)."""
    given = set(item.attributes).difference(item.defaulted)
    return {n: v for n, v in recorded.items() if n not in given}


def _misfit(item: OrderItem, found: InventoryProduct) -> tuple[str, str] | None:
    """The code and message of an item that does not fit its recorded product, or None."""
    if item.action == "add":
        return "O074", _added_again(found)
    if found.status == TERMINATED:
        return "O072", (
            f"product {show(found.id)} was terminated (by order "
            f"{_last_order(found)}): it cannot be {_verb(item.action)}; add a new product"
        )  # fmt: skip
    if found.offering != item.product:
        return "O073", (
            f"product {show(found.id)} is a {found.offering} in the inventory, but the item "
            f"orders {item.product}: name the product's own offer, or another product id"
        )  # fmt: skip
    return None


def _other_owner(order: Order, item: OrderItem, found: InventoryProduct) -> tuple[str, str] | None:
    """O076: a ``modify``, ``delete`` or ``noChange`` under another billing account or
    customer than the product's.  Accepted, it moved the product to the order's customer (and
    read its recorded values, a port, into that customer's order): a CRM sends such an order
    for the wrong product id, and a transfer of ownership is no order item om_dsl knows.  An
    order or a product that names no account (or no customer) is not compared on it: there
    is nothing to contradict, and a modify that names none keeps the recorded one
    (:func:`apply_change`)."""
    given = {"billing account": item.account or order.account, "customer": order.customer}
    recorded = {"billing account": found.account, "customer": found.customer}
    differ = [n for n, v in given.items() if v and recorded[n] and v != recorded[n]]
    if not differ:
        return None
    was = " and ".join(f"{n} {show(recorded[n])}" for n in differ)
    now = " and ".join(f"{n} {show(given[n])}" for n in differ)
    return "O076", (
        f"product {show(found.id)} belongs to {was} in the inventory, but the order is for "
        f"{now}: name a product of the order's own account, or delete the product and add "
        "a new one under the new owner"
    )


def _added_again(found: InventoryProduct) -> str:
    """O074: an ``add`` of a product id the inventory has.  Installing it again made a second
    line and a second billing subscription (a CRM's retry with a fresh Idempotency-Key), and
    overwrote the record."""
    if found.status == TERMINATED:
        return (
            f"product {show(found.id)} was terminated by order {_last_order(found)}: a new "
            "product needs a new id"
        )
    added = next((r.order_id for r in found.order_items if r.action == "add"), "?")
    since = "" if found.start_date is None else f" since {_when(found.start_date)}"
    return (
        f"product {show(found.id)} is already in the inventory ({found.status}{since}, added "
        f"by order {added}): modify it, or give a new product a new id"
    )


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _moved(order: Order, found: InventoryProduct) -> bool:
    """Whether the order's own attributes (a site, ...) differ from those recorded with the
    product.  Both worlds read the current order's attributes, so a move would look like no
    change at all and be dropped: such an item keeps every attribute changed, as without an
    inventory.  A product recorded before they were kept is taken as not moved."""
    said = found.order_attributes
    return said is not None and said != order.attributes


def _over_recorded(item: OrderItem, recorded: dict[str, Any], moved: bool) -> OrderItem:
    """A ``modify`` of a recorded product: the values it did not give are the recorded ones,
    and ``previous`` is what was recorded (none when ``moved``: every attribute changed)."""
    kept = _not_given(item, recorded)
    after = {**item.attributes, **kept} if kept else item.attributes
    if moved:
        return item if not kept else item.model_copy(update={"attributes": after})
    before = {n: recorded[n] for n in after if n in recorded}
    return item.model_copy(update={"attributes": after, "previous": before})


_VERBS = {"modify": "modified", "delete": "deleted", "noChange": "kept (noChange)"}


def _last_order(found: InventoryProduct) -> str:
    return found.order_items[-1].order_id if found.order_items else "?"


def _verb(action: str) -> str:
    return _VERBS.get(action, action)
