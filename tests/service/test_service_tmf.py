"""The service against TM Forum's TMF622 v4 definitions (an excerpt of the swagger and the
CancelProductOrder sample are in tests/fixtures/tmf/, since CI has no copy of the originals)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from service_support import (
    REPO,
    Running,
    finish_tasks,
    heard_orders,
    order_bytes,
    order_json,
    wait_for,
    wait_state,
)
from simulators import Listener

from om_dsl.runtime.notify.tmf import item_state
from om_dsl.runtime.states import OrderState
from om_dsl.service.routes import TMF_BASE

TMF = REPO / "tests" / "fixtures" / "tmf"
SWAGGER: dict[str, Any] = json.loads((TMF / "tmf622-operations.json").read_text("utf-8"))
SWAGGER_ITEM_STATES = set(SWAGGER["definitions"]["ProductOrderItemStateType"]["enum"])
OURS = {("/productOrder", "post"): {"200"}}
"""Success answers beyond TMF's: 200 for an ``Idempotency-Key`` used before (the order it
created)."""
TRIO = "ORD-1004"
TRIO_LINE = "order/AccessLine"
SAMPLE = "30001"
"""The id of TM Forum's ProductOrder sample (examples/orders/tmf622-product-order.json)."""


def test_the_tmf622_operations_have_tmf_paths_parameters_and_statuses(
    service: Callable[..., Running],
) -> None:
    ours = service().client().get("/openapi.json").json()["paths"]
    for path, methods in SWAGGER["paths"].items():
        for method, operation in methods.items():
            assert method in ours.get(path, {}), f"{method.upper()} {path} is missing"
            mine = ours[path][method]
            success = {code for code in mine["responses"] if code.startswith("2")}
            success -= OURS.get((path, method), set())
            assert success == set(operation["responses"]), (path, method, success)
            names = {p["name"] for p in mine.get("parameters", [])}
            wanted = {p["name"] for p in operation["parameters"] if p["in"] in ("query", "path")}
            assert wanted <= names, (path, method, wanted - names)


def test_order_states_are_tmf_states() -> None:
    tmf = set(SWAGGER["definitions"]["ProductOrderStateType"]["enum"])
    assert {state.value for state in OrderState} == tmf


def test_error_bodies_have_the_tmf_error_shape(service: Callable[..., Running]) -> None:
    error = SWAGGER["definitions"]["Error"]
    body = service().client().get("/productOrder/NOPE").json()
    assert set(error["required"]) <= set(body)
    assert set(body) <= set(error["properties"]) | {"issues"}
    assert all(isinstance(body[name], str) for name in ("code", "reason", "message", "status"))


def test_the_tmf_cancel_sample_and_hub_registration_are_accepted(
    service: Callable[..., Running],
) -> None:
    api = service().client()
    hub = api.post("/hub", json={"callback": "http://127.0.0.1:9/listener"})
    assert set(SWAGGER["definitions"]["EventSubscription"]["required"]) <= set(hub.json())

    assert api.post("/productOrder", json=order_json("home-trio-tv")).status_code == 201
    wait_state(api, "ORD-1004", {"pending"})
    sample = json.loads((TMF / "CancelProductOrder.example.json").read_text("utf-8"))
    sample["productOrder"]["id"] = "ORD-1004"
    created = api.post("/cancelProductOrder", json=sample)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["@type"] == "CancelProductOrder"
    assert body["state"] in SWAGGER["definitions"]["TaskStateType"]["enum"]
    assert body["cancellationReason"] == "Duplicate order"
    assert body["productOrder"]["@referredType"] == "ProductOrder"


def test_the_tmf_resources_answer_at_the_tmf_base_path_too(
    service: Callable[..., Running],
) -> None:
    """A TMF622 client configured with the swagger's base URL needs no proxy to strip it."""
    running = service()
    tmf = running.client(base=TMF_BASE)
    created = tmf.post("/productOrder", content=order_bytes("tmf622-product-order"))
    assert created.status_code == 201, created.text
    assert created.json()["href"] == f"{running.url}/productOrder/{SAMPLE}"  # one canonical URL
    assert tmf.get(f"/productOrder/{SAMPLE}").json()["id"] == SAMPLE
    assert [o["id"] for o in tmf.get("/productOrder").json()] == [SAMPLE]
    hub = tmf.post("/hub", json={"callback": "http://127.0.0.1:9/listener"})
    assert hub.status_code == 201, hub.text
    assert tmf.delete(f"/hub/{hub.json()['id']}").status_code == 204
    assert tmf.post("/productOrder", json=order_json("home-trio-tv")).status_code == 201
    wait_state(tmf, "ORD-1004", {"pending"})  # waits for a technician: it can be cancelled
    cancel = json.loads((TMF / "CancelProductOrder.example.json").read_text("utf-8"))
    cancel["productOrder"]["id"] = "ORD-1004"
    cancelled = tmf.post("/cancelProductOrder", json=cancel)
    assert cancelled.status_code == 201, cancelled.text
    assert tmf.get(f"/cancelProductOrder/{cancelled.json()['id']}").status_code == 200

    anonymous = running.client(token="", base=TMF_BASE)
    assert anonymous.get("/productOrder").status_code == 401  # the same routes, the same guard
    assert tmf.get(f"/productOrder/{SAMPLE}/status").status_code == 404  # ours, root only
    paths = running.client().get("/openapi.json").json()["paths"]
    assert not [p for p in paths if p.startswith("/tmf-api")]  # documented once, at the root


