"""Retries (fixed, staggered, exponential with jitter, from the system), timeouts, fallout and
the operator actions that resume a held order."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from runtime_support import Recorder, compile_text, decomposition, line, states

from om_dsl.errors import NotFound, OperatorActionRejected
from om_dsl.ir import models as ir
from om_dsl.runtime import HandlerRegistry, ItemContext, PermanentFailure, Runtime
from om_dsl.runtime.retry import effective_policy, next_delay_ms

POLICIES = """
cfs F { attribute n: int }
cfs S { attribute n: int }
cfs E { attribute n: int }
cfs N { attribute n: int }
plan F on add { auto work handler "work" retry fixed 40ms max 2 }
plan S on add { auto work handler "work" retry staggered 20ms, 60ms, 100ms }
plan E on add { auto work handler "work" retry exponential 20ms max 3 cap 50ms jitter }
plan N on add {
  auto work handler "work"
  milestone after_work after work
}
"""


@pytest.fixture(scope="module")
def policies():  # type: ignore[no-untyped-def]
    return compile_text(POLICIES)


def gaps(runtime: Runtime, order_id: str, item_id: str) -> list[float]:
    """Seconds between each failure and the retry that followed it."""
    out, failed_at = [], None
    for event in runtime.events(order_id):
        if event.item_id != item_id:
            continue
        if event.to_state == "failed":
            failed_at = event.ts
        elif event.from_state == "failed" and failed_at is not None:
            out.append(event.ts - failed_at)
    return out


def run_failing(catalog: ir.Catalog, product: str, failures: int) -> tuple[Runtime, Recorder]:
    recorder = Recorder(fail_times={"work": failures})
    runtime = Runtime(catalog, handlers=recorder.registry(["work"]))
    runtime.submit(decomposition("O1", catalog, [line("L", product)]))
    runtime.run_until_idle()
    return runtime, recorder


def test_fixed_retries_wait_the_same_delay_each_time(policies) -> None:  # type: ignore[no-untyped-def]
    runtime, recorder = run_failing(policies, "F", failures=2)
    assert runtime.status("O1").state == "completed"
    assert recorder.attempts["L:work"] == 3
    assert [round(g, 2) >= 0.039 for g in gaps(runtime, "O1", "L:work")] == [True, True]


def test_staggered_retries_follow_the_list(policies) -> None:  # type: ignore[no-untyped-def]
    runtime, _ = run_failing(policies, "S", failures=3)
    assert runtime.status("O1").state == "completed"
    waited = gaps(runtime, "O1", "L:work")
    assert len(waited) == 3
    assert waited[0] >= 0.019 and waited[1] >= 0.059 and waited[2] >= 0.099
    assert waited[0] < waited[1] < waited[2]


def test_exponential_retries_double_up_to_the_cap_with_jitter(policies) -> None:  # type: ignore[no-untyped-def]
    runtime, recorder = run_failing(policies, "E", failures=3)
    assert runtime.status("O1").state == "completed"
    key = recorder.keys["L:work"]
    policy = ir.RetryPolicy(
        kind="exponential", delays_ms=[20], max_retries=3, cap_ms=50, jitter=True
    )
    expected = [next_delay_ms(policy, n, key) for n in (1, 2, 3)]
    assert all(d is not None for d in expected)
    for waited, delay in zip(gaps(runtime, "O1", "L:work"), expected, strict=True):
        assert waited >= (delay or 0) / 1000 - 0.001


def test_delays_per_policy() -> None:
    fixed = ir.RetryPolicy(kind="fixed", delays_ms=[100], max_retries=2)
    assert [next_delay_ms(fixed, n, "k") for n in (1, 2, 3)] == [100, 100, None]
    staggered = ir.RetryPolicy(kind="staggered", delays_ms=[10, 20], max_retries=2)
    assert [next_delay_ms(staggered, n, "k") for n in (1, 2, 3)] == [10, 20, None]
    exp = ir.RetryPolicy(kind="exponential", delays_ms=[100], max_retries=5, cap_ms=300)
    assert [next_delay_ms(exp, n, "k") for n in range(1, 7)] == [100, 200, 300, 300, 300, None]
    jittered = exp.model_copy(update={"jitter": True})
    delays = [next_delay_ms(jittered, n, "key") for n in range(1, 6)]
    assert all(
        d is not None and base / 2 <= d <= base
        for d, base in zip(delays, [100, 200, 300, 300, 300], strict=True)
    )
    assert delays == [next_delay_ms(jittered, n, "key") for n in range(1, 6)]  # deterministic
    assert next_delay_ms(ir.RetryPolicy(kind="none"), 1, "k") is None


def test_a_callout_inherits_its_system_retry_policy() -> None:
    catalog = compile_text(
        """
        system Billing { url "http://127.0.0.1:1" retry staggered 1s, 2s }
        cfs V { attribute n: int }
        plan V on add {
          callout bill: Billing POST "/bills"
          callout own: Billing POST "/x" retry none
          auto local handler "h"
        }
        """
    )
    bill, own, local = catalog.plans[0].items
    assert effective_policy(bill, catalog).delays_ms == [1000, 2000]
    assert effective_policy(own, catalog).kind == "none"
    assert effective_policy(local, catalog).kind == "none"


def test_exhausted_retries_hold_the_order(policies) -> None:  # type: ignore[no-untyped-def]
    runtime, _ = run_failing(policies, "F", failures=10)
    status = runtime.status("O1")
    assert status.state == "held"
    work = status.item("L:work")
    assert (work.state, work.attempt, work.failures) == ("fatally_failed", 3, 3)
    assert "failed on purpose" in (work.reason or "")


def held_order(policies: ir.Catalog) -> tuple[Runtime, Recorder]:  # type: ignore[no-untyped-def]
    recorder = Recorder(fail_times={"work": 1})
    runtime = Runtime(policies, handlers=recorder.registry(["work"]))
    runtime.submit(decomposition("O1", policies, [line("L", "N")]))
    runtime.run_until_idle()
    assert runtime.status("O1").state == "held"
    assert states(runtime, "O1") == {"L:work": "fatally_failed", "L:after_work": "pending"}
    return runtime, recorder


def test_operator_retry_resumes_a_held_order(policies) -> None:  # type: ignore[no-untyped-def]
    runtime, recorder = held_order(policies)
    runtime.retry("O1", "L:work")
    runtime.run_until_idle()
    assert runtime.status("O1").state == "completed"
    assert recorder.attempts["L:work"] == 2
    assert runtime.status("O1").item("L:work").outputs == {"by": "work", "attempt": 2}


def test_operator_skip_resumes_a_held_order(policies) -> None:  # type: ignore[no-untyped-def]
    runtime, _ = held_order(policies)
    runtime.skip("O1", "L:work", "done by hand elsewhere")
    runtime.run_until_idle()
    status = runtime.status("O1")
    assert status.state == "completed"
    assert status.item("L:work").state == "skipped"
    assert status.item("L:work").reason == "skipped by an operator: done by hand elsewhere"


def test_operator_complete_resumes_a_held_order_with_outputs(policies) -> None:  # type: ignore[no-untyped-def]
    runtime, _ = held_order(policies)
    runtime.complete("O1", "L:work", {"port": "P-7"})
    runtime.run_until_idle()
    status = runtime.status("O1")
    assert status.state == "completed"
    assert status.item("L:work").outputs == {"port": "P-7"}


def test_operator_actions_that_do_not_fit_the_state_are_rejected(policies) -> None:  # type: ignore[no-untyped-def]
    runtime, _ = held_order(policies)
    with pytest.raises(OperatorActionRejected, match="it is pending"):
        runtime.retry("O1", "L:after_work")
    with pytest.raises(NotFound):
        runtime.skip("O1", "L:nothing")
    with pytest.raises(NotFound):
        runtime.skip("O404", "L:work")
    runtime.skip("O1", "L:work")
    runtime.run_until_idle()
    with pytest.raises(OperatorActionRejected, match="completed"):
        runtime.retry("O1", "L:work")


def test_a_timed_out_attempt_is_retried_and_its_late_result_ignored() -> None:
    catalog = compile_text(
        'cfs V { attribute n: int }\nplan V on add { auto slow handler "slow" timeout 100ms '
        "retry fixed 10ms max 2 }"
    )
    calls: list[int] = []
    registry = HandlerRegistry()

    @registry.handler("slow")
    async def slow(ctx: ItemContext) -> dict[str, Any]:
        calls.append(ctx.attempt)
        if ctx.attempt == 1:
            await asyncio.sleep(5)
        return {"attempt": ctx.attempt}

    runtime = Runtime(catalog, handlers=registry)
    runtime.submit(decomposition("O1", catalog, [line("V", "V")]))
    runtime.run_until_idle()
    item = runtime.status("O1").item("V:slow")
    assert (item.state, item.outputs) == ("completed", {"attempt": 2})
    failed = [e for e in runtime.events("O1") if e.to_state == "failed"]
    assert failed and "timed out after 100 ms" in (failed[0].detail or "")
    assert calls == [1, 2]


def test_a_permanent_failure_skips_the_retries() -> None:
    catalog = compile_text(
        'cfs V { attribute n: int }\nplan V on add { auto x handler "x" retry fixed 10ms max 5 }'
    )
    registry = HandlerRegistry()

    @registry.handler("x")
    def refuse(ctx: ItemContext) -> None:
        raise PermanentFailure("the customer does not exist")

    runtime = Runtime(catalog, handlers=registry)
    runtime.submit(decomposition("O1", catalog, [line("V", "V")]))
    runtime.run_until_idle()
    item = runtime.status("O1").item("V:x")
    assert (item.state, item.attempt) == ("fatally_failed", 1)
    assert item.reason == "x: the customer does not exist"
