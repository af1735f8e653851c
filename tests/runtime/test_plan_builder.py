"""The plan builder: selection per (product, action), conditions, scopes, waits, compensations."""

from __future__ import annotations

import json

import pytest
from runtime_support import REPO, compile_text, decomposition, line
from seed_support import outputs_by_seed

from om_dsl.errors import PlanError
from om_dsl.ir.models import SourceSpan
from om_dsl.orders.models import Decomposition, FulfillmentRequest, Order, OrderItem, Relationship
from om_dsl.runtime import HandlerRegistry, OrderPlan, PlanCycleError, Runtime, build_plan

LAB = """
cfs Access "Access" scope order { attribute site: string }
cfs Net { attribute speed: int }
cfs Radius { attribute profile: string }
cfs Billing scope relies_on { attribute plan: string }
cfs Sub { attribute msisdn: string }
plan Access on add {
  auto reserve handler "lab.reserve" undo release
  auto activate handler "lab.activate" after reserve point_of_no_return expect 1h
  milestone ready after activate
  compensation auto release handler "lab.release"
}
plan Net on add, modify {
  auto configure handler "lab.configure" when line.speed > 0 undo unconfigure
  auto check handler "lab.check" after configure when configure.ok == true
  compensation auto unconfigure handler "lab.unconfigure"
}
plan Radius on add { auto profile handler "lab.profile" }
plan Sub on add { auto activate handler "lab.sub" }
plan Billing on add { auto bill handler "lab.bill" }
depend Net.configure after Access.ready within order
depend Radius.profile after Net.configure
depend Billing.bill after Sub.activate within relies_on
"""


@pytest.fixture(scope="module")
def lab():  # type: ignore[no-untyped-def]
    return compile_text(LAB)


def deps(plan: OrderPlan, item_id: str) -> tuple[str, ...]:
    return plan.item(item_id).deps


def test_ids_are_line_and_item_and_after_is_wired(lab) -> None:  # type: ignore[no-untyped-def]
    plan = build_plan(lab, decomposition("O1", lab, [line("A", "Access", site="s")]))
    assert [i.id for i in plan.items] == ["A:reserve", "A:activate", "A:ready", "A:release"]
    assert deps(plan, "A:activate") == ("A:reserve",)
    assert deps(plan, "A:ready") == ("A:activate",)
    activate = plan.item("A:activate")
    assert activate.ponr and activate.expect_ms == 3_600_000
    assert plan.catalog_hash == lab.content_hash


def test_the_plan_is_selected_by_action_and_nochange_gets_no_items(lab) -> None:  # type: ignore[no-untyped-def]
    lines = [
        line("N1", "Net", action="modify", speed=10),
        line("N2", "Net", action="noChange", speed=10),
        line("N3", "Net", action="delete", speed=10),
    ]
    plan = build_plan(lab, decomposition("O1", lab, lines))
    assert {i.line_id for i in plan.items} == {"N1"}
    assert [(ln.id, ln.planned) for ln in plan.lines] == [
        ("N1", True),
        ("N2", False),
        ("N3", False),
    ]


def test_a_condition_on_line_data_is_decided_at_plan_time(lab) -> None:  # type: ignore[no-untyped-def]
    lines = [line("N1", "Net", speed=0), line("N2", "Net", speed=5)]
    plan = build_plan(lab, decomposition("O1", lab, lines))
    skipped = plan.item("N1:configure")
    assert (skipped.when, skipped.initial) == ("plan", "skipped")
    assert skipped.skip_reason is not None and "lab.om:" in skipped.skip_reason
    assert plan.item("N2:configure").initial == "pending"
    check = plan.item("N2:check")
    assert (check.when, check.initial) == ("ready", "pending")


def test_root_scope_links_only_lines_of_the_same_root_item(lab) -> None:  # type: ignore[no-untyped-def]
    lines = [
        line("N1", "Net", roots=["1"], speed=1),
        line("N2", "Net", roots=["2"], request="fr:2", speed=1),
        line("R1", "Radius", roots=["1"]),
        line("R2", "Radius", roots=["2"], request="fr:2"),
    ]
    plan = build_plan(lab, decomposition("O1", lab, lines))
    assert deps(plan, "R1:profile") == ("N1:configure",)
    assert deps(plan, "R2:profile") == ("N2:configure",)
    assert plan.line("R1").peers == ("N1",)