ITEM_STATES = [
    # (plan item states, order state, cancelling) -> TMF ProductOrderItem state
    (["completed", "completed"], "completed", False, "completed"),
    (["completed", "pending"], "inProgress", False, "inProgress"),
    (["pending", "pending"], "acknowledged", False, "acknowledged"),
    (["completed", "fatally_failed"], "held", False, "held"),
    (["completed", "cancelled", "discarded"], "cancelled", True, "cancelled"),
    (["completed", "completed"], "cancelled", True, "cancelled"),  # undone by compensations
    (["completed", "waiting"], "assessingCancellation", True, "assessingCancellation"),
    (["completed", "cancelled"], "pendingCancellation", True, "pendingCancellation"),
    (["completed", "cancelled"], "held", True, "held"),  # a compensation failed
]


@pytest.mark.parametrize("states, order, cancelling, expected", ITEM_STATES)
def test_item_states_are_tmf_item_states_and_follow_a_cancellation(
    states: list[str], order: str, cancelling: bool, expected: str
) -> None:
    assert expected in SWAGGER_ITEM_STATES
    assert item_state(states, order, cancelling) == expected


def _operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, op) for path, methods in schema["paths"].items()
            for method, op in methods.items()]  # fmt: skip


def test_the_openapi_document_declares_the_errors_the_service_sends(
    service: Callable[..., Running],
) -> None:
    schema = service().client().get("/openapi.json").json()
    unprocessable = {
        f"{m.upper()} {p}" for p, m, op in _operations(schema) if "422" in op["responses"]
    }
    assert unprocessable == {"POST /callbacks/{token}"}  # FastAPI's default went: it sends 400
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    error = {"$ref": "#/components/schemas/Error"}
    for path, method, op in _operations(schema):
        answers = op["responses"]
        takes_input = any(p["in"] == "query" for p in op.get("parameters", ()))
        if takes_input or "requestBody" in op:
            assert "400" in answers, (method, path)
        if "requestBody" in op:
            assert "413" in answers, (method, path)
        if op.get("security"):
            assert {"401", "403"} <= set(answers), (method, path)
        for status, answer in answers.items():
            if status.startswith("4") and not path.startswith("/callbacks/"):
                assert answer["content"]["application/json"]["schema"] == error, (path, status)
    post_order = schema["paths"]["/productOrder"]["post"]["responses"]
    assert {"201", "400", "401", "403", "409", "413"} <= set(post_order)
    assert "400" not in schema["paths"]["/hub/{id}"]["get"]["responses"]  # nothing to refuse


def test_async_callbacks_are_in_the_openapi_document(service: Callable[..., Running]) -> None:
    running = service()
    anonymous = running.client(token="")
    callback = anonymous.get("/openapi.json").json()["paths"]["/callbacks/{token}"]["post"]
    assert "security" not in callback  # the token in the path is the credential
    assert {"200", "400", "404", "409", "413", "422"} <= set(callback["responses"])
    unknown = anonymous.post("/callbacks/made-up-token", json={"status": "done"})
    assert unknown.status_code == 404 and "unknown" in unknown.json()["error"]
    not_json = anonymous.post("/callbacks/made-up-token", content=b"{")
    assert not_json.status_code == 400 and "JSON" in not_json.json()["error"]


def test_a_callback_the_service_cannot_map_is_answered_422_with_the_reason(
    service: Callable[..., Running], sims: Any
) -> None:
    """The service's callback route answers as the runtime's own listener does (one shared
    handler): a result that its item's response mapping cannot read was a 200 "accepted"
    while the attempt failed."""
    running = service()
    api = running.client()
    sims.network.configure(callback_delay_ms=60_000)  # the test calls back itself
    assert api.post("/productOrder", json=order_json("home-trio-tv")).status_code == 201
    wait_for(lambda: finish_tasks(api, TRIO), what="the install task")
    activation = wait_for(
        lambda: [r for r in sims.network.requests() if r["path"] == "/activations"],
        what="the activation request",
    )[0]
    url = str(activation["headers"]["X-Callback-Url"])
    assert url.startswith(running.url + "/callbacks/")
    answer = running.client(token="").post(url, json={"foo": 1})
    assert answer.status_code == 422, answer.text
    reason = (
        "the callback of Network POST /activations cannot be mapped: body.activation.id is missing"
    )
    assert answer.json() == {"error": reason}
    item = f"{TRIO_LINE}:activate_line"
    events = wait_for(
        lambda: [
            e
            for e in api.get(f"/productOrder/{TRIO}/events").json()
            if e["itemId"] == item and e["toState"] in ("failed", "fatally_failed")
        ],
        what="the failed attempt",
    )
    assert events[0]["detail"].startswith(reason), events[0]


