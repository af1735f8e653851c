"""``add_days`` and ``days_between``: date arithmetic, the same on both engines.

Dates are ISO text at run time; a TMF date-time read by ``date()`` counts by its date.
A result beyond year 9999 is the item's D002, never a crash.
"""

from __future__ import annotations

from typing import Any

import pytest
from decomposition_support import engines

from om_dsl.compiler.driver import compile_catalog
from om_dsl.errors import DecompositionError
from om_dsl.orders.decompose import Decomposer

CATALOG = """catalog "D" version "1"
offer Line {
  attribute start: date required
  attribute end: date
  attribute notice: int default 14
  attribute stamp: string
}
resource Work {
  attribute due: date
  attribute length: int
  attribute since_stamp: int
}
plan Work on add { milestone m }
decompose Line -> Work {
  due = add_days(start, notice)
  length = days_between(start, end)
  since_stamp = days_between(date(stamp), start)
}
"""


def _decompose(attributes: dict[str, Any], engine: str) -> dict[str, Any]:
    catalog = compile_catalog("d.om", CATALOG).raise_on_error()
    order = {"id": "o", "items": [{"id": "1", "product": "Line", "attributes": attributes}]}
    (request,) = Decomposer(catalog, engine).decompose(order).requests
    return request.lines[0].attributes


@pytest.mark.parametrize("engine", engines())
@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        ({"start": "2026-02-20", "end": "2026-03-01"}, {"due": "2026-03-06", "length": 9}),
        ({"start": "2024-02-28", "notice": 1}, {"due": "2024-02-29"}),  # a leap day
        ({"start": "2026-01-01", "notice": -400}, {"due": "2024-11-27"}),
        ({"start": "2026-03-01", "end": "2026-02-20"}, {"due": "2026-03-15", "length": -9}),
        (
            {"start": "2026-07-02", "stamp": "2026-07-01T23:59:59Z"},
            {"due": "2026-07-16", "since_stamp": 1},
        ),
    ],
)
def test_dates_move_by_days(attributes: dict[str, Any], expected: Any, engine: str) -> None:
    assert _decompose(attributes, engine) == expected


@pytest.mark.parametrize("engine", engines())
def test_a_date_beyond_year_9999_is_the_items_error(engine: str) -> None:
    with pytest.raises(DecompositionError) as caught:
        _decompose({"start": "9999-12-01", "notice": 100}, engine)
    (issue,) = caught.value.issues
    assert issue.code == "D002"
    assert "add_days() failed: date value out of range" in issue.message
