"""The decomposition view: items and bundles, requests and lines, rules, what is shared."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from render_examples import example

from om_dsl.compiler.driver import compile_catalog
from om_dsl.ir.models import Catalog
from om_dsl.orders.decompose import Decomposer
from om_dsl.orders.explain import RuleVerdict, SourceExplanation, explain
from om_dsl.render import render, render_catalog, render_decomposition
from om_dsl.render.decomposition import not_matched


def _dot(acme: Catalog, name: str) -> str:
    ex = example(name)
    return render(render_decomposition(acme, ex.order, ex.work), "dot").decode()


def _cluster(dot: str, name: str) -> str:
    """The text of one cluster, up to its first nested cluster or its end."""
    start = dot.index(f"subgraph {name} {{")
    return dot[start : dot.index("}", start)]


def test_a_bundle_is_a_box_around_its_children(acme: Catalog) -> None:
    dot = _dot(acme, "tmf622-product-order")
    bundle = _cluster(dot, '"cluster_item%3A100"')
    assert "bundle item 100: TMF25" in bundle
    for child in ("110", "120", "130"):
        assert f'"item%3A{child}" [' in bundle


def test_items_show_their_action_and_key_attributes(acme: Catalog) -> None:
    dot = _dot(acme, "tmf622-product-order")
    assert "offer · add" in dot
    assert "msisdn=415 279 7439" in dot
    assert "commitment_months=12" in dot


def test_edges_are_named_by_the_rule_and_its_condition(acme: Catalog) -> None:
    dot = _dot(acme, "home-duo-add")
    assert '"item%3A1.1" -> "line%3A1.1/InternetService" [label="HomeFibre->InternetService"' in dot
    assert 'label="HomeFibre->StaticIp\\nwhen static_ip"' in dot
    assert '"item%3A1.1" -> "line%3Aorder/Router" [label="family Broadband->Router"' in dot


def test_a_line_made_from_a_line_hangs_off_its_parent(acme: Catalog) -> None:
    dot = _dot(acme, "fibre-modify")
    edge = '"line%3A7/InternetService" -> "line%3A7/InternetService/RadiusProfile"'
    assert f'{edge} [label="InternetService->RadiusProfile\\nafter parent"' in dot


def test_a_merged_line_has_one_edge_per_source_with_its_own_rule(acme: Catalog) -> None:
    dot = _dot(acme, "home-duo-add")
    assert '"item%3A1.1" -> "line%3Aorder/AccessLine" [label="HomeFibre->AccessLine"' in dot
    assert '"item%3A1.2" -> "line%3Aorder/AccessLine" [label="HomeVoice->AccessLine"' in dot


def test_shared_lines_and_requests_are_marked(acme: Catalog) -> None:
    dot = _dot(acme, "tmf622-product-order")
    shared = _cluster(dot, '"cluster_request%3Afr%3Arelies_on%3A110"')
    assert "fr:relies_on:110 · shared (relies_on scope 110) · used by fr:100" in shared
    assert "shared by 120, 130" in shared
    assert 'fillcolor="#f0fdfa"' in shared
    root = _cluster(dot, '"cluster_request%3Afr%3A100"')
    assert "uses fr:relies_on:110, fr:account:1513" in root
    assert "shared by" not in root


def test_modify_shows_what_changed(acme: Catalog) -> None:
    dot = _dot(acme, "fibre-modify")
    assert "changed speed: 100 → 1000" in dot
    assert "changed max_speed: 100 → 1000" in dot
    assert "changed profile: gpon-500 → gpon-1g" in dot


def test_relies_on_links_the_items(acme: Catalog) -> None:
    dot = _dot(acme, "tmf622-product-order")
    assert re.search(r'"item%3A120" -> "item%3A110" \[label=reliesOn', dot)


LINES = """catalog "Lines" version "1"
enum Tariff { Basic, Plus, Unlimited }
offer MobileLine {
  attribute msisdn: string required
  attribute plan: Tariff default Basic
  attribute roaming: bool default false
  attribute data_cap: int default 20
  attribute port_in: bool default false
}
cfs Subscription { attribute msisdn: string  attribute plan: Tariff  attribute roaming: bool }
decompose MobileLine -> Subscription { msisdn = msisdn; plan = plan; roaming = roaming }
"""

MODIFY = {
    "id": "ORD-M2",
    "items": [
        {
            "id": "l1",
            "product": "MobileLine",
            "action": "modify",
            "attributes": {"msisdn": "+33600000001", "plan": "Plus", "roaming": False},
            "previous": {"plan": "Unlimited", "roaming": True},
        }
    ],
}


def _lines_dot(order: dict[str, Any]) -> str:
    catalog = compile_catalog("lines.om", LINES).raise_on_error()
    decomposer = Decomposer(catalog)
    read = decomposer.read(json.dumps(order).encode())
    return render(render_decomposition(catalog, read, decomposer.decompose(read)), "dot").decode()


def _node(dot: str, node_id: str) -> str:
    return next(line for line in dot.splitlines() if line.lstrip().startswith(f"{node_id} ["))


def test_an_item_marks_changed_only_what_previous_changes() -> None:
    """Attributes `previous` does not list are unchanged, as the decomposition takes them:
    the item showed `changed msisdn` and `+ 2 more changed` for values it never changed."""
    item = _node(_lines_dot(MODIFY), '"item%3Al1"')
    changes = re.findall(r"changed [^<]*", item)
    assert changes == ["changed plan: Unlimited → Plus", "changed roaming: true → false"]


def test_an_item_whose_previous_repeats_a_value_changes_nothing_there() -> None:
    order = json.loads(json.dumps(MODIFY))
    order["items"][0]["previous"] = {"plan": "Plus", "roaming": True}
    item = _node(_lines_dot(order), '"item%3Al1"')
    assert re.findall(r"changed [^<]*", item) == ["changed roaming: true → false"]


WIDE = """catalog "Wide" version "1"
offer Line {
  attribute a: int default 1
  attribute b: int default 2
  attribute c: int default 3
  attribute d: int default 4
  attribute e: int default 5
  attribute port_in: bool default false
}
cfs Sim { attribute a: int }
decompose Line -> Sim when not port_in and source.e > 0 { a = a }
"""


def _card_values(text: str) -> list[str]:
    """The attribute rows of the card of item 1 of a one-item order of ``Line``."""
    catalog = compile_catalog("wide.om", text).raise_on_error()
    decomposer = Decomposer(catalog)
    order = {"id": "W", "items": [{"id": "1", "product": "Line", "action": "add"}]}
    read = decomposer.read(json.dumps(order).encode())
    dot = render(render_decomposition(catalog, read, decomposer.decompose(read)), "dot").decode()
    return re.findall(r">([a-z_]+=[^<]*|\+ \d+ more)<", _node(dot, '"item%3A1"'))


def test_a_cut_card_shows_first_what_its_rules_conditions_read() -> None:
    """`port_in`, which decides whether the line gets a SIM, was hidden behind `+ 1 more`."""
    assert _card_values(WIDE) == ["a=1", "b=2", "e=5", "port_in=false", "+ 2 more"]


def test_a_bundle_card_shows_first_what_its_parts_conditions_read_as_bundle_names() -> None:
    """`vip` decides whether the part gets a SIM (``when bundle.vip``): on the bundle's card
    it was hidden behind `+ 2 more`, as a part's own decisive attribute had been."""
    text = WIDE.partition("decompose")[0]
    text = text.replace("offer Line {", "bundle Pack {\n  includes Part")
    text = text.replace("port_in", "vip") + "offer Part { attribute n: int default 0 }\n"
    text += "decompose Part -> Sim when bundle.vip and bundle.e > 0 { a = n }\n"
    catalog = compile_catalog("wide.om", text).raise_on_error()
    decomposer = Decomposer(catalog)
    order = {"id": "W", "items": [{"id": "1", "product": "Pack", "action": "add",
             "children": [{"id": "1.1", "product": "Part", "action": "add"}]}]}  # fmt: skip
    read = decomposer.read(json.dumps(order).encode())
    dot = render(render_decomposition(catalog, read, decomposer.decompose(read)), "dot").decode()
    card = _cluster(dot, '"cluster_item%3A1"')
    values = re.findall(r">([a-z_]+=[^<]*|\+ \d+ more)<", card)
    assert values[:5] == ["a=1", "b=2", "e=5", "vip=false", "+ 2 more"]


