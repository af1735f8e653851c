"""Many-to-one merging of the values several sources give one shared line.

Each target attribute declares its rule (``merge same|first|last|min|max|sum|union|any|all``,
``same`` by default).  Only sources that give a non-null value take part; when none does, the
attribute's default applies.  ``first``/``last`` follow order item order, never arrival order,
so the result does not depend on the engine.  ``same`` with two different values is an error
that names both sources: never a silent "last one wins".
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from om_dsl.rules.program import CompiledRule


@dataclass(slots=True)
class Contribution:
    """What one source (an item unit or a line) gives one shared line."""

    sort: tuple[int, ...]
    items: tuple[int, ...]
    """Positions of the order items behind the source."""
    rule: CompiledRule | None
    """None for a value from the installed base."""
    values: Mapping[str, Any]
    parent_line: str | None = None

    # Written out (the dataclass keeps it): a C constructor when compiled, see om_dsl.syntax.ast.
    def __init__(
        self,
        sort: tuple[int, ...],
        items: tuple[int, ...],
        rule: CompiledRule | None,
        values: Mapping[str, Any],
        parent_line: str | None = None,
    ) -> None:
        self.sort = sort
        self.items = items
        self.rule = rule
        self.values = values
        self.parent_line = parent_line


class MergeConflict(Exception):
    """Two sources gave a ``merge same`` attribute different values."""

    def __init__(
        self, attribute: str, first: Contribution, second: Contribution, a: Any, b: Any
    ) -> None:
        super().__init__(attribute)
        self.attribute = attribute
        self.first, self.second = first, second
        self.first_value, self.second_value = a, b


Merge = Callable[[list[Any]], Any]
"""A merge rule over the non-null values given, in contribution order (``same`` apart: it
needs the contributions, to name two that disagree)."""


def merge_values(
    contributions: Sequence[Contribution],
    attributes: Sequence[str],
    rules: Mapping[str, str],
    defaults: Mapping[str, Any],
) -> dict[str, Any]:
    """The merged attributes, in declaration order (contributions sorted by ``sort``).

    An order-scope line has a contribution per item of the order, so the values are
    gathered once per attribute as a plain list (no pair per contribution) and the rules work
    on that list.

    Raises:
        MergeConflict: a ``same`` attribute got two different values.
    """
    out: dict[str, Any] = {}
    for name in attributes:
        given = [v for c in contributions if (v := c.values.get(name)) is not None]
        if given:
            rule = rules.get(name, "same")
            out[name] = _same(name, given, contributions) if rule == "same" else _RULES[rule](given)
        elif name in defaults:
            out[name] = defaults[name]
    return out


def _same(name: str, given: list[Any], contributions: Sequence[Contribution]) -> Any:
    value = given[0]
    if len(given) == 1:
        return value
    kinds = set(map(type, given))
    # All equal (list.count compares at C speed) and all or none of them bools: the one value.
    # Floats go the pairwise way, where NaN != NaN, as count would take an identical NaN.
    if (
        float not in kinds
        and (bool not in kinds or len(kinds) == 1)
        and given.count(value) == len(given)
    ):
        return value
    pairs = [(c, c.values[name]) for c in contributions if c.values.get(name) is not None]
    first, value = pairs[0]
    for other, other_value in pairs[1:]:
        if other_value != value or isinstance(other_value, bool) != isinstance(value, bool):
            raise MergeConflict(name, first, other, value, other_value)
    return value


def _union(given: list[Any]) -> Any:
    """The elements of every list, in first-seen order, each once: once by the equality that
    ``merge same`` and the comparison of worlds use (``1`` and ``1.0`` are one number), except
    that a bool is never a number (``true`` and ``1`` are two elements)."""
    seen: dict[tuple[int, Any], Any] = {}
    for values in given:
        for value in values:
            seen.setdefault(_element_key(value), value)
    return list(seen.values())


def _element_key(value: Any) -> tuple[int, Any]:
    """Equal keys for equal elements: the value itself where Python's equality and hash are
    JSON's (``1 == 1.0``, one hash), tagged so that a bool is not a number; canonical JSON
    text for anything else."""
    if isinstance(value, bool):
        return 0, value
    if isinstance(value, int | float | str):
        return 1, value
    return 2, json.dumps(value, sort_keys=True)


_RULES: dict[str, Merge] = {
    "first": lambda g: g[0],
    "last": lambda g: g[-1],
    "min": min,
    "max": max,
    "sum": sum,
    "union": _union,
    "any": any,
    "all": all,
}
