"""What the catalog map shows, and what a focus keeps (no Graphviz involved)."""

from __future__ import annotations

from pathlib import Path

import pytest

from om_dsl.compiler.driver import compile_catalog
from om_dsl.ir import models as ir
from om_dsl.ir.models import Catalog
from om_dsl.render.catalog_model import CatalogMap, MapEdge, catalog_map, focus_on
from om_dsl.render.errors import RenderError


def _names(cmap: CatalogMap) -> set[str]:
    return {n.name for n in cmap.nodes}


def _edge(cmap: CatalogMap, kind: str, source: str, target: str) -> MapEdge:
    return next(
        e
        for e in cmap.edges
        if e.kind == kind and e.source.endswith(f".{source}") and e.target.endswith(f".{target}")
    )


def test_every_product_system_and_queue_is_on_the_map(acme: Catalog) -> None:
    cmap = catalog_map(acme)
    expected = {p.name for p in (*acme.offers, *acme.technical)}
    expected |= {s.name for s in acme.systems} | {q.name for q in acme.queues} | {"Broadband"}
    assert _names(cmap) == expected
    assert sum(e.kind == "rule" for e in cmap.edges) == len(acme.rules)


def test_bundles_show_their_children_with_cardinalities(acme: Catalog) -> None:
    cmap = catalog_map(acme)
    assert _edge(cmap, "includes", "HomeTrio", "HomeVoice").label == "[0..2]"
    assert _edge(cmap, "includes", "HomeDuo", "HomeFibre").label == "[1]"


def test_rule_edges_carry_condition_scope_and_wait(acme: Catalog) -> None:
    cmap = catalog_map(acme)
    assert _edge(cmap, "rule", "HomeFibre", "StaticIp").label == "when static_ip"
    assert _edge(cmap, "rule", "HomeFibre", "AccessLine").label == "scope order"
    assert _edge(cmap, "rule", "HomeFibre", "InternetService").label == ""
    assert _edge(cmap, "rule", "InternetService", "RadiusProfile").label == "after parent"

    tip = _edge(cmap, "rule", "HomeFibre", "InternetService").tooltip
    assert "bandwidth_kbps = speed * 1000" in tip
    assert 'profile = if speed >= 500 then "gpon-1g" else "gpon-500"' in tip


def test_a_rule_edge_names_each_wait_with_its_actions() -> None:
    text = """catalog "T" version "1"
cfs Mobile {}
resource Sim {}
decompose Mobile -> Sim before parent on add, modify after parent on delete
"""
    cmap = catalog_map(compile_catalog("t.om", text).raise_on_error())
    label = _edge(cmap, "rule", "Mobile", "Sim").label
    assert label == "before parent on add, modify\nafter parent on delete"


def test_long_conditions_are_shortened_in_the_label_only(acme: Catalog) -> None:
    flag = ir.Ref(type="bool", root="source", path=["static_ip"])
    cond: ir.Expr = flag
    for _ in range(7):
        cond = ir.BinaryOp(type="bool", operator="and", left=cond, right=flag)
    rules = [
        r.model_copy(update={"when": cond}) if r.id == "HomeFibre->StaticIp" else r
        for r in acme.rules
    ]
    changed = acme.model_copy(update={"rules": rules})
    edge = _edge(catalog_map(changed), "rule", "HomeFibre", "StaticIp")
    assert edge.label.endswith("…")
    assert len(edge.label) == len("when ") + 30
    assert "when " + " and ".join(["static_ip"] * 8) in edge.tooltip


def test_family_rules_start_at_the_family_and_members_point_to_it(acme: Catalog) -> None:
    cmap = catalog_map(acme)
    assert _edge(cmap, "rule", "Broadband", "Router").source == "family.Broadband"
    members = {e.source for e in cmap.edges if e.kind == "member"}
    assert members == {"product.HomeFibre", "product.HomeCopper"}


def test_systems_list_the_plans_that_call_them(acme: Catalog) -> None:
    cmap = catalog_map(acme)
    inventory = cmap.node("system.Inventory")
    assert ("AccessLine", "add, delete") in inventory.callers
    assert "AccessLine on add: reserve_port, release_port" in inventory.tooltip
    assert cmap.node("queue.provisioning_desk").callers == ()
    calls = {(e.source, e.target) for e in cmap.edges if e.kind == "calls"}
    assert ("product.TvService", "queue.field_techs") in calls


def test_focus_keeps_producers_products_and_their_systems(acme: Catalog) -> None:
    cmap = focus_on(catalog_map(acme), "InternetService")
    assert _names(cmap) == {
        "HomeDuo", "HomeTrio", "HomeFibre", "HomeCopper",  # what produces it
        "InternetService", "RadiusProfile",  # it, and what it produces
        "Billing", "Network",  # its plans' systems and its products'
        "AccessLine",  # its plan waits for the access line's (depend), one step
    }  # fmt: skip
    assert cmap.focus == "product.InternetService"
    assert "focus InternetService" in cmap.title
    assert all(e.source in {n.id for n in cmap.nodes} for e in cmap.edges)


def test_focus_on_a_bundle_follows_multi_level_chains(acme: Catalog) -> None:
    names = _names(focus_on(catalog_map(acme), "HomeDuo"))
    assert {"HomeFibre", "HomeVoice", "Broadband", "Router", "RadiusProfile"} <= names
    assert "HomeTrio" not in names
    assert "TvService" not in names


def test_focus_on_a_system_keeps_its_callers_and_their_producers(acme: Catalog) -> None:
    cmap = focus_on(catalog_map(acme), "Network")
    assert {"AccessLine", "RadiusProfile", "MobileSubscription", "HomeTv"} <= _names(cmap)
    assert "Billing" not in _names(cmap)