def test_root_scope_pairs_the_units_of_one_item(lab) -> None:  # type: ignore[no-untyped-def]
    """An item of quantity 2 is two units (`v[1]`, `v[2]`): each unit's Radius waits for its
    own Net, and for the root's other lines (another item's, a shared one) as before."""
    lines = [
        line("v[1]/Net", "Net", roots=["b"], sources=["v"], speed=1),
        line("v[2]/Net", "Net", roots=["b"], sources=["v"], speed=1),
        line("w/Net", "Net", roots=["b"], sources=["w"], speed=1),
        line("v[1]/Net/Radius", "Radius", roots=["b"], sources=["v"]),
        line("v[2]/Net/Radius", "Radius", roots=["b"], sources=["v"]),
        line("w/Radius", "Radius", roots=["b"], sources=["w"]),
    ]
    plan = build_plan(lab, decomposition("O1", lab, lines))
    assert deps(plan, "v[1]/Net/Radius:profile") == ("v[1]/Net:configure", "w/Net:configure")
    assert deps(plan, "v[2]/Net/Radius:profile") == ("v[2]/Net:configure", "w/Net:configure")
    assert deps(plan, "w/Radius:profile") == (
        "v[1]/Net:configure",
        "v[2]/Net:configure",
        "w/Net:configure",
    )


def test_an_item_id_with_brackets_is_not_a_unit(lab) -> None:  # type: ignore[no-untyped-def]
    """`x[2]` ordered once is an item id, not unit 2 of `x`."""
    lines = [
        line("x[2]/Net", "Net", sources=["x[2]"], speed=1),
        line("x[1]/Net", "Net", sources=["x"], speed=1),
        line("x[2]/Radius", "Radius", sources=["x[2]"]),
    ]
    plan = build_plan(lab, decomposition("O1", lab, lines))
    assert deps(plan, "x[2]/Radius:profile") == ("x[2]/Net:configure", "x[1]/Net:configure")


def test_order_scope_links_every_line_of_the_order(lab) -> None:  # type: ignore[no-untyped-def]
    lines = [
        line("A", "Access", roots=["1", "2"], request="fr:order", scope="order"),
        line("N1", "Net", roots=["1"], speed=1),
        line("N2", "Net", roots=["2"], request="fr:2", speed=1),
    ]
    plan = build_plan(lab, decomposition("O1", lab, lines))
    assert deps(plan, "N1:configure") == ("A:ready",)
    assert deps(plan, "N2:configure") == ("A:ready",)


def test_relies_on_scope_follows_relies_on_relationships(lab) -> None:  # type: ignore[no-untyped-def]
    lines = [
        line("S1", "Sub", roots=["b"], sources=["s1"]),
        line("S2", "Sub", roots=["b"], sources=["s2"]),
        line("B1", "Billing", roots=["b"], sources=["p1"], request="fr:r", scope="relies_on"),
    ]
    order = Order(
        id="O1",
        items=[
            OrderItem(id="b", action="add", product="Bundle"),
            OrderItem(id="s1", action="add", product="Mobile", parent="b"),
            OrderItem(id="s2", action="add", product="Mobile", parent="b"),
            OrderItem(
                id="p1",
                action="add",
                product="Plan",
                parent="b",
                relationships=[Relationship(type="reliesOn", id="s1")],
            ),
        ],
    )
    plan = build_plan(lab, decomposition("O1", lab, lines), order)
    assert deps(plan, "B1:bill") == ("S1:activate",)


def test_relies_on_scope_follows_shared_requests_without_an_order(lab) -> None:  # type: ignore[no-untyped-def]
    shared = FulfillmentRequest(
        id="fr:relies_on:s1",
        shared=True,
        scope="relies_on",
        lines=[line("B1", "Billing", sources=["p1"], request="fr:relies_on:s1")],
    )
    root = FulfillmentRequest(
        id="fr:1", root_item="1", uses=["fr:relies_on:s1"], lines=[line("S1", "Sub")]
    )
    other = FulfillmentRequest(id="fr:2", root_item="2", lines=[line("S2", "Sub", request="fr:2")])
    work = Decomposition(
        order_id="O1", catalog_hash=lab.content_hash, requests=[root, other, shared]
    )
    plan = build_plan(lab, work)
    assert deps(plan, "B1:bill") == ("S1:activate",)


