"""Comparing the before and after worlds of an order: each line's action and what changed.

============================  =======================================================
a line exists ...             its action
============================  =======================================================
after the order only          ``add``
before the order only         ``delete`` (with the attributes it had)
in both, values differ        ``modify``; ``changed`` and ``previous`` say what and from
in both, values equal         ``noChange`` (context: no work unless a plan asks for it)
============================  =======================================================

This one rule covers every case an item's action alone cannot: a condition that turns true on
a modify (``add`` of that line), a merged line whose sources are added and deleted in the same
order (``modify``), a modify that changes nothing a line depends on (``noChange``).  When a
``modify`` item does not say its previous values, what changed is unknown, so its lines are
``modify`` with every attribute listed in ``changed``.

The verdict is written on the line itself (a :class:`~om_dsl.orders.worlds.Built` is ``add``
until said otherwise), so an order of adds only, whose before world is empty, costs nothing
here.
"""

from __future__ import annotations

from om_dsl.orders.structure import ItemInfo
from om_dsl.orders.worlds import Built


def compare(
    before: dict[str, Built],
    after: dict[str, Built],
    infos: list[ItemInfo],
    unknown: frozenset[int] | None = None,
) -> list[Built]:
    """The lines of the result: the after world's, then those only the before world has.

    ``unknown``: positions of more items whose values before are unknown (they read the values
    of a bundle that does not say its previous ones: see ``worlds.unknown_bundles``)."""
    lines = list(after.values())
    if not before:  # an order of adds only: every line is new
        return lines
    for line in lines:
        old = before.get(line.id)
        if old is not None:
            _settle(old, line, infos, unknown)
    for line_id, line in before.items():
        if line_id not in after:
            line.action = "delete"
            lines.append(line)
    return lines


def _settle(old: Built, new: Built, infos: list[ItemInfo], unknown: frozenset[int] | None) -> None:
    """A line of both worlds: ``modify`` or ``noChange``, its sources and rules from both."""
    if old.items != new.items:
        new.items = tuple(sorted({*old.items, *new.items}))
    new.rules = tuple(dict.fromkeys((*new.rules, *old.rules)))
    if any(_unknown_before(infos[i]) for i in new.items) or (
        unknown and not unknown.isdisjoint(new.items)
    ):
        new.action, new.changed = "modify", list(new.attributes)
        return
    names = dict.fromkeys((*new.attributes, *old.attributes))
    changed = [n for n in names if new.attributes.get(n) != old.attributes.get(n)]
    if not changed:
        new.action = "noChange"
        return
    new.action, new.changed = "modify", changed
    new.previous = {n: old.attributes[n] for n in changed if n in old.attributes}


def _unknown_before(info: ItemInfo) -> bool:
    return info.item.action == "modify" and info.item.previous is None
