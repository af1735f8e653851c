"""The built-in functions of the expression language: their typing rule and implementation.

One table serves both the compiler (arity, argument types, result type) and the closure
compiler (the Python implementation), so the two can never disagree.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from om_dsl.expr import patterns
from om_dsl.expr import types as T
from om_dsl.orders.issues import show

TypeRule = Callable[[list[str]], "str | tuple[str, str]"]
"""Given argument types: the result type, or ("error", message)."""


@dataclass(frozen=True, slots=True)
class Function:
    name: str
    min_args: int
    max_args: int | None
    signature: str
    type_rule: TypeRule
    impl: Callable[..., Any]


def _err(message: str) -> tuple[str, str]:
    return ("error", message)


def _expect(*allowed: str) -> Callable[[str], bool]:
    def ok(t: str) -> bool:
        if t in (T.ANY, T.NULL):
            return True
        return any(t == a or (a == "list" and T.is_list(t)) for a in allowed)

    return ok


def _fixed(args: list[Callable[[str], bool]], result: str) -> TypeRule:
    def rule(types: list[str]) -> str | tuple[str, str]:
        for i, (t, ok) in enumerate(zip(types, args, strict=False)):
            if not ok(t):
                return _err(f"argument {i + 1} has type {T.describe(t)}")
        return result

    return rule


def _unify_all(types: list[str], numeric: bool) -> str | tuple[str, str]:
    result = types[0]
    for t in types[1:]:
        unified = T.unify(result, t)
        if unified is None:
            return _err(f"arguments mix {T.describe(result)} and {T.describe(t)}")
        result = unified
    if numeric and not (T.is_numeric(result) or result == T.ANY):
        return _err(f"arguments must be numbers, not {T.describe(result)}")
    return result


def _numeric_same(types: list[str]) -> str | tuple[str, str]:
    return _unify_all(types, numeric=True)


def _coalesce(types: list[str]) -> str | tuple[str, str]:
    known = [t for t in types if t != T.NULL] or [T.NULL]
    return _unify_all(known, numeric=False)


_WHOLE = re.compile(r"[+-]?[0-9]+")
_DATE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[T ].*)?", re.DOTALL)
"""What ``date()`` reads: YYYY-MM-DD, alone or starting a date-time (TMF622 dates are
date-times).  Python's own ``fromisoformat`` also takes 20260101 and 2026-W01-1."""


MAX_SIZE: Final = 1_048_576
"""Characters of a string, items of a list, that one expression may build (1 Mi).

Order strings are at most 10,000 characters and an order's JSON at most 8 MiB, but a
few nested calls multiply text: eight ``replace(s, "", "0123456789")`` around a 4-character
value make 860 million characters (gigabytes, then a ``MemoryError``).  The functions that
can grow text or lists (``replace``, ``concat``, ``join``, ``str``, ``+``) compute the size of
their result first and fail, as any evaluation error, before building more than this."""


_CONTAINERS: Final = (list, Mapping)
"""What ``str()`` writes as Python does (a tuple: see ``_SEQUENCES`` in ``evaluate``)."""


def too_large(size: int, unit: str) -> str:
    """The message of a result refused by :data:`MAX_SIZE`."""
    kind = "string" if unit == "characters" else "list"
    return (
        f"the result would have {size:,} {unit}, past the limit of {MAX_SIZE:,} on a "
        f"{kind} an expression builds"
    )


def _fits(size: int) -> None:
    """Refuse, before it is built, a text of ``size`` characters past :data:`MAX_SIZE`."""
    if size > MAX_SIZE:
        raise ValueError(too_large(size, "characters"))