def test_a_product_order_shows_back_what_its_client_sent(
    service: Callable[..., Running],
) -> None:
    """TMF622 resources show the client's attributes back, under the server's own (id, href,
    state, dates): the sample's notes, parties, dates and item products come back as sent."""
    api = service().client()
    sent = json.loads(order_bytes("tmf622-product-order"))
    created = api.post("/productOrder", content=order_bytes("tmf622-product-order"))
    assert created.status_code == 201, created.text
    ours = {"id", "href", "state", "orderDate", "completionDate", "expectedCompletionDate"}
    for view in (created.json(), api.get(f"/productOrder/{SAMPLE}").json()):
        assert {k: v for k, v in view.items() if k not in ours | {"productOrderItem"}} == {
            k: v for k, v in sent.items() if k not in ours | {"productOrderItem"}
        }
        assert view["orderDate"] != sent["orderDate"]  # when it reached us, not the sample's
        assert "expectedCompletionDate" not in view
        items = {item["id"]: item for item in view["productOrderItem"]}
        for item in sent["productOrderItem"]:
            assert {k: v for k, v in items[item["id"]].items() if k != "state"} == {
                k: v for k, v in item.items() if k != "state"
            }
    selected = api.get(f"/productOrder/{SAMPLE}", params={"fields": "description,note"})
    assert selected.status_code == 200, selected.text
    assert selected.json() == {
        "id": SAMPLE,
        "href": created.json()["href"],
        "description": sent["description"],
        "note": sent["note"],
        "@type": "ProductOrder",
    }


def test_the_documented_create_answer_is_what_the_service_answers(
    service: Callable[..., Running],
) -> None:
    """docs/service.md shows the 201 for the sample, abbreviated: every attribute it shows is
    in the real answer, in the same order, with the same value (`...` stands for the rest)."""
    doc = (REPO / "docs" / "service.md").read_text(encoding="utf-8")
    block = re.search(r'```json\n(\{"id": "30001".*?)```', doc, re.S)
    assert block, "the create answer example is gone from docs/service.md"
    text = re.sub(r",\s*\.\.\.", "", block[1].replace("{...}", "{}").replace("[...]", "[]"))
    shown = json.loads(text)
    answer = (
        service().client().post("/productOrder", content=order_bytes("tmf622-product-order")).json()
    )
    _assert_shown(shown, answer, "$")


def _assert_shown(shown: Any, real: Any, path: str) -> None:
    if shown in ({}, []):  # an elided value: only its kind is shown
        assert type(real) is type(shown), path
    elif isinstance(shown, dict):
        keys = [k for k in real if k in shown]
        assert keys == list(shown), f"{path}: {list(shown)} against {list(real)}"
        for key in shown:
            if key == "href":  # the docs' service listens on port 8080
                assert real[key].endswith(shown[key].split(":8080", 1)[1]), path
            elif key != "orderDate":  # when it reached the service
                _assert_shown(shown[key], real[key], f"{path}.{key}")
    elif isinstance(shown, list):
        for i, value in enumerate(shown):
            _assert_shown(value, real[i], f"{path}[{i}]")
    else:
        assert shown == real, path


def _cpq_order(order_id: str) -> dict[str, Any]:
    """The TMF sample as a CPQ sends it: its own subclasses of the TMF622 resources."""
    order = order_json("tmf622-product-order", id=order_id)
    order.update({"@type": "CpqProductOrder", "@baseType": "ProductOrder"})
    for item in order["productOrderItem"]:
        item["@type"] = "CpqOrderItem"
    return order


