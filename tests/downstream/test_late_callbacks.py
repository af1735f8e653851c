"""A callback that comes after its item was finished by other means follows docs/downstream.md's
table: for a finished item, or one that no longer waits for that attempt, it is recorded
(``callback.ignored``) and answered ``ignored`` (HTTP 200), never refused with a 404 that the
system retries in vain; for an item retried by an operator, a success still completes it.

The network simulator calls back over HTTP, a second after its ``202``, on the runtime's own
callback listener; the operator acts in between."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from downstream_support import Sims, compile_text, lab_order, wait_until

from om_dsl.runtime import Runtime

Lab = Callable[..., Runtime]
ITEM = "L:activate"
CATALOG = """
system Net "Network" { url env("NET_URL") timeout 2s }
cfs Line { attribute site: string  attribute technology: string }
plan Line on add {
  callout activate: Net POST "/activations" async
      request { technology: line.technology }
      response { activation_id = body.activation.id }
      timeout 5s
  wait go event "go" after activate
}
"""
Action = Callable[[Runtime], object]
ACTIONS: dict[str, tuple[Action, str, str]] = {
    "complete": (
        lambda r: r.complete("O1", ITEM, {"activation_id": "BY-HAND"}),
        "completed",
        "the item no longer waits for it (it is completed)",
    ),
    "complete, then the order finishes": (
        lambda r: (r.complete("O1", ITEM, {"activation_id": "BY-HAND"}), r.signal("go", "O1")),
        "completed",
        "order O1 is completed; it cannot change",
    ),
    "skip": (
        lambda r: r.skip("O1", ITEM, "done elsewhere"),
        "skipped",
        "the item no longer waits for it (it is skipped)",
    ),
}
"""A cancel no longer stops an item waiting for its callback: the callback settles it (see
test_cancel_in_flight.py)."""


def _started(lab: Lab, sims: Sims, delay_ms: int, catalog: str = CATALOG) -> Runtime:
    """O1 runs with its activation waiting for a callback ``delay_ms`` after the 202."""
    sims.network.configure(callback_delay_ms=delay_ms)
    compiled = compile_text(catalog)
    runtime = lab(compiled)
    runtime.submit(lab_order("O1", compiled))
    runtime.start_background()
    wait_until(lambda: runtime.status("O1").item(ITEM).state == "waiting")
    return runtime


def _delivery(sims: Sims) -> dict[str, object]:
    """How the simulator's one callback went, once it is over."""
    assert sims.network.wait_callbacks(10)
    (record,) = sims.network.callbacks()
    return record


@pytest.mark.parametrize("how", sorted(ACTIONS))
def test_a_late_callback_for_an_item_finished_by_an_operator_is_recorded_and_ignored(
    how: str, lab: Lab, sims: Sims
) -> None:
    act, state, why = ACTIONS[how]
    runtime = _started(lab, sims, delay_ms=1000)
    act(runtime)
    record = _delivery(sims)
    assert (record["state"], record["last_status"], record["attempts"]) == ("delivered", 200, 1)
    item = runtime.status("O1").item(ITEM)
    assert item.state == state
    assert item.outputs == ({"activation_id": "BY-HAND"} if state == "completed" else None)
    notes = [e for e in runtime.events("O1") if e.kind == "callback.ignored"]
    assert [(e.item_id, e.attempt, e.detail) for e in notes] == [
        (ITEM, 1, f"callback of attempt 1 ignored: {why}")
    ]


def test_a_callback_of_an_attempt_an_operator_retried_still_completes_the_item(
    lab: Lab, sims: Sims
) -> None:
    """The retry replays the request under the same idempotency key (the simulator answers
    the stored 202 and calls back no second time): the first attempt's success is the
    item's, as the table's row for a later attempt says."""
    runtime = _started(lab, sims, 1200, CATALOG.replace("timeout 5s", "timeout 300ms"))
    wait_until(lambda: runtime.status("O1").item(ITEM).state == "fatally_failed")
    runtime.retry("O1", ITEM)
    record = _delivery(sims)
    assert (record["state"], record["last_status"]) == ("delivered", 200)
    wait_until(lambda: runtime.status("O1").item(ITEM).state == "completed")
    item = runtime.status("O1").item(ITEM)
    assert item.attempt == 2 and item.outputs == {"activation_id": "ACT-0001"}
