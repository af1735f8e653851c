"""Checking a JSON value against an attribute's declared type and constraints.

Types are the IR's strings (``int``, ``decimal``, ``string``, ``bool``, ``date``, ``any``,
``enum:Name``, ``list[T]``).  A checker is built once per attribute and reused for every order,
which keeps validating a 10k-item order cheap.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from om_dsl.expr import types as T
from om_dsl.expr.types import SAFE_INTEGER
from om_dsl.ir import models as ir
from om_dsl.ir.constraints import violation
from om_dsl.orders.issues import show, typed
from om_dsl.suggest import closest

Check = Callable[[Any], str | None]
"""A value -> why it does not fit, or None."""
Accept = Callable[[Any], bool]
"""A value -> whether it certainly fits (see :func:`quick_accept`)."""

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def attribute_check(attr: ir.Attribute, enums: Mapping[str, Sequence[str]]) -> Check:
    """Type first (a constraint message about a wrongly typed value would mislead), then range,
    allowed values and pattern via :func:`om_dsl.ir.constraints.violation`."""
    of_type = type_check(attr.type, enums)
    constraints = {
        "min": attr.min,
        "max": attr.max,
        "allowed": attr.allowed,
        "pattern": attr.pattern,
    }
    constrained = any(v is not None for v in constraints.values())

    def check(value: Any) -> str | None:
        problem = of_type(value)
        if problem is None and constrained:
            problem = violation(value, constraints)
        return problem

    return check


def quick_accept(attr: ir.Attribute, enums: Mapping[str, Sequence[str]]) -> Accept:
    """A fast test that passes only values :func:`attribute_check` accepts.

    The quick reader (:mod:`om_dsl.orders.quick`) calls it for every value of an order; a
    value it refuses sends the order to the thorough reader, which says what is wrong.  So it
    may refuse more than the check (a subclass of ``int``, a type it does not specialise), but
    never accept more: the common types are one or two comparisons, the rest is the check.
    """
    check = attribute_check(attr, enums)
    type_, low, high = attr.type, attr.min, attr.max
    if attr.allowed is not None or attr.pattern is not None:
        return lambda value: check(value) is None
    if type_ == "int":
        lo = -SAFE_INTEGER if low is None else max(low, -SAFE_INTEGER)
        hi = SAFE_INTEGER if high is None else min(high, SAFE_INTEGER)
        return lambda value: type(value) is int and lo <= value <= hi
    if low is not None or high is not None:
        return lambda value: check(value) is None
    if type_ == "string":
        return lambda value: type(value) is str
    if type_ == "bool":
        return lambda value: type(value) is bool
    if T.is_enum(type_):
        members = frozenset(enums.get(T.enum_name(type_), ()))
        return lambda value: type(value) is str and value in members
    return lambda value: check(value) is None


def type_check(type_: str, enums: Mapping[str, Sequence[str]]) -> Check:
    if T.is_list(type_):
        return _list_check(type_check(T.list_item(type_), enums), type_)
    if T.is_enum(type_):
        return _enum_check(T.enum_name(type_), list(enums.get(T.enum_name(type_), ())))
    return _SCALARS.get(type_, _any)


def _any(value: Any) -> str | None:
    return None


def _int(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer() and abs(value) <= SAFE_INTEGER:
            # JSON's 1e2 and 100.0 both arrive as 100.0: say what to write instead
            return (
                "expected a whole number without a decimal point or exponent, got "
                f"{value!r} (write {int(value)})"
            )
        if isinstance(value, float) and value.is_integer():  # 1e308: no 309-digit advice
            return f"{show(value)} is too large; whole numbers must be within +-2^53"
        return f"expected a whole number (int), got {typed(value)}" + _unquote(value, _QUOTED_INT)
    if abs(value) > SAFE_INTEGER:
        return f"{show(value)} is too large; whole numbers must be within +-2^53"
    return None


def _decimal(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"expected a number (decimal), got {typed(value)}" + _unquote(value, _QUOTED_DECIMAL)
    if isinstance(value, float) and not math.isfinite(value):
        return f"{value!r} is not a finite number"
    if isinstance(value, int) and abs(value) > SAFE_INTEGER:
        return f"{show(value)} is too large; numbers must be within +-2^53"
    return None


def _string(value: Any) -> str | None:
    if not isinstance(value, str):
        return f"expected text (string), got {typed(value)}"
    return None


def _bool(value: Any) -> str | None:
    if not isinstance(value, bool):
        return f"expected true or false (bool), got {typed(value)}" + _unquote(value, _QUOTED_BOOL)
    return None


_QUOTED_INT: Final = re.compile(r"-?(0|[1-9][0-9]{0,14})")  # what JSON reads as it is
_QUOTED_DECIMAL: Final = re.compile(r"-?(0|[1-9][0-9]{0,14})(\.[0-9]{1,15})?")
_QUOTED_BOOL: Final = re.compile(r"true|false")


def _unquote(value: Any, literal: re.Pattern[str]) -> str:
    """`` (write 100, without quotes)`` for a string that holds the literal the type wants:
    many clients send every value as text, and the fix is to drop the quotes, not to guess."""
    if isinstance(value, str) and literal.fullmatch(value):
        return f" (write {value}, without quotes)"
    return ""


def _date(value: Any) -> str | None:
    if not isinstance(value, str) or not _DATE.match(value):
        return f'expected a date as "YYYY-MM-DD", got {typed(value)}'
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return f"{show(value)} is not a real date"
    return None


_SCALARS: dict[str, Check] = {
    "int": _int,
    "decimal": _decimal,
    "string": _string,
    "bool": _bool,
    "date": _date,
}


def _enum_check(name: str, members: list[str]) -> Check:
    allowed = frozenset(members)

    def check(value: Any) -> str | None:
        if isinstance(value, str) and value in allowed:
            return None
        if not isinstance(value, str):
            choices = ", ".join(members)
            return f"expected one of {name} ({choices}), got {typed(value)}"
        return (
            f"{show(value)} is not a {name}; expected one of: {', '.join(members)}"
            + did_you_mean(value, members)
        )

    return check


def _list_check(item: Check, type_: str) -> Check:
    def check(value: Any) -> str | None:
        if not isinstance(value, list):
            return f"expected a list ({T.describe(type_)}), got {typed(value)}"
        for i, element in enumerate(value):
            problem = item(element)
            if problem is not None:
                return f"element {i}: {problem}"
        return None

    return check


def did_you_mean(name: str, choices: Sequence[str]) -> str:
    """`` (did you mean 'x'?)`` when a close choice exists, else empty."""
    close = closest(name, choices)
    return f" (did you mean {show(close)}?)" if close else ""
