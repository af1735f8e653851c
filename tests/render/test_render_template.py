"""The plan template as a graph: items, edges by kind, context items, PONR and critical path."""

from __future__ import annotations

import pytest

from om_dsl.compiler.driver import compile_catalog
from om_dsl.ir.models import Catalog
from om_dsl.render import PlanOptions, RenderError, render, render_plan_template, template_graph
from om_dsl.render.plan_model import PlanGraph


def _edges(graph: PlanGraph, kind: str) -> set[tuple[str, str]]:
    return {(e.source, e.target) for e in graph.edges if e.kind == kind}


def test_items_become_nodes_with_their_kind_and_details(acme: Catalog) -> None:
    graph = template_graph(acme, "AccessLine", "add")
    own = {n.name: n for n in graph.nodes if not n.external}
    assert list(own) == ["reserve_port", "install", "activate_line", "line_ready", "release_port"]
    assert own["reserve_port"].kind == "callout"
    assert own["reserve_port"].details == ("Inventory POST /ports/reserve",)
    assert own["install"].details == ("queue Field technicians",)
    assert own["install"].expect_ms == 2 * 86_400_000
    assert own["activate_line"].details[0] == "Network POST /activations (async)"
    assert own["activate_line"].ponr
    assert own["activate_line"].timeout_ms == 3_600_000
    assert own["release_port"].compensation


def test_after_undo_and_depend_edges(acme: Catalog) -> None:
    graph = template_graph(acme, "AccessLine", "add")
    assert ("AccessLine.reserve_port", "AccessLine.install") in _edges(graph, "after")
    assert _edges(graph, "undo") == {("AccessLine.reserve_port", "AccessLine.release_port")}
    assert _edges(graph, "depend") == {
        ("AccessLine.line_ready", "InternetService.configure"),
        ("AccessLine.line_ready", "VoiceService.provision"),
        ("AccessLine.line_ready", "TvService.install_boxes"),
    }
    context = {n.id: n for n in graph.nodes if n.external}
    assert context["TvService.install_boxes"].kind == "manual"
    assert context["TvService.install_boxes"].cluster == "other.TvService"


def test_dependencies_into_the_plan_come_from_the_other_products(acme: Catalog) -> None:
    graph = template_graph(acme, "VoiceService", "add")
    assert _edges(graph, "depend") == {
        ("PhoneNumber.reserve_number", "VoiceService.provision"),
        ("AccessLine.line_ready", "VoiceService.provision"),
    }
    labels = {e.label for e in graph.edges if e.kind == "depend"}
    assert labels == {"same root item", "same order"}


def test_dependencies_on_items_of_other_actions_are_left_out(acme: Catalog) -> None:
    graph = template_graph(acme, "AccessLine", "delete")
    assert not [n for n in graph.nodes if n.external]
    assert _edges(graph, "depend") == set()


def test_wait_items_show_event_and_condition(acme: Catalog) -> None:
    graph = template_graph(acme, "VoiceService", "add")
    wait = next(n for n in graph.nodes if n.name == "number_ported")
    assert wait.details == ("event number.ported", "when line.port_in")


def test_the_drawing_emphasises_critical_path_and_ponr(acme: Catalog) -> None:
    dot = render(render_plan_template(acme, "AccessLine", "add"), "dot").decode()
    assert "critical path 2d 10m over 4 items" in dot
    assert "POINT OF NO RETURN" in dot
    assert "cluster_plan__beyond_return" in dot
    beyond = dot.split("cluster_plan__beyond_return", 1)[1].split("\t\t}", 1)[0]
    assert '"AccessLine.activate_line"' in beyond and '"AccessLine.line_ready"' in beyond
    assert '"AccessLine.install"' not in beyond
    assert "due +2d 10m" in dot
    critical = [line for line in dot.splitlines() if "->" in line and "#dc2626" in line]
    assert len(critical) == 3


def test_options_turn_emphasis_off(acme: Catalog) -> None:
    options = PlanOptions(critical_path=False, beyond_return=False, legend=False)
    dot = render(render_plan_template(acme, "AccessLine", "add", options), "dot").decode()
    assert "beyond_return" not in dot
    assert "critical path" not in dot
    assert "legend" not in dot
    assert "POINT OF NO RETURN" in dot  # the flag itself is always shown


