"""Which ``Idempotency-Key`` an attempt is sent under (docs/downstream.md, "Callouts").

The key stays the same while the outcome of the last attempt is unknown (a timeout, a cut
connection, a restart mid-request, a callback that never came), so that the system can tell a
repeat from new work; the attempt after one the system answered with a failure (an error
status, a failure callback) is a new operation, under a new key.  The systems here keep every
answer under its key, failures too (``replay_failures``, as Stripe does): a retry under the
old key got the old failure again, and an operator's retry could never succeed.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable
from pathlib import Path

import httpx
from downstream_support import Sims, compile_text, line, order, run_until, sqlite, wait_until
from simulators import Simulator

from om_dsl.runtime import Runtime
from om_dsl.runtime.downstream import idempotency_key

Lab = Callable[..., Runtime]
DONE = {"completed", "held"}
RESERVE = """
system Inv { url env("INV_URL") timeout 2s retry fixed 50ms max 2 permanent 422 }
cfs Line { attribute site: string }
plan Line on add {
  callout reserve: Inv POST "/ports/reserve" request { technology: "FTTH" }
      response { port_id = body.port.id }
}
"""
ACTIVATE = """
system Net { url env("NET_URL") timeout 2s retry fixed 100ms max 3 }
cfs Line { attribute site: string }
plan Line on add {
  callout activate: Net POST "/activations" async request { site: line.site }
      response { activation_id = body.activation.id } timeout 2s
}
"""


def keys_sent(sim: Simulator, path: str, order_id: str = "O1") -> list[str]:
    """The keys of the requests for ``path`` of ``order_id``, oldest first."""
    found = [r for r in sim.requests() if r["path"] == path]
    return [str(r["key"]) for r in found if str(r["correlation_id"]).startswith(f"{order_id}/")]


def key(runtime: Runtime, item: str, key_from: int = 1) -> str:
    return idempotency_key("O1", item, runtime.installation_id, key_from)


def test_after_an_error_status_the_retry_goes_under_a_new_key_and_succeeds(
    lab: Lab, sims: Sims
) -> None:
    sims.inventory.configure(replay_failures=True, fail_times=1, status=503)
    catalog = compile_text(RESERVE)
    runtime = lab(catalog)
    runtime.submit(order("O1", catalog, [line("L", site="S")]))
    assert run_until(runtime, "O1", DONE) == "completed"
    assert keys_sent(sims.inventory, "/ports/reserve") == [
        key(runtime, "L:reserve", 1),
        key(runtime, "L:reserve", 2),
    ]
    assert runtime.status("O1").item("L:reserve").outputs == {"port_id": "PORT-0001"}


def test_an_operator_retry_after_a_permanent_status_can_succeed(lab: Lab, sims: Sims) -> None:
    """The system kept its 422 under the key: ``om retry`` under that key got it again."""
    sims.inventory.configure(replay_failures=True, status=422)
    catalog = compile_text(RESERVE)
    runtime = lab(catalog)
    runtime.submit(order("O1", catalog, [line("L", site="S")]))
    assert run_until(runtime, "O1", DONE) == "held"
    sims.inventory.clear_faults()  # the cause is fixed; the answer stays kept under its key
    sims.inventory.configure(replay_failures=True)
    runtime.retry("O1", "L:reserve")
    assert run_until(runtime, "O1", DONE) == "completed"
    assert keys_sent(sims.inventory, "/ports/reserve") == [
        key(runtime, "L:reserve", 1),
        key(runtime, "L:reserve", 2),
    ]


def test_after_a_failure_callback_the_retry_is_a_new_operation(lab: Lab, sims: Sims) -> None:
    """A replay of the failed operation would get the stored 202 and no callback: the item
    waited for its timeout at every retry, and then for good after an operator's retry."""
    sims.network.configure(replay_failures=True, callback_status="failed")
    catalog = compile_text(ACTIVATE.replace("max 3", "max 1"))
    runtime = lab(catalog)
    runtime.submit(order("O1", catalog, [line("L", site="S")]))
    assert run_until(runtime, "O1", DONE) == "held"
    sims.network.clear_faults()
    sims.network.configure(replay_failures=True)
    runtime.retry("O1", "L:activate")
    assert run_until(runtime, "O1", DONE) == "completed"
    assert keys_sent(sims.network, "/activations") == [
        key(runtime, "L:activate", n) for n in (1, 2, 3)
    ]
    assert sims.network.effect_count(key(runtime, "L:activate", 3)) == 1


