"""TMF622 end to end through the real service: orders in over HTTP, callouts to the simulators,
manual tasks finished through the API, events to a listener registered at the hub."""

from __future__ import annotations

import html
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from service_support import (
    Running,
    acme,
    finish_tasks,
    heard_orders,
    open_tasks,
    order_bytes,
    order_json,
    wait_for,
    wait_state,
)
from simulators import Listener

from om_dsl.orders.installed_lines import read_installed_lines
from om_dsl.runtime import Runtime
from om_dsl.service.operations import task_ref

SAMPLE = "30001"
TRIO = "ORD-1004"


def _events(listener: Listener, order_id: str) -> list[dict[str, Any]]:
    found = []
    for body in listener.bodies():
        if (
            isinstance(body, dict)
            and body.get("event", {}).get("productOrder", {}).get("id") == order_id
        ):
            found.append(body)
    return found


def _completion_heard(listener: Listener, order_id: str) -> bool:
    return any(
        e["eventType"] == "ProductOrderStateChangeEvent"
        and e["event"]["productOrder"]["state"] == "completed"
        for e in _events(listener, order_id)
    )


def test_the_tmf622_sample_and_a_manual_order_complete_and_are_notified(
    service: Callable[..., Running], listener: Listener
) -> None:
    running = service()
    api = running.client()
    hub = api.post("/hub", json={"callback": f"{listener.url}/tmf-events"})
    assert hub.status_code == 201, hub.text
    assert hub.json()["callback"] == f"{listener.url}/tmf-events"

    created = api.post("/productOrder", content=order_bytes("tmf622-product-order"))
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["id"] == SAMPLE and body["state"] == "acknowledged"
    assert body["href"] == f"{running.url}/productOrder/{SAMPLE}"
    assert created.headers["location"] == body["href"]
    assert [i["id"] for i in body["productOrderItem"]] == ["100", "110", "120", "130"]
    assert {i["state"] for i in body["productOrderItem"]} == {"acknowledged"}

    trio = api.post("/productOrder", json=order_json("home-trio-tv"))
    assert trio.status_code == 201, trio.text
    assert wait_state(api, SAMPLE, {"completed", "held"}) == "completed"

    # the trio waits for a field technician: the order is pending, its task is in the queue
    assert wait_state(api, TRIO, {"pending"}) == "pending"
    done = wait_for(lambda: finish_tasks(api, TRIO), what="the trio's first task")
    assert "order/AccessLine:install" in done
    wait_for(lambda: finish_tasks(api, TRIO), what="the set-top box task")
    assert wait_state(api, TRIO, {"completed", "held"}) == "completed"

    view = api.get(f"/productOrder/{TRIO}").json()
    assert view["state"] == "completed" and "completionDate" in view
    assert {i["state"] for i in view["productOrderItem"]} == {"completed"}

    for order_id in (SAMPLE, TRIO):
        wait_for(lambda o=order_id: _completion_heard(listener, o), what="completion event")
        kinds = [e["eventType"] for e in _events(listener, order_id)]
        assert kinds[0] == "ProductOrderCreateEvent"
        assert kinds.count("ProductOrderStateChangeEvent") >= 2  # inProgress ..., completed
        paths = {e["path"] for e in listener.events()}
        assert paths == {"/tmf-events"}


def test_tasks_carry_who_did_them_and_claims_conflict(service: Callable[..., Running]) -> None:
    running = service()
    crm, ops = running.client(), running.client(token=running.server.config.tokens["ops"])
    assert crm.post("/productOrder", json=order_json("home-trio-tv")).status_code == 201
    task = wait_for(lambda: crm.get("/tasks", params={"queue": "field_techs"}).json())[0]
    assert task_ref(task["id"]) == (TRIO, task["itemId"], 1)
    assert crm.get(f"/tasks/{task['id']}").json()["itemId"] == task["itemId"]

    anonymous = ops.post(f"/tasks/{task['id']}/claim", json={"user": ""})
    assert anonymous.status_code == 400  # as reassign's "to": not silently the client's name
    assert anonymous.json()["code"] == "invalidRequest"
    assert "S014" in anonymous.text
    claimed = ops.post(f"/tasks/{task['id']}/claim", json={})
    assert claimed.status_code == 200 and claimed.json()["claimedBy"] == "ops"
    refused = crm.post(f"/tasks/{task['id']}/complete", json={"outputs": {}})
    assert refused.status_code == 409
    assert "ops" in refused.json()["message"]
    moved = ops.post(f"/tasks/{task['id']}/reassign", json={"from": "ops", "to": "crm"})
    assert moved.status_code == 200 and moved.json()["claimedBy"] == "crm"
    failed = crm.post(f"/tasks/{task['id']}/fail", json={"reason": "nobody home"})
    assert failed.status_code == 204, failed.text
    assert crm.get("/tasks/bm90LWEtdGFzaw").status_code == 404
    events = crm.get(f"/productOrder/{TRIO}/events").json()
    assert any("task failed by crm" in (e["detail"] or "") for e in events)


