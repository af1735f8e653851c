"""``--explain`` tells the story of the decomposition it explains: each world the rules ran in."""

from __future__ import annotations

from typing import Any

from decomposition_support import ACME, BUNDLE, decomposer

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


def _bundle_explained(
    items: list[dict[str, Any]],
) -> tuple[dict[str, str], list[SourceExplanation]]:
    d = decomposer(BUNDLE, "compiled")
    order = d.read({"id": "B", "items": items})
    result = d.decompose(order)
    return {line.id: line.action for line in result.lines()}, explain(d.program, order, result)


def _verdicts(entries: list[SourceExplanation], source: str, rule: str) -> dict[str, Any]:
    return {
        e.world: (v.matched, v.values)
        for e in entries
        if e.source == source
        for v in e.rules
        if v.rule == rule
    }


def test_a_condition_on_the_bundle_shows_the_bundle_values_it_saw() -> None:
    line = {"id": "p.l", "product": "Line", "attributes": {"msisdn": "1"}}
    _actions, entries = _bundle_explained(
        [
            {"id": "p", "product": "Family", "children": [line]},
            {"id": "solo", "product": "Line", "attributes": {"msisdn": "2"}},
        ]
    )
    assert _verdicts(entries, "item p.l", "Line->VipCare") == {
        "after": (True, {"bundle.vip": True})
    }
    # a stand-alone item reads null for every bundle.NAME
    assert _verdicts(entries, "item solo", "Line->Discount") == {
        "after": (False, {"bundle.contract_months": None, "msisdn": "2"})
    }
    text = render_text(entries)
    assert "the condition is true (bundle.vip = true)" in text


def test_a_part_whose_bundle_changes_is_explained_before_and_after() -> None:
    line = {"id": "p.l", "product": "Line", "action": "noChange", "attributes": {"msisdn": "1"}}
    pack = {
        "id": "p", "product": "Pack", "action": "modify", "children": [line],
        "attributes": {"contract_months": 24}, "previous": {"contract_months": 12},
    }  # fmt: skip
    actions, entries = _bundle_explained([pack])
    assert actions["p.l/Discount"] == "add"  # false before, true after
    assert actions["p.l/Subscription"] == "modify"
    seen = _verdicts(entries, "item p.l", "Line->Discount")
    assert seen == {
        "before": (False, {"bundle.contract_months": 12, "msisdn": "1"}),
        "after": (True, {"bundle.contract_months": 24, "msisdn": "1"}),
    }
    assert "item p.l (Line, noChange), before the order" in render_text(entries)


def test_the_lines_of_parts_of_a_bundle_without_previous_values_are_explained_after_only() -> None:
    line = {"id": "p.l", "product": "Line", "action": "noChange", "attributes": {"msisdn": "1"}}
    pack = {"id": "p", "product": "Pack", "action": "modify", "children": [line]}
    actions, entries = _bundle_explained([{**pack, "attributes": {"contract_months": 24}}])
    assert actions["p.l/Subscription"] == "modify"  # what the bundle had is unknown
    worlds = [e.world for e in entries if e.source == "line p.l/Subscription"]
    assert worlds == ["after"]
