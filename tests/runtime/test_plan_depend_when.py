"""A conditional `depend` (``when``): decided per pair of lines when the plan is built."""

from __future__ import annotations

import json

import pytest
from runtime_support import REPO, compile_text, decomposition, line
from seed_support import outputs_by_seed

from om_dsl.cli.plan_cmds import plan_table, unlinked_depends
from om_dsl.runtime import HandlerRegistry, OrderPlan, Runtime, build_plan

LAB = """
cfs InternetService { attribute static_ip: bool  attribute speed: int }
resource StaticAddress { attribute pool: string  attribute size: int }
plan InternetService on add, modify { auto configure handler "lab.configure" }
plan StaticAddress on add { auto assign handler "lab.assign" }
/// The address must exist before the service is configured with it.
depend InternetService.configure after StaticAddress.assign within root when line.static_ip
"""


@pytest.fixture(scope="module")
def lab():  # type: ignore[no-untyped-def]
    return compile_text(LAB)


def deps(plan: OrderPlan, item_id: str) -> tuple[str, ...]:
    return plan.item(item_id).deps


def two_roots() -> list:  # type: ignore[type-arg]
    """Two root items in one order: the first asks for a static IP, the second does not."""
    return [
        line("S1", "InternetService", roots=["1"], static_ip=True, speed=100),
        line("A1", "StaticAddress", roots=["1"], pool="p", size=1),
        line("S2", "InternetService", roots=["2"], request="fr:2", static_ip=False, speed=100),
        line("A2", "StaticAddress", roots=["2"], request="fr:2", pool="p", size=1),
    ]


def test_the_condition_links_one_pair_and_not_the_other(lab) -> None:  # type: ignore[no-untyped-def]
    plan = build_plan(lab, decomposition("O1", lab, two_roots()))
    assert deps(plan, "S1:configure") == ("A1:assign",)
    assert deps(plan, "S2:configure") == ()
    assert plan.line("S1").peers == ("A1",)
    assert plan.line("S2").peers == ()


def test_a_null_condition_counts_as_false(lab) -> None:  # type: ignore[no-untyped-def]
    lines = [line("S", "InternetService", speed=1), line("A", "StaticAddress", pool="p")]
    plan = build_plan(lab, decomposition("O1", lab, lines))
    assert deps(plan, "S:configure") == ()


def test_the_condition_reads_the_line_waited_for_and_the_order() -> None:
    catalog = compile_text(
        """
        order { attribute express: bool }
        cfs InternetService { attribute speed: int }
        resource StaticAddress { attribute size: int }
        plan InternetService on add { auto configure handler "lab.configure" }
        plan StaticAddress on add { auto assign handler "lab.assign" }
        depend InternetService.configure after StaticAddress.assign within order
            when other.size > line.speed and not order.express
        """
    )
    lines = [
        line("S", "InternetService", speed=10),
        line("A", "StaticAddress", request="fr:2", roots=["2"], size=16),
        line("B", "StaticAddress", request="fr:3", roots=["3"], size=4),
    ]
    work = decomposition("O1", catalog, lines)
    assert deps(build_plan(catalog, work), "S:configure") == ("A:assign",)


def test_the_condition_reads_what_changed_on_the_waiting_line() -> None:
    catalog = compile_text(
        """
        cfs InternetService { attribute static_ip: bool }
        resource StaticAddress { attribute pool: string }
        plan InternetService on modify { auto configure handler "lab.configure" }
        plan StaticAddress on add { auto assign handler "lab.assign" }
        depend InternetService.configure after StaticAddress.assign
            when changed(line.static_ip) and previous(line.static_ip) == false
        """
    )
    lines = [
        line("S", "InternetService", action="modify", static_ip=True),
        line("A", "StaticAddress", pool="p"),
    ]
    work = decomposition("O1", catalog, lines)
    plan = build_plan(catalog, work)
    assert deps(plan, "S:configure") == ()  # `previous` is null: no earlier value was given


def test_an_unlinked_pair_is_not_noted_as_waiting_for_nothing(lab) -> None:  # type: ignore[no-untyped-def]
    plan = build_plan(lab, decomposition("O1", lab, two_roots()))
    assert unlinked_depends(plan, lab, {}) == []


FAILING = """
cfs InternetService { attribute speed: int }
resource StaticAddress { attribute size: int }
plan InternetService on add {
  auto configure handler "w"
  auto announce handler "w" after configure
}
plan StaticAddress on add { auto assign handler "w" }
depend InternetService.configure after StaticAddress.assign when 100 / line.speed > other.size
"""