def test_relies_on_scope_with_the_order_ignores_the_bundles_request(lab) -> None:  # type: ignore[no-untyped-def]
    """A designer's two-line bundle, no reliesOn: the bundle's request uses each line's
    relies_on request, and that linked each line's billing to both lines' subscriptions."""

    def billing(n: int) -> FulfillmentRequest:
        rid = f"fr:relies_on:s{n}"
        bill = line(f"B{n}", "Billing", roots=["b"], sources=[f"s{n}"], request=rid,
                    scope="relies_on")  # fmt: skip
        return FulfillmentRequest(id=rid, shared=True, scope="relies_on", lines=[bill])

    shared = [billing(1), billing(2)]
    subs = [line(f"S{n}", "Sub", roots=["b"], sources=[f"s{n}"], request="fr:b") for n in (1, 2)]
    root = FulfillmentRequest(id="fr:b", root_item="b", uses=[r.id for r in shared], lines=subs)
    work = Decomposition(order_id="O1", catalog_hash=lab.content_hash, requests=[root, *shared])
    order = Order(
        id="O1",
        items=[
            OrderItem(id="b", action="add", product="Bundle"),
            *(OrderItem(id=f"s{n}", action="add", product="Mobile", parent="b") for n in (1, 2)),
        ],
    )
    plan = build_plan(lab, work, order)
    assert deps(plan, "B1:bill") == ("S1:activate",)
    assert deps(plan, "B2:bill") == ("S2:activate",)
    # without the order, the requests are all there is to go by: coarser, as documented
    assert deps(build_plan(lab, work), "B1:bill") == ("S1:activate", "S2:activate")


def test_a_child_line_waits_after_its_parent(lab) -> None:  # type: ignore[no-untyped-def]
    catalog = compile_text(LAB + "plan Radius on modify { auto first handler \"x\"\n"
                           "auto second handler \"y\" after first }\n")  # fmt: skip
    lines = [
        line("A", "Access", scope="order", request="fr:order"),
        line("A/R", "Radius", action="modify", parent="A", wait="after_parent"),
    ]
    plan = build_plan(catalog, decomposition("O1", catalog, lines))
    assert deps(plan, "A/R:first") == ("A:ready",)
    assert deps(plan, "A/R:second") == ("A/R:first",)


def test_a_parent_waits_for_its_child_before_parent(lab) -> None:  # type: ignore[no-untyped-def]
    lines = [
        line("A", "Access", scope="order", request="fr:order"),
        line("A/R", "Radius", parent="A", wait="before_parent"),
    ]
    plan = build_plan(lab, decomposition("O1", lab, lines))
    assert deps(plan, "A:reserve") == ("A/R:profile",)


def test_a_parent_without_a_plan_passes_the_wait_to_its_own_parent(lab) -> None:  # type: ignore[no-untyped-def]
    lines = [
        line("A", "Access", scope="order", request="fr:order"),
        line("A/N", "Net", action="noChange", parent="A", wait="after_parent"),
        line("A/N/R", "Radius", parent="A/N", wait="after_parent"),
    ]
    plan = build_plan(lab, decomposition("O1", lab, lines))
    assert deps(plan, "A/N/R:profile") == ("A:ready",)


def test_compensations_run_in_reverse_dependency_order(lab) -> None:  # type: ignore[no-untyped-def]
    lines = [line("A", "Access", scope="order", request="fr:order"), line("N", "Net", speed=3)]
    plan = build_plan(lab, decomposition("O1", lab, lines))
    release, unconfigure = plan.item("A:release"), plan.item("N:unconfigure")
    assert release.compensation_of == ("A:reserve",)
    assert unconfigure.compensation_of == ("N:configure",)
    # N:configure ran after A:reserve (through A:ready), so it is undone first.
    assert release.deps == ("N:unconfigure",)
    assert unconfigure.deps == ()


