"""TMF622 cancellation through the real service: before the point of no return the order is
compensated and cancelled; after it the cancel request is created and ends
``terminatedWithError`` (rejected), with the reason, and can be read back like any other."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from service_support import (
    Running,
    finish_tasks,
    order_json,
    serve,
    state_of,
    wait_for,
    wait_state,
)
from simulators import Listener

from om_dsl.runtime import SqliteStore
from om_dsl.runtime.store import backup_store
from om_dsl.service.cancel_records import CancelRecord, CancelRecords

TRIO = "ORD-1004"


def _status(api: Any, order_id: str) -> dict[str, Any]:
    answer = api.get(f"/productOrder/{order_id}/status")
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def _item(api: Any, order_id: str, item_id: str) -> dict[str, Any]:
    return next(i for i in _status(api, order_id)["items"] if i["id"] == item_id)


def _order_events(listener: Listener, order_id: str) -> dict[str, dict[str, Any]]:
    """The order's state-change events heard, by the state they report."""
    found = {}
    for body in listener.bodies():
        order = body.get("event", {}).get("productOrder", {}) if isinstance(body, dict) else {}
        if order.get("id") == order_id and body["eventType"] == "ProductOrderStateChangeEvent":
            found[order["state"]] = order
    return found


def _cancel_events(listener: Listener) -> list[tuple[str, dict[str, Any]]]:
    """The cancel requests' events heard: (event type, the CancelProductOrder)."""
    return [
        (body["eventType"], body["event"]["cancelProductOrder"])
        for body in listener.bodies()
        if isinstance(body, dict) and "cancelProductOrder" in body.get("event", {})
    ]


def _item_states(order: dict[str, Any]) -> set[str]:
    return {item["state"] for item in order["productOrderItem"]}


def test_cancel_before_the_point_of_no_return_compensates(
    service: Callable[..., Running], sims: Any, listener: Listener
) -> None:
    running = service()
    api = running.client()
    assert api.post("/hub", json={"callback": listener.url}).status_code == 201
    assert api.post("/productOrder", json=order_json("home-trio-tv")).status_code == 201
    wait_state(api, TRIO, {"pending"})  # waiting for the technician, before activation (PONR)
    assert _item(api, TRIO, "order/AccessLine:reserve_port")["state"] == "completed"

    body = {
        "productOrder": {"id": TRIO, "@referredType": "ProductOrder"},
        "cancellationReason": "customer changed their mind",
        "requestedCancellationDate": "2026-01-01T00:00:00Z",
        "@type": "CancelProductOrder",
    }
    created = api.post("/cancelProductOrder", json=body)
    assert created.status_code == 201, created.text
    request = created.json()
    assert request["id"].startswith("cpo-")
    assert request["href"] == created.headers["location"]
    assert request["productOrder"]["id"] == TRIO
    assert request["cancellationReason"] == "customer changed their mind"
    assert request["requestedCancellationDate"] == "2026-01-01T00:00:00Z"
    assert request["state"] in ("inProgress", "done")

    assert wait_state(api, TRIO, {"cancelled", "held"}) == "cancelled"
    done = api.get(request["href"]).json()
    assert done["state"] == "done" and done["cancellationState"] == "cancelled"
    assert "effectiveCancellationDate" in done
    assert done["cancellationReason"] == "customer changed their mind"
    assert done["requestedCancellationDate"] == "2026-01-01T00:00:00Z"
    assert _item(api, TRIO, "order/AccessLine:release_port")["state"] == "completed"
    install = _item(api, TRIO, "order/AccessLine:install")
    assert install["state"] == "cancelled"
    assert install["reason"] == "the order was cancelled"  # not still "in queue field_techs"
    assert api.get("/tasks").json() == []  # the technician's task left the queue
    # TMF: every item of a cancelled order is cancelled (what had completed was undone)
    assert _item_states(api.get(f"/productOrder/{TRIO}").json()) == {"cancelled"}
    heard = wait_for(lambda: "cancelled" in (e := _order_events(listener, TRIO)) and e)
    assert _item_states(heard["cancelled"]) == {"cancelled"}
    assert _item_states(heard["pendingCancellation"]) == {"pendingCancellation"}
    # the request's own events: created in progress, then done, as GET shows it
    told = wait_for(lambda: len(e := _cancel_events(listener)) == 2 and e, what="cancel events")
    (created_type, first), (changed_type, last) = told
    assert (created_type, first["state"]) == ("CancelProductOrderCreateEvent", "inProgress")
    assert first["cancellationState"] == "assessingCancellation"
    assert (changed_type, last) == ("CancelProductOrderStateChangeEvent", done)
    assert first["id"] == request["id"] and first["href"] == request["href"]
    assert first["requestedCancellationDate"] == "2026-01-01T00:00:00Z"
    assert first["productOrder"]["href"].endswith(f"/productOrder/{TRIO}")

    events = len(api.get(f"/productOrder/{TRIO}/events").json())
    again = api.post("/cancelProductOrder", json=body)
    assert again.status_code == 409 and "cancelled" in again.json()["message"]
    assert "id" not in again.json()  # nothing was recorded, there is no request to point at
    assert len(api.get(f"/productOrder/{TRIO}/events").json()) == events


