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


class MergeConflict(Exception):
    """Two sources gave a ``merge same`` attribute different values."""

    def __init__(
        self, attribute: str, first: Contribution, second: Contribution, a: Any, b: Any
    ) -> None:
        super().__init__(attribute)
        self.attribute = attribute
        self.first, self.second = first, second
        self.first_value, self.second_value = a, b


Merge = Callable[[str, list[tuple[Contribution, Any]]], Any]


def merge_values(
    contributions: Sequence[Contribution],
    attributes: Sequence[str],
    rules: Mapping[str, str],
    defaults: Mapping[str, Any],
) -> dict[str, Any]:
    """The merged attributes, in declaration order (contributions sorted by ``sort``).

    Raises:
        MergeConflict: a ``same`` attribute got two different values.
    """
    out: dict[str, Any] = {}
    for name in attributes:
        given = [(c, c.values[name]) for c in contributions if c.values.get(name) is not None]
        if given:
            out[name] = _RULES[rules.get(name, "same")](name, given)
        elif name in defaults:
            out[name] = defaults[name]
    return out


def _same(name: str, given: list[tuple[Contribution, Any]]) -> Any:
    first, value = given[0]
    for other, other_value in given[1:]:
        if other_value != value or isinstance(other_value, bool) != isinstance(value, bool):
            raise MergeConflict(name, first, other, value, other_value)
    return value


def _union(name: str, given: list[tuple[Contribution, Any]]) -> Any:
    seen: dict[str, Any] = {}
    for _c, values in given:
        for value in values:
            seen.setdefault(json.dumps(value, sort_keys=True), value)
    return list(seen.values())


_RULES: dict[str, Merge] = {
    "same": _same,
    "first": lambda _n, g: g[0][1],
    "last": lambda _n, g: g[-1][1],
    "min": lambda _n, g: min(v for _c, v in g),
    "max": lambda _n, g: max(v for _c, v in g),
    "sum": lambda _n, g: sum(v for _c, v in g),
    "union": _union,
    "any": lambda _n, g: any(v for _c, v in g),
    "all": lambda _n, g: all(v for _c, v in g),
}
