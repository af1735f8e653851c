"""``changed(line.x)`` and ``previous(line.x)``: what the order changes on the line a plan
item runs for.

A modify order says which attributes it changes (and, where it can, their values before);
decomposition records that on each line (``changed``, ``previous``).  Plans choose work by
action, and without these functions a ``modify`` plan had to redo everything, or guess: a
speed change reconfigured the port, re-sent the address and re-billed.  They read the line's
change, not a value, so they are not in :data:`om_dsl.expr.functions.FUNCTIONS` (whose
functions see only their arguments' values): the compiler allows them only in plans, with one
line attribute as the argument, and the evaluator gives them the line's change from the
environment root :data:`CHANGE_ROOT`, a name the language cannot write.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, Final, TypeGuard

from om_dsl.ir import models as ir

CHANGE_ROOT: Final = "line~change"
"""The environment root that holds the line's :class:`LineChange` (``~`` is not a name
character, so no reference of a catalog can read or shadow it)."""


@dataclass(frozen=True, slots=True)
class LineChange:
    """What the order does to one line: its action, the attributes a modify changes, and
    the values they had before (those the order gave)."""

    action: str
    changed: frozenset[str] = frozenset()
    previous: Mapping[str, Any] | None = None


def line_change(action: str, changed: Collection[str], previous: Mapping[str, Any]) -> LineChange:
    """The change of a line as decomposition (or a stored plan) records it.

    Made for every line the runtime loads (100k at a time): a line that records no change,
    nearly every one, shares its action's constant instead of allocating a frozenset.
    """
    if not changed and not previous:
        plain = _PLAIN.get(action)
        if plain is not None:
            return plain
    return LineChange(action, frozenset(changed), previous or None)


_PLAIN: Final = {action: LineChange(action) for action in ("add", "modify", "delete", "noChange")}


def _changed(change: LineChange | None, name: str, current: Any) -> bool:
    """An add sets every attribute that has a value; a modify changes the ones decomposition
    recorded; a delete or noChange changes none."""
    if change is None:
        return False
    if change.action == "add":
        return current is not None
    return change.action == "modify" and name in change.changed


def _previous(change: LineChange | None, name: str, current: Any) -> Any:
    """The value before the order: none before an add; on a modify, the recorded earlier value
    of a changed attribute (null when the order did not give it); otherwise the value now."""
    if change is None:
        return current
    if change.action == "add":
        return None
    if change.action == "modify" and name in change.changed:
        return None if change.previous is None else change.previous.get(name)
    return current


def is_line_attribute(arg: Any) -> TypeGuard[ir.Ref]:
    """Whether a lowered argument is ``line.x``: the only argument the two functions take."""
    return isinstance(arg, ir.Ref) and arg.root == "line" and len(arg.path) == 1


@dataclass(frozen=True, slots=True)
class LineFunction:
    name: str
    signature: str
    result: Callable[[str], str]
    """The result type, given the attribute's type."""
    impl: Callable[[LineChange | None, str, Any], Any]
    """(the line's change, the attribute's name, its value now) -> the result."""


LINE_FUNCTIONS: Final[dict[str, LineFunction]] = {
    f.name: f
    for f in [
        LineFunction("changed", "changed(line.ATTRIBUTE)", lambda _t: "bool", _changed),
        LineFunction("previous", "previous(line.ATTRIBUTE)", lambda t: t, _previous),
    ]
}
