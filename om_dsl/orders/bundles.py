"""Bundles and actions: what a bundle may contain, how many, and which actions fit together.

Cardinality is checked as far as the order can show it: a bundle being added must list all of
its required parts (``min``); any bundle may not exceed ``max`` parts that remain after the
order (items that are not ``delete``).  A choice group (``includes A or B [c]``) counts the
parts of all its products against its one cardinality.  A modified bundle may list only the
parts that change, so ``min`` is not checked for it.  A deleted bundle must list the parts it
deletes (``min`` of them, each ``delete``): om_dsl does not know what a customer has, so a
bundle deleted alone made no work at all, and the order completed at once with nothing ceased.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from om_dsl.ir import models as ir
from om_dsl.orders.drafts import DraftItem
from om_dsl.orders.issues import IssueLog, show
from om_dsl.orders.relations import Relations


@dataclass(frozen=True, slots=True)
class Resolved:
    """An item whose product and action are known (only those take part in these checks)."""

    draft: DraftItem
    product: ir.CommercialProduct


def check_bundles(items: Mapping[str, Resolved], rel: Relations, log: IssueLog) -> None:
    """``items``: the items whose product, action and quantity are valid.  A bundle with a
    part that is not among them, or with a link that was not understood, is not counted: its
    part's own error says what is wrong, and "needs at least 1" would blame the bundle."""
    children: dict[str, list[Resolved]] = {}
    uncounted = set(rel.incomplete)
    for child_id, parent_id in rel.parent.items():
        child, bundle = items.get(child_id), items.get(parent_id)
        if bundle is None:
            continue
        if child is None:
            uncounted.add(parent_id)
            continue
        if _fits(child, bundle, log):
            children.setdefault(parent_id, []).append(child)
        if not _actions(child, bundle, log):  # the part's O042 says what is wrong
            uncounted.add(parent_id)
    for item in items.values():
        if item.product.kind == "bundle" and item.draft.id not in uncounted:
            _cardinality(item, children.get(item.draft.id, []), log)


def _fits(child: Resolved, bundle: Resolved, log: IssueLog) -> bool:
    name, product = child.product.name, bundle.product
    if product.kind != "bundle":
        log.add(
            "O060", child.draft.path,
            f"item {show(child.draft.id)} is a part of item {show(bundle.draft.id)}, but "
            f"{product.name} is an offer, not a bundle",
        )  # fmt: skip
        return False
    if all(name not in inc.products for inc in product.includes):
        allowed = ", ".join(" or ".join(inc.products) for inc in product.includes)
        log.add(
            "O061", child.draft.path,
            f"bundle {product.name} (item {show(bundle.draft.id)}) does not include {name}; "
            f"it includes: {allowed}",
        )  # fmt: skip
        return False
    return True


def _cardinality(bundle: Resolved, parts: list[Resolved], log: IssueLog) -> None:
    units = bundle.draft.quantity
    if bundle.draft.action == "delete":
        _deleted_parts(bundle, parts, log)
        return
    for inc in bundle.product.includes:
        kept = [p for p in parts if p.product.name in inc.products and p.draft.action != "delete"]
        if inc.alternatives:
            _group(bundle, inc, kept, log)
            continue
        count = _units(kept)
        high = None if inc.max is None else inc.max * units
        if high is not None and count > high:
            log.add(
                "O062", bundle.draft.path,
                f"bundle {bundle.product.name} holds at most {high} {inc.product}; "
                f"the order gives {count}",
            )  # fmt: skip
        if bundle.draft.action == "add" and count < inc.min * units:
            log.add(
                "O062", bundle.draft.path,
                f"bundle {bundle.product.name} needs at least {inc.min * units} {inc.product}; "
                f"the order gives {count}",
            )  # fmt: skip


def _group(bundle: Resolved, inc: ir.Include, kept: list[Resolved], log: IssueLog) -> None:
    """A choice group's one cardinality against its parts together, as a single include's
    (``min`` for a bundle being added only); one issue naming the alternatives and the parts
    the order gives, since which of them to drop (or add) is the customer's choice."""
    units, count = bundle.draft.quantity, _units(kept)
    low = inc.min * units if bundle.draft.action == "add" else 0
    high = None if inc.max is None else inc.max * units
    if low <= count and (high is None or count <= high):
        return
    given = ", ".join(p.draft.path for p in kept)
    log.add(
        "O062", bundle.draft.path,
        f"bundle {bundle.product.name} takes {_how_many(inc.min * units, high)} of "
        f"{', '.join(inc.products)}; the order gives {count}{': ' + given if given else ''}",
    )  # fmt: skip


def _how_many(low: int, high: int | None) -> str:
    if high is None:
        return f"at least {low}"
    if low == high:
        return f"exactly {low}"
    return f"at most {high}" if low == 0 else f"{low} to {high}"


def _units(parts: list[Resolved]) -> int:
    return sum(p.draft.quantity for p in parts)


def _deleted_parts(bundle: Resolved, parts: list[Resolved], log: IssueLog) -> None:
    """A deleted bundle lists the parts it deletes (a part that is not ``delete`` is O042,
    and its bundle is not counted then); of a choice group, ``min`` of any of its products."""
    units = bundle.draft.quantity
    for inc in bundle.product.includes:
        gone = _units(
            [p for p in parts if p.product.name in inc.products and p.draft.action == "delete"]
        )
        if gone < inc.min * units:
            what = inc.product if not inc.alternatives else f"of {', '.join(inc.products)}"
            log.add(
                "O062", bundle.draft.path,
                f"deleting bundle {bundle.product.name} deletes its parts: list at least "
                f"{inc.min * units} {what} in it, each 'delete'; the order gives {gone}",
            )  # fmt: skip


def _actions(child: Resolved, bundle: Resolved, log: IssueLog) -> bool:
    """A new bundle has new parts only; deleting a bundle deletes all of its parts.  Whether
    the part's action fits (else it is O042)."""
    parent_action, action = bundle.draft.action, child.draft.action
    if parent_action == "add" and action != "add":
        log.add(
            "O042", child.draft.path,
            f"item {show(child.draft.id)} is '{action}' but its bundle {show(bundle.draft.id)} "
            "is 'add': the parts of a new bundle are new too",
        )  # fmt: skip
        return False
    if parent_action == "delete" and action != "delete":
        log.add(
            "O042", child.draft.path,
            f"item {show(child.draft.id)} is '{action}' but its bundle {show(bundle.draft.id)} "
            "is 'delete': deleting a bundle deletes its parts",
        )  # fmt: skip
        return False
    return True


def check_relies_actions(
    items: Mapping[str, Resolved], relies_on: Mapping[str, list[str]], log: IssueLog
) -> None:
    """An item that stays cannot rely on an item this order deletes."""
    for item_id, targets in relies_on.items():
        item = items.get(item_id)
        if item is None or item.draft.action == "delete":
            continue
        for target in targets:
            other = items.get(target)
            if other is not None and other.draft.action == "delete":
                log.add(
                    "O043", item.draft.path,
                    f"item {show(item_id)} ('{item.draft.action}') relies on item {show(target)}, "
                    "which this order deletes",
                )  # fmt: skip
