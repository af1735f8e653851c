"""Pausing Python's cyclic garbage collector while one decomposition runs.

A 10k-item order allocates a few hundred thousand small containers that all survive (they are
the result), and CPython's collector traverses the growing heap again and again while they
are made: measured, that was half the time of a decomposition.  Nothing decomposition makes
is cyclic garbage, so the collector is paused for the call and resumed after it (it then
examines the new objects once).  The pause is process-wide, so concurrent decompositions
share it through a counter: the collector resumes when the last one ends, and only if it was
enabled before the first began.  ``Decomposer(pause_gc=False)`` turns this off.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_state = {"depth": 0, "was_enabled": 0}


@contextmanager
def paused_gc() -> Iterator[None]:
    with _lock:
        if _state["depth"] == 0:
            _state["was_enabled"] = int(gc.isenabled())
            gc.disable()
        _state["depth"] += 1
    try:
        yield
    finally:
        with _lock:
            _state["depth"] -= 1
            if _state["depth"] == 0 and _state["was_enabled"]:
                gc.enable()