def _text_size(value: Any) -> int:
    """The length of ``_str(value)``, computed without building it.

    Exact for a string and a scalar.  For a list or an object (an ``any`` value) it counts one
    character per item plus the characters of the strings inside, a lower bound of Python's
    ``str()`` that stops once past :data:`MAX_SIZE`: a list that holds itself many times over
    (the same output read twice, nested) is not walked to its end.  The exact length of such
    a text is checked again once it is built, within a small factor of the limit.
    """
    if type(value) is str:
        return len(value)
    if value is None:
        return 0
    if not isinstance(value, _CONTAINERS):
        return len(_str(value))  # a number or a bool: a few characters
    size = 0
    stack: list[Any] = [value]
    while stack and size <= MAX_SIZE:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
            size += 2 + len(item)
        elif isinstance(item, Mapping):
            stack.extend(item.keys())
            stack.extend(item.values())
            size += 2 + len(item)
        else:
            size += _text_size(item)
    return size


def _to_int(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        # whole numbers exactly: through a float, "99999999999999999999999" lost its digits
        if _WHOLE.fullmatch(text):
            if len(text) > _MAX_DIGITS:  # Python's own refusal named sys.set_int_max_str_digits
                raise ValueError(f"{show(value)} is too large for a whole number")
            return int(text)
        return int(_number(text, value))
    return int(value)


def _to_decimal(value: Any) -> float | None:
    if isinstance(value, str):
        return _number(value.strip(), value)
    return None if value is None else float(value)


def _number(text: str, value: str) -> float:
    """``text`` as a number, or a message in the catalog's words: Python's said "could not
    convert string to float" and echoed a 10,000-character value whole."""
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{show(value)} is not a number") from None


_MAX_DIGITS: Final = 400
"""Digits a whole number in text may have: far past ±2^53, the largest an expression keeps,
so the range check says the rest; and far below Python's 4,300."""


def _round(value: Any, digits: Any = 0) -> float | None:
    return None if value is None else round(float(value), int(digits or 0))


def _str(value: Any) -> str:
    if type(value) is str:
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, _CONTAINERS):  # an `any` value: Python's text of it, bounded
        _fits(_text_size(value))
    return str(value)


def _concat(*values: Any) -> str:
    """``concat(...)``: each value as ``str()`` writes it, the total length checked first."""
    _fits(sum(_text_size(v) for v in values))
    return "".join(_str(v) for v in values)


def _replace(text: Any, old: Any, new: Any) -> str:
    """``replace(text, old, new)``, its length computed first: an empty ``old`` matches
    between every two characters, so each nested call multiplies the text."""
    text, old, new = str(text), str(old), str(new)
    if len(new) > len(old):
        _fits(len(text) + text.count(old) * (len(new) - len(old)))
    return str.replace(text, old, new)


def _join(items: Any, separator: Any) -> str:
    """``join(list, separator)``, its length computed first."""
    if items is None:
        return ""
    between = str(separator)
    _fits(sum(_text_size(x) for x in items) + len(between) * max(len(items) - 1, 0))
    return between.join(_str(x) for x in items)


def _len(value: Any) -> int:
    return 0 if value is None else len(value)


def _contains(haystack: Any, needle: Any) -> bool:
    return haystack is not None and needle in haystack


def _date(text: Any) -> str | None:
    """Dates are ISO-8601 strings at run time; this validates and normalises them."""
    if text is None:
        return None
    if not _DATE_TEXT.fullmatch(str(text)):
        raise ValueError(f"{str(text)[:40]!r} is not a date (YYYY-MM-DD)")
    return dt.date.fromisoformat(str(text)[:10]).isoformat()


def _add_days(day: Any, days: Any) -> str | None:
    """``date + n days``: dates are ISO text at run time (see :func:`_date`)."""
    if day is None or days is None:
        return None
    start = dt.date.fromisoformat(_date(day) or "")
    return (start + dt.timedelta(days=int(days))).isoformat()  # OverflowError past year 9999


def _days_between(first: Any, second: Any) -> int | None:
    """Days from ``first`` to ``second``: negative when ``second`` comes first."""
    if first is None or second is None:
        return None
    a, b = (dt.date.fromisoformat(_date(d) or "") for d in (first, second))
    return (b - a).days


def _substr(text: Any, start: Any, length: Any = None) -> str | None:
    if text is None:
        return None
    begin = int(start)
    return str(text)[begin:] if length is None else str(text)[begin : begin + int(length)]


