"""Offer prerequisites: an offer that ``requires`` another needs it in the same order.

``offer Tv { requires HomeInternet }`` makes an order that adds TV without Internet invalid.
The order says what the customer will have, as far as it shows it: an item of HomeInternet
that stays (``add``, ``modify`` or ``noChange``; a part of a bundle too) meets the requirement.
A customer who already has Internet is sent by CPQ as a ``noChange`` context item, as TMF622
orders do; om_dsl keeps no inventory of what customers own, so it cannot look it up itself.

Two codes, one definition (:func:`unmet`), shared by the thorough reader, which reports, and
the quick readers, which only send an order with a problem to it:

- O044: an item adds an offer, and the order has no item of a required one that stays.
- O045: an item that stays needs an offer that the order deletes, and nothing else in the
  order takes its place.  A ``modify`` or ``noChange`` item alone is not checked otherwise:
  CPQ sends a change without the customer's other products, which are there all the same.

Both are linear in the order: one pass to gather the offers that stay and those deleted,
one pass over the items of offers with requirements.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from om_dsl.ir import models as ir
from om_dsl.orders.issues import IssueLog, show

Requires = Mapping[str, tuple[tuple[str, ...], ...]]
"""Offer name -> its requirements, each the tuple of its alternatives (offers with some only)."""

Entry = tuple[str, str, str]
"""(item id, offer name, action) of one order item."""


def requirements(catalog: ir.Catalog) -> dict[str, tuple[tuple[str, ...], ...]]:
    """The table :func:`unmet` reads, built once per catalog."""
    return {o.name: tuple(tuple(g) for g in o.requires) for o in catalog.offers if o.requires}


@dataclass(frozen=True, slots=True)
class Unmet:
    """A requirement of item ``entries[at]`` that its order does not meet."""

    at: int
    group: tuple[str, ...]
    deleted: tuple[str, str] | None
    """(item id, offer) of an item that deletes one of ``group`` (O045), or None (O044)."""


def unmet(entries: Sequence[Entry], requires: Requires) -> Iterator[Unmet]:
    """Every requirement the order breaks, item by item in order, group by group."""
    if not requires:
        return
    kept: set[str] = set()
    deleted: dict[str, str] = {}
    for item_id, product, action in entries:
        if action == "delete":
            deleted.setdefault(product, item_id)
        else:
            kept.add(product)
    for at, (_item_id, product, action) in enumerate(entries):
        groups = requires.get(product)
        if groups is None or action == "delete":
            continue
        for group in groups:
            if not kept.isdisjoint(group):
                continue
            gone = next(((deleted[p], p) for p in group if p in deleted), None)
            if gone is not None or action == "add":
                yield Unmet(at, group, gone)


def all_met(entries: Iterable[Entry], requires: Requires) -> bool:
    """Whether :func:`unmet` finds nothing: the quick readers' test."""
    return not requires or next(unmet(list(entries), requires), None) is None


def report(
    entries: Sequence[Entry], paths: Sequence[str], requires: Requires, log: IssueLog
) -> None:
    """O044 and O045, each at the path of the item whose requirement is not met."""
    for problem in unmet(entries, requires):
        item_id, product, action = entries[problem.at]
        if problem.deleted is None:
            log.add("O044", paths[problem.at], _missing(item_id, product, problem.group))
        else:
            text = _removed(item_id, product, action, problem.group, problem.deleted)
            log.add("O045", paths[problem.at], text)


def _either(group: tuple[str, ...]) -> str:
    return " or ".join(group)


def _missing(item_id: str, product: str, group: tuple[str, ...]) -> str:
    one = "one" if len(group) == 1 else "one of them"
    return (
        f"item {show(item_id)} adds {product}, and {product} requires {_either(group)}: "
        f"add {one} to the order, or send the customer's existing one as a noChange item"
    )


def _removed(
    item_id: str, product: str, action: str, group: tuple[str, ...], deleted: tuple[str, str]
) -> str:
    gone_id, gone = deleted
    others = "no other" if len(group) == 1 else "none of them"
    return (
        f"item {show(item_id)} ('{action}') is {product}, and {product} requires "
        f"{_either(group)}, but item {show(gone_id)} deletes {gone} and the order keeps "
        f"{others}: keep one (the customer's other one as a noChange item), or delete "
        f"{product} too"
    )
