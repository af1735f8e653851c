"""Validating a draft order against the catalog: every problem at once, then an :class:`Order`.

The checks run in a fixed order and each one reports what it can even when an earlier one
failed (an unknown product does not hide a duplicate id elsewhere), so one round trip shows a
client everything that is wrong.
"""

from __future__ import annotations

from typing import Any, Final

from om_dsl.ir import models as ir
from om_dsl.ir.models import ACTIONS
from om_dsl.orders.attributes import resolve_values
from om_dsl.orders.bundles import Resolved, check_bundles, check_relies_actions
from om_dsl.orders.catalog_index import AttrTable, CatalogIndex
from om_dsl.orders.drafts import DraftItem, DraftOrder, ProductRef, RefKind, Unread
from om_dsl.orders.issues import IssueLog, Path, key, show
from om_dsl.orders.limits import Limits
from om_dsl.orders.models import TAKES_RECORDED, Order, OrderItem, Relationship
from om_dsl.orders.prerequisites import report as report_prerequisites
from om_dsl.orders.relations import Relations, check_relations
from om_dsl.orders.reserved import reserved_account, reserved_item_id
from om_dsl.orders.trusted import trusted
from om_dsl.orders.values import did_you_mean

Values = tuple[dict[str, Any], dict[str, Any] | None, tuple[str, ...]]
"""An item's values after defaults, its ``previous`` values, and which values are defaults."""
"""An item's attribute values (defaults applied) and its previous values (``modify`` only)."""


def validate_draft(draft: DraftOrder, index: CatalogIndex, limits: Limits, log: IssueLog) -> Order:
    """The validated order; raises :class:`OrderValidationError` with every issue found
    (``log`` may hold shape errors already), in document order."""
    _check_size(draft, limits, log)
    _check_units(draft.items, limits, log)
    ids = _unique_ids(draft.items, log)
    _check_reserved(draft, log)
    resolved, values = _check_items(draft.items, ids, index, limits, log)
    _check_unread(draft.unread, index, log)
    rel = check_relations(draft.items, ids, log, draft.unread)
    known = {i: r for i, r in resolved.items() if _countable(r.draft, limits)}
    check_bundles(known, rel, log)
    check_relies_actions(known, rel.relies_on, log)
    _check_prerequisites(draft, resolved, index, log)
    order_values = resolve_values(
        draft.values, index.order_table, log, "the order", container=draft.values_path
    )
    log.raise_if_any(by_path=True)
    return _order(draft, resolved, values, rel, order_values)


def _check_prerequisites(
    draft: DraftOrder, resolved: dict[str, Resolved], index: CatalogIndex, log: IssueLog
) -> None:
    """``requires`` between offers (O044, O045).  Not checked while an item names no known
    product or is unreadable: it may be the one required, and its own error says what to fix."""
    if not index.requires or draft.unread.count or len(resolved) < len(draft.items):
        return
    items = list(resolved.values())
    entries = [(r.draft.id, r.product.name, r.draft.action) for r in items]
    report_prerequisites(entries, [r.draft.path for r in items], index.requires, log)


def _check_size(draft: DraftOrder, limits: Limits, log: IssueLog) -> None:
    """More items than the limit: nothing else is checked (that is the point of a limit)."""
    count = len(draft.items) + draft.unread.count
    if count > limits.max_items:
        log.add("O039", "$", f"the order has {count:,} items; the limit is {limits.max_items:,}")
        log.raise_if_any(by_path=True)


def _check_units(items: list[DraftItem], limits: Limits, log: IssueLog) -> None:
    """More units (quantities added up) than the limit, at the item that passes it.

    A quantity outside 1..max_quantity is reported on its own (O038) and counts for nothing
    here; the other checks go on, as they cost nothing per unit.
    """
    total, crossing = 0, None
    for item in items:
        if 1 <= item.quantity <= limits.max_quantity:
            total += item.quantity
            if crossing is None and total > limits.max_units:
                crossing = (item, total - item.quantity)
    if crossing is not None:
        item, before = crossing
        log.add(
            "O040", item.path,
            f"the order has {total:,} units in all (the quantities of its items added up); "
            f"the limit is {limits.max_units:,}, and this item passes it ({before:,} before "
            "it): each unit is decomposed on its own, so split the order",
        )  # fmt: skip


