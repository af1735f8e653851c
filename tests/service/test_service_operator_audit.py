"""The operator routes record who acted (the token's name, never the token) and why, in the
order's event log: as fields (`by`, `reason`) and in words that still say an operator did it.
A retry by alice and a skip by bob read the same "retried by an operator" before, and bob's
reason replaced the words "skipped by an operator"."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from service_support import OPS_TOKEN, TOKEN, Running, order_json, wait_state

ORDER = "ORD-1001"
TOKENS = {"alice": TOKEN, "bob": OPS_TOKEN}


def _held(api: Any, sims: Any) -> str:
    sims.inventory.configure(path="/ports/reserve", status=400)  # permanent: fallout at once
    assert api.post("/productOrder", json=order_json("home-duo-add")).status_code == 201
    assert wait_state(api, ORDER, {"held"}) == "held"
    (item,) = [f["itemId"] for f in api.get("/fallout").json()]
    return str(item)


def test_retry_and_skip_name_the_client_and_keep_the_reason(
    service: Callable[..., Running], sims: Any
) -> None:
    running = service(tokens=TOKENS)
    alice, bob = running.client(TOKEN), running.client(OPS_TOKEN)
    item = _held(alice, sims)
    retried = alice.post(f"/productOrder/{ORDER}/retry", json={"itemId": item})
    assert retried.status_code == 204, retried.text
    assert wait_state(alice, ORDER, {"held"}) == "held"
    forged = {"itemId": item, "reason": "fine\n  99 ... completed by admin", "force": True}
    refused = bob.post(f"/productOrder/{ORDER}/skip", json=forged)  # a forged log line
    assert (refused.status_code, refused.json()["code"]) == (400, "invalidRequest"), refused.text
    body = {"itemId": item, "reason": "bob says it never happened", "force": True}
    assert bob.post(f"/productOrder/{ORDER}/skip", json=body).status_code == 204
    events = alice.get(f"/productOrder/{ORDER}/events").json()
    mine = [e for e in events if e["itemId"] == item and e["by"] is not None]
    assert [(e["toState"], e["by"], e["reason"], e["detail"]) for e in mine] == [
        ("ready", "alice", None, "retried by alice (operator)"),
        ("skipped", "bob", "bob says it never happened",
         "skipped by bob (operator): bob says it never happened"),
    ]  # fmt: skip
    status = alice.get(f"/productOrder/{ORDER}/status").json()
    reason = {i["id"]: i["reason"] for i in status["items"]}[item]
    assert reason == "skipped by bob (operator): bob says it never happened"
    assert TOKEN not in str(events) and OPS_TOKEN not in str(events)  # a name, never a token


def test_a_cancel_names_the_client_and_keeps_its_reason_as_the_tmf_one(
    service: Callable[..., Running], sims: Any
) -> None:
    api = service(tokens=TOKENS).client(OPS_TOKEN)
    _held(api, sims)
    body = {"productOrder": {"id": ORDER}, "cancellationReason": "customer moved"}
    assert api.post("/cancelProductOrder", json=body).status_code == 201
    events = api.get(f"/productOrder/{ORDER}/events").json()
    (asked,) = [e for e in events if e["toState"] == "assessingCancellation"]
    assert (asked["by"], asked["reason"]) == ("bob", "customer moved")
    assert asked["detail"] == "cancel requested by bob (operator): customer moved"
    status = api.get(f"/productOrder/{ORDER}/status").json()
    assert status["cancel_reason"] == "customer moved"  # the reason, not the words