def test_the_clients_type_is_kept_in_views_and_events(
    service: Callable[..., Running], listener: Listener
) -> None:
    """A view shows the client's attributes as sent, ``@type`` too: a CPQ's subclass of
    ProductOrder came back as "ProductOrder", and its items as "ProductOrderItem"."""
    api = service().client()
    assert api.post("/hub", json={"callback": listener.url}).status_code == 201
    created = api.post("/productOrder", json=_cpq_order("CPQ-1"))
    assert created.status_code == 201, created.text
    read = api.get("/productOrder/CPQ-1").json()
    heard = wait_for(lambda: heard_orders(listener, "CPQ-1"), what="the create event")
    for view in (created.json(), read, heard[0][1]):
        assert (view["@type"], view["@baseType"]) == ("CpqProductOrder", "ProductOrder")
        assert list(view)[-1] == "@type"  # last, where the server's own attributes go
        assert {item["@type"] for item in view["productOrderItem"]} == {"CpqOrderItem"}
        assert all(list(item)[-1] == "@type" for item in view["productOrderItem"])
    selected = api.get("/productOrder", params={"fields": "state"}).json()
    assert [o["@type"] for o in selected] == ["CpqProductOrder"]

    plain = order_json("home-trio-tv")  # no @type anywhere: the TMF classes
    assert "@type" not in plain and api.post("/productOrder", json=plain).status_code == 201
    view = api.get("/productOrder/ORD-1004").json()
    assert view["@type"] == "ProductOrder" and "@baseType" not in view
    assert {item["@type"] for item in view["productOrderItem"]} == {"ProductOrderItem"}


def test_a_cancel_request_keeps_the_clients_type(service: Callable[..., Running]) -> None:
    """The cancel request's ``@type`` (and ``@baseType``) are the client's, as for an order;
    ``CancelProductOrder`` when it sent none."""
    api = service().client()
    for order_id in ("CPQ-1", "CPQ-2"):  # the trio waits for a technician: still cancellable
        order = order_json("home-trio-tv", id=order_id)
        assert api.post("/productOrder", json=order).status_code == 201
    typed = {"@type": "CpqCancelOrder", "@baseType": "CancelProductOrder"}
    created = api.post("/cancelProductOrder", json={"productOrder": {"id": "CPQ-1"}, **typed})
    assert created.status_code == 201, created.text
    plain = api.post("/cancelProductOrder", json={"productOrder": {"id": "CPQ-2"}})
    assert plain.status_code == 201, plain.text
    for view in (created.json(), api.get(created.json()["href"]).json()):
        assert {k: view[k] for k in typed} == typed and list(view)[-1] == "@type"
    listed = api.get("/cancelProductOrder").json()
    assert [(r["@type"], r.get("@baseType")) for r in listed] == [
        ("CpqCancelOrder", "CancelProductOrder"),
        ("CancelProductOrder", None),
    ]


def _issues(answer: Any) -> list[tuple[str, str]]:
    assert answer.status_code == 400, answer.text
    return [(issue["code"], issue["path"]) for issue in answer.json()["issues"]]


def test_fields_selects_any_first_level_attribute_of_the_view(
    service: Callable[..., Running],
) -> None:
    """A vendor extension the full view echoes can be selected: `fields=x_cpqQuoteId` was a
    400 that said the order had no such attribute.  A name that is truly unknown is still a
    400, with a suggestion when one is close."""
    api = service().client()
    order = {**_cpq_order("CPQ-1"), "x_cpqQuoteId": "Q-1"}
    assert api.post("/productOrder", json=order).status_code == 201
    one = api.get("/productOrder/CPQ-1", params={"fields": "x_cpqQuoteId,completionDate"})
    assert one.status_code == 200, one.text
    assert set(one.json()) == {"id", "href", "x_cpqQuoteId", "@type"}  # not completed yet
    listed = api.get("/productOrder", params={"fields": "x_cpqQuoteId"})
    assert [o["x_cpqQuoteId"] for o in listed.json()] == ["Q-1"]

    typo = api.get("/productOrder/CPQ-1", params={"fields": "x_cpqQuoteID"})
    assert _issues(typo) == [("S017", "query.fields")]
    assert "did you mean x_cpqQuoteId?" in typo.json()["message"]
    # one order has no attribute its view lacks, TMF622's own aside
    assert _issues(api.get("/productOrder/CPQ-1", params={"fields": "x_crmCase"}))
    # a list: another order may have an extension these lack, so only a name that cannot be
    # an attribute (a path) or misspells a known one is refused
    other = api.get("/productOrder", params={"fields": "x_crmCase"})
    assert other.status_code == 200 and set(other.json()[0]) == {"id", "href", "@type"}
    for name, hint in (("sate", "state"), ("x_cpqquoteid", "x_cpqQuoteId")):
        refused = api.get("/productOrder", params={"fields": name})
        assert _issues(refused) == [("S017", "query.fields")]
        assert f"did you mean {hint}?" in refused.json()["message"]
    nested = api.get("/productOrder", params={"fields": "productOrderItem.state"})
    assert _issues(nested) == [("S017", "query.fields")]
    empty = api.get("/productOrder", params={"fields": "x_cpqQuoteId", "state": "cancelled"})
    assert empty.status_code == 200 and empty.json() == []
    cancel = api.get("/cancelProductOrder", params={"fields": "cancelationReason"})
    assert "did you mean cancellationReason?" in cancel.json()["message"]