def _check_items(
    items: list[DraftItem],
    ids: dict[str, DraftItem],
    index: CatalogIndex,
    limits: Limits,
    log: IssueLog,
) -> tuple[dict[str, Resolved], dict[str, Values]]:
    """Each item against the catalog: the items whose product is known, and their values."""
    resolved: dict[str, Resolved] = {}
    values: dict[str, Values] = {}
    for item in items:
        found = _against_catalog(item, index, log)
        _item_basics(item, limits, log)
        if found is not None and ids.get(item.id) is item:  # a duplicate is checked too,
            resolved[item.id] = Resolved(item, found[0])  # but only the first is kept
            values[item.id] = found[1]
    return resolved, values


def _against_catalog(
    item: DraftItem, index: CatalogIndex, log: IssueLog
) -> tuple[ir.CommercialProduct, Values] | None:
    """The item's product and its values, checked; None when the product is not known."""
    product = _product(item, index, log)
    if product is None:
        return None
    offer = index.offers[product]
    return offer, _item_values(item, index.tables[product], log, f"{offer.kind} {offer.name}")


def _unique_ids(items: list[DraftItem], log: IssueLog) -> dict[str, DraftItem]:
    ids: dict[str, DraftItem] = {}
    for item in items:
        first = ids.setdefault(item.id, item)
        if first is not item:
            log.add(
                "O020", key(item.path, "id"),
                f"item id {show(item.id)} is used twice (first at {first.path})",
            )  # fmt: skip
    return ids


def _check_reserved(draft: DraftOrder, log: IssueLog) -> None:
    """Item ids and accounts that shared request and line ids would collide with."""
    if draft.account is not None and draft.account_path is not None:
        problem = reserved_account(draft.account)
        if problem is not None:
            log.add("O021", draft.account_path, problem)
    for item in draft.items:
        problem = reserved_item_id(item.id)
        if problem is not None:
            log.add("O021", key(item.path, "id"), problem)
        problem = None if item.account is None else reserved_account(item.account)
        if problem is not None:
            where = "account" if draft.format == "native" else "billingAccount"
            path = key(item.path, where)
            log.add("O021", path if draft.format == "native" else key(path, "id"), problem)


def _countable(item: DraftItem, limits: Limits) -> bool:
    """An item whose action and quantity are valid (their errors are :func:`_item_basics`'s):
    only those are counted as bundle parts and checked against the actions of others."""
    return item.action in ACTIONS and _quantity_ok(item, limits)


def _quantity_ok(item: DraftItem, limits: Limits) -> bool:
    return 1 <= item.quantity <= limits.max_quantity


def _item_basics(item: DraftItem, limits: Limits, log: IssueLog) -> None:
    known_action = _check_action(item.action, key(item.path, "action"), log)
    if not _quantity_ok(item, limits):
        log.add(
            "O038", key(item.path, "quantity"),
            f"quantity must be 1..{limits.max_quantity:,}, not {show(item.quantity)}",
        )  # fmt: skip
    if item.previous is not None and known_action and item.action != "modify":
        log.add(
            "O041", item.previous_path,
            f"'previous' gives the values before a change; it only makes sense with action "
            f"'modify', not '{item.action}'",
        )  # fmt: skip


def _check_unread(unread: Unread, index: CatalogIndex, log: IssueLog) -> None:
    """What can be checked of the items left out for their shape, on its own."""
    for action, path in unread.actions:
        _check_action(action, path, log)
    for item in unread.drafts:
        _against_catalog(item, index, log)


