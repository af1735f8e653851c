"""The "did you mean" of every message: the compiler's, order validation's and the CLI's.

One rule everywhere, so that a misspelling gets the same suggestion in a catalog and in an
order: the candidate that differs only in case (``aws`` is ``AWS``, even next to ``abs``);
else the closest candidate by ``difflib`` (ratio 0.6 and up); else the only candidate that
starts with what was written, three characters or more (``lte`` is ``lte_backup``).  A
candidate equal to the name itself is never suggested.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

MIN_PREFIX = 3


def closest(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate ``name`` most likely misspells, if one is close."""
    pool = sorted(set(candidates) - {name})
    lowered = name.lower()
    same = [c for c in pool if c.lower() == lowered]
    if same:
        return same[0]
    close = difflib.get_close_matches(name, pool, n=1, cutoff=0.6)
    if close:
        return close[0]
    if len(name) < MIN_PREFIX:
        return None
    started = [c for c in pool if c.lower().startswith(lowered)]
    return started[0] if len(started) == 1 else None