def test_a_timeout_keeps_the_key_so_that_the_system_replays_what_it_did(
    lab: Lab, sims: Sims
) -> None:
    """The outcome is unknown: a new key could have the work done twice."""
    sims.inventory.configure(fail_times=1, timeout=True, timeout_s=1, after_effect=True)
    catalog = compile_text(RESERVE.replace("timeout 2s", "timeout 300ms"))
    runtime = lab(catalog)
    runtime.submit(order("O1", catalog, [line("L", site="S")]))
    assert run_until(runtime, "O1", DONE) == "completed"
    assert keys_sent(sims.inventory, "/ports/reserve") == [key(runtime, "L:reserve")] * 2
    assert len(sims.inventory.effects()) == 1


def test_the_new_key_is_kept_across_a_restart(lab: Lab, sims: Sims, tmp_path: Path) -> None:
    sims.inventory.configure(replay_failures=True, fail_times=1, status=503)
    catalog = compile_text(RESERVE.replace("fixed 50ms", "fixed 1s"))
    first = lab(catalog, store=sqlite(tmp_path), serve=False)
    first.submit(order("O1", catalog, [line("L", site="S")]))
    first.start_background()
    wait_until(lambda: first.status("O1").item("L:reserve").state == "failed")
    first.stop()
    first.close()  # the retry was due in a second: it is sent by the next process
    second = lab(catalog, store=sqlite(tmp_path), serve=False)
    assert run_until(second, "O1", DONE) == "completed"
    assert keys_sent(sims.inventory, "/ports/reserve") == [
        key(second, "L:reserve", 1),
        key(second, "L:reserve", 2),
    ]


def _waiting_for(runtime: Runtime, attempt: int) -> None:
    wait_until(
        lambda: (
            (item := runtime.status("O1").item("L:activate")).attempt == attempt
            and item.state == "waiting"
        )
    )


def test_a_failure_callback_of_the_timed_out_attempt_fails_its_retry_under_the_same_key(
    lab: Lab, sims: Sims
) -> None:
    """Attempt 1 timed out, attempt 2 went under the same key (the system answered it with
    the stored 202, and will not call back twice): the failure the system reports for attempt
    1 is attempt 2's too, and attempt 3 is a new operation."""
    sims.network.configure(callback_delay_ms=60_000)  # the test calls back itself
    catalog = compile_text(ACTIVATE.replace("timeout 2s\n}", "timeout 1500ms\n}"))
    runtime = lab(catalog)
    runtime.submit(order("O1", catalog, [line("L", site="S")]))
    runtime.start_background()
    _waiting_for(runtime, 2)
    first_url = str(sims.network.requests()[0]["headers"]["X-Callback-Url"])
    answer = httpx.post(first_url, json={"status": "failed", "reason": "no VLAN"})
    assert (answer.status_code, answer.json()["result"]) == (200, "resolved")
    _waiting_for(runtime, 3)
    runtime.stop()
    assert keys_sent(sims.network, "/activations") == [
        key(runtime, "L:activate", n) for n in (1, 1, 3)
    ]
    failed = [e for e in runtime.events("O1") if e.to_state == "failed" and e.attempt == 2]
    assert failed and "reports a failure: no VLAN" in (failed[0].detail or "")