def _check_action(action: str, path: Path, log: IssueLog) -> bool:
    """Whether ``action`` is one om_dsl knows; if not, says so (with a suggestion)."""
    if action in ACTIONS:
        return True
    meant = _ACTION_ELSEWHERE.get(action.lower().replace("_", "").replace("-", ""))
    log.add(
        "O013", path,
        f"unknown action {show(action)}; use one of: {', '.join(ACTIONS)}"
        + (f" (did you mean '{meant}'?)" if meant else did_you_mean(action, ACTIONS)),
    )  # fmt: skip
    return False


_ACTION_ELSEWHERE: Final = {
    **dict.fromkeys(("change", "update", "modify", "amend", "upgrade", "downgrade"), "modify"),
    **dict.fromkeys(("remove", "cease", "terminate", "disconnect", "delete"), "delete"),
    **dict.fromkeys(("create", "new", "provide", "install", "add"), "add"),
    **dict.fromkeys(("keep", "none", "nochange", "unchanged", "existing"), "noChange"),
}
"""Other order systems' words for the four actions (``change`` is no ``noChange``), and the
actions themselves in another case (``ADD``, ``no_change``)."""


def _product(item: DraftItem, index: CatalogIndex, log: IssueLog) -> str | None:
    if not item.refs:
        log.add(
            "O030", item.path,
            "the item names no product: give productOffering (id or name) or "
            "product.productSpecification",
        )  # fmt: skip
        return None
    matches = [(ref, index.resolve(ref)) for ref in item.refs]
    # the references that name one product must agree; the first of them wins
    found: str | None = None
    for ref, names in matches:
        if len(names) != 1:
            continue
        if found is None:
            found = names[0]
        elif names[0] != found:
            log.add(
                "O032", ref.path,
                f"{show(ref.text)} is {names[0]}, but the item's other reference says {found}",
            )  # fmt: skip
            return None
    ambiguous = [(ref, names) for ref, names in matches if len(names) > 1]
    if found is None and ambiguous:  # nothing says which of them: the name alone cannot
        ref, names = ambiguous[0]
        log.add(
            "O031", ref.path,
            f"{show(ref.text)} matches several products: {', '.join(names)}; "
            + ("name it by its catalog name or offering id" if ref.kind == "name" else
               "give the offering id (or the specification id) to say which"),
        )  # fmt: skip
        return None
    for ref, names in ambiguous:  # an ambiguous name must at least allow the one named
        if found not in names:
            log.add(
                "O032", ref.path,
                f"{show(ref.text)} matches {', '.join(names)}, but the item's other reference "
                f"says {found}",
            )  # fmt: skip
            return None
    if found is None:
        _unknown_product(item, index, log)
        return None
    return found if _ids_agree(matches, found, index, log) else None


def _ids_agree(
    matches: list[tuple[ProductRef, list[str]]], found: str, index: CatalogIndex, log: IssueLog
) -> bool:
    """An id the catalog does not have is an error even when another reference names the
    product: an id is what a client's catalog says, and ``{"id": "99999", "name": "TMF Mobile
    Telephony"}`` was fulfilled as the offer the name matched, with no word that the id was
    unknown (a CPQ on another catalog version).  A specification id counts only for an offer
    that declares specifications; display names may drift, so a name matching nothing is let
    be."""
    offer = index.offers[found]
    for ref, names in matches:
        if names or ref.kind not in ("offering_id", "spec_id"):
            continue
        if ref.kind == "spec_id" and not offer.specs:
            continue
        ids = [s.id for s in offer.specs] if ref.kind == "spec_id" else [offer.external_id]
        theirs = " or ".join(show(i) for i in ids if i) or "none"
        what = "specification" if ref.kind == "spec_id" else "offering"
        log.add(
            "O032", ref.path,
            f"unknown {what} id {show(ref.text)}, but the item's other reference says {found} "
            f"(its {what} id is {theirs})",
        )  # fmt: skip
        return False
    return True