def test_node_fill_hook_recolours_nodes(acme: Catalog) -> None:
    options = PlanOptions(node_fill=lambda n: "#123456" if n.name == "install" else None)
    dot = render(render_plan_template(acme, "AccessLine", "add", options), "dot").decode()
    assert dot.count("#123456") == 1


def test_an_offer_is_not_a_plan_owner(acme: Catalog) -> None:
    with pytest.raises(RenderError, match="not offers"):
        template_graph(acme, "HomeFibre", "add")


def test_a_family_names_its_members() -> None:
    """`plan family Vas` has no template of its own: each member runs it as its own plan."""
    text = (
        'catalog "F" version "1"\noffer O "O" id "1" {}\ncfs Voice { family Vas }\n'
        "cfs Replay { family Vas }\ndecompose O { -> Voice {}  -> Replay {} }\n"
        'plan family Vas on add { auto provision handler "vas.provision" }\n'
    )
    catalog = compile_catalog("f.om", text=text).raise_on_error()
    with pytest.raises(RenderError, match=r"Vas is a family: .* render a member: Voice, Replay"):
        template_graph(catalog, "Vas", "add")


def test_an_unknown_product_gets_a_suggestion(acme: Catalog) -> None:
    with pytest.raises(RenderError, match="did you mean 'AccessLine'"):
        template_graph(acme, "Accessline", "add")


def test_a_missing_action_lists_the_actions_there_are(acme: Catalog) -> None:
    with pytest.raises(RenderError, match="it has plans for: add, modify, delete"):
        template_graph(acme, "AccessLine", "noChange")


def test_a_product_without_plans_says_so(acme: Catalog) -> None:
    plans = [p for p in acme.plans if p.product != "Router"]
    with pytest.raises(RenderError, match="it has no plans"):
        template_graph(acme.model_copy(update={"plans": plans}), "Router", "add")


def test_a_depend_edge_of_a_template_says_why_on_hover(acme: Catalog) -> None:
    graph = template_graph(acme, "InternetService", "add")
    (tip,) = {e.tooltip for e in graph.edges if e.kind == "depend"}
    assert tip.endswith("\nThe internet service is configured once the access line is up.")


# ---- waits of chained rules (after parent, before parent) --------------------------------------

CHAINS = """catalog "Chains" version "1"
offer Net { attribute speed: int default 100 }
cfs Access { attribute speed: int }
rfs Port { attribute speed: int }
rfs Profile { attribute speed: int }
rfs Router { attribute speed: int }
decompose Net -> Access { speed = speed }
/// A port is reserved before the access line's own plan runs.
decompose Access -> Port before parent { speed = speed }
decompose Access -> Profile after parent { speed = speed }
decompose Profile -> Router after parent { speed = speed }
plan Access on add {
  auto prepare handler "a.prepare"
  auto configure handler "a.configure"
  auto activate handler "a.activate" after prepare, configure
}
plan Port on add {
  auto reserve handler "p.reserve"
  auto check handler "p.check" after reserve
}
plan Profile on add, modify { auto create handler "r.create" }
plan Router on add { auto ship handler "x.ship" }
"""


@pytest.fixture(scope="module")
def chains() -> Catalog:
    return compile_catalog("chains.om", CHAINS).raise_on_error()


def test_after_parent_makes_the_entry_items_wait_for_the_parents_exit_items(
    chains: Catalog,
) -> None:
    graph = template_graph(chains, "Profile", "add")
    assert _edges(graph, "parent") == {
        ("Access.activate", "Profile.create"),
        ("Profile.create", "Router.ship"),  # Profile is a parent too
    }
    edge = next(e for e in graph.edges if e.target == "Profile.create")
    assert edge.label == "after parent line"
    assert "`after parent` of Access -> Profile at chains.om:" in edge.tooltip
    context = {n.id: n for n in graph.nodes if n.external}
    assert context["Access.activate"].cluster == "other.Access"
    assert context["Access.activate"].kind == "auto"


