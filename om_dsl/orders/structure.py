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


def item_infos(order: Order) -> list[ItemInfo]:
    items = order.items
    by_id = {item.id: item for item in items}
    pos = {item.id: i for i, item in enumerate(items)}
    groups = _relies_groups(items, pos)
    account = order.account
    return [
        ItemInfo(
            i,
            item,
            item.id if item.parent is None else _root(item, by_id),  # most items: no call
            groups[item.id],
            item.account or account,
        )
        for i, item in enumerate(items)
    ]


def _root(item: OrderItem, by_id: dict[str, OrderItem]) -> str:
    if item.parent is None:  # most items: no set to build
        return item.id
    seen = {item.id}
    while item.parent is not None and item.parent in by_id and item.parent not in seen:
        item = by_id[item.parent]
        seen.add(item.id)
    return item.id


def _relies_groups(items: list[OrderItem], pos: dict[str, int]) -> dict[str, str]:
    """Connected components of the (undirected) reliesOn graph, by union-find."""
    parent = {item.id: item.id for item in items}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for item in items:
        for rel in item.relationships:
            if rel.type == "reliesOn" and rel.id in parent:
                a, b = find(item.id), find(rel.id)
                if a != b:
                    first, second = (a, b) if pos[a] < pos[b] else (b, a)
                    parent[second] = first
    return {item.id: find(item.id) for item in items}
