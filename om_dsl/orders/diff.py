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
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from om_dsl.ir.models import Action
from om_dsl.orders.structure import ItemInfo
from om_dsl.orders.worlds import Built


@dataclass(slots=True)
class Compared:
    line: Built
    """The after-world line, or the before-world one for a delete."""
    action: Action
    items: tuple[int, ...]
    rules: tuple[int, ...]
    changed: list[str]
    previous: dict[str, Any]


def compare(
    before: dict[str, Built], after: dict[str, Built], infos: list[ItemInfo]
) -> list[Compared]:
    if not before:  # an order of adds only: nothing to compare
        return [Compared(line, "add", line.items, line.rules, [], {}) for line in after.values()]
    out = [_one(before.get(line_id), line, infos) for line_id, line in after.items()]
    out += [_gone(line) for line_id, line in before.items() if line_id not in after]
    return out


def _gone(line: Built) -> Compared:
    return Compared(line, "delete", line.items, line.rules, [], {})


def _one(old: Built | None, new: Built, infos: list[ItemInfo]) -> Compared:
    if old is None:
        return Compared(new, "add", new.items, new.rules, [], {})
    items = new.items if old.items == new.items else tuple(sorted({*old.items, *new.items}))
    rules = tuple(dict.fromkeys((*new.rules, *old.rules)))
    if any(_unknown_before(infos[i]) for i in items):
        return Compared(new, "modify", items, rules, list(new.attributes), {})
    names = dict.fromkeys((*new.attributes, *old.attributes))
    changed = [n for n in names if new.attributes.get(n) != old.attributes.get(n)]
    if not changed:
        return Compared(new, "noChange", items, rules, [], {})
    previous = {n: old.attributes[n] for n in changed if n in old.attributes}
    return Compared(new, "modify", items, rules, changed, previous)


def _unknown_before(info: ItemInfo) -> bool:
    return info.item.action == "modify" and info.item.previous is None
