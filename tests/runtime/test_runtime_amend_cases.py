"""Amendments in the corners a bug hunt found: several revisions before the undo ran, a failed
undo, peers removed or superseded, kept work between redone items, the point of no return
through order data, stale timers, and a commit that fails."""

from __future__ import annotations

import time
from typing import Any

import pytest
from runtime_support import ONE_MANUAL_TASK, Recorder, compile_text, states
from test_runtime_amend import HANDLERS, LAB, order

from om_dsl.errors import OperatorActionRejected
from om_dsl.runtime import HandlerRegistry, Runtime
from om_dsl.runtime.notify.tmf import OrderViews
from om_dsl.runtime.store.base import WriteBatch
from om_dsl.runtime.store.memory import MemoryStore


def _runtime(catalog: str, recorder: Recorder, names: list[str] = HANDLERS, **kw: Any) -> Runtime:
    return Runtime(compile_text(catalog), handlers=recorder.registry(names), **kw)


def test_a_second_revision_keeps_the_redo_waiting_for_the_first_undo() -> None:
    recorder = Recorder()
    runtime = _runtime(LAB, recorder)
    runtime.submit(order())
    runtime.run_until_idle()
    runtime.amend("O1", order(speed=200))
    runtime.amend("O1", order(speed=200, tv=20))  # 1/Line is unchanged by this one
    assert runtime.status("O1").item("1/Line:reserve").deps == ("1/Line~1:release",)
    runtime.run_until_idle()
    assert recorder.order.index("1/Line~1:release") < len(recorder.order) - 1
    assert (
        recorder.order[recorder.order.index("1/Line~1:release") + 1 :].count("1/Line:reserve") == 1
    )  # the redo ran after the undo


def test_a_failed_undo_holds_the_redo_across_revisions() -> None:
    recorder = Recorder(fail_times={"release": 1})
    runtime = _runtime(LAB, recorder)
    runtime.submit(order())
    runtime.run_until_idle()
    runtime.amend("O1", order(speed=200))
    runtime.run_until_idle()
    assert runtime.status("O1").state == "held"  # the undo failed: no retries
    runtime.amend("O1", order(speed=300))
    runtime.run_until_idle()
    now = states(runtime, "O1")
    assert now["1/Line~1:release"] == "fatally_failed" and now["1/Line:reserve"] == "pending"
    runtime.retry("O1", "1/Line~1:release")
    runtime.run_until_idle()
    assert states(runtime, "O1")["1/Line:reserve"] == "completed"
    assert recorder.order.count("1/Line:reserve") == 2  # submitted, then redone once


def test_a_removed_peer_where_nothing_ran_is_no_crash() -> None:
    catalog = LAB.replace(
        'plan Ip on add { auto allocate handler "allocate" }',
        'plan Ip on add { auto allocate handler "allocate" }\n'
        "depend Ip.allocate after Line.go within root",
    )
    runtime = _runtime(catalog, Recorder())
    runtime.submit(order(ip=True))
    runtime.run_until_idle()
    revision = runtime.amend("O1", order(speed=200))  # Line changed, Ip removed: never ran
    assert revision.removed == ("1/Ip",)
    runtime.run_until_idle()
    assert states(runtime, "O1")["1/Line~1:release"] == "completed"


def test_history_keeps_working_when_its_peer_is_removed_later() -> None:
    runtime = _runtime(LAB + "\ndepend TvSvc.setup after Line.reserve within order\n", Recorder())
    runtime.submit(order(tv=20))
    runtime.run_until_idle()
    runtime.amend("O1", order(speed=300, tv=20))
    runtime.run_until_idle()
    second = runtime.amend("O1", order(speed=300))  # the TV item goes
    assert second.removed == ("2/TvSvc",)
    runtime.run_until_idle()
    assert states(runtime, "O1")["2/TvSvc~2:teardown"] == "completed"