def test_a_task_reads_back_after_it_closed_and_its_order_finished(
    service: Callable[..., Running],
) -> None:
    """GET is a read: a task done (its order completed since) is a 200 saying so, not a 409
    "the order cannot change"; an id that never was a task stays a 404."""
    api = service().client()
    assert api.post("/productOrder", json=order_json("home-trio-tv")).status_code == 201
    task = wait_for(lambda: open_tasks(api, TRIO))[0]
    assert api.get(f"/tasks/{task['id']}").json()["state"] == "open"
    wait_for(lambda: finish_tasks(api, TRIO), what="the trio's first task")
    wait_for(lambda: finish_tasks(api, TRIO), what="the set-top box task")
    assert wait_state(api, TRIO, {"completed", "held"}) == "completed"
    answer = api.get(f"/tasks/{task['id']}")
    assert answer.status_code == 200, answer.text
    closed = answer.json()
    assert (closed["id"], closed["state"], closed["claimedBy"]) == (
        task["id"],
        "completed",
        "alice",
    )
    assert closed["overdue"] is False


def test_list_paging_filters_and_field_selection(service: Callable[..., Running]) -> None:
    running = service()
    api = running.client()
    ids = [f"PAGE-{n}" for n in range(5)]
    for order_id in ids:
        assert api.post("/productOrder", json=order_json("fibre-modify", id=order_id)).is_success
    for order_id in ids:
        wait_state(api, order_id, {"completed"})

    page = api.get("/productOrder", params={"offset": 1, "limit": 2, "fields": "state"})
    assert page.status_code == 200
    assert page.headers["x-total-count"] == "5" and page.headers["x-result-count"] == "2"
    assert [o["id"] for o in page.json()] == ids[1:3]
    assert set(page.json()[0]) == {"id", "href", "state", "@type"}

    done = api.get("/productOrder", params={"state": "completed,held"})
    assert done.headers["x-total-count"] == "5"
    none = api.get("/productOrder", params={"state": "cancelled"})
    assert none.json() == [] and none.headers["x-total-count"] == "0"
    bad = api.get("/productOrder", params={"state": "finished"})
    assert bad.status_code == 400 and bad.json()["issues"][0]["path"] == "query.state"
    empty = api.get("/productOrder?state=")  # was every order, as if no filter were given
    assert empty.status_code == 400 and empty.json()["issues"][0]["code"] == "S014"
    # A filter the list does not read, or a field the resource lacks, is a 400, never every
    # order or the identity alone (found by the TMF conformance hunt).
    for params, code, path in (
        ({"customer": "nope"}, "S016", "query"),
        ({"fields": "productOrderItem.state"}, "S017", "query.fields"),
    ):
        refused = api.get("/productOrder", params=params)
        assert refused.status_code == 400, refused.text
        assert [(i["code"], i["path"]) for i in refused.json()["issues"]] == [(code, path)]
    one = api.get(f"/productOrder/{ids[0]}", params={"fields": "bogus,state"})
    assert one.status_code == 400 and "bogus" in one.json()["message"]
    assert "externalId" in one.json()["message"]  # the attributes it has are listed


