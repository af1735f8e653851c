"""A merge conflict (D001) says what to write: the merge rules the attribute's type takes
(as the compiler's E070 does), and which world it is in when the values it shows are not the
ones the order gives now (a modify's previous values, a deleted item's); so do a failed rule
(D002) and a line that breaks its declaration (D003)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from decomposition_support import decomposer, engines

from om_dsl.errors import DecompositionError

CATALOG = """\
catalog "Conflicts" version "1"

offer Net {
  attribute site: string default "A"
  attribute speed: int default 100
  attribute hd: bool default false
}

cfs Access scope order { attribute site: string  attribute speed: int  attribute hd: bool }

decompose Net -> Access { site = site; speed = speed; hd = hd }
"""


def _item(item_id: str, action: str, previous: dict[str, Any] | None = None, **attrs: Any) -> Any:
    item: dict[str, Any] = {"id": item_id, "product": "Net", "action": action, "attributes": attrs}
    if previous is not None:
        item["previous"] = previous
    return item


def _issues(tmp_path: Path, engine: str, *items: Any) -> list[tuple[str, str, str]]:
    path = tmp_path / "conflicts.om"
    path.write_text(CATALOG)
    with pytest.raises(DecompositionError) as caught:
        decomposer(path, engine).decompose({"id": "C", "items": list(items)})
    return [(i.code, i.path, i.message) for i in caught.value.issues]


@pytest.mark.parametrize("engine", engines())
def test_the_hint_offers_the_merge_rules_the_type_takes(tmp_path: Path, engine: str) -> None:
    def hint(**attrs: Any) -> str:
        (issue,) = _issues(tmp_path, engine, _item("a", "add"), _item("b", "add", **attrs))
        return issue[2].rsplit("(merge ", 1)[1]

    assert hint(site="Y") == "first|last|min|max)"  # was: ...|sum|union|any|all, E071 each
    assert hint(speed=200) == "first|last|min|max|sum)"
    assert hint(hd=True) == "first|last|any|all)"


@pytest.mark.parametrize("engine", engines())
def test_a_conflict_of_previous_values_says_it_is_before_the_order(
    tmp_path: Path, engine: str
) -> None:
    """b is Y now and was X: after the order a (X) and b (Y) conflict, before it b (X) and the
    deleted c (Z) do.  Each message shows values the item gave in its world, so the second says
    which world that is."""
    issues = _issues(
        tmp_path,
        engine,
        _item("a", "add", site="X"),
        _item("b", "modify", {"site": "X"}, site="Y"),
        _item("c", "delete", site="Z"),
    )
    assert [(code, path) for code, path, _ in issues] == [
        ("D001", "items[1]"),
        ("D001", "items[2]"),
    ]
    after, before = (message for *_, message in issues)
    assert "'X' from item 'a'" in after and "'Y' from item 'b'" in after
    assert "before the order" not in after
    assert "'X' from item 'b'" in before and "'Z' from item 'c'" in before
    assert "from item 'c' (rule Net->Access at conflicts.om:11:15), before the order;" in before


@pytest.mark.parametrize("engine", engines())
def test_a_conflict_of_both_worlds_is_reported_once(tmp_path: Path, engine: str) -> None:
    issues = _issues(
        tmp_path, engine, _item("a", "noChange", site="X"), _item("b", "noChange", site="Y")
    )
    assert len(issues) == 1
    assert "before the order" not in issues[0][2]


RATIO = """\
catalog "Ratio" version "1"

offer Net { attribute speed: int default 100  attribute div: int default 1 }

rfs Calc { attribute v: int  attribute ratio: decimal in 0.0..10.0 }

decompose Net -> Calc { v = int(speed / div); ratio = speed / 50 }
"""


@pytest.mark.parametrize("engine", engines())
def test_a_failure_on_previous_values_says_it_is_before_the_order(
    tmp_path: Path, engine: str
) -> None:
    """D002 and D003 on a modify's previous values named the item, whose values now are fine:
    the reader looked for a division by zero in 'div: 2'."""
    path = tmp_path / "ratio.om"
    path.write_text(RATIO)
    items = [
        {"id": "a", "product": "Net", "action": "modify", "attributes": {"div": 2},
         "previous": {"div": 0}},
        {"id": "b", "product": "Net", "action": "modify", "attributes": {"speed": 100},
         "previous": {"speed": 1000}},
        {"id": "c", "product": "Net", "attributes": {"div": 0}},
    ]  # fmt: skip
    with pytest.raises(DecompositionError) as caught:
        decomposer(path, engine).decompose({"id": "R", "items": items})
    assert [(i.code, i.message.split(":")[0]) for i in caught.value.issues] == [
        ("D002", "rule Net->Calc (ratio.om"),
        ("D003", "line b/Calc (rule Net->Calc), before the order"),
        ("D002", "rule Net->Calc (ratio.om"),
    ]
    first, _, last = (i.message for i in caught.value.issues)
    assert "on item 'a', before the order: the mapping of 'v' failed" in first
    assert "on item 'c': the mapping of 'v' failed" in last
