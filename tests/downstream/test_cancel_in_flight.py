"""Cancelling an order while work is in flight downstream (docs/runtime.md, "Point of no return
and cancel", "Unknown outcomes"): an async callout whose request was accepted settles first
(its callback, or its timeout), and is compensated if it completed; no compensation starts
while an item of the order still runs; an item whose outcome is unknown (a timeout after the
system took the request) is not taken for one that did nothing.

Real simulators on 127.0.0.1 answer and call back; the runtime serves its callback listener.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from downstream_support import Sims, compile_text, lab_order, wait_until

from om_dsl.runtime import Runtime

Lab = Callable[..., Runtime]
ASYNC = """
system Net "Network" { url env("NET_URL") timeout 2s retry fixed 50ms max 2 permanent 400 }
cfs Line { attribute site: string  attribute technology: string }
plan Line on add {
  callout act: Net POST "/generic/act" async
      request { site: line.site }
      response { aid = body.id }
      undo deact timeout 5s
  callout confirm: Net POST "/generic/confirm" request { aid: act.aid } after act
  compensation callout deact: Net POST "/generic/deact" request { aid: act.aid }
}
"""
SYNC = """
system Inv "Inventory" { url env("INV_URL") timeout 300ms retry none permanent 400 }
cfs Line { attribute site: string  attribute technology: string }
plan Line on add {
  callout reserve: Inv POST "/generic/reserve"
      request { site: line.site }
      response { rid = body.id }
      undo release
  wait go event "go" after reserve
  compensation callout release: Inv POST "/generic/release" request { rid: reserve.rid }
}
"""


def _running(lab: Lab, catalog: str, until: Callable[[Runtime], bool]) -> Runtime:
    compiled = compile_text(catalog)
    runtime = lab(compiled)
    runtime.submit(lab_order("O1", compiled))
    runtime.start_background()
    wait_until(lambda: until(runtime))
    return runtime


def _state(runtime: Runtime, item: str) -> str:
    return runtime.status("O1").item(item).state


def _bodies(effects: list[dict[str, Any]], path: str) -> list[Any]:
    return [e["body"] for e in effects if e["path"] == path]


def _seq(runtime: Runtime, item: str, to_state: str) -> int:
    (event,) = [
        e
        for e in runtime.events("O1")
        if e.kind == "item.state" and e.item_id == item and e.to_state == to_state
    ]
    return event.seq


def test_a_cancel_lets_an_accepted_async_callout_call_back_then_undoes_it(
    lab: Lab, sims: Sims
) -> None:
    sims.network.configure(callback_delay_ms=800)
    runtime = _running(lab, ASYNC, lambda r: _state(r, "L:act") == "waiting")
    runtime.cancel("O1")
    status = runtime.status("O1")
    assert status.state == "pendingCancellation"  # the answer is at once; the end comes later
    assert status.item("L:act").state == "waiting"
    wait_until(lambda: runtime.status("O1").state == "cancelled")
    status = runtime.status("O1")
    assert status.item("L:act").state == "completed"
    assert status.item("L:deact").state == "completed"
    assert status.item("L:confirm").state == "discarded"
    (aid,) = [e["response"]["id"] for e in sims.network.effects() if e["path"] == "/generic/act"]
    assert _bodies(sims.network.effects(), "/generic/deact") == [{"aid": aid}]
    assert not [e for e in runtime.events("O1") if e.kind == "callback.ignored"]


def test_no_compensation_starts_while_an_item_after_it_runs(lab: Lab, sims: Sims) -> None:
    """confirm has no undo of its own but builds on act: deact waits for it to finish."""
    sims.network.configure(path="/generic/confirm", latency_ms=700)
    runtime = _running(lab, ASYNC, lambda r: _state(r, "L:confirm") == "running")
    runtime.cancel("O1")
    wait_until(lambda: runtime.status("O1").state == "cancelled")
    assert _state(runtime, "L:confirm") == "completed"
    assert _seq(runtime, "L:confirm", "completed") < _seq(runtime, "L:deact", "running")
    paths = [e["path"] for e in sims.network.effects()]
    assert paths == ["/generic/act", "/generic/confirm", "/generic/deact"]


def test_an_async_callout_that_times_out_during_a_cancel_waits_for_an_answer(
    lab: Lab, sims: Sims
) -> None:
    """Its timeout leaves its outcome unknown: the cancel holds (the callout is in fallout,
    saying why) rather than take it for undone work; its late callback settles it, and its
    undo runs."""
    sims.network.configure(callback_delay_ms=1500)
    catalog = ASYNC.replace("undo deact timeout 5s", "undo deact timeout 300ms").replace(
        "retry fixed 50ms max 2", "retry none"
    )
    runtime = _running(lab, catalog, lambda r: _state(r, "L:act") == "waiting")
    runtime.cancel("O1")
    wait_until(lambda: _state(runtime, "L:act") == "fatally_failed")
    status = runtime.status("O1")
    assert (status.state, status.cancelling) == ("held", True)
    assert status.item("L:deact").state == "pending"
    reason = status.item("L:act").reason or ""
    assert "timed out" in reason and "its outcome is unknown" in reason
    wait_until(lambda: runtime.status("O1").state == "cancelled")
    (aid,) = [e["response"]["id"] for e in sims.network.effects() if e["path"] == "/generic/act"]
    assert _bodies(sims.network.effects(), "/generic/deact") == [{"aid": aid}]


def test_a_sync_callout_that_timed_out_is_settled_by_a_retry_before_the_cancel_ends(
    lab: Lab, sims: Sims
) -> None:
    """The system took the reservation after the runtime gave up waiting.  The cancel does not
    call it undone: the item stays in fallout until an operator retries it (a replay under its
    idempotency key answers the stored result), and then the release gets the real id."""
    sims.inventory.configure(path="/generic/reserve", latency_ms=600)
    runtime = _running(lab, SYNC, lambda r: _state(r, "L:reserve") == "fatally_failed")
    runtime.cancel("O1")
    status = runtime.status("O1")
    assert (status.state, status.cancelling) == ("held", True)
    assert status.item("L:release").state == "pending"
    wait_until(lambda: len(sims.inventory.effects()) == 1)  # it did take effect
    sims.inventory.clear_faults()
    runtime.retry("O1", "L:reserve")
    wait_until(lambda: runtime.status("O1").state == "cancelled")
    (effect,) = [e for e in sims.inventory.effects() if e["path"] == "/generic/reserve"]
    assert runtime.status("O1").item("L:reserve").outputs == {"rid": effect["response"]["id"]}
    assert _bodies(sims.inventory.effects(), "/generic/release") == [
        {"rid": effect["response"]["id"]}
    ]


def test_a_sync_callout_refused_for_good_is_not_undone(lab: Lab, sims: Sims) -> None:
    """A known failure (a permanent status) did nothing: the cancel goes on at once."""
    sims.inventory.configure(path="/generic/reserve", status=400)
    runtime = _running(lab, SYNC, lambda r: _state(r, "L:reserve") == "fatally_failed")
    runtime.cancel("O1")
    wait_until(lambda: runtime.status("O1").state == "cancelled")
    assert _state(runtime, "L:release") == "discarded"
    assert _state(runtime, "L:reserve") == "cancelled"