def test_cancel_after_the_point_of_no_return_is_rejected(
    service: Callable[..., Running], sims: Any, listener: Listener
) -> None:
    running = service()
    api = running.client()
    query = "eventType=CancelProductOrderCreateEvent&state=terminatedWithError"
    hub = api.post("/hub", json={"callback": listener.url, "query": query})
    assert hub.status_code == 201, hub.text
    sims.network.configure(callback_delay_ms=3000)  # activation (the PONR) takes a while
    assert api.post("/productOrder", json=order_json("home-trio-tv")).status_code == 201
    wait_for(lambda: finish_tasks(api, TRIO), what="the install task")
    wait_for(lambda: _status(api, TRIO)["ponr_reached"], what="the point of no return")

    body = {
        "productOrder": {"id": TRIO},
        "cancellationReason": "found a better offer",
        "requestedCancellationDate": "2026-02-01T09:30:00.5+01:00",
    }
    created = api.post("/cancelProductOrder", json=body)
    assert created.status_code == 201, created.text  # TMF: a task resource that failed
    refused = created.json()
    assert refused["state"] == "terminatedWithError"
    assert refused["cancellationState"] == "rejected"
    assert "point of no return was reached" in refused["rejectionReason"]
    assert "order/AccessLine:activate_line" in refused["rejectionReason"]
    assert refused["cancellationReason"] == "found a better offer"
    assert refused["requestedCancellationDate"] == "2026-02-01T09:30:00.5+01:00"
    assert refused["href"] == created.headers["location"]
    status = _status(api, TRIO)
    assert status["cancelling"] is False and status["state"] not in ("cancelled",)
    rejected = [e for e in api.get(f"/productOrder/{TRIO}/events").json()
                if e["kind"] == "order.cancel_rejected"]  # fmt: skip
    assert len(rejected) == 1 and refused["id"] == f"cpo-{rejected[0]['seq']}"
    assert api.get(refused["href"]).json() == refused
    told = wait_for(lambda: _cancel_events(listener), what="the rejected request's event")
    assert told == [("CancelProductOrderCreateEvent", refused)]
    assert {body["eventType"] for body in listener.bodies()} == {"CancelProductOrderCreateEvent"}
    wait_for(lambda: finish_tasks(api, TRIO), what="the set-top box task")  # it went on
    assert wait_state(api, TRIO, {"completed", "held"}) == "completed"
    assert api.get(refused["href"]).json() == refused


