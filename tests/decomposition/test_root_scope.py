"""``scope root``: one line per root order item (a bundle, or a stand-alone item).

A family plan's data pool is fed by the plan and each of its lines: two family plans in one
order get two pools, each merged from its own root's items only (``scope order`` merged both
plans into one).  The goldens (``tests/fixtures/orders/golden/family-*``) hold whole outputs;
these tests name the properties.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from decomposition_support import FAMILY, REPO, catalog_at, decomposer, engines

from om_dsl.errors import DecompositionError
from om_dsl.orders.models import Decomposition, FulfillmentLine
from om_dsl.runtime import build_plan

GOLDEN = REPO / "tests" / "fixtures" / "orders" / "golden"


def _run(name: str, engine: str = "compiled") -> Decomposition:
    order = json.loads((GOLDEN / f"{name}.json").read_text())
    return decomposer(FAMILY, engine).decompose(order)


def _by_id(result: Decomposition) -> dict[str, FulfillmentLine]:
    return {line.id: line for line in result.lines()}


@pytest.mark.parametrize("engine", engines())
def test_two_family_plans_get_a_pool_each(engine: str) -> None:
    lines = _by_id(_run("family-two-plans", engine))
    pools = {k: v for k, v in lines.items() if v.product == "DataPool"}
    assert list(pools) == ["famA/DataPool", "famB/DataPool", "solo/DataPool"]
    assert pools["famA/DataPool"].attributes["members"] == 2
    assert pools["famA/DataPool"].attributes["pool_gb"] == 50
    assert pools["famB/DataPool"].attributes["members"] == 3
    assert pools["famB/DataPool"].attributes["pool_gb"] == 200
    assert pools["famB/DataPool"].source_items == ["famB", "b1", "b2", "b3"]
    assert pools["solo/DataPool"].attributes["members"] == 2  # each unit of quantity 2 counts
    assert all(p.scope == "root" and p.root_items == [k.split("/")[0]] for k, p in pools.items())
    assert lines["order/CustomerCare"].attributes["lines"] == 5  # order scope: across roots


def test_a_root_line_is_in_its_root_request_with_its_chained_lines() -> None:
    result = _run("family-two-plans")
    requests = {r.id: r for r in result.requests}
    assert [r.id for r in result.requests] == ["fr:famA", "fr:famB", "fr:solo", "fr:order"]
    fam_a = requests["fr:famA"]
    assert not fam_a.shared and fam_a.uses == ["fr:order"]
    assert [line.id for line in fam_a.lines][:2] == ["famA/DataPool", "famA/DataPool/PoolQuota"]
    assert requests["fr:solo"].uses == []


def test_modify_and_delete_settle_the_pool_by_comparing_worlds() -> None:
    modified = _by_id(_run("family-modify"))
    assert modified["famA/DataPool"].action == "modify"  # a member's data_gb raised extra_gb
    assert modified["famA/DataPool"].changed == ["extra_gb"]
    assert modified["famB/DataPool"].action == "modify"  # a member added
    assert modified["famB/DataPool"].previous == {"members": 2}
    assert modified["famB/DataPool/PoolQuota"].action == "noChange"
    deleted = _by_id(_run("family-delete"))
    assert deleted["famA/DataPool"].action == "noChange"
    assert deleted["famB/DataPool"].action == "delete"
    assert deleted["famB/DataPool/PoolQuota"].action == "delete"


SAME = """
catalog "S" version "1"
offer Line { attribute pool: int default 1 }
bundle Plan { includes Line [1..3] }
rfs Pool scope root { attribute pool: int }
decompose Line -> Pool { pool = pool }
plan Pool on * { milestone done }
"""


def _plans(*pools: list[int]) -> dict[str, Any]:
    items = []
    for n, values in enumerate(pools):
        children = [
            {"id": f"p{n}l{k}", "product": "Line", "attributes": {"pool": v}}
            for k, v in enumerate(values)
        ]
        items.append({"id": f"p{n}", "product": "Plan", "children": children})
    return {"id": "S", "items": items}


@pytest.mark.parametrize("engine", engines())
def test_merge_same_compares_the_sources_of_one_root_only(engine: str, tmp_path: Any) -> None:
    path = tmp_path / "same.om"
    path.write_text(SAME)
    catalog = catalog_at(path)
    d = decomposer(path, engine)
    ok = _by_id(d.decompose(_plans([1, 1], [2])))  # other roots may differ
    assert [(k, v.attributes) for k, v in ok.items()] == [
        ("p0/Pool", {"pool": 1}),
        ("p1/Pool", {"pool": 2}),
    ]
    with pytest.raises(DecompositionError) as caught:
        d.decompose(_plans([1, 2]))
    (issue,) = caught.value.issues
    assert issue.code == "D001"
    assert "(root scope, line p0/Pool)" in issue.message
    assert "item 'p0l0'" in issue.message and "item 'p0l1'" in issue.message
    assert catalog.technical[0].scope == "root"


def test_depend_within_root_links_the_pool_to_its_own_roots_lines_only() -> None:
    result = _run("family-two-plans")
    plan = build_plan(catalog_at(FAMILY), result)
    deps = {item.id: item.deps for item in plan.items}
    assert deps["famA/DataPool:pool_ready"] == (
        "a1/MobileService:mobile_ready",
        "a2/MobileService:mobile_ready",
    )
    assert deps["solo/DataPool:pool_ready"] == ()
    assert deps["order/CustomerCare:cared"] == (
        "famA/DataPool:pool_ready",
        "famB/DataPool:pool_ready",
        "solo/DataPool:pool_ready",
    )