def _unknown_product(item: DraftItem, index: CatalogIndex, log: IssueLog) -> None:
    ref = item.refs[0]
    technical = index.technical.get(ref.text)
    if technical is not None:
        log.add(
            "O033", ref.path,
            f"{ref.text} is a {technical.kind} (a technical product); orders name offers and "
            "bundles, and decomposition produces technical products",
        )  # fmt: skip
        return
    what = "product" if ref.kind == "name" else ref.kind.replace("_", " ")
    hint = did_you_mean(ref.text, index.ref_texts(ref.kind))
    if not hint:  # the right text in the wrong place (a display name given as a spec name)
        hint = _said_elsewhere(ref, index)
    log.add(
        "O030", ref.path,
        f"unknown {what} {show(ref.text)}: no offer or bundle in catalog "
        f"{show(index.catalog.name)} has it" + hint,
    )  # fmt: skip


_WHERE: dict[RefKind, str] = {
    "offering_id": "productOffering.id",
    "offering_name": "productOffering.name",
    "spec_id": "product.productSpecification.id",
    "spec_name": "product.productSpecification.name",
}


def _said_elsewhere(ref: ProductRef, index: CatalogIndex) -> str:
    """`` ('x' is the offering name of Y: give it as productOffering.name)``, when the text of
    a TMF reference that matches nothing is what another kind of reference says."""
    if ref.kind not in _WHERE:
        return ""
    for kind, where in _WHERE.items():
        names = index.resolve(ProductRef(kind, ref.text, ref.path)) if kind != ref.kind else []
        if names:
            what = kind.replace("_", " ")
            return f" ({show(ref.text)} is the {what} of {', '.join(names)}: give it as {where})"
    return ""


def _item_values(item: DraftItem, table: AttrTable, log: IssueLog, owner: str) -> Values:
    values = resolve_values(item.values, table, log, owner, container=item.values_path)
    previous = None
    if item.previous is not None:
        previous = resolve_values(item.previous, table, log, owner, complete=False)
    defaulted = _defaulted(item, values, table) if item.action in TAKES_RECORDED else ()
    return values, previous, defaulted


def _defaulted(item: DraftItem, values: dict[str, Any], table: AttrTable) -> tuple[str, ...]:
    """The attributes of a ``modify`` or ``delete`` item whose value is the catalog's default,
    the order having given none (or null): a partial modify must not reset them to the
    defaults when the inventory knows the product, and a delete by product id (no values at
    all, as TMF clients send it) takes the recorded ones (only these items pay for this)."""
    given = set()
    for value in item.values:
        spec = table.lookup(value.name)
        if spec is not None and value.value is not None:
            given.add(spec.attr.name)
    return tuple(name for name in values if name not in given)


def _order(
    draft: DraftOrder,
    resolved: dict[str, Resolved],
    values: dict[str, Values],
    rel: Relations,
    order_values: dict[str, Any],
) -> Order:
    items = [
        _order_item(r.draft, r.product.name, values[r.draft.id], rel, draft.account)
        for r in resolved.values()
    ]
    return Order(
        id=draft.id,
        external_id=draft.external_id,
        format=draft.format,
        account=draft.account,
        customer=draft.customer,
        priority=draft.priority,
        category=draft.category,
        requested_start_date=draft.requested_start_date,
        requested_completion_date=draft.requested_completion_date,
        attributes=order_values,
        items=items,
        notify=draft.notify,
        client=draft.client,
        client_items=draft.client_items,
    )


def _order_item(
    item: DraftItem,
    product: str,
    values: Values,
    rel: Relations,
    account: str | None,
) -> OrderItem:
    links = [trusted(Relationship, {"type": link.type, "id": link.id}) for link in item.links]
    fields = {
        "id": item.id,
        "action": item.action,
        "product": product,
        "attributes": values[0],
        "previous": values[1],
        "quantity": item.quantity,
        "parent": rel.parent.get(item.id),
        "relationships": links,
        "account": item.account or account,
        "path": item.path,
        "defaulted": values[2],
    }
    return trusted(OrderItem, fields)
