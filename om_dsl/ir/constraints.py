"""An attribute's own constraints (range, allowed values, pattern), checked against a value.

One check serves the compiler (an attribute's ``default``) and order validation (the values an
order gives), so a default the compiler accepts can never be rejected by the order validator,
and the two never word the same problem differently.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from om_dsl.expr import patterns
from om_dsl.expr import types as T
from om_dsl.orders.issues import show
from om_dsl.suggest import closest


def violation(value: Any, constraints: Mapping[str, Any]) -> str | None:
    """Why ``value`` breaks the constraints, or None when it meets them.

    Args:
        value: A JSON value already known to have the attribute's type; ``None`` always passes
            (absence is the ``required`` check's business).
        constraints: ``min``, ``max``, ``allowed`` and ``pattern``, as in
            :class:`om_dsl.ir.models.Attribute` (a dict of those fields, or the attribute's
            ``__dict__``); missing keys mean no constraint.
    """
    if value is None:
        return None
    if isinstance(value, list):  # list[T]: the constraints apply to each element
        return next((p for p in (violation(v, constraints) for v in value) if p), None)
    low, high = constraints.get("min"), constraints.get("max")
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    if numeric and ((low is not None and value < low) or (high is not None and value > high)):
        return f"{value} is outside {_bound(low)}..{_bound(high)}"
    allowed = constraints.get("allowed")
    if allowed is not None and not _is_allowed(value, allowed):
        texts = [a for a in allowed if isinstance(a, str)]
        close = closest(value, texts) if isinstance(value, str) else None
        meant = f" (did you mean {show(close)}?)" if close else ""
        return f"{show(value)} is not one of the allowed values ({_list(allowed)}){meant}"
    pattern = constraints.get("pattern")
    if pattern is not None and isinstance(value, str):
        return _pattern_violation(value, pattern)
    return None


def _pattern_violation(value: str, pattern: str) -> str | None:
    """A pattern that cannot be checked in time (or at all) is a violation too: the value is
    refused with the reason, rather than the process stalling on a catastrophic pattern."""
    try:
        matched = patterns.fullmatch(pattern, value)
    except patterns.PatternError as exc:
        return f"{_short(value)} cannot be checked: {exc}"
    return None if matched else f"{show(value)} does not match the pattern {show(pattern)}"


def _short(value: str, limit: int = 40) -> str:
    return show(value) if len(value) <= limit else show(value[:limit]) + "..."


def _is_allowed(value: Any, allowed: list[Any]) -> bool:
    """``True`` is not ``1`` here, although Python says they are equal."""
    return any(value == a and isinstance(value, bool) == isinstance(a, bool) for a in allowed)


def _bound(value: Any) -> str:
    return "" if value is None else str(value)


def _list(values: list[Any], limit: int = 8) -> str:
    shown = ", ".join(show(v) for v in values[:limit])
    return shown + (", ..." if len(values) > limit else "")


MERGES: tuple[str, ...] = ("same", "first", "last", "min", "max", "sum", "union", "any", "all")
"""The merge rules, in the order the language reference lists them."""


def merge_problem(rule: str, type_: str) -> str | None:
    """Why a merge rule does not fit an attribute's type (E071), or None when it does."""
    if rule == "sum" and not T.is_numeric(type_):
        return "needs a number"
    if rule in ("min", "max") and not T.ordered(type_):
        return "needs a number, string or date"
    if rule == "union" and not T.is_list(type_):
        return "needs a list"
    if rule in ("any", "all") and type_ != "bool":
        return "needs a bool"
    return None


def fitting_merges(type_: str) -> str:
    """The merge rules other than ``same`` that an attribute of ``type_`` takes, as a hint
    writes them (``first|last|min|max`` for a string): the compiler's E070 and a merge
    conflict at run time (D001) offer the same ones."""
    return "|".join(r for r in MERGES if r != "same" and merge_problem(r, type_) is None)