def test_a_card_does_not_hide_one_attribute_behind_a_row_of_its_own() -> None:
    five = WIDE.replace("  attribute port_in: bool default false\n", "")
    five = five.replace("not port_in and ", "")
    assert _card_values(five) == ["a=1", "b=2", "c=3", "d=4", "e=5"]


def test_explained_rules_that_made_nothing_say_why(acme: Catalog) -> None:
    d = Decomposer(acme)
    order = d.read({"id": "x", "items": [{"id": "f", "product": "HomeFibre"}]})
    work = d.decompose(order)
    dot = render(render_decomposition(acme, order, work, explain(d.program, order, work)), "dot")
    text = dot.decode()
    assert '"item%3Af" -> "missed%3Aitem%253Af%3AHomeFibre->StaticIp"' in text
    assert "the condition is false (static_ip = false)" in text
    assert "a rule that matched nothing, and why" in text  # the legend explains the edge
    plain_dot = render(render_decomposition(acme, order, work), "dot").decode()
    assert "missed%3A" not in plain_dot and "matched nothing" not in plain_dot


def test_a_rule_true_in_either_world_of_a_modify_is_no_miss() -> None:
    before_only = RuleVerdict("R", "T", "x.om:1:1", False, "a > 1", {"a": 1}, "false")
    after = SourceExplanation("item 1", "P", "modify", "after", [before_only])
    before = SourceExplanation(
        "item 1", "P", "modify", "before", [replace(before_only, matched=True)]
    )
    assert not_matched([after, before]) == []
    assert [v.rule for _, v in not_matched([after])] == ["R"]


def test_a_root_scoped_line_is_labelled_with_its_scope_and_its_roots_request() -> None:
    """``scope root`` is labelled as the other scopes are, shared by the root's items, and it
    belongs to the root's own request (not a shared one)."""
    root = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "orders"
    family = compile_catalog(root / "family.om").raise_on_error()
    decomposer = Decomposer(family)
    order = decomposer.read((root / "golden" / "family-two-plans.json").read_bytes())
    dot = render(render_decomposition(family, order, decomposer.decompose(order)), "dot").decode()
    assert "RFS · add · scope root" in dot
    assert "shared by famA, a1, a2" in dot
    assert "line famA/DataPool: DataPool (rfs, scope root, add)\\nrequest fr:famA" in dot
    assert "cluster_request%3Afr%3Aroot" not in dot
    catalog = render(render_catalog(family), "dot").decode()
    assert "scope root" in catalog
