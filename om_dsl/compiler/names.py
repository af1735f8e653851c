"""Did-you-mean suggestions for unknown names."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def suggest(name: str, candidates: Iterable[str]) -> tuple[str, ...]:
    """A hint naming the closest candidate, or nothing when none is close."""
    return did_you_mean(closest(name, candidates))


def suggest_or_list(name: str, candidates: Iterable[str], what: str) -> tuple[str, ...]:
    """A "did you mean" for a close candidate; else the candidates themselves, when they are
    few enough to read at a glance (a plan's items: `nope` is close to none of them)."""
    near = suggest(name, candidates)
    pool = sorted(set(candidates))
    if near or not pool or len(pool) > MAX_LISTED:
        return near
    return (f"{what}: {', '.join(pool)}",)


MAX_LISTED = 8


def did_you_mean(close: str | None) -> tuple[str, ...]:
    """The hint naming ``close`` (from :func:`closest`), or nothing."""
    return (f"did you mean '{close}'?",) if close else ()


def closest(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate ``name`` is most likely a misspelling of, if one is close."""
    pool = sorted(set(candidates))
    close = difflib.get_close_matches(name, pool, n=1, cutoff=0.6)
    if close:
        return close[0]
    lowered = {c.lower(): c for c in pool}
    return lowered.get(name.lower())


def a(noun: str) -> str:
    """``noun`` with its indefinite article: "an offer", "an enum", "a cfs"."""
    return f"{'an' if noun[:1] in 'aeiou' else 'a'} {noun}"
