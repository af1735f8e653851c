"""Facts about an order's items that decomposition needs: position, root, group, account.

Computed once per decomposition, iteratively (an order may hold 100k items and deep bundles).
"""

from __future__ import annotations

from dataclasses import dataclass

from om_dsl.orders.models import Order, OrderItem


@dataclass(slots=True)
class ItemInfo:
    pos: int
    """Position in ``order.items``: the order of everything decomposition outputs."""
    item: OrderItem
    root: str
    """The root item (a bundle or a stand-alone item) whose fulfillment request this serves."""
    group: str
    """The relies_on group: the id of the first item of the items linked by reliesOn."""
    account: str | None

    # Written out (the dataclass keeps it): a C constructor when compiled, see om_dsl.syntax.ast.
    def __init__(
        self,
        pos: int,
        item: OrderItem,
        root: str,
        group: str,
        account: str | None,
    ) -> None:
        self.pos = pos
        self.item = item
        self.root = root
        self.group = group
        self.account = account


def item_infos(order: Order) -> list[ItemInfo]:
    """One pass over the items after the relies_on groups (each item's fields read once)."""
    items = order.items
    ids = [item.id for item in items]
    by_id: dict[str, OrderItem] | None = None  # made only when an item has a parent
    groups = _relies_groups(items, ids)
    account = order.account
    infos: list[ItemInfo] = []
    for i, item in enumerate(items):
        item_id = ids[i]
        if item.parent is None:  # most items: no table and no call
            root = item_id
        else:
            if by_id is None:
                by_id = dict(zip(ids, items, strict=True))
            root = _root(item, by_id)
        infos.append(ItemInfo(i, item, root, groups[item_id], item.account or account))
    return infos


def _root(item: OrderItem, by_id: dict[str, OrderItem]) -> str:
    if item.parent is None:  # most items: no set to build
        return item.id
    seen = {item.id}
    # The parent is read into a local on every turn: mypy keeps ``item.parent`` narrowed to
    # str after ``item`` is reassigned, and compiled code (om_dsl.accel) would then check a
    # None as a str.
    parent: str | None = item.parent
    while parent is not None and parent in by_id and parent not in seen:
        item = by_id[parent]
        seen.add(item.id)
        parent = item.parent
    return item.id


def _relies_groups(items: list[OrderItem], ids: list[str]) -> dict[str, str]:
    """Connected components of the (undirected) reliesOn graph, by union-find (items that
    rely on nothing and that nothing relies on are their own group, found without a call)."""
    parent = {item_id: item_id for item_id in ids}
    pos: dict[str, int] | None = None

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for item_id, item in zip(ids, items, strict=True):
        for rel in item.relationships:
            if rel.type == "reliesOn" and rel.id in parent:
                a, b = find(item_id), find(rel.id)
                if a != b:
                    if pos is None:
                        pos = {x: i for i, x in enumerate(ids)}
                    first, second = (a, b) if pos[a] < pos[b] else (b, a)
                    parent[second] = first
    return {x: p if p == x or parent[p] == p else find(x) for x, p in parent.items()}
