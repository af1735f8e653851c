"""The point of no return, and cancelling an order with compensations in reverse order."""

from __future__ import annotations

import time

import pytest
from runtime_support import Recorder, compile_text, decomposition, line, states

from om_dsl.errors import OperatorActionRejected
from om_dsl.runtime import Runtime

LAB = """
cfs Access "Access" scope order { attribute site: string }
cfs Svc { attribute n: int }
plan Access on add {
  auto reserve handler "reserve" undo release
  auto install handler "install" after reserve undo uninstall
  wait go event "go" after install
  auto activate handler "activate" after go point_of_no_return
  milestone ready after activate
  compensation auto release handler "release"
  compensation auto uninstall handler "uninstall"
}
plan Svc on add {
  auto configure handler "configure" undo unconfigure
  auto provision handler "provision" after configure
  compensation auto unconfigure handler "unconfigure" retry fixed 10ms max 1
}
depend Svc.configure after Access.install within order
"""
HANDLERS = [
    "reserve",
    "install",
    "activate",
    "configure",
    "provision",
    "release",
    "uninstall",
    "unconfigure",
]
COMPENSATIONS = {"release", "uninstall", "unconfigure"}


@pytest.fixture(scope="module")
def lab():  # type: ignore[no-untyped-def]
    return compile_text(LAB)


def lines() -> list[object]:
    return [
        line("A", "Access", roots=["1"], scope="order", request="fr:order"),
        line("S", "Svc", roots=["1"], n=1),
    ]


def started(lab, recorder: Recorder) -> Runtime:  # type: ignore[no-untyped-def]
    runtime = Runtime(lab, handlers=recorder.registry(HANDLERS))
    runtime.submit(decomposition("O1", lab, lines()))  # type: ignore[arg-type]
    runtime.run_until_idle()
    assert runtime.status("O1").state == "pending"  # waiting for the "go" event
    return runtime


def order_states(runtime: Runtime) -> list[str | None]:
    return [e.to_state for e in runtime.events("O1") if e.kind == "order.state"]


def test_cancel_before_ponr_undoes_completed_items_in_reverse_order(lab) -> None:  # type: ignore[no-untyped-def]
    recorder = Recorder()
    runtime = started(lab, recorder)
    runtime.cancel("O1", "customer changed their mind")
    runtime.run_until_idle()
    status = runtime.status("O1")
    assert status.state == "cancelled"
    undone = [i.split(":")[1] for i in recorder.order if i.split(":")[1] in COMPENSATIONS]
    assert undone == ["unconfigure", "uninstall", "release"]
    assert states(runtime, "O1") == {
        "A:reserve": "completed",
        "A:install": "completed",
        "A:go": "cancelled",
        "A:activate": "discarded",
        "A:ready": "discarded",
        "A:release": "completed",
        "A:uninstall": "completed",
        "S:configure": "completed",
        "S:provision": "completed",
        "S:unconfigure": "completed",
    }
    assert order_states(runtime)[-3:] == [
        "assessingCancellation",
        "pendingCancellation",
        "cancelled",
    ]


def test_a_cancelled_item_gives_the_cancel_as_its_reason(lab) -> None:  # type: ignore[no-untyped-def]
    """It kept the reason of its wait ("waiting for ... go"), stale once it was cancelled,
    in status and after a restart alike (the reason is stored with the item)."""
    runtime = started(lab, Recorder())
    before = next(i for i in runtime.status("O1").items if i.id == "A:go")
    assert before.state == "waiting" and before.reason
    runtime.cancel("O1", "customer changed their mind")
    runtime.run_until_idle()
    go = next(i for i in runtime.status("O1").items if i.id == "A:go")
    assert (go.state, go.reason) == ("cancelled", "the order was cancelled")
    stored = next(row for row in runtime.store.items("O1") if row.item_id == "A:go")
    assert stored.reason == "the order was cancelled"


def test_only_what_completed_is_compensated(lab) -> None:  # type: ignore[no-untyped-def]
    recorder = Recorder(fail_times={"install": 1})
    runtime = Runtime(lab, handlers=recorder.registry(HANDLERS))
    runtime.submit(decomposition("O1", lab, lines()))  # type: ignore[arg-type]
    runtime.run_until_idle()
    assert runtime.status("O1").state == "held"  # install failed, no retries
    runtime.cancel("O1")
    runtime.run_until_idle()
    assert runtime.status("O1").state == "cancelled"
    undone = [i for i in recorder.order if i.split(":")[1] in COMPENSATIONS]
    assert undone == ["A:release"]
    final = states(runtime, "O1")
    assert (final["A:install"], final["A:uninstall"]) == ("cancelled", "discarded")
    assert (final["S:configure"], final["S:unconfigure"]) == ("discarded", "discarded")


