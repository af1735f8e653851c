"""Due times of retries and timeouts: a heap in memory, the due time itself in the item row.

Entries are never removed when an item moves on; a fired entry is checked against the item's
current state and attempt and ignored when stale.  That keeps arming O(log n) and cancelling
free, and after a restart the heap is rebuilt from the rows' ``due_at``.
"""

from __future__ import annotations

import heapq
import itertools
from typing import Literal

TimerKind = Literal["retry", "timeout"]
Timer = tuple[float, int, str, int, int, TimerKind]
"""(due, tie-breaker, order id, item idx, attempt, kind)."""


class Timers:
    __slots__ = ("_counter", "_heap")

    def __init__(self) -> None:
        self._heap: list[Timer] = []
        self._counter = itertools.count()

    def arm(self, due: float, order_id: str, idx: int, attempt: int, kind: TimerKind) -> None:
        heapq.heappush(self._heap, (due, next(self._counter), order_id, idx, attempt, kind))

    def pop_due(self, now: float) -> list[Timer]:
        due: list[Timer] = []
        while self._heap and self._heap[0][0] <= now:
            due.append(heapq.heappop(self._heap))
        return due

    def next_due(self) -> float | None:
        return self._heap[0][0] if self._heap else None

    def __len__(self) -> int:
        return len(self._heap)