PORTS = """
offer Internet "Internet" id "1" { attribute speed: int default 100 }
cfs Line { attribute bw: int }
resource Port { attribute bw: int }
decompose Internet { -> Port { bw = speed } -> Line { bw = speed } }
plan Port on add {
  auto assign handler "assign" undo unassign
  compensation auto unassign handler "unassign"
}
plan Line on add {
  auto reserve handler "reserve" undo release
  auto fast_lane handler "fast_lane" after reserve when Port.assign.port == "port-for-800"
  wait go event "go" after reserve
  compensation auto release handler "release"
}
depend Line.reserve after Port.assign within root
"""


def _ports(seen: dict[str, Any], catalog: str = PORTS) -> Runtime:
    registry = HandlerRegistry()
    registry.register("assign", lambda ctx: {"port": f"port-for-{ctx.line['bw']}"})
    registry.register("unassign", lambda ctx: {})
    registry.register("reserve", lambda ctx: {"port": ctx.products["Port"]["assign"]["port"]})
    registry.register("fast_lane", lambda ctx: seen.setdefault("fast_lane", {}))

    def release(ctx: Any) -> dict[str, Any]:
        seen[ctx.item_id] = ctx.products.get("Port", {}).get("assign")
        return {}

    registry.register("release", release)
    return Runtime(compile_text(catalog), handlers=registry)


def test_the_undo_of_a_superseded_line_reads_its_superseded_peer() -> None:
    seen: dict[str, Any] = {}
    runtime = _ports(seen)
    runtime.submit({"id": "O1", "items": [{"id": "1", "product": "Internet"}]})
    runtime.run_until_idle()
    runtime.amend("O1", {"id": "O1", "items": [
        {"id": "1", "product": "Internet", "attributes": {"speed": 200}}]})  # fmt: skip
    runtime.run_until_idle()
    assert seen["1/Line~1:release"] == {"port": "port-for-100"}


def test_an_item_after_kept_work_waits_for_the_redone_work_before_it() -> None:
    seen: dict[str, Any] = {}
    runtime = _ports(seen, PORTS.replace("-> Line { bw = speed }", "-> Line { bw = 100 }"))
    runtime.submit({"id": "O1", "items": [{"id": "1", "product": "Internet"}]})
    runtime.run_until_idle()
    assert states(runtime, "O1")["1/Line:fast_lane"] == "skipped"
    revision = runtime.amend("O1", {"id": "O1", "items": [
        {"id": "1", "product": "Internet", "attributes": {"speed": 800}}]})  # fmt: skip
    assert revision.changed == ("1/Port",) and "1/Line:reserve" in revision.kept
    # fast_lane follows the kept reserve, which followed the redone assign
    assert "1/Port:assign" in runtime.status("O1").item("1/Line:fast_lane").deps
    runtime.run_until_idle()
    assert states(runtime, "O1")["1/Line:fast_lane"] == "completed"


def test_order_data_cannot_change_a_root_past_its_point_of_no_return() -> None:
    catalog = """
order { attribute vip: bool default false }
offer Internet "Internet" id "1" { attribute speed: int default 100 }
cfs Line { attribute bw: int }
decompose Internet { -> Line { bw = speed } }
plan Line on add {
  auto activate handler "activate" point_of_no_return
  wait go event "go" after activate
  auto vip_setup handler "vip_setup" after go when order.vip
}
"""
    runtime = _runtime(catalog, Recorder(), ["activate", "vip_setup"])

    def vip(flag: bool) -> dict[str, Any]:
        return {
            "id": "O1",
            "attributes": {"vip": flag},
            "items": [{"id": "1", "product": "Internet"}],
        }

    runtime.submit(vip(True))
    runtime.run_until_idle()
    before = runtime.status("O1")
    with pytest.raises(
        OperatorActionRejected, match=r"item 1/Line:vip_setup \(pending -> skipped\)"
    ):
        runtime.amend("O1", vip(False))
    assert runtime.status("O1") == before