def test_a_late_failure_callback_gives_the_next_attempt_a_new_key(lab: Lab, sims: Sims) -> None:
    """The item timed out and waits for its retry: the failure that comes then changes no
    state, but the retry is a new operation (a replay would get no callback)."""
    sims.network.configure(callback_delay_ms=60_000)
    catalog = compile_text(
        ACTIVATE.replace("fixed 100ms", "fixed 2s").replace("timeout 2s\n}", "timeout 300ms\n}")
    )
    runtime = lab(catalog)
    runtime.submit(order("O1", catalog, [line("L", site="S")]))
    runtime.start_background()
    wait_until(lambda: runtime.status("O1").item("L:activate").state == "failed")
    first_url = str(sims.network.requests()[0]["headers"]["X-Callback-Url"])
    answer = httpx.post(first_url, json={"error": "no VLAN"})
    assert (answer.status_code, answer.json()["result"]) == (200, "ignored")
    assert runtime.status("O1").item("L:activate").state == "failed"
    _waiting_for(runtime, 2)
    runtime.stop()
    assert keys_sent(sims.network, "/activations") == [
        key(runtime, "L:activate", n) for n in (1, 2)
    ]
    (note,) = [e for e in runtime.events("O1") if e.kind == "callback.ignored"]
    assert note.detail == (
        "callback of attempt 1 ignored: no VLAN; its next attempt is a new operation, under a "
        "new idempotency key"
    )


def test_an_item_an_older_version_started_keeps_its_unsalted_key(
    lab: Lab, sims: Sims, tmp_path: Path
) -> None:
    """A store of an older om_dsl: its items had no key generation, and its keys no salt.
    One it started (here: its attempt timed out, the outcome unknown) is sent again under the
    key it was sent with, so that the system still recognises the repeat; one it never
    started gets the salted key."""
    sims.inventory.configure(fail_times=1, timeout=True, timeout_s=1)
    text = RESERVE.replace("timeout 2s", "timeout 300ms").replace("fixed 50ms", "fixed 2s")
    catalog = compile_text(text)
    first = lab(catalog, store=sqlite(tmp_path), serve=False)
    first.submit(order("O1", catalog, [line("L", site="S")]))
    first.start_background()
    wait_until(lambda: first.status("O1").item("L:reserve").state == "failed")
    first.stop()
    first.close()
    with sqlite3.connect(tmp_path / "om.db") as raw:  # as the older version left it
        raw.execute("ALTER TABLE items DROP COLUMN key_from")
        raw.execute("DELETE FROM meta WHERE key = 'installation_id'")
    second = lab(catalog, store=sqlite(tmp_path), serve=False)
    second.submit(order("O2", catalog, [line("L", site="S")]))
    assert run_until(second, "O1", DONE) == "completed"
    assert run_until(second, "O2", DONE) == "completed"
    unsalted = "om-" + hashlib.sha256(b"O1/L:reserve").hexdigest()[:40]
    assert keys_sent(sims.inventory, "/ports/reserve")[1:] == [unsalted]
    assert keys_sent(sims.inventory, "/ports/reserve", "O2") == [
        idempotency_key("O2", "L:reserve", second.installation_id)
    ]


def test_an_error_answering_a_repeat_keeps_the_key_unless_it_is_a_replay(
    lab: Lab, sims: Sims
) -> None:
    """Attempt 1 timed out: its outcome is unknown.  The 503 that answers its repeat (attempt
    2) may be a gateway's, or say that the first request is still being processed: the key
    stays.  The system kept that 503 under the key, and says that it replays it to attempt 3:
    the operation is over, so attempt 4 is a new one, under a new key."""
    sims.inventory.configure(fail_times=1, timeout=True, timeout_s=1)
    catalog = compile_text(
        RESERVE.replace("timeout 2s", "timeout 300ms").replace("fixed 50ms max 2", "fixed 1s max 3")
    )
    runtime = lab(catalog)
    runtime.submit(order("O1", catalog, [line("L", site="S")]))
    runtime.start_background()
    wait_until(lambda: runtime.status("O1").item("L:reserve").state == "failed")
    sims.inventory.clear_faults()
    sims.inventory.configure(replay_failures=True, fail_times=1, status=503)
    wait_until(lambda: runtime.status("O1").state == "completed")
    runtime.stop()
    keys = keys_sent(sims.inventory, "/ports/reserve")
    assert keys == [key(runtime, "L:reserve", n) for n in (1, 1, 1, 4)]
    replays = [r["outcome"] for r in sims.inventory.requests()]
    assert replays == ["timeout", "fault", "replay", "effect"]
