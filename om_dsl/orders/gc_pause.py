"""Pausing the cyclic garbage collector around a decomposition, and leaving no bill behind.

A 10k-item order allocates a few hundred thousand small containers that all survive the call
(the validated order, the lines, the result models).  With the collector running, it re-scans
that growing heap again and again: half of the time of validation alone.  Pausing it
(:func:`om_dsl.compiler.driver.gc_paused`, as the compiler does) removes that, but only defers
one last bill: the first allocation after the pause triggers a young-generation collection
that scans every object the call made (70 to 200 ms for a 10k-item order, paid by the host's
next allocation).

:func:`decomposition_gc` pays nothing instead: on the way out it moves every young object to
the oldest generation with ``gc.freeze()`` + ``gc.unfreeze()`` (two list splices in CPython,
microseconds).  They are scanned at the next full collection, like any long-lived data.
Unfreezing would also release objects a host froze on purpose (``gc.freeze()`` before forking
workers), so the move is skipped when the permanent generation is not empty.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from om_dsl.compiler.driver import gc_paused


@contextmanager
def decomposition_gc(pause: bool = True) -> Iterator[None]:
    """The collector paused for the block, and the block's survivors promoted on exit
    (:func:`om_dsl.compiler.driver.gc_paused` with ``promote``, which the compiler uses too)."""
    if not pause:
        yield
        return
    with gc_paused(promote=True):
        yield