def test_an_order_with_nothing_to_undo_is_cancelled_at_once(
    service: Callable[..., Running],
) -> None:
    api = service().client()
    for system in ("Billing", "Inventory", "Network"):  # every callout goes on hold
        assert api.post(f"/systems/{system}/offline").status_code == 200
    assert api.post("/productOrder", json=order_json("copper-delete")).status_code == 201
    wait_state(api, "ORD-1003", {"pending"})
    created = api.post("/cancelProductOrder", json={"productOrder": {"id": "ORD-1003"}})
    assert created.status_code == 201, created.text
    request = created.json()
    assert (request["state"], request["cancellationState"]) == ("done", "cancelled")
    assert request["effectiveCancellationDate"].endswith("Z")
    assert "cancellationReason" not in request  # the client gave none
    assert state_of(api, "ORD-1003") == "cancelled"
    assert {i["state"] for i in _status(api, "ORD-1003")["items"]} <= {"cancelled", "discarded"}


RULE = "must be an RFC 3339 date-time with an offset, such as 2026-01-31T10:00:00Z"
BAD_DATES: list[tuple[Any, str, str]] = [
    ("tomorrow", "S015", f"{RULE}; got 'tomorrow'"),
    ("2026-01-01", "S015", f"{RULE}; got '2026-01-01'"),
    ("2026-01-01T10:00:00", "S015", f"{RULE}; got '2026-01-01T10:00:00'"),
    (
        "2026-13-01T00:00:00Z",
        "S015",
        f"{RULE}; got '2026-13-01T00:00:00Z' (month must be in 1..12)",
    ),
    (
        "2026-01-01T10:00:00+24:00",
        "S015",
        f"{RULE}; got '2026-01-01T10:00:00+24:00' (an offset is at most 23:59 either way)",
    ),
    (20260101, "S013", "expected text (a string), got number 20260101"),
]


def test_a_cancellation_date_must_be_a_tmf_date_time(service: Callable[..., Running]) -> None:
    running = service()
    api = running.client()
    assert api.post("/productOrder", json=order_json("home-trio-tv")).status_code == 201
    wait_state(api, TRIO, {"pending"})
    for date, code, message in BAD_DATES:
        body = {"productOrder": {"id": TRIO}, "requestedCancellationDate": date}
        answer = api.post("/cancelProductOrder", json=body)
        assert answer.status_code == 400, (date, answer.text)
        issue = answer.json()["issues"][0]
        assert issue == {"code": code, "path": "body.requestedCancellationDate", "message": message}
    assert _status(api, TRIO)["cancelling"] is False
    kinds = {(e["kind"], e["toState"]) for e in api.get(f"/productOrder/{TRIO}/events").json()}
    assert ("order.cancel_rejected", None) not in kinds
    assert ("order.state", "assessingCancellation") not in kinds


def test_a_cancellation_for_later_is_refused_not_carried_out_now(
    service: Callable[..., Running],
) -> None:
    running = service()
    api = running.client()
    assert api.post("/productOrder", json=order_json("home-trio-tv")).status_code == 201
    wait_state(api, TRIO, {"pending"})
    later = (datetime.now(UTC) + timedelta(days=7)).isoformat(timespec="seconds")
    body = {"productOrder": {"id": TRIO}, "requestedCancellationDate": later}
    answer = api.post("/cancelProductOrder", json=body)
    assert answer.status_code == 400, answer.text
    [issue] = answer.json()["issues"]
    assert issue["code"] == "S022" and issue["path"] == "body.requestedCancellationDate"
    assert "cannot be scheduled" in issue["message"]
    assert _status(api, TRIO)["cancelling"] is False  # nothing was done
    soon = (datetime.now(UTC) + timedelta(seconds=60)).isoformat()  # a fast client clock: now
    body["requestedCancellationDate"] = soon
    accepted = api.post("/cancelProductOrder", json=body)
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["requestedCancellationDate"] == soon