def test_status_events_systems_and_fallout(service: Callable[..., Running], sims: Any) -> None:
    running = service()
    api = running.client()
    offline = api.post("/systems/Billing/offline", json={"reason": "CHG-42"})
    assert offline.status_code == 200
    assert offline.json()["system"] == {**offline.json()["system"], "offline": True,
                                        "changedBy": "crm", "source": "operator",
                                        "reason": "CHG-42"}  # fmt: skip
    assert api.post("/productOrder", json=order_json("fibre-modify")).status_code == 201
    held = "system Billing is offline, taken offline by crm: CHG-42"
    wait_for(lambda: _held_on(api, "ORD-1002", held), what="on hold")
    bad = api.post("/systems/Billing/online", json={"reason": "a\nb"})
    assert bad.status_code == 400, bad.text  # one line of the log, or nothing changes
    assert api.get("/systems/Billing").json()["offline"] is True
    online = api.post("/systems/Billing/online")  # no body: no reason
    assert online.json()["released"] == 1
    assert online.json()["system"]["reason"] is None
    assert wait_state(api, "ORD-1002", {"completed", "held"}) == "completed"

    status = api.get("/productOrder/ORD-1002/status").json()
    assert status["state"] == "completed" and status["ponr_reached"] is False
    events = api.get("/productOrder/ORD-1002/events", params={"limit": 3}).json()
    assert events[0]["kind"] == "order.created" and len(events) == 3
    after = api.get("/productOrder/ORD-1002/events", params={"afterSeq": events[-1]["seq"]})
    assert all(e["seq"] > events[-1]["seq"] for e in after.json())
    assert api.get("/systems/Nope").status_code == 404
    assert api.get("/fallout").json() == []


def test_fallout_is_listed_and_an_operator_retry_resumes_the_order(
    service: Callable[..., Running], sims: Any
) -> None:
    running = service()
    api = running.client()
    sims.billing.configure(status=400)  # a permanent status for Billing: fallout at once
    assert api.post("/productOrder", json=order_json("fibre-modify")).status_code == 201
    assert wait_state(api, "ORD-1002", {"held"}) == "held"
    fallout = api.get("/fallout").json()
    assert [f["itemId"] for f in fallout] == ["7/InternetService:subscribe"]
    assert "answered 400" in fallout[0]["reason"]
    refused = api.post("/productOrder/ORD-1002/retry", json={"itemId": "7/StaticIp:allocate"})
    assert refused.status_code == 409
    sims.billing.clear_faults()
    retried = api.post("/productOrder/ORD-1002/retry", json={"itemId": fallout[0]["itemId"]})
    assert retried.status_code == 204, retried.text
    assert wait_state(api, "ORD-1002", {"completed", "held"}) == "completed"
    unknown = api.post("/productOrder/ORD-1002/skip", json={"itemId": "nope"})
    assert unknown.status_code == 409  # a finished order cannot change


def _held_on(api: Any, order_id: str, reason: str) -> bool:
    status = api.get(f"/productOrder/{order_id}/status").json()
    return any(i["state"] == "on_hold" and i["reason"] == reason for i in status["items"])


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_the_live_plan_is_an_svg_coloured_by_state(service: Callable[..., Running]) -> None:
    running = service()
    api = running.client()
    assert api.post("/productOrder", json=order_json("home-trio-tv")).status_code == 201
    wait_state(api, TRIO, {"pending"})
    svg = api.get(f"/productOrder/{TRIO}/plan.svg")
    assert svg.status_code == 200 and svg.headers["content-type"] == "image/svg+xml"
    text = html.unescape(svg.text)
    assert text.lstrip().startswith("<?xml") and "</svg>" in text
    assert f"Order {TRIO}: pending" in text
    assert "install" in text and "waiting" in text and "completed" in text
    assert "collapsed into one node" not in text
    assert api.get("/productOrder/NOPE/plan.svg").status_code == 404

    folded = api.get(f"/productOrder/{TRIO}/plan.svg", params={"collapse": 1})
    assert folded.status_code == 200, folded.text
    text = html.unescape(folded.text)
    assert "of more than 1 items collapsed into one node each" in text
    assert len(folded.content) < len(svg.content)


def test_plan_svg_options_are_checked(service: Callable[..., Running]) -> None:
    api = service().client()
    assert api.post("/productOrder", json=order_json("home-trio-tv")).status_code == 201
    for collapse in ("-1", "x", "1.5", ""):
        answer = api.get(f"/productOrder/{TRIO}/plan.svg", params={"collapse": collapse})
        assert answer.status_code == 400, (collapse, answer.text)
        error = answer.json()
        assert error["@type"] == "Error" and error["issues"][0]["path"] == "query.collapse"


