"""Hard limits on what an order may be, so that a hostile or broken payload fails cleanly.

Every limit is a clear validation error (``O0xx``), never a ``RecursionError``, a
``MemoryError`` or a decomposition that runs for minutes.  The defaults are generous for
real orders (a 10k-line order is about 1.5 MB) and can be raised per call.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limits:
    """Upper bounds checked while an order is read and validated.

    Attributes:
        max_bytes: Size of the JSON text (UTF-8 bytes).
        max_depth: Nesting of JSON arrays and objects; every level of nested order items
            costs two (the list and the item).
        max_items: Order items, counting nested ones.
        max_quantity: ``quantity`` of one item (each unit becomes its own lines).
        max_units: Units of the whole order: the quantities of all its items (nested ones
            included, each counting its own quantity) added up.  Each unit is decomposed on
            its own, so this, not the item count, bounds the work and the lines made.
        max_lines: Technical lines one decomposition may make (in the order's state after it,
            and again in its state before it, for an order that changes existing items).  The
            units bound the lines only through the catalog (a unit makes one line per rule
            that fires, and chained rules multiply them), so this bounds the work and memory
            that one valid order can cost: a line costs about 2 KB while it is made.
        max_string: Characters of one string value or key.
        max_int_digits: Digits of one JSON integer (Python refuses past 4,300 anyway).
    """

    max_bytes: int = 8 * 1024 * 1024
    max_depth: int = 64
    max_items: int = 100_000
    max_quantity: int = 1_000
    max_units: int = 100_000
    max_lines: int = 500_000
    max_string: int = 10_000
    max_int_digits: int = 30


DEFAULT_LIMITS = Limits()
