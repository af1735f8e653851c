"""Every user-written regular expression is compiled and matched here, with a time limit.

Patterns come from catalog designers (``matches(x, "...")``, attribute ``pattern "..."``) but
the text they are matched against comes from orders, i.e. from API clients.  Python's ``re``
backtracks without limit: ``(a+)+$`` against 30 ``a`` and a ``!`` takes minutes and stalls
the whole process (the service answers nothing meanwhile).  The ``regex`` package runs the
same syntax (its ``VERSION0`` mode is ``re``-compatible) and takes a ``timeout``; a match
that exceeds it raises :class:`PatternError`, which callers turn into an order issue or a
compile diagnostic.  ``regex`` also avoids most catastrophic cases outright (nested
quantifiers such as ``(a+)+``, not overlapping alternatives such as ``(a|aa)+``), so the limit
is rarely reached at all.  All the matches of one order share a budget as well
(:func:`order_budget`): many values that each take the time one match may have would
otherwise add up to minutes.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache

import regex

TIMEOUT_S: float = 0.25
"""Seconds one match may take.  Real patterns on order values finish in microseconds; tests
lower it to make a slow pattern fail quickly."""

ORDER_BUDGET_S: float = 1.0
"""Seconds every match of one order may take in all (see :func:`order_budget`).  The limit of
one match alone let an order of 40 values that backtrack take 40 x 0.25 s, and an order may
hold 100,000 items."""


@dataclass(slots=True)
class _Budget:
    """What is left of the time of an order's matches."""

    left: float


class _Current(threading.local):
    """The budget of the order being read or decomposed in this thread, if any.

    Thread-local rather than a ``ContextVar``: a context variable replaces its context's
    mapping on every set, which frees objects a host may have frozen (``gc.freeze()``), and
    the matches of one order never span an ``await``."""

    budget: _Budget | None = None


_CURRENT = _Current()


@contextlib.contextmanager
def order_budget() -> Iterator[None]:
    """Every match inside shares :data:`ORDER_BUDGET_S` seconds; once spent, each further match
    fails at once (a :class:`PatternError`, so the value is refused, the order invalid).

    Entered where one order is validated and where it is decomposed.  Nested, the outer budget
    counts.  Per thread, so orders read at the same time by the service's threads do not share.
    """
    if _CURRENT.budget is not None:
        yield
        return
    _CURRENT.budget = _Budget(ORDER_BUDGET_S)
    try:
        yield
    finally:
        _CURRENT.budget = None


Matcher = Callable[..., "regex.Match[str] | None"]
"""A compiled pattern's ``fullmatch`` or ``search``."""


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
    budget = _CURRENT.budget
    if budget is None:
        return _timed(match, pattern, text, TIMEOUT_S)
    if budget.left <= 0:
        raise PatternError(_spent())
    started = time.perf_counter()
    try:
        return _timed(match, pattern, text, min(TIMEOUT_S, budget.left))
    finally:
        budget.left -= time.perf_counter() - started


def _timed(match: Matcher, pattern: str, text: str, limit: float) -> bool:
    """One match within ``limit`` seconds: the time one match may take, or less when that is
    all the order's budget has left."""
    try:
        return match(text, timeout=limit) is not None
    except TimeoutError:
        if limit < TIMEOUT_S:
            raise PatternError(_spent()) from None
        raise PatternError(
            f"the pattern {pattern!r} took more than {TIMEOUT_S:g} s on a "
            f"{len(text)}-character value (it backtracks too much; simplify it)"
        ) from None


def _spent() -> str:
    return (
        f"the order's time budget for pattern checks ({ORDER_BUDGET_S:g} s in all) is spent "
        "(a pattern backtracks too much on its values; simplify it)"
    )


@lru_cache(maxsize=512)
def _compiled(pattern: str) -> regex.Pattern[str]:
    """Compiled once per pattern; a catalog has few, an order repeats them."""
    try:
        return regex.compile(pattern, regex.VERSION0)
    except (regex.error, ValueError, OverflowError, RecursionError) as exc:
        raise PatternError(f"invalid regular expression: {exc}") from None
