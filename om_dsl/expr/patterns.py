"""Every user-written regular expression is compiled and matched here, with a time limit.

Patterns come from catalog designers (``matches(x, "...")``, attribute ``pattern "..."``) but
the text they are matched against comes from orders, i.e. from API clients.  Python's ``re``
backtracks without limit: ``(a+)+$`` against 30 ``a`` and a ``!`` takes minutes and stalls
the whole process (the service answers nothing meanwhile).  The ``regex`` package runs the
same syntax (its ``VERSION0`` mode is ``re``-compatible) and takes a ``timeout``; a match
that exceeds it raises :class:`PatternError`, which callers turn into an order issue or a
compile diagnostic.  ``regex`` also avoids most catastrophic cases outright, so the limit is
rarely reached at all.
"""

from __future__ import annotations

from functools import lru_cache

import regex

TIMEOUT_S: float = 0.25
"""Seconds one match may take.  Real patterns on order values finish in microseconds; tests
lower it to make a slow pattern fail quickly."""


class PatternError(ValueError):
    """A pattern that does not compile, or a match that took longer than :data:`TIMEOUT_S`.

    A ``ValueError``, so expression evaluation reports it as a failed function call.
    """


def compile_error(pattern: str) -> str | None:
    """Why ``pattern`` is not a valid regular expression, or None (the compiler's check)."""
    try:
        _compiled(pattern)
    except PatternError as exc:
        return str(exc)
    return None


def search(pattern: str, text: str) -> bool:
    """Whether ``pattern`` matches somewhere in ``text`` (``matches()``)."""
    return _run(pattern, text, whole=False)


def fullmatch(pattern: str, text: str) -> bool:
    """Whether ``pattern`` matches the whole of ``text`` (an attribute's ``pattern``)."""
    return _run(pattern, text, whole=True)


def _run(pattern: str, text: str, *, whole: bool) -> bool:
    compiled = _compiled(pattern)
    match = compiled.fullmatch if whole else compiled.search
    try:
        return match(text, timeout=TIMEOUT_S) is not None
    except TimeoutError:
        raise PatternError(
            f"the pattern {pattern!r} took more than {TIMEOUT_S:g} s on a "
            f"{len(text)}-character value (it backtracks too much; simplify it)"
        ) from None


@lru_cache(maxsize=512)
def _compiled(pattern: str) -> regex.Pattern[str]:
    """Compiled once per pattern; a catalog has few, an order repeats them."""
    try:
        return regex.compile(pattern, regex.VERSION0)
    except (regex.error, ValueError, OverflowError, RecursionError) as exc:
        raise PatternError(f"invalid regular expression: {exc}") from None
