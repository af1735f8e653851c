"""``xs[i]`` in rules: an item of a list attribute by position, the same on both engines.

A position counts from 0, and from the end when negative; one beyond the list, or an index
of a null list, is null (as a field that is not there is), never an error.
"""

from __future__ import annotations

from typing import Any

import pytest
from decomposition_support import engines
from hypothesis import given, settings
from hypothesis import strategies as st

from om_dsl.compiler.driver import compile_catalog
from om_dsl.orders.decompose import Decomposer

CATALOG = """catalog "I" version "1"
offer Phone {
  attribute numbers: list[string]
  attribute slot: int default 0
}
resource Line {
  attribute first: string
  attribute last: string
  attribute chosen: string
  attribute has_second: bool
}
plan Line on add { milestone done }
decompose Phone -> Line when numbers[0] != null {
  first = numbers[0]
  last = numbers[-1]
  chosen = numbers[slot]
  has_second = numbers[1] != null
}
"""


def _line(attributes: dict[str, Any], engine: str) -> dict[str, Any] | None:
    catalog = compile_catalog("i.om", CATALOG).raise_on_error()
    order = {"id": "o", "items": [{"id": "1", "product": "Phone", "attributes": attributes}]}
    requests = Decomposer(catalog, engine).decompose(order).requests
    lines = [line for request in requests for line in request.lines]
    return lines[0].attributes if lines else None


@pytest.mark.parametrize("engine", engines())
@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        (
            {"numbers": ["a", "b", "c"], "slot": 1},
            {"first": "a", "last": "c", "chosen": "b", "has_second": True},
        ),
        (
            {"numbers": ["a"], "slot": -1},
            {"first": "a", "last": "a", "chosen": "a", "has_second": False},
        ),
        ({"numbers": ["a"], "slot": 5}, {"first": "a", "last": "a", "has_second": False}),
        ({"numbers": ["a", "b"], "slot": -3}, {"first": "a", "last": "b", "has_second": True}),
        ({"numbers": []}, None),  # the condition reads numbers[0]: null, so no line
        ({}, None),
    ],
)  # fmt: skip
def test_items_by_position(attributes: dict[str, Any], expected: Any, engine: str) -> None:
    assert _line(attributes, engine) == expected


@settings(max_examples=40, deadline=None)
@given(numbers=st.lists(st.text("abc+1 ", max_size=4), max_size=5), slot=st.integers(-7, 7))
def test_both_engines_read_the_item_python_would(numbers: list[str], slot: int) -> None:
    """Whatever the list and the position: both engines give Python's ``numbers[slot]``
    when it exists, and null (no value) when it does not."""
    got = {engine: _line({"numbers": numbers, "slot": slot}, engine) for engine in engines()}
    if not numbers:
        assert set(got.values()) == {None}
        return
    expected = numbers[slot] if -len(numbers) <= slot < len(numbers) else None
    for line in got.values():
        assert line is not None and line.get("chosen") == expected
        assert (line["first"], line["last"]) == (numbers[0], numbers[-1])