def test_a_condition_that_fails_links_the_pair_and_fails_the_waiting_item() -> None:
    """As a failing `when` of an item: the item fails with the reason when it becomes
    ready (the order is held for an operator), not the whole order's plan."""
    catalog = compile_text(FAILING)
    lines = [
        line("S0", "InternetService", speed=0),
        line("S1", "InternetService", speed=1),
        line("A", "StaticAddress", size=1),
    ]
    work = decomposition("O1", catalog, lines)
    plan = build_plan(catalog, work)
    assert deps(plan, "S0:configure") == ("A:assign",)  # linked: nothing runs out of order
    assert deps(plan, "S1:configure") == ("A:assign",)  # 100 / 1 > 1
    assert plan.item("S0:configure").fails is not None
    assert plan.item("S1:configure").fails is None
    dumped = plan.model_dump(mode="json")
    assert [("fails" in i) for i in dumped["items"]] == [True, False, False, False, False]
    assert OrderPlan.model_validate_json(plan.model_dump_json()) == plan
    registry = HandlerRegistry()
    registry.register("w", lambda ctx: {}, inline=True)
    runtime = Runtime(catalog, handlers=registry)
    runtime.submit(work)
    runtime.run_until_idle()
    status = runtime.status("O1")
    assert status.state == "held"
    assert {i.id: i.state for i in status.items} == {
        "S0:configure": "fatally_failed",
        "S0:announce": "pending",
        "S1:configure": "completed",
        "S1:announce": "completed",
        "A:assign": "completed",
    }
    reason = status.item("S0:configure").reason or ""
    assert reason == (
        "the condition of `depend InternetService.configure after StaticAddress.assign` at "
        "lab.om:10:1 failed: division by zero (for line A)"
    )


def test_the_unlinked_item_starts_without_waiting(lab) -> None:  # type: ignore[no-untyped-def]
    """End to end: S2 (no static IP) starts at once; S1 waits for its address."""
    started: list[str] = []
    registry = HandlerRegistry()
    for name in ("lab.configure", "lab.assign"):
        registry.register(name, lambda ctx: started.append(ctx.item_id) or {}, inline=True)
    runtime = Runtime(lab, handlers=registry)
    runtime.submit(decomposition("O1", lab, two_roots()))
    runtime.run_until_idle()
    assert runtime.status("O1").state == "completed"
    assert started.index("A1:assign") < started.index("S1:configure")
    assert started.index("S2:configure") < started.index("A2:assign")


SCRIPT = f"""
from runtime_support import compile_text, decomposition, line
from om_dsl.runtime import build_plan
cat = compile_text({LAB!r})
lines = [line("S" + n, "InternetService", roots=[n], request="fr:" + n, static_ip=n == "1")
         for n in ("1", "2", "3")]
lines += [line("A" + n, "StaticAddress", roots=[n], request="fr:" + n, pool="p")
          for n in ("1", "2", "3")]
print(build_plan(cat, decomposition("O1", cat, lines)).model_dump_json())
"""


def test_conditional_plans_are_identical_whatever_the_hash_seed() -> None:
    outputs = set(outputs_by_seed(SCRIPT, REPO / "tests" / "runtime").values())
    assert len(outputs) == 1
    assert json.loads(outputs.pop())["order_id"] == "O1"


def test_a_pair_the_scope_keeps_apart_is_still_noted(lab) -> None:  # type: ignore[no-untyped-def]
    """S2 asks for a static IP, but the only address is root 1's: `within root` keeps
    them apart, and the condition would have linked them, so `om plan` says so."""
    lines = [
        line("S1", "InternetService", roots=["1"], static_ip=False),
        line("A1", "StaticAddress", roots=["1"], pool="p"),
        line("S2", "InternetService", roots=["2"], request="fr:2", static_ip=True),
    ]
    plan = build_plan(lab, decomposition("O1", lab, lines))
    assert deps(plan, "S2:configure") == ()
    (note,) = unlinked_depends(plan, lab)
    assert note.startswith("note: S2:configure waits for no StaticAddress.assign")


def test_om_plan_flags_an_item_that_fails_when_ready() -> None:
    catalog = compile_text(FAILING)
    lines = [line("S0", "InternetService", speed=0), line("A", "StaticAddress", size=1)]
    table = plan_table(build_plan(catalog, decomposition("O1", catalog, lines)))
    row = next(r for r in table.splitlines() if "S0:configure" in r)
    assert "fails when ready" in row