def test_focused_systems_only_list_the_callers_shown(acme: Catalog) -> None:
    cmap = focus_on(catalog_map(acme), "RadiusProfile")
    network = cmap.node("system.Network")
    assert network.callers == (("RadiusProfile", "add, modify"),)
    assert network.hidden_callers == 2


def test_an_unknown_focus_suggests_a_name(acme: Catalog) -> None:
    with pytest.raises(RenderError, match="did you mean 'RadiusProfile'"):
        focus_on(catalog_map(acme), "RadiusProfil")


def test_a_product_wins_over_a_family_of_the_same_name() -> None:
    """Families have names of their own: `--focus Svc` drew the family, not the cfs Svc."""
    catalog = compile_catalog(
        "f.om",
        'catalog "F" version "1"\n'
        "offer Off { family Svc  attribute a: int default 1 }\n"
        "cfs Svc { attribute a: int }\n"
        'plan Svc on add { auto h handler "h" }\n'
        "decompose family Svc -> Svc { a = a }\n",
    ).raise_on_error()
    cmap = catalog_map(catalog)
    assert focus_on(cmap, "Svc").focus == "product.Svc"
    assert focus_on(cmap, "family.Svc").focus == "family.Svc"


def test_a_family_of_technical_products_with_a_plan_is_on_the_map() -> None:
    """`plan family Tech` is lowered to its members' plans: the family had no rule, so it was
    neither drawn nor a name `--focus` knew."""
    catalog = compile_catalog(
        "t.om",
        'catalog "T" version "1"\n'
        "offer O { attribute a: int }\n"
        "cfs Vpn { family Tech  attribute bw: int }\n"
        "cfs Fw { family Tech  attribute bw: int }\n"
        "decompose O { -> Vpn { bw = a } -> Fw { bw = a } }\n"
        'plan family Tech on add { auto push handler "x" }\n',
    ).raise_on_error()
    cmap = catalog_map(catalog)
    assert cmap.node("family.Tech").kind == "family"
    assert _edge(cmap, "member", "Vpn", "Tech").tooltip == "Vpn is in family Tech"
    focused = focus_on(cmap, "Tech")
    assert focused.focus == "family.Tech"
    assert {"family.Tech", "product.Vpn", "product.Fw"} <= {n.id for n in focused.nodes}


def test_the_map_shows_the_waits_between_products_and_the_points_of_no_return(
    acme: Catalog,
) -> None:
    cmap = catalog_map(acme)
    depends = {(e.source, e.target): e for e in cmap.edges if e.kind == "depend"}
    line_ready = depends[("product.AccessLine", "product.VoiceService")]
    assert line_ready.label == "line_ready → provision"
    assert "depend VoiceService.provision after AccessLine.line_ready within" in line_ready.tooltip
    assert len(depends) == len({(d.after_product, d.product) for d in acme.dependencies})
    assert "PONR on add: activate_line" in cmap.node("product.AccessLine").lines
    assert not any("PONR" in line for line in cmap.node("product.Router").lines)


def test_a_product_says_what_its_plans_record_on_the_inventory(acme: Catalog) -> None:
    cmap = catalog_map(acme)
    assert "records on add: port_id" in cmap.node("product.AccessLine").tooltip.splitlines()
    assert "records" not in cmap.node("product.Router").tooltip


REQUIRES = Path(__file__).resolve().parents[1] / "fixtures" / "valid" / "requires.om"


def test_requires_edges_go_from_an_offer_to_each_offer_it_requires() -> None:
    cmap = catalog_map(compile_catalog(REQUIRES).raise_on_error())
    tv = _edge(cmap, "requires", "Tv", "HomeInternet")
    assert (tv.label, tv.tooltip) == ("requires", "Tv requires HomeInternet")
    for target in ("FibreInternet", "DslInternet"):
        edge = _edge(cmap, "requires", "Replay", target)
        assert edge.label == "requires (one of)"
        assert edge.tooltip == "Replay requires FibreInternet or DslInternet"
    assert _edge(cmap, "requires", "Duo", "Phone").label == "requires"


def test_a_focus_shows_one_step_of_requires() -> None:
    """Replay requires Tv, which requires HomeInternet: a focus on Replay shows Tv, not what
    Tv needs in turn (as for ``depend``)."""
    focused = focus_on(catalog_map(compile_catalog(REQUIRES).raise_on_error()), "Replay")
    names = _names(focused)
    assert {"Replay", "Tv", "FibreInternet", "DslInternet"} <= names
    assert "HomeInternet" not in names
    assert "Phone" not in _names(
        focus_on(catalog_map(compile_catalog(REQUIRES).raise_on_error()), "Tv")
    )


CHOICE_GROUPS = Path(__file__).resolve().parents[1] / "fixtures" / "valid" / "choice_groups.om"


def test_a_choice_group_shows_as_one_of_on_each_of_its_edges() -> None:
    cmap = catalog_map(compile_catalog(CHOICE_GROUPS).raise_on_error())
    for target in ("FibreInternet", "DslInternet"):
        edge = _edge(cmap, "includes", "NordtelOne", target)
        assert edge.label == "one of [1]"
        assert edge.tooltip == "NordtelOne includes FibreInternet or DslInternet [1]"
    assert _edge(cmap, "includes", "NordtelOne", "Tv").label == "one of [0..1]"
    assert _edge(cmap, "includes", "NordtelOne", "Router").label == "[1]"
    assert _edge(cmap, "includes", "NordtelMax", "NordtelOne").label == "one of [1..*]"