def test_a_retry_timer_of_an_item_renumbered_by_an_amendment_is_harmless() -> None:
    catalog = """
offer Internet "Internet" id "1" { attribute speed: int default 100 }
offer Tv "TV" id "2" { attribute channels: int default 10 }
cfs Line { attribute bw: int }
cfs TvSvc { attribute channels: int }
decompose Internet { -> Line { bw = speed } }
decompose Tv { -> TvSvc { channels = channels } }
plan Line on add {
  auto reserve handler "reserve"
  auto activate handler "activate" after reserve
  auto bill handler "bill" after activate
}
plan TvSvc on add { auto setup handler "setup" retry fixed 200ms max 3 }
depend Line.reserve after TvSvc.setup within order
"""
    recorder = Recorder(fail_times={"setup": 1})
    runtime = _runtime(catalog, recorder, ["reserve", "activate", "bill", "setup"])
    runtime.submit({"id": "O1", "items": [{"id": "1", "product": "Internet"},
                                          {"id": "2", "product": "Tv"}]})  # fmt: skip
    runtime.start_background()
    deadline = time.monotonic() + 10
    while states(runtime, "O1")["2/TvSvc:setup"] != "failed":
        assert time.monotonic() < deadline
        time.sleep(0.005)
    runtime.stop()
    runtime.amend("O1", {"id": "O1", "items": [{"id": "2", "product": "Tv"}]})
    runtime.run_until_idle()  # the old timer points past the end of the shorter plan
    assert runtime.status("O1").state == "completed"


class _FailingAmendments(MemoryStore):
    """A store whose disk fills up when an amendment is written."""

    def apply(self, batch: WriteBatch) -> int:
        if batch.amended:
            raise OSError("disk full")
        return super().apply(batch)


def test_an_amendment_whose_commit_fails_changes_nothing() -> None:
    runtime = Runtime(compile_text(ONE_MANUAL_TASK), store=_FailingAmendments())
    runtime.submit({"id": "O1", "items": [{"id": "1", "product": "Internet"}]})
    runtime.run_until_idle()
    before = runtime.status("O1")
    with pytest.raises(OSError, match="disk full"):
        runtime.amend("O1", {"id": "O1", "items": [
            {"id": "1", "product": "Internet", "attributes": {"speed": 5}}]})  # fmt: skip
    assert runtime.status("O1") == before
    assert [t.item_id for t in runtime.tasks.list()] == ["1/Line:install"]  # still open
    runtime.tasks.complete("O1", "1/Line:install", {"done": True})
    runtime.run_until_idle()
    assert runtime.status("O1").state == "completed"


def test_the_tmf_view_follows_the_amendment_even_from_a_stale_cache() -> None:
    runtime = _runtime(LAB, Recorder(fail_times={"release": 1}))
    views = OrderViews(runtime.store)  # not told of amendments: it must notice by itself
    runtime.submit(order(tv=20))
    runtime.run_until_idle()  # idle: both wait for an event, so their items are pending
    assert _items(views) == {"1": "pending", "2": "pending"}
    runtime.amend("O1", order(speed=200))  # the TV item goes; 1/Line is redone
    assert _items(views) == {"1": "inProgress"}  # work ran for it: not acknowledged again
    runtime.run_until_idle()  # the undo fails for good
    assert states(runtime, "O1")["1/Line~1:release"] == "fatally_failed"
    assert _items(views) == {"1": "held"}


def _items(views: OrderViews) -> dict[str, str]:
    view = views.product_order("O1")
    assert view is not None
    return {item["id"]: item["state"] for item in view["productOrderItem"]}