def test_cancel_of_unknown_orders_and_requests(service: Callable[..., Running]) -> None:
    api = service().client()
    unknown = api.post("/cancelProductOrder", json={"productOrder": {"id": "NOPE"}})
    assert unknown.status_code == 404 and unknown.json()["code"] == "notFound"
    for request_id in ("cpo-1", "cpo-x", "nope", "cpo-99999999999999999999999"):
        assert api.get(f"/cancelProductOrder/{request_id}").status_code == 404
    invalid = api.post("/cancelProductOrder", json={"cancellationReason": "no order named"})
    assert invalid.status_code == 400
    assert invalid.json()["issues"][0]["path"] == "body.productOrder"


def test_cancel_requests_are_listed_whoever_made_them(service: Callable[..., Running]) -> None:
    running = service()
    api = running.client()
    for system in ("Billing", "Inventory", "Network"):  # every callout goes on hold
        assert api.post(f"/systems/{system}/offline").status_code == 200
    assert api.post("/productOrder", json=order_json("copper-delete")).status_code == 201
    assert api.post("/productOrder", json=order_json("home-trio-tv")).status_code == 201
    wait_state(api, "ORD-1003", {"pending"})
    by_api = api.post("/cancelProductOrder", json={"productOrder": {"id": "ORD-1003"}}).json()
    running.runtime.cancel(TRIO, "cancelled through the library")  # not through the service
    refused = api.post("/cancelProductOrder", json={"productOrder": {"id": TRIO}})
    assert refused.status_code == 409  # already being cancelled: no request was made

    listed = api.get("/cancelProductOrder")
    assert listed.status_code == 200, listed.text
    assert (listed.headers["x-total-count"], listed.headers["x-result-count"]) == ("2", "2")
    first, second = listed.json()
    assert first == api.get(by_api["href"]).json()
    assert first["productOrder"]["id"] == "ORD-1003" and first["state"] == "done"
    assert second["productOrder"]["id"] == TRIO
    assert second["cancellationReason"] == "cancelled through the library"
    assert second == api.get(second["href"]).json()

    paged = api.get("/cancelProductOrder", params={"offset": 1, "limit": 1})
    assert [r["id"] for r in paged.json()] == [second["id"]]
    assert (paged.headers["x-total-count"], paged.headers["x-result-count"]) == ("2", "1")
    assert api.get("/cancelProductOrder", params={"offset": 2}).json() == []
    chosen = api.get("/cancelProductOrder", params={"fields": "state"}).json()
    assert [set(r) for r in chosen] == [{"id", "href", "@type", "state"}] * 2
    unknown = api.get("/cancelProductOrder", params={"state": "done"})
    assert unknown.status_code == 400 and unknown.json()["issues"][0]["code"] == "S016"
    assert api.get("/cancelProductOrder", params={"limit": 0}).status_code == 400


def _cancel_order(api: Any, order_id: str) -> dict[str, Any]:
    made = api.post("/cancelProductOrder", json={"productOrder": {"id": order_id}})
    assert made.status_code == 201, made.text
    request: dict[str, Any] = made.json()
    return request


