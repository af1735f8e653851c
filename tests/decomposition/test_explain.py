"""``--explain`` tells the story of the decomposition it explains: each world the rules ran in."""

from __future__ import annotations

from typing import Any

from decomposition_support import ACME, decomposer

from om_dsl.orders.explain import SourceExplanation, explain, render_text


def _explained(items: list[dict[str, Any]]) -> tuple[dict[str, str], list[SourceExplanation]]:
    d = decomposer(ACME, "compiled")
    order = d.read({"id": "X", "items": items})
    result = d.decompose(order)
    actions = {line.id: line.action for line in result.lines()}
    return actions, explain(d.program, order, result)


def _static_ip(entries: list[SourceExplanation], source: str) -> dict[str, bool]:
    """Whether HomeFibre->StaticIp matched, by world, for ``source``."""
    return {
        e.world: v.matched
        for e in entries
        if e.source == source
        for v in e.rules
        if v.rule == "HomeFibre->StaticIp"
    }


def test_a_modify_is_explained_before_and_after() -> None:
    fibre = {"id": "7", "product": "HomeFibre", "action": "modify"}
    actions, entries = _explained(
        [{**fibre, "attributes": {"static_ip": False}, "previous": {"static_ip": True}}]
    )
    assert actions["7/StaticIp"] == "delete"  # true before, false after: the line goes
    assert _static_ip(entries, "item 7") == {"before": True, "after": False}
    text = render_text(entries)
    assert "item 7 (HomeFibre, modify), before the order" in text
    assert "the condition is true (static_ip = true)" in text
    assert "item 7 (HomeFibre, modify), after the order" in text
    assert "the condition is false (static_ip = false)" in text


def test_each_action_is_explained_in_the_worlds_it_exists_in() -> None:
    fibre = {"product": "HomeFibre", "attributes": {"static_ip": True}}
    actions, entries = _explained(
        [
            {**fibre, "id": "a"},
            {**fibre, "id": "d", "action": "delete"},
            {**fibre, "id": "n", "action": "noChange"},
            {**fibre, "id": "m", "action": "modify"},  # no previous: the same in both
            {**fibre, "id": "p", "action": "modify", "previous": {"static_ip": True}},
        ]
    )
    assert _static_ip(entries, "item a") == {"after": True}
    assert _static_ip(entries, "item d") == {"before": True}
    assert actions["d/StaticIp"] == "delete"
    for same in ("n", "m", "p"):
        assert _static_ip(entries, f"item {same}") == {"both": True}


def test_a_modified_line_is_explained_with_its_values_before() -> None:
    fibre = {"id": "7", "product": "HomeFibre", "action": "modify"}
    actions, entries = _explained(
        [{**fibre, "attributes": {"speed": 1000}, "previous": {"speed": 100}}]
    )
    assert actions["7/InternetService"] == "modify"
    worlds = [e.world for e in entries if e.source == "line 7/InternetService"]
    assert worlds == ["before", "after"]