def test_the_revisions_listeners_replace_the_orders_before_the_amendment() -> None:
    runtime = _runtime(LAB, Recorder())
    first = {**order(), "notify": ["http://127.0.0.1:9/a"]}
    runtime.submit(first)
    runtime.run_until_idle()
    runtime.amend("O1", {**order(speed=200), "notify": ["http://127.0.0.1:9/b"]})
    assert runtime.hub.order_listeners("O1") == ["http://127.0.0.1:9/b"]
    runtime.amend("O1", order(speed=300))  # no notify: the order keeps its listeners
    assert runtime.hub.order_listeners("O1") == ["http://127.0.0.1:9/b"]
    runtime.signal("go", "O1")
    runtime.run_until_idle()  # activate: the point of no return
    with pytest.raises(OperatorActionRejected):
        runtime.amend("O1", {**order(speed=400), "notify": ["http://127.0.0.1:9/c"]})
    assert runtime.hub.order_listeners("O1") == ["http://127.0.0.1:9/b"]  # put back


def test_events_after_an_amendment_show_the_items_as_they_were() -> None:
    runtime = _runtime(LAB, Recorder())
    runtime.submit(order(tv=20))
    runtime.run_until_idle()
    runtime.amend("O1", order(speed=200, tv=20))
    runtime.signal("go", "O1")
    runtime.signal("tv", "O1")
    runtime.run_until_idle()
    views = OrderViews(runtime.store)
    states_heard = []
    for row in runtime.events("O1"):
        event = views.event(row)
        if event is not None:
            order_view = event["event"]["productOrder"]
            items = {i["id"]: i["state"] for i in order_view["productOrderItem"]}
            states_heard.append((order_view["state"], items))
    assert states_heard[-1] == ("completed", {"1": "completed", "2": "completed"})
    history = [e for e in runtime.events("O1") if e.item_id == "1/Line~1:reserve"]
    assert [(e.from_state, e.to_state) for e in history] == [("pending", "completed")]


SHARED = """
offer Net "Net" id "1" { attribute speed: int default 100 }
offer Tv "Tv" id "2" { attribute boxes: int default 1 }
cfs Access scope order { attribute bw: int merge max }
cfs TvSvc { attribute boxes: int }
decompose Net { -> Access { bw = speed } }
decompose Tv { -> Access { bw = 10 } -> TvSvc { boxes = boxes } }
plan Access on add {
  auto a_do handler "a_do" undo a_undo
  compensation auto a_undo handler "a_undo"
}
plan TvSvc on add { auto t_do handler "t_do" }
depend TvSvc.t_do after Access.a_do within order
"""


def _shared(speed: int) -> dict[str, Any]:
    return {"id": "O1", "items": [{"id": "1", "product": "Net", "attributes": {"speed": speed}},
                                  {"id": "2", "product": "Tv"}]}  # fmt: skip


def test_a_failed_item_after_redone_work_waits_for_it_instead_of_being_retried_early() -> None:
    recorder = Recorder(fail_times={"t_do": 1})
    runtime = _runtime(SHARED, recorder, ["a_do", "a_undo", "t_do"])
    runtime.submit(_shared(100))
    runtime.run_until_idle()
    assert states(runtime, "O1")["2/TvSvc:t_do"] == "fatally_failed"
    revision = runtime.amend("O1", _shared(200))  # only the shared Access line changes
    assert "2/TvSvc:t_do" not in revision.kept
    assert states(runtime, "O1")["2/TvSvc:t_do"] == "pending"  # waits for the new a_do
    runtime.run_until_idle()
    order_run = recorder.order
    assert order_run.index("order/Access:a_do", 1) < order_run.index("2/TvSvc:t_do")
    assert runtime.status("O1").state == "completed"


def test_a_line_removed_and_added_back_counts_its_attempts_on() -> None:
    recorder = Recorder()
    runtime = _runtime(LAB, recorder)
    runtime.submit(order(ip=True))
    runtime.run_until_idle()
    runtime.amend("O1", order())  # the Ip line goes (it ran: history 1/Ip~1)
    runtime.amend("O1", order(ip=True))  # and comes back
    runtime.run_until_idle()
    allocate = runtime.status("O1").item("1/Ip:allocate")
    assert allocate.state == "completed" and allocate.attempt == 2
    assert recorder.keys["1/Ip:allocate"] == "O1/1/Ip:allocate@2"
