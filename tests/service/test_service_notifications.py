"""``/notifications``: a CRM listener down longer than the attempts lost its events for good;
they are listed (``?state=abandoned``) and sent again (``POST /notifications/retry``) with
their ``eventId``, so the listener can drop any it had.  Who asked, and why, is logged."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from service_support import Running, order_json, wait_for, wait_state

SECRET = "s3cret-listener-key"


def _abandoned(api: Any) -> list[dict[str, Any]]:
    answer = api.get("/notifications", params={"state": "abandoned"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["X-Total-Count"] == str(len(answer.json()))
    return list(answer.json())


def test_abandoned_notifications_are_listed_and_sent_again(
    service: Callable[..., Running], listener: Any
) -> None:
    api = service(notify_attempts=2).client()
    listener.set_down(True)
    callback = f"{listener.url}/events?key={SECRET}"
    assert api.post("/hub", json={"callback": callback}).status_code == 201
    assert api.post("/productOrder", json=order_json("fibre-modify")).status_code == 201
    assert wait_state(api, "ORD-1002", {"completed"}) == "completed"
    wait_for(lambda: api.get("/notifications", params={"state": "pending"}).json() == []
             and _abandoned(api), what="every notification to be given up")  # fmt: skip
    lost = _abandoned(api)
    assert {row["orderId"] for row in lost} == {"ORD-1002"}
    assert lost[0]["listener"] == f"{listener.url}/events?..."  # the key stays out
    assert SECRET not in api.get("/notifications").text
    assert (lost[0]["attempts"], lost[0]["lastError"]) == (2, "answered 503")
    refused = api.post("/notifications/retry", json={"reason": "CRM back"})
    assert (refused.status_code, refused.json()["issues"][0]["code"]) == (400, "S025")
    listener.set_down(False)
    body = {"listener": f"{listener.url}/events", "reason": "CRM back (INC-9)"}
    answer = api.post("/notifications/retry", json=body)
    assert answer.json() == {"retried": len(lost)}, answer.text
    heard = listener.wait_for(count=len(lost), timeout=20)
    assert [e["body"]["eventId"] for e in heard] == [row["eventId"] for row in lost]
    assert _abandoned(api) == []
    events = api.get("/productOrder/ORD-1002/events").json()
    (replayed,) = [e for e in events if e["kind"] == "notify.replayed"]
    assert (replayed["by"], replayed["reason"]) == ("crm", "CRM back (INC-9)")
    assert replayed["detail"] == (f"{len(lost)} abandoned notification(s) sent again by crm "
                                  "(operator): CRM back (INC-9)")  # fmt: skip
    again = api.post("/notifications/retry", json={"all": True})
    assert again.json() == {"retried": 0}


def test_the_list_pages_and_refuses_an_unknown_state(service: Callable[..., Running]) -> None:
    api = service().client()
    bad = api.get("/notifications", params={"state": "lost"})
    assert bad.status_code == 400 and "abandoned" in bad.json()["message"]
    assert api.get("/notifications", params={"limit": 1}).headers["X-Total-Count"] == "0"
    unknown = api.post("/notifications/retry", json={"ordr": "X"})
    assert unknown.json()["issues"][0]["code"] == "S012"