def test_a_running_item_finishes_and_is_then_compensated(lab) -> None:  # type: ignore[no-untyped-def]
    recorder = Recorder(delay=0.3)
    runtime = Runtime(lab, handlers=recorder.registry(HANDLERS))
    runtime.submit(decomposition("O1", lab, lines()))  # type: ignore[arg-type]
    runtime.start_background()
    try:
        deadline = time.monotonic() + 10
        while states(runtime, "O1")["A:install"] != "running" and time.monotonic() < deadline:
            time.sleep(0.01)
        runtime.cancel("O1")
        while runtime.status("O1").state != "cancelled" and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        runtime.stop()
    assert runtime.status("O1").state == "cancelled"
    assert [i for i in recorder.order if i.split(":")[1] in COMPENSATIONS] == [
        "A:uninstall",
        "A:release",
    ]


def test_ponr_is_recorded_on_the_root_item_and_cancel_is_then_rejected(lab) -> None:  # type: ignore[no-untyped-def]
    recorder = Recorder()
    runtime = started(lab, recorder)
    assert not runtime.status("O1").ponr_reached
    runtime.signal("go", "O1")
    runtime.run_until_idle()
    status = runtime.status("O1")
    assert status.state == "completed"
    assert status.ponr == {"1": "A:activate"}
    assert status.item("A:activate").ponr


def test_cancel_after_ponr_is_rejected_with_the_reason(lab) -> None:  # type: ignore[no-untyped-def]
    recorder = Recorder()
    registry = recorder.registry([h for h in HANDLERS if h != "activate"])
    registry.register("activate", lambda ctx: (_ for _ in ()).throw(RuntimeError("down")))
    runtime = Runtime(lab, handlers=registry)
    runtime.submit(decomposition("O1", lab, lines()))  # type: ignore[arg-type]
    runtime.signal("go", "O1")
    runtime.run_until_idle()
    assert runtime.status("O1").state == "held"  # activate started (PONR), then failed
    with pytest.raises(OperatorActionRejected) as caught:
        runtime.cancel("O1")
    assert str(caught.value) == (
        "order O1 cannot be cancelled: its point of no return was reached "
        "(root item 1 when A:activate started)"
    )
    assert runtime.status("O1").state == "held"
    rejected = [e for e in runtime.events("O1") if e.kind == "order.cancel_rejected"]
    assert len(rejected) == 1 and rejected[0].detail == str(caught.value)


def test_a_failed_compensation_holds_the_cancellation_until_an_operator_acts(lab) -> None:  # type: ignore[no-untyped-def]
    recorder = Recorder(fail_times={"unconfigure": 2})
    runtime = started(lab, recorder)
    runtime.cancel("O1")
    runtime.run_until_idle()
    assert runtime.status("O1").state == "held"
    assert states(runtime, "O1")["S:unconfigure"] == "fatally_failed"
    assert states(runtime, "O1")["A:uninstall"] == "pending"  # waits for unconfigure
    runtime.retry("O1", "S:unconfigure")
    runtime.run_until_idle()
    assert runtime.status("O1").state == "cancelled"
    assert order_states(runtime)[-3:] == ["held", "pendingCancellation", "cancelled"]


def test_a_finished_order_cannot_be_cancelled(lab) -> None:  # type: ignore[no-untyped-def]
    runtime = Runtime(lab)
    runtime.submit(decomposition("O1", lab, [line("S", "Svc", action="noChange")]))
    with pytest.raises(OperatorActionRejected, match="O1 is completed"):
        runtime.cancel("O1")


def test_a_completed_order_discards_its_unused_compensations(lab) -> None:  # type: ignore[no-untyped-def]
    runtime = started(lab, Recorder())
    runtime.signal("go", "O1")
    runtime.run_until_idle()
    final = states(runtime, "O1")
    assert {final[i] for i in ("A:release", "A:uninstall", "S:unconfigure")} == {"discarded"}
    assert all(state in ("completed", "discarded") for state in final.values())


def test_a_failed_compensation_skipped_by_an_operator_lets_the_cancel_end() -> None:
    catalog = compile_text(
        """
cfs Access { attribute bw: int }
plan Access on add {
  auto a_do handler "a_do" undo a_undo
  wait a_go event "ago" after a_do
  compensation auto a_undo handler "a_undo"
}
"""
    )
    for action in ("skip", "complete"):
        recorder = Recorder(fail_times={"a_undo": 1})
        runtime = Runtime(catalog, handlers=recorder.registry(["a_do", "a_undo"]))
        runtime.submit(decomposition("O1", catalog, [line("A", "Access", roots=["1"], bw=1)]))  # type: ignore[arg-type]
        runtime.run_until_idle()
        runtime.cancel("O1")
        runtime.run_until_idle()
        assert runtime.status("O1").state == "held"  # the undo failed, no retries
        getattr(runtime, action)("O1", "A:a_undo")  # used to be held -> cancelled: refused
        runtime.run_until_idle()
        assert runtime.status("O1").state == "cancelled"
        states_seen = [e.to_state for e in runtime.events("O1") if e.kind == "order.state"]
        assert states_seen[-2:] == ["pendingCancellation", "cancelled"]
