"""Amending an order in flight through the real service (``PATCH /productOrder/{id}``), with
the real downstream simulators: the changed shared access line is released and reserved again,
unchanged lines keep their progress, and a revision past the point of no return is a 409."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from service_support import Running, finish_tasks, open_tasks, order_json, wait_for, wait_state

from om_dsl.service.orders import with_id

TRIO = "ORD-1004"


def _items(api: Any, order_id: str) -> dict[str, dict[str, Any]]:
    answer = api.get(f"/productOrder/{order_id}/status")
    assert answer.status_code == 200, answer.text
    return {item["id"]: item for item in answer.json()["items"]}


def _revised(speed: int) -> dict[str, Any]:
    revised = order_json("home-trio-tv")
    del revised["id"]  # a PATCH names the order in its path
    revised["items"][0]["children"][0]["attributes"]["speed"] = speed
    return revised


def test_patch_amends_an_order_in_flight(service: Callable[..., Running], sims: Any) -> None:
    api = service().client()
    assert api.post("/productOrder", json=order_json("home-trio-tv")).status_code == 201
    wait_state(api, TRIO, {"pending"})  # the technician's task is open, before the PONR
    (old_task,) = open_tasks(api, TRIO)
    claimed = api.post(f"/tasks/{old_task['id']}/claim", json={"user": "alice"})
    assert claimed.status_code == 200, claimed.text
    before = _items(api, TRIO)
    assert before["order/AccessLine:reserve_port"]["state"] == "completed"
    assert before["voice[1]/PhoneNumber:reserve_number"]["state"] == "completed"

    answer = api.patch(
        f"/productOrder/{TRIO}",
        json=_revised(40),
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert answer.status_code == 200, answer.text
    view = answer.json()
    assert view["id"] == TRIO
    assert [i["id"] for i in view["productOrderItem"]] == ["trio", "copper", "voice", "tv"]

    def redone() -> dict[str, dict[str, Any]] | None:
        items = _items(api, TRIO)
        ok = items["order/AccessLine:reserve_port"]["state"] == "completed"
        return items if ok and open_tasks(api, TRIO) else None

    items = wait_for(redone, what="the access line reserved again")
    assert items["order/AccessLine~1:reserve_port"]["state"] == "completed"
    assert items["order/AccessLine~1:release_port"]["state"] == "completed"  # undone
    assert items["order/AccessLine~1:install"]["state"] == "cancelled"
    port = items["order/AccessLine:reserve_port"]["outputs"]
    assert port and port != items["order/AccessLine~1:reserve_port"]["outputs"]
    # an unchanged line kept what it did: the number was reserved once
    assert (
        items["voice[1]/PhoneNumber:reserve_number"]
        == before["voice[1]/PhoneNumber:reserve_number"]
    )
    events = api.get(f"/productOrder/{TRIO}/events").json()
    assert [e["kind"] for e in events].count("order.amended") == 1
    again = api.patch(f"/productOrder/{TRIO}", json=_revised(40))  # a client's retry
    assert again.status_code == 200, again.text
    events = api.get(f"/productOrder/{TRIO}/events").json()
    assert [e["kind"] for e in events].count("order.amended") == 1  # no second revision

    (new_task,) = open_tasks(api, TRIO)
    assert (new_task["itemId"], new_task["attempt"]) == (old_task["itemId"], 2)
    stale = api.post(f"/tasks/{old_task['id']}/complete", json={"user": "alice", "outputs": {}})
    assert stale.status_code == 404, stale.text  # the old task's id does not finish the new one
    old = api.get(f"/tasks/{old_task['id']}")  # but it reads back (it was a 404 too)
    assert old.status_code == 200, old.text
    assert {k: old.json()[k] for k in ("id", "attempt", "state", "claimedBy")} == {
        "id": old_task["id"],
        "attempt": 1,
        "state": "cancelled",
        "claimedBy": "alice",
    }
    finish_tasks(api, TRIO)  # the technician's new task
    # started (its point of no return), not only ready to start
    wait_for(
        lambda: (
            _items(api, TRIO)["order/AccessLine:activate_line"]["state"] not in ("pending", "ready")
        )
    )
    refused = api.patch(f"/productOrder/{TRIO}", json=_revised(20))
    assert refused.status_code == 409, refused.text
    assert "point of no return" in refused.json()["message"]


def test_bad_revisions_change_nothing(service: Callable[..., Running], sims: Any) -> None:
    api = service().client()
    assert api.post("/productOrder", json=order_json("home-trio-tv")).status_code == 201
    wait_state(api, TRIO, {"pending"})
    events = len(api.get(f"/productOrder/{TRIO}/events").json())

    bad = api.patch(f"/productOrder/{TRIO}", json=_revised(5000))
    assert bad.status_code == 400, bad.text
    assert "items[0].children[0].attributes.speed" in bad.text
    other = api.patch(f"/productOrder/{TRIO}", json={**_revised(40), "id": "ORD-9"})
    assert other.status_code == 400 and "O071" in other.text
    unknown = api.patch("/productOrder/ORD-404", json=_revised(40))
    assert unknown.status_code == 404, unknown.text
    not_json = api.patch(f"/productOrder/{TRIO}", content=b"{nope")
    assert not_json.status_code == 400, not_json.text
    deep = api.patch(f"/productOrder/{TRIO}", content=b"[" * 5000 + b"]" * 5000)
    assert deep.status_code == 400 and "O003" in deep.text  # as POST answers
    partial = api.patch(  # a TMF client's merge patch of one field
        f"/productOrder/{TRIO}",
        json={"requestedCompletionDate": "2026-12-01T00:00:00Z"},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert partial.status_code == 400, partial.text
    (issue,) = partial.json()["issues"]
    assert (issue["code"], issue["path"]) == ("S018", "body")
    assert issue["message"].startswith(
        "the revision names 'requestedCompletionDate' but no items: PATCH takes the whole "
        "revised order"
    )
    empty = api.patch(f"/productOrder/{TRIO}", json={})
    assert empty.status_code == 400 and "the revision is empty: PATCH takes" in empty.text
    for cancel in ({"state": "Cancelled"}, {"state": "canceled"},
                   {**_revised(40), "state": "cancelled"}):  # fmt: skip
        # as some TMF clients cancel: it was a 200, the state ignored, the order running on
        refused = api.patch(f"/productOrder/{TRIO}", json=cancel)
        assert refused.status_code == 400, refused.text
        (issue,) = refused.json()["issues"]
        assert (issue["code"], issue["path"]) == ("S020", "state")
        assert "Cancel with POST /cancelProductOrder" in issue["message"]
    assert len(api.get(f"/productOrder/{TRIO}/events").json()) == events


def test_the_path_id_is_written_into_a_body_without_one() -> None:
    assert json.loads(with_id(b'{"items": []}', "A/1")) == {"id": "A/1", "items": []}
    assert json.loads(with_id(b" { } ", "A")) == {"id": "A"}
    kept = [b'{"id": "B"}', b"[1]", b"{nope", b'{"a": 1, "a": 2}']
    assert [with_id(body, "A") for body in kept[:3]] == kept[:3]
    assert with_id(kept[3], "A") == b'{"id": "A", "a": 1, "a": 2}'  # the repeat stays visible
