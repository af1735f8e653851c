"""Did-you-mean suggestions for unknown names."""

from __future__ import annotations

from collections.abc import Iterable

from om_dsl.suggest import closest


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


def a(noun: str) -> str:
    """``noun`` with its indefinite article: "an offer", "an enum", "a cfs"."""
    return f"{'an' if noun[:1] in 'aeiou' else 'a'} {noun}"