def _matches(text: Any, pattern: Any) -> bool:
    """Time-limited (see :mod:`om_dsl.expr.patterns`): the text may come from an order."""
    return text is not None and patterns.search(str(pattern), str(text))


def _null_safe(fn: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        return None if args[0] is None else fn(*args)

    return call


def _null_if_any(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Null propagates, as it does through arithmetic: ``max(speed, null)`` is null."""

    def call(*args: Any) -> Any:
        return None if any(a is None for a in args) else fn(*args)

    return call


_STR = _expect("string")
_NUM = _expect("int", "decimal")
_INT = _expect("int")
_ANYT = _expect("int", "decimal", "string", "bool", "date", "list")
_SIZED = _expect("string", "list")
_LIST = _expect("list")
_NUMLIKE = _expect("int", "decimal", "string")
_DATE = _expect("date")

FUNCTIONS: dict[str, Function] = {
    f.name: f
    for f in [
        Function("lower", 1, 1, "lower(string)", _fixed([_STR], "string"), _null_safe(str.lower)),
        Function("upper", 1, 1, "upper(string)", _fixed([_STR], "string"), _null_safe(str.upper)),
        Function("trim", 1, 1, "trim(string)", _fixed([_STR], "string"), _null_safe(str.strip)),
        Function("len", 1, 1, "len(string | list)", _fixed([_SIZED], "int"), _len),
        Function("str", 1, 1, "str(value)", lambda _t: "string", _str),
        Function(
            "int", 1, 1, "int(string | decimal)", _fixed([_NUMLIKE], "int"),
            _to_int,
        ),
        Function(
            "decimal", 1, 1, "decimal(string | int)",
            _fixed([_NUMLIKE], "decimal"), _to_decimal,
        ),
        Function("round", 1, 2, "round(number, digits?)", _fixed([_NUM, _INT], "decimal"), _round),
        Function("abs", 1, 1, "abs(number)", _numeric_same, _null_safe(abs)),
        Function("min", 2, None, "min(number, number, ...)", _numeric_same, _null_if_any(min)),
        Function("max", 2, None, "max(number, number, ...)", _numeric_same, _null_if_any(max)),
        Function(
            "coalesce", 2, None, "coalesce(value, value, ...)", _coalesce,
            lambda *a: next((x for x in a if x is not None), None),
        ),
        Function(
            "concat", 1, None, "concat(value, ...)", lambda _t: "string",
            _concat,
        ),
        Function(
            "contains", 2, 2, "contains(string | list, value)", _fixed([_SIZED, _ANYT], "bool"),
            _contains,
        ),
        Function(
            "starts_with", 2, 2, "starts_with(string, string)", _fixed([_STR, _STR], "bool"),
            lambda s, p: s is not None and str(s).startswith(str(p)),
        ),
        Function(
            "ends_with", 2, 2, "ends_with(string, string)", _fixed([_STR, _STR], "bool"),
            lambda s, p: s is not None and str(s).endswith(str(p)),
        ),
        Function(
            "replace", 3, 3, "replace(string, old, new)", _fixed([_STR, _STR, _STR], "string"),
            _null_safe(_replace),
        ),
        Function(
            "substr", 2, 3, "substr(string, start, length?)", _fixed([_STR, _INT, _INT], "string"),
            _substr,
        ),
        Function(
            "join", 2, 2, "join(list, separator)", _fixed([_LIST, _STR], "string"),
            _join,
        ),
        Function(
            "split", 2, 2, "split(string, separator)", _fixed([_STR, _STR], "list[string]"),
            _null_safe(lambda s, sep: str(s).split(str(sep))),
        ),
        Function("date", 1, 1, "date(string)", _fixed([_STR], "date"), _date),
        Function(
            "add_days", 2, 2, "add_days(date, int)", _fixed([_DATE, _INT], "date"), _add_days
        ),
        Function(
            "days_between", 2, 2, "days_between(date, date)", _fixed([_DATE, _DATE], "int"),
            _days_between,
        ),
        Function(
            "matches", 2, 2, "matches(string, regex)", _fixed([_STR, _STR], "bool"), _matches
        ),
    ]
}  # fmt: skip