def test_plan_svg_without_graphviz_is_a_503_that_says_what_to_install(
    service: Callable[..., Running], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    running = service()
    api = running.client()
    assert api.post("/productOrder", json=order_json("home-trio-tv")).status_code == 201
    monkeypatch.setenv("PATH", str(tmp_path))  # Graphviz finds `dot` on PATH: now it cannot
    answer = api.get(f"/productOrder/{TRIO}/plan.svg")
    assert answer.status_code == 503, answer.text
    error = answer.json()
    assert error["code"] == "graphvizMissing" and error["@type"] == "Error"
    assert "not installed on the server" in error["message"]
    assert "apt-get install graphviz" in error["message"]
    assert f"{running.url}/productOrder/{TRIO}/status" in error["message"]
    assert "--format" not in error["message"]  # a CLI option means nothing over HTTP
    assert api.get("/productOrder/NOPE/plan.svg").status_code == 404


def test_orders_and_amendments_are_decomposed_with_the_installed_base(
    service: Callable[..., Running],
) -> None:
    """Account 1513's customer account is installed: no line opens it again, neither the
    order's nor its amendment's (a fibre line waits for a technician meanwhile)."""
    installed = read_installed_lines({"1513": {"CustomerAccount": {"account": "1513"}}}, acme())
    running = service(installed_base=installed)
    api = running.client()

    def order(months: int) -> dict[str, Any]:
        items = [
            {"id": "t", "product": "TariffPlan", "attributes": {"commitment_months": months}},
            {"id": "f", "product": "HomeFibre"},
        ]
        return {"id": "ACCT", "account": "1513", "attributes": {"site_id": "S1"}, "items": items}

    def opened(runtime: Runtime) -> list[str]:
        return [i.id for i in runtime.status("ACCT").items if "CustomerAccount" in i.id]

    assert api.post("/productOrder", json=order(12)).status_code == 201
    wait_state(api, "ACCT", {"pending"})  # the technician's task
    assert opened(running.runtime) == []
    revised = api.patch("/productOrder/ACCT", json=order(24))
    assert revised.status_code == 200, revised.text
    assert opened(running.runtime) == []
    unaware = service()  # the same order on a service that knows of no installed base
    assert unaware.client().post("/productOrder", json=order(12)).status_code == 201
    assert opened(unaware.runtime) == ["account:1513/CustomerAccount:open_account"]


def _no_content(answer: Any) -> str:
    """The route of a 204 answer, once it is checked to have no body and no Content-Type."""
    assert answer.status_code == 204, answer.text
    assert answer.content == b"" and "content-type" not in answer.headers, answer.headers
    assert answer.headers.get("content-length", "0") == "0"
    return f"{answer.request.method} {answer.request.url.path}"


def test_a_204_has_no_body_and_no_content_type(service: Callable[..., Running], sims: Any) -> None:
    """RFC 9110: a 204 has no content, so no ``Content-Type`` either; the JSON default of
    FastAPI sent ``application/json`` with the empty body.  Every 204 route is called."""
    running = service()
    api = running.client()
    answered = set()
    hub = api.post("/hub", json={"callback": "http://127.0.0.1:9/events"}).json()
    answered.add(_no_content(api.delete(f"/hub/{hub['id']}")))
    products = api.post("/productInventory/v4/hub", json={"callback": "http://127.0.0.1:9/p"})
    answered.add(_no_content(api.delete(f"/productInventory/v4/hub/{products.json()['id']}")))

    assert api.post("/productOrder", json=order_json("home-trio-tv")).status_code == 201
    task = wait_for(lambda: open_tasks(api, TRIO))[0]
    answered.add(_no_content(api.post(f"/tasks/{task['id']}/fail", json={"reason": "no one"})))
    wait_for(lambda: [f for f in api.get("/fallout").json() if f["orderId"] == TRIO])
    retry = {"itemId": task["itemId"]}
    answered.add(_no_content(api.post(f"/productOrder/{TRIO}/retry", json=retry)))
    again = wait_for(lambda: open_tasks(api, TRIO))[0]
    done = api.post(f"/tasks/{again['id']}/complete", json={"outputs": {"serial": "S1"}})
    answered.add(_no_content(done))

    assert api.post("/systems/Billing/offline").status_code == 200
    for order_id, action in (("HOLD-1", "skip"), ("HOLD-2", "complete")):
        assert api.post("/productOrder", json=order_json("fibre-modify", id=order_id)).is_success
        wait_for(
            lambda o=order_id: _held_on(api, o, "system Billing is offline, taken offline by crm")
        )
        held = next(i["id"] for i in api.get(f"/productOrder/{order_id}/status").json()["items"]
                    if i["state"] == "on_hold")  # fmt: skip
        answer = api.post(f"/productOrder/{order_id}/{action}", json={"itemId": held})
        answered.add(_no_content(answer))

    document = api.get("/openapi.json").json()
    routes = {
        f"{method.upper()} {path}"
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
        if "204" in operation["responses"]
    }
    assert len(answered) == len(routes) == 7, (answered, routes)


@pytest.mark.parametrize("notify_href", [None, "http://elsewhere/productOrder"])
def test_events_carry_the_href_that_get_shows(
    service: Callable[..., Running], listener: Listener, notify_href: str | None
) -> None:
    """service.md: the GET view is the one notifications carry, so an event's productOrder
    has the order's href too.  The service knows its URL; the notifier's views did not
    (NotifySettings.href_base was unset for create_app, and for `om serve` on a free port),
    so events came without one.  The service's URL wins over a runtime's own setting: one
    href per order."""
    running = service(notify_href=notify_href)
    api = running.client()
    assert api.post("/hub", json={"callback": listener.url}).status_code == 201
    created = api.post("/productOrder", json=order_json("fibre-modify"))
    assert created.status_code == 201, created.text
    href = created.json()["href"]
    assert href == f"{running.url}/productOrder/ORD-1002"
    assert api.get("/productOrder/ORD-1002").json()["href"] == href
    wait_state(api, "ORD-1002", {"completed"})
    heard = wait_for(
        lambda: (h := heard_orders(listener, "ORD-1002")) and h[-1][1]["state"] == "completed" and h
    )
    assert {order.get("href") for _, order in heard} == {href}


def test_the_list_filters_by_external_id(service: Callable[..., Running]) -> None:
    """`GET /productOrder?externalId=Q-1`: a CPQ looks up its orders by its own quote id (an
    exact match on the order's TMF622 externalId, native orders' external_id too)."""
    api = service().client()
    sent = [
        order_json("tmf622-product-order"),  # externalId PO-456
        order_json("home-trio-tv", id="CPQ-1", external_id="Q-1"),
        order_json("home-trio-tv", id="CPQ-2", external_id="Q-2"),
        order_json("home-trio-tv", id="CPQ-3", external_id="Q-1"),
    ]
    for order in sent:
        assert api.post("/productOrder", json=order).status_code == 201
    found = api.get("/productOrder", params={"externalId": "Q-1", "fields": "externalId"})
    assert found.status_code == 200, found.text
    assert [(o["id"], o["externalId"]) for o in found.json()] == [("CPQ-1", "Q-1"),
                                                                  ("CPQ-3", "Q-1")]  # fmt: skip
    assert found.headers["x-total-count"] == "2"
    paged = api.get("/productOrder", params={"externalId": "Q-1", "offset": 1})
    assert [o["id"] for o in paged.json()] == ["CPQ-3"] and paged.headers["x-total-count"] == "2"
    assert [o["id"] for o in api.get("/productOrder?externalId=PO-456").json()] == [SAMPLE]
    for params in ({"externalId": "q-1"}, {"externalId": "Q-1", "state": "completed"}):
        none = api.get("/productOrder", params=params)
        assert none.json() == [] and none.headers["x-total-count"] == "0"
    amended = order_json("home-trio-tv", id="CPQ-3", external_id="Q-3")
    assert api.patch("/productOrder/CPQ-3", json=amended).status_code == 200
    assert [o["id"] for o in api.get("/productOrder?externalId=Q-1").json()] == ["CPQ-1"]
    assert [o["id"] for o in api.get("/productOrder?externalId=Q-3").json()] == ["CPQ-3"]
