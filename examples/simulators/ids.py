"""Deterministic identifiers: one counter per resource, zero padded (``ACC-0001``)."""

from __future__ import annotations

import threading


class Counters:
    """Per-resource counters, so ids are predictable in tests and golden outputs."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[str, int] = {}

    def next(self, resource: str) -> int:
        """The next number for ``resource``, starting at 1."""
        with self._lock:
            value = self._values.get(resource, 0) + 1
            self._values[resource] = value
            return value

    def make_id(self, prefix: str, width: int = 4) -> str:
        """``make_id("ACC")`` -> ``"ACC-0001"``; the prefix doubles as the counter name."""
        return f"{prefix}-{self.next(prefix):0{width}d}"

    def clear(self) -> None:
        """Restart every counter (``POST /_sim/reset``)."""
        with self._lock:
            self._values.clear()
