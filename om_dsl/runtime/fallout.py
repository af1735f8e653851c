"""Fallout: the items whose retries are spent, in held orders, found by what an operator knows.

After a downstream outage every order that called the system is held on one item each, and
an operator retried them one call at a time.  :class:`FalloutFilter` names them the way an
operator thinks of them (the system the item's callout calls, the order, the item id's
shape, the technical product), :func:`fallout_items` lists them, and :func:`group_by_order`
prepares a bulk retry of one commit per order (``Runtime.retry_fallout``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from om_dsl.runtime.states import ItemState
from om_dsl.runtime.status import OrderStatus
from om_dsl.runtime.store.base import FalloutRow

SystemOf = Callable[[str, str, str], str | None]
"""(catalog hash, product, plan item name) -> the system the item's callout calls, or None."""


@dataclass(frozen=True, slots=True)
class FalloutFilter:
    """Which items in fallout: each given field must match (all of them: an AND).

    Attributes:
        system: the downstream system the item's callout calls (exact name).
        order_id: only this order.
        item_pattern: a shell-style pattern of the item id (``*:subscribe``, ``7/*``),
            matched case-sensitively, as ids are.
        product: the technical product of the item's line (exact name).
    """

    system: str | None = None
    order_id: str | None = None
    item_pattern: str | None = None
    product: str | None = None

    @property
    def empty(self) -> bool:
        """Nothing named: every item in fallout matches (a bulk action asks for it apart)."""
        return not (self.system or self.order_id or self.item_pattern or self.product)

    def matches(self, item: FalloutItem) -> bool:
        return (
            self.system in (None, item.system)
            and self.order_id in (None, item.order_id)
            and self.product in (None, item.product)
            and (self.item_pattern is None or fnmatchcase(item.item_id, self.item_pattern))
        )


@dataclass(frozen=True, slots=True)
class FalloutItem:
    """An item whose retries are spent (``fatally_failed``) in a held order."""

    order_id: str
    item_id: str
    name: str
    kind: str
    product: str
    system: str | None
    """The system its callout calls; None for an item that is no callout."""
    attempt: int
    failures: int
    reason: str | None


@dataclass(frozen=True, slots=True)
class BulkRetry:
    """What a bulk retry did: the items retried, and those refused with the reason (the
    order or item changed since it was listed: another operator retried it, the order was
    cancelled...).  The other items of a refused item's order are retried all the same."""

    retried: list[FalloutItem] = field(default_factory=list)
    refused: list[tuple[FalloutItem, str]] = field(default_factory=list)


def fallout_items(
    rows: Iterable[FalloutRow], system_of: SystemOf, wanted: FalloutFilter
) -> list[FalloutItem]:
    """The items of ``rows`` that ``wanted`` matches, in their order.  ``system_of`` is asked
    once per (catalog, product, item)."""
    systems: dict[tuple[str, str, str], str | None] = {}
    found = []
    for row in rows:
        key = (row.catalog_hash, row.product, row.name)
        if key not in systems:
            systems[key] = system_of(*key)
        candidate = FalloutItem(row.order_id, row.item_id, row.name, row.kind, row.product,
                                systems[key], row.attempt, row.failures,
                                row.reason)  # fmt: skip
        if wanted.matches(candidate):
            found.append(candidate)
    return found


def status_rows(statuses: Iterable[OrderStatus]) -> Iterator[FalloutRow]:
    """The fallout of the orders ``statuses``, in their order and each order's items in plan
    order: what :meth:`Store.fallout <om_dsl.runtime.store.base.Store.fallout>` finds, read
    from whole statuses (for a host's store without it)."""
    for status in statuses:
        for item in status.items:
            if item.state == ItemState.FATALLY_FAILED and not item.superseded:
                yield FalloutRow(status.id, status.catalog_hash, item.id, item.name, item.kind,
                                 item.product, item.attempt, item.failures,
                                 item.reason)  # fmt: skip


def group_by_order(items: Iterable[FalloutItem]) -> dict[str, list[FalloutItem]]:
    """The items by order, orders in the order first met: one commit per order."""
    groups: dict[str, list[FalloutItem]] = {}
    for item in items:
        groups.setdefault(item.order_id, []).append(item)
    return groups