def test_a_request_id_is_never_given_twice_across_a_restore(
    service: Callable[..., Running], sims: Any, tmp_path: Path
) -> None:
    """docs/service.md's restore, for cancel requests: a request the backup holds keeps its
    id; the client's request that the restore lost is a 404, and the request it sends again
    after the restore, which may take the same number, has an id of its own."""
    running = service()  # on tmp_path/om0.db
    api = running.client()
    for system in ("Billing", "Inventory", "Network"):  # every callout goes on hold
        assert api.post(f"/systems/{system}/offline").status_code == 200
    for order_id in ("C-1", "C-2"):
        assert (
            api.post("/productOrder", json=order_json("fibre-modify", id=order_id)).status_code
            == 201
        )
    kept = _cancel_order(api, "C-1")
    backup_store(tmp_path / "om0.db", tmp_path / "backup.db")
    lost = _cancel_order(api, "C-2")
    running.close()
    for name in ("om0.db", "om0.db-wal", "om0.db-shm"):
        (tmp_path / name).unlink(missing_ok=True)
    shutil.copyfile(tmp_path / "backup.db", tmp_path / "om0.db")

    restored = serve(tmp_path / "om0.db", sims, restored=True)
    try:
        api = restored.client()
        epoch = restored.runtime.store.event_id_epoch
        again = _cancel_order(api, "C-2")
        assert epoch and again["id"].endswith(f"-{epoch}") and again["id"] != lost["id"]
        assert again["href"] == f"{restored.url}/cancelProductOrder/{again['id']}"
        assert api.get(again["href"]).json()["id"] == again["id"]
        assert api.get(f"/cancelProductOrder/{lost['id']}").status_code == 404
        assert api.get(f"/cancelProductOrder/{kept['id']}").json()["productOrder"]["id"] == "C-1"
        listed = api.get("/cancelProductOrder").json()
        assert [(r["id"], r["productOrder"]["id"]) for r in listed] == [
            (kept["id"], "C-1"), (again["id"], "C-2")]  # fmt: skip
    finally:
        restored.close()


def test_a_cancel_table_made_before_the_type_column_gets_it(tmp_path: Path) -> None:
    """A store whose ``cancel_requests`` table an older service made keeps its rows, and
    takes the client's type attributes from then on."""
    db = tmp_path / "old.db"
    SqliteStore(db).close()
    with sqlite3.connect(db) as raw:
        raw.execute(
            "CREATE TABLE cancel_requests (seq INTEGER PRIMARY KEY, order_id TEXT NOT NULL, "
            "reason TEXT, requested_date TEXT, created_at REAL NOT NULL)"
        )
        raw.execute("INSERT INTO cancel_requests VALUES (1, 'A', 'moved', NULL, 0)")
    store = SqliteStore(db)
    try:
        records = CancelRecords(store)
        assert records.get(1) == CancelRecord("moved", None)
        records.add(2, "B", CancelRecord(None, None, {"@type": "CpqCancelOrder"}))
        assert records.get(2) == CancelRecord(None, None, {"@type": "CpqCancelOrder"})
    finally:
        store.close()


def test_a_cancelled_order_has_its_cancellation_date_and_reason(
    service: Callable[..., Running], listener: Listener
) -> None:
    """TMF622's cancellationDate and cancellationReason ("used when order is cancelled") are
    on the order once a cancel is done: in GET and in the state-change events, the date
    when it was cancelled (the request's effectiveCancellationDate), the reason the client
    gave (none when it gave none)."""
    api = service().client()
    assert api.post("/hub", json={"callback": listener.url}).status_code == 201
    reasons = {"C-1": "customer moved", "C-2": None}
    for order_id, reason in reasons.items():
        assert api.post("/productOrder", json=order_json("home-trio-tv", id=order_id)).is_success
        wait_state(api, order_id, {"pending"})
        body = {"productOrder": {"id": order_id}, "cancellationReason": reason}
        created = api.post("/cancelProductOrder", json={k: v for k, v in body.items() if v})
        assert created.status_code == 201, created.text
        assert wait_state(api, order_id, {"cancelled", "held"}) == "cancelled"
        request = wait_for(lambda c=created: (r := api.get(c.json()["href"]).json())["state"]
                           == "done" and r)  # fmt: skip
        view = api.get(f"/productOrder/{order_id}").json()
        assert view["cancellationDate"] == request["effectiveCancellationDate"]
        assert view.get("cancellationReason") == reason
        assert (
            "cancellationReason"
            not in api.get(f"/productOrder/{order_id}", params={"fields": "state"}).json()
        )
        heard = wait_for(lambda o=order_id: "cancelled" in (e := _order_events(listener, o)) and e)
        assert heard["cancelled"]["cancellationDate"] == view["cancellationDate"]
        assert heard["cancelled"].get("cancellationReason") == reason
        assert "cancellationDate" not in heard["pendingCancellation"]  # not cancelled yet
