"""Relationships between order items: where they point, who is whose part, and no cycles.

``bundles`` (on the bundle, pointing at a part) and nesting both make a parent; ``reliesOn``
(on the dependent item, pointing at what it needs) links items that later share
``relies_on``-scoped technical products.  Both graphs must be acyclic.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from om_dsl.graphs import find_cycles
from om_dsl.orders.drafts import DraftItem, Link, Unread
from om_dsl.orders.issues import IssueLog, key, show
from om_dsl.orders.values import did_you_mean

RELATIONSHIP_TYPES = ("bundles", "reliesOn")


@dataclass(slots=True)
class Relations:
    parent: dict[str, str] = field(default_factory=dict)
    """child id -> the bundle item it belongs to."""
    relies_on: dict[str, list[str]] = field(default_factory=dict)
    """item id -> the items it relies on (in the order written)."""
    incomplete: set[str] = field(default_factory=set)
    """Bundles whose parts cannot be counted: a part left out for its shape (see
    :class:`Unread`), or a link that was not understood (its own error says why)."""


def check_relations(
    items: list[DraftItem], ids: dict[str, DraftItem], log: IssueLog, unread: Unread
) -> Relations:
    rel = Relations(incomplete=set(unread.parents))
    # An item whose id is used twice (O020) takes no part: only the first item with an id is
    # kept, and the other's nesting and links would be blamed on it (a part that reuses its
    # bundle's id made "a -> a" a cycle and the bundle a part of itself).  Items are in
    # document order, so the item a part is nested in is the last one seen with that id.
    last: dict[str, DraftItem] = {}
    for item in items:
        bundle = item.nested_in
        parent = None if bundle is None else last.get(bundle)
        last[item.id] = item
        if bundle is None or (parent is not None and ids.get(parent.id) is not parent):
            continue  # not nested, or nested in an item left out itself
        if ids.get(item.id) is item:
            rel.parent[item.id] = bundle
        else:  # its bundle lacks a part that is there: the parts cannot be counted
            rel.incomplete.add(bundle)
    for item in items:
        if ids.get(item.id) is item:
            for link in item.links:
                _link(item, link, ids, rel, log, unread)
    _parent_cycles(rel.parent, ids, log)
    _relies_cycles(rel.relies_on, ids, log)
    return rel


def _link(
    item: DraftItem,
    link: Link,
    ids: dict[str, DraftItem],
    rel: Relations,
    log: IssueLog,
    unread: Unread,
) -> None:
    type_, target, path = link.type, link.id, link.path
    if type_ not in RELATIONSHIP_TYPES:
        log.add(
            "O050", key(path, link.type_key),
            f"unknown relationship type {show(type_)}; om_dsl understands: "
            + ", ".join(RELATIONSHIP_TYPES) + did_you_mean(type_, RELATIONSHIP_TYPES),
        )  # fmt: skip
        rel.incomplete.add(item.id)  # the link may have named a part: the parts are unknown
        return
    if target not in ids and unread.may_be(target):  # its shape error says it all
        _uncounted(rel, item, type_)
        return
    if target not in ids:
        log.add(
            "O051", key(path, "id"),
            f"item {show(item.id)} relates ({type_}) to item {show(target)}, "
            "which is not in the order"
            + did_you_mean(target, [i for i in ids if i != item.id]),  # not itself: O052
        )  # fmt: skip
        _uncounted(rel, item, type_)
        return
    if target == item.id:
        log.add("O052", key(path, "id"), f"item {show(item.id)} relates ({type_}) to itself")
        _uncounted(rel, item, type_)
        return
    if type_ == "reliesOn":
        targets = rel.relies_on.setdefault(item.id, [])
        if target not in targets:
            targets.append(target)
        return
    current = rel.parent.get(target)
    if current is not None and current != item.id:
        log.add(
            "O053", key(path, "id"),
            f"item {show(target)} is a part of both {show(current)} and {show(item.id)}; "
            "an item belongs to one bundle",
        )  # fmt: skip
        rel.incomplete.add(item.id)
        return
    rel.parent[target] = item.id


def _uncounted(rel: Relations, item: DraftItem, type_: str) -> None:
    """A bundle whose part link is in error has parts the order does not show: its
    cardinality is not checked (the link's own error says what is wrong)."""
    if type_ == "bundles":
        rel.incomplete.add(item.id)


def _parent_cycles(parent: dict[str, str], ids: dict[str, DraftItem], log: IssueLog) -> None:
    """Each item has one parent, so a cycle is found by walking up from each item once."""
    done: set[str] = set()
    for start in parent:
        trail: list[str] = []
        node: str | None = start
        while node is not None and node not in done and node not in trail:
            trail.append(node)
            node = parent.get(node)
        if node is not None and node in trail:
            cycle = [*trail[trail.index(node) :], node]
            log.add("O054", ids[node].path, "items bundle each other: " + " -> ".join(cycle))
        done.update(trail)


def _relies_cycles(graph: dict[str, list[str]], ids: dict[str, DraftItem], log: IssueLog) -> None:
    for cycle in find_cycles(graph):
        log.add("O054", ids[cycle[0]].path, "items rely on each other: " + " -> ".join(cycle))
