"""The simulators over real loopback HTTP (httpx), no mocks: idempotency, faults, async, auth."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from simulators import Listener, Simulator, create, start
from simulators.faults import SimConfig

SUB = {"account": "ACC-0001", "product": "fiber-1g"}


def key(k: str) -> dict[str, str]:
    return {"Idempotency-Key": k}


def client(sim: Simulator | Listener, **kwargs: object) -> httpx.Client:
    return httpx.Client(base_url=sim.url, timeout=5.0, **kwargs)  # type: ignore[arg-type]


# ------------------------------------------------------------------ systems


def test_billing_endpoints(billing: Simulator) -> None:
    with client(billing) as http:
        assert http.post("/accounts", json={"name": "Ada"}).json()["id"] == "ACC-0001"
        sub = http.post("/subscriptions", json={**SUB, "plan": "gold", "speed": 1000})
        assert sub.status_code == 201
        assert sub.json() == {
            **SUB,
            "id": "SUB-0001",
            "status": "active",
            "plan": "gold",
            "billing_cycle": "monthly",
            "speed": 1000,
        }
        assert http.get("/subscriptions/SUB-0001").json()["status"] == "active"
        assert http.delete("/subscriptions/SUB-0001").json() == {
            "id": "SUB-0001",
            "status": "terminated",
        }
        assert http.get("/subscriptions/SUB-0001").json()["status"] == "terminated"
        missing = http.get("/subscriptions/SUB-9999")
        assert missing.status_code == 404
        assert missing.json() == {"error": "subscription not found", "id": "SUB-9999"}
        bad = http.post("/subscriptions", json={"plan": "x"})
        assert bad.status_code == 400
        assert bad.json()["fields"] == ["account", "product"]
    assert len(billing.effects()) == 3  # account, subscription, termination


def test_inventory_endpoints(sims: dict[str, Simulator]) -> None:
    with client(sims["inventory"]) as http:
        port = http.post("/ports/reserve", json={"technology": "fiber", "site": "AMS"}).json()
        assert port == {
            "port": {"id": "PORT-0001", "technology": "fiber", "site": "AMS", "status": "reserved"}
        }
        released = http.post("/ports/release", json={"port_id": "PORT-0001"}).json()
        assert released["port"]["status"] == "released"
        number = http.post("/numbers/reserve").json()["number"]
        assert number["msisdn"] == "31610000001"
        taken = http.post("/numbers/reserve", json={"msisdn": number["msisdn"]})
        assert taken.status_code == 409
        assert http.post("/sims/assign").json()["sim"]["iccid"].startswith("8900")
        assert http.post("/ips/allocate", json={"count": 2}).json()["ips"] == [
            "10.64.0.1",
            "10.64.0.2",
        ]
        assert http.post("/ips/allocate", json={"count": 0}).status_code == 400


def test_network_endpoints_and_generic(sims: dict[str, Simulator]) -> None:
    with client(sims["network"]) as http:
        act = http.post("/activations", json={"port_id": "PORT-0001", "profile": "gold"}).json()
        assert act["activation"]["id"] == "ACT-0001"
        assert act["activation"]["state"] == "active"
        deact = http.post("/deactivations", json={"activation_id": "ACT-0001"}).json()
        assert deact["deactivation"]["state"] == "completed"
        assert http.get("/activations/ACT-0001").json()["activation"]["state"] == "inactive"
        assert http.post("/profiles", json={"name": "gold"}).json()["profile"]["id"] == "PRF-0001"
        generic = http.put("/generic/cfs/42", json={"a": 1}).json()
        assert generic == {
            "id": "NETWORK-0001",
            "status": "ok",
            "resource": "cfs/42",
            "echo": {"a": 1},
        }
        assert http.delete("/generic/x").json()["id"] == "NETWORK-0002"


def test_unknown_path_bad_json_and_method_are_json_errors(billing: Simulator) -> None:
    with client(billing) as http:
        missing = http.get("/nowhere")
        assert (missing.status_code, missing.json()["error"]) == (404, "not found")
        bad = http.post(
            "/accounts", content=b"{not json", headers={"Content-Type": "application/json"}
        )
        assert bad.status_code == 400
        assert bad.json()["error"] == "invalid JSON body"
        wrong = http.put("/accounts", json={})
        assert (wrong.status_code, wrong.json()["allowed"]) == (405, ["POST"])
        odd = http.request("OPTIONS", "/accounts")
        assert odd.headers["content-type"] == "application/json"
        assert "Traceback" not in odd.text
        # The server closes after an error it cannot recover from; it must say so, or the
        # client reuses the closing socket and the next request dies unanswered.
        assert odd.headers["connection"] == "close"
        fault = http.post("/accounts", json={}, headers={"X-Sim-Fault": "explode"})
        assert fault.status_code == 400
    assert billing.effects() == []


# ------------------------------------------------------------------ idempotency


def test_replay_with_same_key_records_one_effect(billing: Simulator) -> None:
    with client(billing) as http:
        first = http.post("/subscriptions", json=SUB, headers=key("item-1"))
        again = http.post("/subscriptions", json=SUB, headers=key("item-1"))
        other = http.post("/subscriptions", json=SUB, headers=key("item-2"))
        http.post("/subscriptions", json=SUB)
        http.post("/subscriptions", json=SUB)
    assert again.json() == first.json()
    assert again.status_code == first.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert other.json()["id"] == "SUB-0002"
    assert billing.effect_count("item-1") == 1
    assert len(billing.effects()) == 4  # item-1, item-2 and two keyless posts
    stats = billing.stats()
    assert (stats["requests"], stats["effects"], stats["replays"]) == (5, 4, 1)
    assert stats["per_path"]["POST /subscriptions"] == {"requests": 5, "effects": 4, "replays": 1}


def test_concurrent_requests_with_one_key_apply_once(billing: Simulator) -> None:
    answers: list[str] = []

    def post() -> None:
        with client(billing) as http:
            answers.append(http.post("/subscriptions", json=SUB, headers=key("race")).json()["id"])

    threads = [threading.Thread(target=post) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == ["SUB-0001"] * 16
    assert billing.effect_count("race") == 1


def test_key_reused_for_another_endpoint_is_422(billing: Simulator) -> None:
    with client(billing) as http:
        http.post("/accounts", json={}, headers=key("k"))
        reused = http.post("/subscriptions", json=SUB, headers=key("k"))
    assert reused.status_code == 422
    assert reused.json()["original"] == "POST /accounts"


# ------------------------------------------------------------------ faults


def test_fixed_status_by_config_and_clearing(billing: Simulator) -> None:
    billing.configure(status=409)
    with client(billing) as http:
        failed = http.post("/subscriptions", json=SUB, headers=key("a"))
        assert failed.status_code == 409
        assert failed.json()["error"] == "simulated fault"
        billing.clear_faults()
        assert http.post("/subscriptions", json=SUB, headers=key("a")).status_code == 201
    outcomes = [r["outcome"] for r in billing.requests()]
    assert outcomes == ["fault", "effect"]
    assert billing.effect_count("a") == 1


def test_error_rate_is_seeded_and_reproducible(billing: Simulator) -> None:
    def run() -> list[int]:
        billing.configure(error_rate=0.5, seed=7)
        with client(billing) as http:
            return [http.post("/accounts", json={}).status_code for _ in range(20)]

    first, second = run(), run()
    assert first == second
    assert set(first) == {201, 503}
    assert len(billing.effects()) == 2 * first.count(201)


def test_faults_by_header(billing: Simulator) -> None:
    with client(billing) as http:
        assert (
            http.post("/accounts", json={}, headers={"X-Sim-Fault": "status=500"}).status_code
            == 500
        )
        start_time = time.perf_counter()
        slow = http.post("/accounts", json={}, headers={"X-Sim-Fault": "latency_ms=200"})
        elapsed = time.perf_counter() - start_time
    assert slow.status_code == 201
    assert 0.2 <= elapsed < 2
    assert len(billing.effects()) == 1


def test_path_restricts_config_faults(sims: dict[str, Simulator]) -> None:
    inventory = sims["inventory"]
    inventory.configure(status=500, path="/ports")
    with client(inventory) as http:
        assert http.post("/ports/reserve", json={"technology": "fiber"}).status_code == 500
        assert http.post("/numbers/reserve").status_code == 200


def test_fail_times_then_success_records_one_effect(billing: Simulator) -> None:
    billing.configure(fail_times=2)
    with client(billing) as http:
        codes = [
            http.post("/subscriptions", json=SUB, headers=key("retry")).status_code
            for _ in range(4)
        ]
    assert codes == [503, 503, 201, 201]
    assert billing.effect_count("retry") == 1
    assert [r["outcome"] for r in billing.requests()] == ["fault", "fault", "effect", "replay"]


def test_timeout_makes_the_client_time_out(billing: Simulator) -> None:
    billing.configure(timeout=True, fail_times=1)
    with client(billing) as http:
        with pytest.raises(httpx.ReadTimeout):
            http.post("/subscriptions", json=SUB, headers=key("t"), timeout=0.3)
        assert http.post("/subscriptions", json=SUB, headers=key("t")).status_code == 201
        with pytest.raises(httpx.ReadTimeout):
            http.post("/accounts", json={}, headers={"X-Sim-Fault": "timeout"}, timeout=0.2)
    assert billing.effect_count("t") == 1
    assert len(billing.effects()) == 1


def test_fault_after_effect_loses_the_answer_but_not_the_work(billing: Simulator) -> None:
    """The classic reason for idempotency keys: the system did it, the reply was lost."""
    with client(billing) as http:
        lost = http.post(
            "/subscriptions",
            json=SUB,
            headers={**key("lost"), "X-Sim-Fault": "status=502; after_effect"},
        )
        retried = http.post("/subscriptions", json=SUB, headers=key("lost"))
    assert lost.status_code == 502
    assert (retried.status_code, retried.json()["id"]) == (201, "SUB-0001")
    assert billing.effect_count("lost") == 1


# ------------------------------------------------------------------ async


def test_async_mode_delivers_callback(billing: Simulator, listener: Listener) -> None:
    billing.configure(async_mode=True, callback_delay_ms=50)
    headers = {
        **key("async-1"),
        "X-Callback-Url": f"{listener.url}/callbacks/tok-123",
        "X-Correlation-Id": "order-42",
    }
    with client(billing) as http:
        accepted = http.post("/subscriptions", json=SUB, headers=headers)
        assert accepted.status_code == 202
        assert accepted.json() == {"status": "accepted", "id": "OP-0001"}
        (event,) = listener.wait_for(lambda e: e["path"] == "/callbacks/tok-123")
        replay = http.post("/subscriptions", json=SUB, headers=headers)
    assert event["body"] == {
        **SUB,
        "id": "SUB-0001",
        "status": "completed",
        "plan": "standard",
        "billing_cycle": "monthly",
        "operation_id": "OP-0001",
    }
    assert event["headers"]["X-Correlation-Id"] == "order-42"
    assert replay.json() == accepted.json()
    assert billing.wait_callbacks(2)
    assert len(listener.events()) == 1  # a replay does not call back again
    assert billing.effect_count("async-1") == 1
    assert billing.effects()[0]["correlation_id"] == "order-42"


def test_prefer_respond_async_and_missing_callback_url(
    sims: dict[str, Simulator], listener: Listener
) -> None:
    with client(sims["network"]) as http:
        no_url = http.post("/activations", json={}, headers={"Prefer": "respond-async"})
        assert no_url.status_code == 400
        assert "X-Callback-Url" in no_url.json()["error"]
        headers = {"Prefer": "respond-async", "X-Callback-Url": listener.url + "/cb"}
        assert http.post("/activations", json={"port_id": "P1"}, headers=headers).status_code == 202
    body = listener.wait_for()[0]["body"]
    assert body["activation"] == {
        "port_id": "P1",
        "id": "ACT-0001",
        "state": "active",
        "profile": "default",
    }
    assert body["status"] == "completed"


def test_async_failure_callback_applies_no_effect(billing: Simulator, listener: Listener) -> None:
    billing.configure(async_mode=True, callback_status="failed", callback_reason="no capacity")
    headers = {**key("f"), "X-Callback-Url": listener.url + "/cb"}
    with client(billing) as http:
        assert http.post("/subscriptions", json=SUB, headers=headers).status_code == 202
        event = listener.wait_for()[0]
        billing.configure(callback_status="completed")
        assert http.post("/subscriptions", json=SUB, headers=headers).status_code == 202
        second = listener.wait_for(count=2)[1]
    assert event["body"] == {"status": "failed", "reason": "no capacity", "operation_id": "OP-0001"}
    assert second["body"]["status"] == "completed"
    assert billing.effect_count("f") == 1


def test_callback_is_retried_while_listener_is_down(billing: Simulator, listener: Listener) -> None:
    listener.set_down(True)
    billing.configure(async_mode=True, callback_delay_ms=0, callback_backoff_ms=40)
    with client(billing) as http:
        http.post("/accounts", json={}, headers={"X-Callback-Url": listener.url + "/cb"})
    deadline = time.monotonic() + 3
    while listener.stats()["rejected"] < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    listener.set_down(False)
    assert listener.wait_for()[0]["body"]["id"] == "ACC-0001"
    assert billing.wait_callbacks(2)
    (delivery,) = billing.callbacks()
    assert delivery["state"] == "delivered"
    assert delivery["attempts"] >= 3


# ------------------------------------------------------------------ auth, admin, reset


def test_bearer_token_required_and_redacted() -> None:
    with start("billing", token="s3cret") as sim, client(sim) as http:
        denied = http.post("/accounts", json={})
        wrong = http.post("/accounts", json={}, headers={"Authorization": "Bearer nope"})
        ok = http.post("/accounts", json={}, headers={"Authorization": "Bearer s3cret"})
        logged = http.get("/_sim/requests").json()  # admin endpoints need no token
        config = http.get("/_sim/config").json()
    assert (denied.status_code, denied.json()) == (401, {"error": "unauthorized"})
    assert wrong.status_code == 401
    assert ok.status_code == 201
    assert [r["outcome"] for r in logged] == ["unauthorized", "unauthorized", "effect"]
    assert logged[2]["headers"]["Authorization"] == "***"
    assert "s3cret" not in str(logged) and config["token"] == "***"
    assert len(sim.effects()) == 1


def test_admin_endpoints(billing: Simulator) -> None:
    with client(billing) as http:
        assert http.get("/_sim/health").json() == {"status": "ok", "name": "billing"}
        http.post("/accounts", json={}, headers={**key("a"), "X-Correlation-Id": "c1"})
        http.post("/accounts", json={}, headers=key("b"))
        effects = http.get("/_sim/effects", params={"key": "a"}).json()
        assert effects == [
            {
                "seq": 1,
                "key": "a",
                "method": "POST",
                "path": "/accounts",
                "body": {},
                "status": 201,
                "response": {"id": "ACC-0001", "status": "active", "currency": "EUR"},
                "correlation_id": "c1",
                "operation_id": None,
            }
        ]
        assert http.get("/_sim/stats").json()["effects"] == 2
        configured = http.post("/_sim/config", json={"status": 500, "path": "/accounts"}).json()
        assert (configured["status"], configured["path"]) == (500, "/accounts")
        assert http.post("/accounts", json={}).status_code == 500
        assert http.post("/_sim/config", json={"error_rate": 2}).status_code == 400
        assert http.post("/_sim/config", json={"bogus": 1}).status_code == 400
        assert http.delete("/_sim/config").json()["status"] is None
        assert http.post("/accounts", json={}).status_code == 201
        assert http.get("/_sim/callbacks").json() == []


def test_reset_clears_logs_keys_ids_and_faults(billing: Simulator) -> None:
    with client(billing) as http:
        http.post("/accounts", json={}, headers=key("a"))
        billing.configure(status=500)
        assert http.post("/_sim/reset").json() == {"status": "reset"}
        assert billing.effects() == [] and billing.requests() == []
        again = http.post("/accounts", json={}, headers=key("a"))
    assert (again.status_code, again.json()["id"]) == (201, "ACC-0001")
    assert billing.effect_count("a") == 1


def test_bad_config_is_rejected_at_creation() -> None:
    with pytest.raises(ValueError, match="error_rate"):
        create("billing", error_rate=1.5)
    with pytest.raises(ValueError, match="unknown system"):
        create("crm")
    assert SimConfig().merged({"timeout": "true", "status": "409"}).status == 409


# ------------------------------------------------------------------ listener


def test_listener_down_then_up(listener: Listener) -> None:
    event = {"eventType": "ProductOrderStateChangeEvent", "event": {"productOrder": {"id": "1"}}}
    with client(listener) as http:
        assert http.post("/hub", json=event).status_code == 200
        assert http.post("/_sim/config", json={"down": True}).json() == {"down": True}
        assert http.post("/hub", json=event).status_code == 503
        listener.set_down(False)
        assert http.post("/hub", json=event).status_code == 200
        assert http.post("/hub", content=b"nope").status_code == 400
        assert len(http.get("/_sim/events").json()) == 2
    assert listener.stats() == {"events": 2, "rejected": 1, "down": False}
    assert listener.bodies() == [event, event]  # duplicates are kept
    with pytest.raises(TimeoutError, match="0/1"):
        listener.wait_for(lambda e: e["path"] == "/elsewhere", timeout=0.1)


# ------------------------------------------------------------------ CLI


def test_cli_all_prints_urls_and_stops_on_sigterm() -> None:
    examples = Path(__file__).resolve().parents[2] / "examples"
    env = {**os.environ, "PYTHONPATH": str(examples)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulators", "all", "--latency-ms", "1"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline().strip() for _ in range(4)]
        urls = dict(line.split("=", 1) for line in lines)
        assert sorted(urls) == ["BILLING_URL", "INVENTORY_URL", "LISTENER_URL", "NETWORK_URL"]
        for url in urls.values():
            assert url.startswith("http://127.0.0.1:")
            assert httpx.get(url + "/_sim/health", timeout=5).json()["status"] == "ok"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=5) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_replay_failures_keeps_a_failed_answer_under_its_key(
    billing: Simulator, listener: Listener
) -> None:
    billing.configure(replay_failures=True, fail_times=1, status=503)
    with client(billing) as http:
        first = http.post("/subscriptions", json=SUB, headers=key("k1"))
        again = http.post("/subscriptions", json=SUB, headers=key("k1"))
        fresh = http.post("/subscriptions", json=SUB, headers=key("k2"))
        missing = http.post("/subscriptions", json={}, headers=key("k3"))  # a 400 of its own
        missing_again = http.post("/subscriptions", json=SUB, headers=key("k3"))
    assert (first.status_code, again.status_code, fresh.status_code) == (503, 503, 201)
    assert again.headers["Idempotent-Replayed"] == "true" and again.json() == first.json()
    assert (missing.status_code, missing_again.status_code) == (400, 400)
    assert (billing.effect_count("k1"), billing.effect_count("k2")) == (0, 1)

    billing.clear_faults()  # (a new config restarts the fail_times countdown)
    billing.configure(replay_failures=True, async_mode=True, callback_status="failed")
    headers = {**key("k4"), "X-Callback-Url": listener.url + "/cb"}
    with client(billing) as http:
        assert http.post("/subscriptions", json=SUB, headers=headers).status_code == 202
        listener.wait_for()
        billing.configure(callback_status="completed")
        replayed = http.post("/subscriptions", json=SUB, headers=headers)
    assert (replayed.status_code, replayed.headers["Idempotent-Replayed"]) == (202, "true")
    assert billing.wait_callbacks(5) and len(billing.callbacks()) == 1  # no second callback
    assert billing.effect_count("k4") == 0
