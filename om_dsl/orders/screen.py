"""A cheap look at an order's JSON text: can it hold a problem only the full walk would find?

The walk in :mod:`om_dsl.orders.jsondoc` visits every value in Python to report odd numbers,
odd unicode, long strings and deep nesting with their JSON paths: for a 10k-item order that was
half of the validation time.  These regular expressions and string operations (C speed) prove
most documents clean; only a document they flag is walked (and then every problem is reported
with its path, exactly as before).  A flag can be a false alarm (e.g. ``NaN`` inside a string);
it only costs the walk.
"""

from __future__ import annotations

import functools
import re

from om_dsl.orders.limits import Limits

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_PAIR = re.compile(r"\[\]|\{\}")
_ODD_CHAR = re.compile(
    r"\\u(?:[dD][89a-fA-F]|00[01][0-9a-fA-F]|007[fF])|\\[bf]"
    r"|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]"
)


_BIG_EXPONENT = re.compile(r"[eE][+-]?\d{3}")


@functools.cache
def _many_digits(max_digits: int) -> re.Pattern[str]:
    return re.compile(rf"\d{{{max_digits + 1}}}")


def _odd_number(text: str, max_digits: int) -> bool:
    if "NaN" in text or "Infinity" in text:
        return True
    return bool(_many_digits(max_digits).search(text) or _BIG_EXPONENT.search(text))


@functools.cache
def _long_run(max_string: int) -> re.Pattern[str]:
    return re.compile(rf'[^"]{{{max_string},}}')


def needs_walk(text: str, limits: Limits) -> bool:
    """False when ``text`` provably holds no number, character, string or nesting problem."""
    if _ODD_CHAR.search(text) or _odd_number(text, limits.max_int_digits):
        return True
    if len(text) > limits.max_string and (
        '\\"' in text or _long_run(limits.max_string).search(text)
    ):
        return True
    return _depth(text, limits.max_depth) > limits.max_depth


def _depth(text: str, limit: int) -> int:
    """The nesting depth of JSON text (or ``limit + 1`` once it is past the limit)."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    depth = 0
    while brackets:
        brackets, removed = _PAIR.subn("", brackets)
        depth += 1
        if removed == 0 or depth > limit:
            return limit + 1
    return depth
