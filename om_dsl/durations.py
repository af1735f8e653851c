"""Durations an operator writes, as the catalog language writes them (``30s``, ``15m``, ``12h``,
``90d``, ``500ms``): one form for a designer's ``timeout 30s``, an operator's ``om prune
--older-than 90d`` and the service's ``POST /prune`` ``{"olderThan": "90d"}``, read by the
lexer's own :func:`~om_dsl.syntax.lexer.duration_ms`.  Outside the CLI package, so that the
service reads them without importing the ``om`` command."""

from __future__ import annotations

import re

from om_dsl.syntax.lexer import duration_ms, unit_of

_DURATION = re.compile(r"[0-9]+(?:ms|s|m|h|d)")
"""The lexer's DURATION token (om.lark), whole: a whole number, then its unit, no space."""
FORMS = "a whole number and a unit: 30s, 15m, 12h, 90d"


def parse_duration(text: str) -> float:
    """Seconds of a duration (``90d`` -> 7776000.0).

    Raises:
        ValueError: not a duration; the message says the forms, and what was likely meant
            (``90days`` -> ``90d``; ``1.5d`` -> ``36h``).
    """
    value = text.strip()
    if _DURATION.fullmatch(value):
        return duration_ms(value) / 1000
    raise ValueError(f"'{text}' is not a duration: give {FORMS}{_hint(value)}")


def _hint(value: str) -> str:
    """``(did you mean 90d?)`` for a unit spelt out or a number with a fraction."""
    digits = re.match(r"[0-9]*\.?[0-9]*", value)
    number = digits[0] if digits else ""
    unit = unit_of(value.replace(" ", "")) if number else None
    if not number or unit is None:
        return ""
    if "." not in number:
        return f" (did you mean {number}{unit}?)"
    seconds = float(number) * duration_ms(f"1{unit}") / 1000
    for smaller in ("d", "h", "m", "s"):
        size = duration_ms(f"1{smaller}") / 1000
        if seconds >= size and (seconds / size).is_integer():
            return f" (did you mean {int(seconds / size)}{smaller}?)"
    return ""
