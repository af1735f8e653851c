"""Did-you-mean suggestions for unknown names."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def suggest(name: str, candidates: Iterable[str]) -> tuple[str, ...]:
    """A hint naming the closest candidate, or nothing when none is close."""
    pool = sorted(set(candidates))
    close = difflib.get_close_matches(name, pool, n=1, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in pool}
        if name.lower() in lowered:
            close = [lowered[name.lower()]]
    return (f"did you mean '{close[0]}'?",) if close else ()


def a(noun: str) -> str:
    """``noun`` with its indefinite article: "an offer", "an enum", "a cfs"."""
    return f"{'an' if noun[:1] in 'aeiou' else 'a'} {noun}"
