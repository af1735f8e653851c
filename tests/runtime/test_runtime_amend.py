"""Amending an order in flight: keep what unchanged lines did, undo and redo changed lines."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from runtime_support import ACCOUNT_LAB, ONE_MANUAL_TASK, Recorder, compile_text, states

from om_dsl.errors import NotFound, OperatorActionRejected, OrderValidationError
from om_dsl.ir import models as ir
from om_dsl.orders.decompose import decompose, decomposer_for
from om_dsl.orders.installed_lines import read_installed_lines
from om_dsl.runtime import Runtime
from om_dsl.runtime.events import LifecycleEvent
from om_dsl.runtime.store.sqlite import SqliteStore

LAB = """
offer Internet "Internet" id "1" {
  attribute speed: int in 1..1000 default 100
  attribute ip: bool default false
}
offer Tv "TV" id "2" { attribute channels: int default 10 }
cfs Line { attribute bw: int }
resource Ip { attribute count: int }
cfs TvSvc { attribute channels: int }
decompose Internet {
  -> Line { bw = speed }
  -> Ip when ip { count = 1 }
}
decompose Tv { -> TvSvc { channels = channels } }
plan Line on add {
  auto reserve handler "reserve" undo release
  wait go event "go" after reserve
  auto activate handler "activate" after go point_of_no_return
  compensation auto release handler "release"
}
plan Ip on add { auto allocate handler "allocate" }
plan TvSvc on add {
  auto setup handler "setup" undo teardown
  wait tv_go event "tv" after setup
  compensation auto teardown handler "teardown"
}
"""
HANDLERS = ["reserve", "activate", "release", "allocate", "setup", "teardown"]


@pytest.fixture(scope="module")
def lab() -> ir.Catalog:
    return compile_text(LAB)


def order(speed: int = 100, ip: bool = False, tv: int | None = None, oid: str = "O1") -> Any:
    items: list[dict[str, Any]] = [
        {"id": "1", "product": "Internet", "attributes": {"speed": speed, "ip": ip}}
    ]
    if tv is not None:
        items.append({"id": "2", "product": "Tv", "attributes": {"channels": tv}})
    return {"id": oid, "items": items}


def running(lab: ir.Catalog, recorder: Recorder, first: Any, **kw: Any) -> Runtime:
    runtime = Runtime(lab, handlers=recorder.registry(HANDLERS), **kw)
    runtime.submit(first)
    runtime.run_until_idle()
    return runtime


def test_a_changed_line_is_undone_then_redone_and_an_unchanged_one_keeps_its_progress(
    lab: ir.Catalog,
) -> None:
    recorder = Recorder()
    runtime = running(lab, recorder, order(tv=20))
    revision = runtime.amend("O1", order(speed=200, tv=20))
    assert (revision.changed, revision.added, revision.removed) == (("1/Line",), (), ())
    assert revision.kept == ("2/TvSvc:setup", "2/TvSvc:tv_go")
    assert revision.undo == ("1/Line~1:release",)
    runtime.run_until_idle()
    now = states(runtime, "O1")
    assert now["2/TvSvc:setup"] == "completed" and now["2/TvSvc:tv_go"] == "waiting"
    assert now["1/Line~1:reserve"] == "completed" and now["1/Line~1:go"] == "cancelled"
    assert now["1/Line~1:activate"] == "discarded"
    assert now["1/Line:reserve"] == "completed" and now["1/Line:go"] == "waiting"
    # undo before redo; the unchanged TV line did not run again
    assert recorder.order == ["1/Line:reserve", "2/TvSvc:setup", "1/Line~1:release",
                              "1/Line:reserve"]  # fmt: skip
    # the redo counts its attempts on from the old run's: attempt 2 is its first
    assert runtime.status("O1").item("1/Line:reserve").outputs == {"by": "reserve", "attempt": 2}
    runtime.signal("go", "O1")
    runtime.signal("tv", "O1")
    runtime.run_until_idle()
    assert runtime.status("O1").state == "completed"


def test_redone_items_get_a_new_idempotency_key(lab: ir.Catalog) -> None:
    recorder = Recorder()
    runtime = running(lab, recorder, order())
    assert recorder.keys["1/Line:reserve"] == "O1/1/Line:reserve"
    runtime.amend("O1", order(speed=300))
    runtime.run_until_idle()
    assert recorder.keys["1/Line:reserve"] == "O1/1/Line:reserve@1"
    assert recorder.keys["1/Line~1:release"] == "O1/1/Line~1:release"


def test_removed_lines_are_undone_and_added_lines_run(lab: ir.Catalog) -> None:
    recorder = Recorder()
    runtime = running(lab, recorder, order(tv=20))
    revision = runtime.amend("O1", order(ip=True))
    assert (revision.changed, revision.added, revision.removed) == ((), ("1/Ip",), ("2/TvSvc",))
    runtime.run_until_idle()
    now = states(runtime, "O1")
    assert now["1/Ip:allocate"] == "completed"
    assert now["2/TvSvc~1:setup"] == "completed" and now["2/TvSvc~1:teardown"] == "completed"
    assert now["2/TvSvc~1:tv_go"] == "cancelled"
    assert "2/TvSvc:setup" not in now
    assert now["1/Line:reserve"] == "completed" and now["1/Line:go"] == "waiting"
    assert recorder.order.count("1/Line:reserve") == 1  # kept, not redone


def test_a_line_where_nothing_ran_leaves_no_history(lab: ir.Catalog) -> None:
    runtime = Runtime(lab, handlers=Recorder().registry(HANDLERS))
    runtime.submit(order(tv=20))  # not run: every item is still pending or ready
    revision = runtime.amend("O1", order(speed=999))
    assert revision.undo == () and revision.kept == ()
    assert not any("~" in item_id for item_id in states(runtime, "O1"))
    runtime.run_until_idle()
    assert runtime.status("O1").item("1/Line:reserve").state == "completed"


def test_past_the_point_of_no_return_the_root_cannot_change(lab: ir.Catalog) -> None:
    recorder = Recorder(fail_times={"activate": 1})
    runtime = running(lab, recorder, order(tv=20))
    runtime.signal("go", "O1")
    runtime.run_until_idle()  # activate started (PONR of root 1) and failed
    status = runtime.status("O1")
    assert status.state == "held" and status.ponr == {"1": "1/Line:activate"}
    before = (states(runtime, "O1"), len(runtime.events("O1")))
    with pytest.raises(OperatorActionRejected, match="point of no return") as caught:
        runtime.amend("O1", order(speed=500, tv=20))
    assert "the revision changes line 1/Line of root item 1" in str(caught.value)
    without_root_1 = {"id": "O1", "items": order(tv=20)["items"][1:]}
    with pytest.raises(OperatorActionRejected, match="the revision removes line 1/Line of root"):
        runtime.amend("O1", without_root_1)
    assert (states(runtime, "O1"), len(runtime.events("O1"))) == before
    revision = runtime.amend("O1", order(tv=30))  # root 2 has no PONR: it may change
    assert revision.changed == ("2/TvSvc",)


def test_a_bad_revision_changes_nothing(lab: ir.Catalog) -> None:
    runtime = running(lab, Recorder(), order(tv=20))
    before = (states(runtime, "O1"), len(runtime.events("O1")))
    with pytest.raises(OrderValidationError) as caught:
        runtime.amend("O1", order(speed=5000))
    assert [(i.code, i.path) for i in caught.value.issues] == [
        ("O036", "items[0].attributes.speed")
    ]
    with pytest.raises(OrderValidationError) as other:
        runtime.amend("O1", order(oid="O2"))
    assert [(i.code, i.path) for i in other.value.issues] == [("O071", "id")]
    with pytest.raises(NotFound):
        runtime.amend("nope", order(oid="nope"))
    assert (states(runtime, "O1"), len(runtime.events("O1"))) == before


def test_finished_and_cancelling_orders_are_not_amended(lab: ir.Catalog) -> None:
    runtime = running(lab, Recorder(), order())
    runtime.signal("go", "O1")
    runtime.run_until_idle()
    with pytest.raises(OperatorActionRejected, match="completed; it cannot change"):
        runtime.amend("O1", order(speed=2))
    runtime.submit(order(oid="O2"))
    runtime.run_until_idle()
    runtime.cancel("O2")  # its release has not run yet: pendingCancellation
    with pytest.raises(OperatorActionRejected, match="cannot be amended: it is being cancelled"):
        runtime.amend("O2", order(oid="O2", speed=2))


def test_amending_with_the_same_order_is_no_revision(lab: ir.Catalog) -> None:
    """A client that sends its amendment again (its first answer was lost) made revision 2,
    "no line changed", and an event: now nothing is stored and the answer says so."""
    recorder = Recorder()
    runtime = running(lab, recorder, order(ip=True, tv=20))
    before = states(runtime, "O1")
    events = len(runtime.events("O1"))
    revision = runtime.amend("O1", order(ip=True, tv=20))
    assert revision.unchanged and revision.plan.revision == 0
    assert revision.summary() == (
        "nothing to amend: the revised order is the order as it stands (revision 0)"
    )
    assert states(runtime, "O1") == before and len(runtime.events("O1")) == events
    assert runtime.status("O1").revision == 0
    runtime.run_until_idle()
    assert len(recorder.order) == 3  # nothing ran again
    # sent again after a real amendment: still that revision
    runtime.amend("O1", order(ip=True, tv=30))
    assert runtime.amend("O1", order(ip=True, tv=30)).plan.revision == 1


def test_an_amendment_of_order_fields_alone_is_a_revision(lab: ir.Catalog) -> None:
    """No line changes, but the order says something new: that is kept as a revision."""
    runtime = running(lab, Recorder(), order(ip=True, tv=20))
    revision = runtime.amend("O1", {**order(ip=True, tv=20), "priority": "high"})
    assert not revision.unchanged
    assert revision.summary().startswith("revision 1: no line changed")


def test_a_second_amendment_keeps_the_history_of_the_first(lab: ir.Catalog) -> None:
    recorder = Recorder()
    runtime = running(lab, recorder, order())
    runtime.amend("O1", order(speed=200))
    runtime.run_until_idle()
    second = runtime.amend("O1", order(speed=300))
    assert second.plan.revision == 2 and second.undo == ("1/Line~2:release",)
    runtime.run_until_idle()
    now = states(runtime, "O1")
    assert now["1/Line~1:release"] == now["1/Line~2:release"] == "completed"
    assert recorder.keys["1/Line:reserve"] == "O1/1/Line:reserve@2"
    kinds = [e.kind for e in runtime.events("O1")]
    assert kinds.count("order.amended") == 2


def test_an_amendment_survives_a_restart(lab: ir.Catalog, tmp_path: Path) -> None:
    db = tmp_path / "om.db"
    recorder = Recorder()
    first = running(lab, recorder, order(tv=20), store=SqliteStore(db))
    first.amend("O1", order(speed=200, tv=20))
    first.close()
    again = Runtime(lab, store=SqliteStore(db), handlers=recorder.registry(HANDLERS))
    again.run_until_idle()
    now = states(again, "O1")
    assert now["1/Line~1:release"] == "completed" and now["1/Line:go"] == "waiting"
    again.signal("go", "O1")
    again.signal("tv", "O1")
    again.run_until_idle()
    assert again.status("O1").state == "completed"
    again.close()


def test_listeners_hear_of_the_amendment(lab: ir.Catalog) -> None:
    runtime = running(lab, Recorder(), order())
    heard: list[LifecycleEvent] = []
    runtime.add_listener(heard.append)
    runtime.amend("O1", order(speed=200))
    amended = [e for e in heard if e.kind == "order.amended"]
    assert len(amended) == 1 and amended[0].detail is not None
    assert amended[0].detail.startswith("revision 1: 1 line(s) changed")
    redone = [e for e in heard if e.item_id == "1/Line:reserve"]
    assert [(e.from_state, e.to_state) for e in redone][:1] == [("completed", "pending")]


def test_an_amendment_waits_for_running_items_to_settle(lab: ir.Catalog) -> None:
    recorder = Recorder(delay=0.5)
    runtime = Runtime(lab, handlers=recorder.registry(HANDLERS))
    runtime.submit(order(tv=20))
    runtime.start_background()
    try:
        deadline = time.monotonic() + 10
        while states(runtime, "O1")["1/Line:reserve"] != "running":
            assert time.monotonic() < deadline
            time.sleep(0.01)
        revision = runtime.amend("O1", order(speed=200, tv=20))
        assert revision.undo == ("1/Line~1:release",)  # reserve had completed meanwhile
        with pytest.raises(OperatorActionRejected, match="while items run"):
            _amend_while_running(runtime)
    finally:
        runtime.close()


def _amend_while_running(runtime: Runtime) -> None:
    deadline = time.monotonic() + 10
    while states(runtime, "O1")["1/Line~1:release"] != "running":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    runtime.amend("O1", order(speed=300, tv=20), settle=0.0)


def test_a_waiting_manual_task_of_a_superseded_line_is_closed() -> None:
    catalog = compile_text(ONE_MANUAL_TASK)
    runtime = Runtime(catalog)
    runtime.submit({"id": "O1", "items": [{"id": "1", "product": "Internet"}]})
    runtime.run_until_idle()
    assert [t.item_id for t in runtime.tasks.list()] == ["1/Line:install"]
    runtime.amend("O1", {"id": "O1", "items": [{"id": "1", "product": "Internet",
                                                "attributes": {"speed": 5}}]})  # fmt: skip
    runtime.run_until_idle()
    assert [(t.item_id, t.attempt) for t in runtime.tasks.list()] == [("1/Line:install", 2)]
    assert states(runtime, "O1")["1/Line~1:install"] == "cancelled"


def test_concurrent_amendments_serialise(lab: ir.Catalog) -> None:
    runtime = running(lab, Recorder(), order())
    errors: list[BaseException] = []

    def amend(speed: int) -> None:
        try:
            runtime.amend("O1", order(speed=speed))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=amend, args=(s,)) for s in (200, 300)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    status = runtime.status("O1")
    assert sum(1 for e in runtime.events("O1") if e.kind == "order.amended") == 2
    assert {i.id for i in status.items if i.id.startswith("1/Line:")} == {
        "1/Line:reserve", "1/Line:go", "1/Line:activate", "1/Line:release"
    }  # fmt: skip


def test_an_amendment_releases_a_held_order(lab: ir.Catalog) -> None:
    recorder = Recorder(fail_times={"reserve": 1})
    runtime = running(lab, recorder, order())
    assert runtime.status("O1").state == "held"  # reserve failed, no retries
    revision = runtime.amend("O1", order(speed=400))
    assert revision.undo == ()  # nothing completed, nothing to undo
    runtime.run_until_idle()
    now = states(runtime, "O1")
    assert now["1/Line~1:reserve"] == "cancelled" and now["1/Line:reserve"] == "completed"
    assert runtime.status("O1").state == "pending"


Revised = tuple[int, bool, int | None]
REVISIONS = st.tuples(
    st.sampled_from([100, 200]), st.booleans(), st.sampled_from([None, 10, 20])
)  # fmt: skip


@settings(max_examples=25, deadline=None)
@given(first=REVISIONS, revisions=st.lists(REVISIONS, max_size=3), go_at=st.integers(0, 3))
def test_any_amendments_end_as_the_last_revision_would(
    first: Revised, revisions: list[Revised], go_at: int
) -> None:
    """Whatever the revisions and wherever the events come, the order completes; every piece
    of work done for a superseded line was undone once; and the live lines are exactly those of
    the last revision, each having run with its values."""
    catalog = compile_text(LAB)
    recorder = Recorder()
    runtime = running(catalog, recorder, order(*first))
    last = first
    for n, revised in enumerate(revisions):
        if n == go_at:
            runtime.signal("go", "O1")  # activate starts: the PONR of root item 1
            runtime.run_until_idle()
        before = runtime.status("O1")
        try:
            runtime.amend("O1", order(*revised))
            last = revised
        except OperatorActionRejected as exc:  # past the PONR, or already completed
            assert before.ponr or before.state == "completed", exc
            assert runtime.status("O1") == before
        runtime.run_until_idle()
    for event in ("go", "tv"):
        if runtime.status("O1").state != "completed":
            runtime.signal(event, "O1")
            runtime.run_until_idle()
    status = runtime.status("O1")
    assert status.state == "completed"
    live = {i.line_id for i in status.items if "~" not in i.line_id}
    assert live == {"1/Line"} | ({"1/Ip"} if last[1] else set()) | (
        {"2/TvSvc"} if last[2] is not None else set()
    )
    for item in status.items:
        undo = {"reserve": "release", "setup": "teardown"}.get(item.name)
        if "~" in item.line_id and undo and item.state == "completed":
            compensation = status.item(f"{item.line_id}:{undo}")
            assert compensation.state == "completed"
    done = [i for i in recorder.order if i.endswith((":release", ":teardown"))]
    assert len(done) == len(set(done))
    runtime.close()


def test_an_amendment_decomposes_with_the_installed_base_it_is_given() -> None:
    """An account line the installed base has stays noChange in the revision; without the
    base, the amendment would see it as new and open the account again."""
    catalog = compile_text(ACCOUNT_LAB)
    installed = read_installed_lines({"A1": {"Acct": {"account": "A1"}}}, catalog)

    def plan_order(tier: int) -> dict[str, Any]:
        return {"id": "P", "account": "A1", "items": [{"id": "1", "product": "Plan",
                                                       "attributes": {"tier": tier}}]}  # fmt: skip

    recorder = Recorder()
    runtime = Runtime(catalog, handlers=recorder.registry(["acct.open"]))
    first = plan_order(1)
    runtime.submit(decompose(catalog, first, installed_base=installed),
                   decomposer_for(catalog).read(first))  # fmt: skip
    runtime.run_until_idle()
    assert runtime.catalog_of("P") == catalog
    revision = runtime.amend("P", plan_order(2), installed_base=installed)
    assert (revision.changed, revision.added) == (("1/Svc",), ())
    runtime.run_until_idle()
    assert recorder.order == []  # the account is installed: it was never opened
    unaware = runtime.amend("P", plan_order(3))
    assert "account:A1/Acct" in unaware.changed + unaware.added