def test_a_compensation_never_named_by_an_undo_is_not_instantiated() -> None:
    catalog = compile_text(
        """
        cfs X { attribute a: int }
        plan X on add {
          auto work handler "w"
          compensation auto orphan handler "o"
        }
        """
    )
    plan = build_plan(catalog, decomposition("O1", catalog, [line("L", "X")]))
    assert [i.id for i in plan.items] == ["L:work"]


CYCLE = """
cfs Net { attribute speed: int }
cfs Radius { attribute profile: string }
plan Net on add {
  auto configure handler "net.configure"
  auto subscribe handler "net.subscribe" after configure
}
plan Radius on add { auto create handler "radius.create" }
depend Net.configure after Radius.create
"""


def test_a_cycle_reports_its_path_and_the_declarations_that_made_it() -> None:
    catalog = compile_text(CYCLE, name="cycle.om")
    rule = SourceSpan(file="cycle.om", line=3, col=1, end_line=3, end_col=9)
    child = line("N/R", "Radius", parent="N", wait="after_parent")
    lines = [line("N", "Net"), child.model_copy(update={"rule_spans": [rule]})]
    with pytest.raises(PlanCycleError) as caught:
        build_plan(catalog, decomposition("O9", catalog, lines))
    error = caught.value
    assert error.cycle[0] == error.cycle[-1]
    assert set(error.cycle) == {"N:configure", "N:subscribe", "N/R:create"}
    message = str(error)
    assert "`depend Net.configure after Radius.create within root` at cycle.om:10:1" in message
    assert "`after configure` in the plan of Net at cycle.om:7:3" in message
    assert "waits after its parent line N (rule->Radius at cycle.om:3:1)" in message
    assert isinstance(error, PlanError)


def test_a_condition_that_fails_at_plan_time_fails_its_item_at_run_time() -> None:
    """Not the whole order: the item fails with the reason, for an operator to skip,
    complete or cancel, as runtime.md says (it used to refuse the order's plan)."""
    catalog = compile_text(
        """
        cfs X { attribute a: int }
        plan X on add {
          auto work handler "w" when 10 / line.a > 1
          auto next handler "w" after work
        }
        """
    )
    work = decomposition("O1", catalog, [line("L", "X", a=0), line("M", "X", a=2)])
    plan = build_plan(catalog, work)
    assert {i.id: i.when for i in plan.items} == {
        "L:work": "ready",  # failed here: decided when ready
        "L:next": "none",
        "M:work": "plan",
        "M:next": "none",
    }
    registry = HandlerRegistry()
    registry.register("w", lambda ctx: {}, inline=True)
    runtime = Runtime(catalog, handlers=registry)
    runtime.submit(work)
    runtime.run_until_idle()
    status = runtime.status("O1")
    states = {i.id: i.state for i in status.items}
    assert status.state == "held"
    assert states == {
        "L:work": "fatally_failed",
        "L:next": "pending",
        "M:work": "completed",
        "M:next": "completed",
    }
    reason = status.item("L:work").reason or ""
    assert "the condition of 'work' at lab.om:5:3 failed: division by zero" in reason


def test_a_decomposition_of_another_catalog_version_is_refused(lab) -> None:  # type: ignore[no-untyped-def]
    work = decomposition("O1", lab, [line("N", "Net", speed=1)])
    stale = work.model_copy(update={"catalog_hash": "sha256:old"})
    with pytest.raises(PlanError, match="another catalog version"):
        build_plan(lab, stale)


SCRIPT = """
import sys
sys.path[:0] = ["tests/runtime", "tests/support"]  # what test_plan_builder imports
from test_plan_builder import LAB, decomposition, line
from runtime_support import compile_text
from om_dsl.runtime import build_plan
cat = compile_text(LAB)
lines = [line("A", "Access", roots=["1", "2"], scope="order", request="fr:order"),
         line("N1", "Net", roots=["1"], speed=1), line("N2", "Net", roots=["2"], speed=2),
         line("R1", "Radius", roots=["1"]), line("R2", "Radius", roots=["2"])]
print(build_plan(cat, decomposition("O1", cat, lines)).model_dump_json())
"""


def test_plans_are_identical_whatever_the_hash_seed() -> None:
    outputs = set(outputs_by_seed(SCRIPT, REPO).values())
    assert len(outputs) == 1
    assert json.loads(outputs.pop())["order_id"] == "O1"