def test_before_parent_makes_the_parents_entry_items_wait_for_the_childs_exit_items(
    chains: Catalog,
) -> None:
    graph = template_graph(chains, "Port", "add")
    assert _edges(graph, "parent") == {
        ("Port.check", "Access.prepare"),
        ("Port.check", "Access.configure"),
    }
    assert {e.label for e in graph.edges if e.kind == "parent"} == {"before child line"}
    tip = next(e.tooltip for e in graph.edges if e.kind == "parent")
    assert tip.startswith("a Access line starts once its child Port line is complete")
    assert tip.endswith("\nA port is reserved before the access line's own plan runs.")


def test_the_parents_template_shows_the_waits_of_its_children(chains: Catalog) -> None:
    graph = template_graph(chains, "Access", "add")
    assert _edges(graph, "parent") == {
        ("Port.check", "Access.prepare"),
        ("Port.check", "Access.configure"),
        ("Access.activate", "Profile.create"),
    }
    # the grandchild waits for Profile, not for Access
    assert "Router.ship" not in {n.id for n in graph.nodes}


def test_a_parent_without_a_plan_for_the_action_passes_the_wait_to_its_ancestor(
    chains: Catalog,
) -> None:
    """On modify, neither Access nor Router has a plan: nothing waits.  Without Profile's
    plans, Router waits for Access instead, as the builder wires it."""
    assert _edges(template_graph(chains, "Profile", "modify"), "parent") == set()
    plans = [p for p in chains.plans if p.product != "Profile"]
    unplanned = chains.model_copy(update={"plans": plans})
    assert _edges(template_graph(unplanned, "Router", "add"), "parent") == {
        ("Access.activate", "Router.ship")
    }


PER_ACTION = """catalog "Teardown" version "1"
offer Phone { attribute msisdn: string default "1" }
cfs Mobile { attribute msisdn: string }
resource Sim { attribute msisdn: string }
decompose Phone -> Mobile { msisdn = msisdn }
decompose Mobile -> Sim before parent on add after parent on delete { msisdn = msisdn }
plan Mobile on add, delete { auto run handler "m.run" }
plan Sim on add, delete { auto run handler "s.run" }
"""


def test_a_per_action_wait_is_drawn_on_its_actions_templates() -> None:
    """The add template shows the service waiting for its SIM, the delete one the SIM
    waiting for its service, each with the clause as written."""
    catalog = compile_catalog("teardown.om", PER_ACTION).raise_on_error()
    add = template_graph(catalog, "Sim", "add")
    assert _edges(add, "parent") == {("Sim.run", "Mobile.run")}
    delete = template_graph(catalog, "Sim", "delete")
    assert _edges(delete, "parent") == {("Mobile.run", "Sim.run")}
    [edge] = [e for e in delete.edges if e.kind == "parent"]
    assert edge.label == "after parent line"
    assert "`after parent on delete` of Mobile -> Sim at teardown.om:" in edge.tooltip


def test_chain_waits_are_drawn_as_the_order_plan_draws_them(acme: Catalog) -> None:
    dot = render(render_plan_template(acme, "RadiusProfile", "add"), "dot").decode()
    wait = next(line for line in dot.splitlines() if '"InternetService.subscribe" ->' in line)
    assert '-> "RadiusProfile.create_profile"' in wait
    assert 'color="#0f766e"' in wait and 'label="after parent line"' in wait
    assert "waits for its parent line" in dot  # the legend row of the mark


def test_a_record_is_noted_and_told_on_the_item_it_reads(acme: Catalog) -> None:
    """``record port_id = reserve_port.port_id``: a note under the title, and the item whose
    output is kept says so when hovered; a plan without records has no such note."""
    graph = template_graph(acme, "AccessLine", "add")
    text = "record port_id = reserve_port.port_id on the inventory product"
    assert graph.notes == (f"on completion, {text}",)
    own = {n.name: n for n in graph.nodes if not n.external}
    assert text in own["reserve_port"].tooltip
    assert text not in own["install"].tooltip
    assert template_graph(acme, "AccessLine", "delete").notes == ()
