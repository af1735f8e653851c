"""Every request body is read as JSON whatever its Content-Type says (``curl -d @x.json`` sends
``application/x-www-form-urlencoded``, some clients send none), and a body that is not JSON, or
not the JSON a route takes, is a 400 TMF error worded for the client: a stable code, a JSON path
and JSON terms, never pydantic's wording.  Against the real service."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from service_support import Running, open_tasks, order_json, wait_for

UNKNOWN_TASK = "Tk9QRR9ub3BlOng"
TRIO = "ORD-1004"
UNKNOWN_ORDER = "NOPE"
# (path template, a valid body, the answer it gets): a 404 comes from the route's handler, so
# the body was read and validated first.
BODIES: dict[str, tuple[str, dict[str, Any], int]] = {
    "/productOrder": ("/productOrder", {}, 201),  # the order is made per request below
    "/productOrder/{id}": (f"/productOrder/{UNKNOWN_ORDER}", {}, 404),  # PATCH: the same
    "/cancelProductOrder": ("/cancelProductOrder", {"productOrder": {"id": UNKNOWN_ORDER}}, 404),
    "/hub": ("/hub", {"callback": "http://127.0.0.1:9/events", "query": "state=completed"}, 201),
    "/productInventory/v4/hub": (
        "/productInventory/v4/hub", {"callback": "http://127.0.0.1:9/p", "query": "status=active"},
        201),
    "/productOrder/{id}/retry": (f"/productOrder/{UNKNOWN_ORDER}/retry", {"itemId": "x"}, 404),
    "/productOrder/{id}/skip": (
        f"/productOrder/{UNKNOWN_ORDER}/skip", {"itemId": "x", "reason": "not needed"}, 404),
    "/productOrder/{id}/complete": (
        f"/productOrder/{UNKNOWN_ORDER}/complete", {"itemId": "x", "outputs": {"a": 1}}, 404),
    "/productOrder/{id}/signal": (
        f"/productOrder/{UNKNOWN_ORDER}/signal", {"event": "number.ported", "payload": {}}, 404),
    "/tasks/{id}/claim": (f"/tasks/{UNKNOWN_TASK}/claim", {"user": "alice"}, 404),
    "/tasks/{id}/complete": (
        f"/tasks/{UNKNOWN_TASK}/complete", {"user": "alice", "outputs": {"serial": "S1"}}, 404),
    "/tasks/{id}/fail": (f"/tasks/{UNKNOWN_TASK}/fail", {"reason": "no access"}, 404),
    "/tasks/{id}/reassign": (f"/tasks/{UNKNOWN_TASK}/reassign", {"from": "a", "to": "b"}, 404),
    "/systems/{name}/offline": ("/systems/Nope/offline", {"reason": "CHG-1"}, 404),
    "/systems/{name}/online": ("/systems/Nope/online", {"reason": "CHG-1"}, 404),
    "/fallout/retry": ("/fallout/retry", {"orderId": UNKNOWN_ORDER, "reason": "x"}, 404),
    "/notifications/retry": ("/notifications/retry", {"orderId": UNKNOWN_ORDER}, 200),
    "/prune": ("/prune", {"olderThan": "1d", "dryRun": True}, 200),
    "/callbacks/{token}": ("/callbacks/no-such-token", {"done": True}, 404),
}  # fmt: skip
ADMIN: dict[str, Any] = {"roles": {"crm": "admin"}}
"""The client may call every route (``POST /prune`` needs an admin)."""
RAW = ("/productOrder", "/productOrder/{id}", "/callbacks/{token}")
MODEL_ROUTES = [path for path in BODIES if path not in RAW]
"""The routes whose body FastAPI validates with a model (the others read raw bytes)."""
METHODS = {"/productOrder/{id}": "PATCH"}
"""The routes whose body is not POSTed."""
CONTENT_TYPES = {
    "no Content-Type": None,
    "form-urlencoded": "application/x-www-form-urlencoded",
    "text/plain": "text/plain; charset=utf-8",
    "application/json": "application/json",
}
PYDANTIC_WORDS = ("model_attributes_type", "Input should be", "Field required", "dictionary")


def _post(
    api: httpx.Client, path: str, content: bytes, content_type: str | None, method: str = "POST"
) -> Any:
    headers = {"content-type": content_type} if content_type else {}
    request = api.build_request(method, path, content=content, headers=headers)
    assert request.headers.get("content-type") == content_type
    return api.send(request)


def _body(template: str, body: dict[str, Any], order_id: str) -> bytes:
    if template in ("/productOrder", "/productOrder/{id}"):
        body = order_json("fibre-modify", id=order_id)
    return httpx.Request("POST", "/", json=body).content


def _assert_client_words(answer: httpx.Response) -> None:
    for words in PYDANTIC_WORDS:
        assert words not in answer.text, answer.text


def test_every_route_with_a_body_is_covered(service: Callable[..., Running]) -> None:
    document = service(**ADMIN).client().get("/openapi.json").json()
    with_body = {
        path
        for path, methods in document["paths"].items()
        for operation in methods.values()
        if "requestBody" in operation
    }
    assert with_body == set(BODIES)


@pytest.mark.parametrize("content_type", CONTENT_TYPES.values(), ids=list(CONTENT_TYPES))
def test_bodies_are_json_whatever_the_content_type(
    service: Callable[..., Running], content_type: str | None
) -> None:
    running = service(**ADMIN)
    api = running.client()
    for number, (template, (path, body, status)) in enumerate(BODIES.items()):
        content = _body(template, body, f"CT-{number}")
        method = METHODS.get(template, "POST")
        answer = _post(api, path, content, content_type, method)
        assert answer.status_code == status, (template, content_type, answer.text)
    assert running.runtime.orders()[0].id == "CT-0"
    assert running.runtime.hub.list()[0].query == "state=completed"


@pytest.mark.parametrize("content_type", CONTENT_TYPES.values(), ids=list(CONTENT_TYPES))
def test_a_body_that_is_not_json_is_a_400_with_the_path_body(
    service: Callable[..., Running], content_type: str | None
) -> None:
    api = service(**ADMIN).client()
    for template in MODEL_ROUTES:
        path = BODIES[template][0]
        answer = _post(api, path, b'{"itemId": x}', content_type)
        assert answer.status_code == 400, (template, answer.text)
        error = answer.json()
        assert (error["code"], error["@type"], error["status"]) == (
            "invalidRequest",
            "Error",
            "400",
        )
        assert error["issues"] == [
            {"code": "S010", "path": "body",
             "message": "not valid JSON: Expecting value at line 1 column 12"}
        ]  # fmt: skip
        assert error["message"] == (
            "the request is invalid: 1 problem(s); first: body: [S010] not valid JSON: "
            "Expecting value at line 1 column 12"
        )
    order = _post(api, "/productOrder", b"a=1&b=2", content_type)
    assert order.status_code == 400 and order.json()["issues"][0]["code"] == "O001"


WRONG_BODIES = [
    (b"[1, 2]", "S013", "body", "expected an object, got an array"),
    (b'"text"', "S013", "body", "expected an object, got string 'text'"),
    (b"null", "S013", "body", "expected an object, got null"),
    (b"", "S011", "body", "the request has no body; expected a JSON object"),
    (b"  ", "S010", "body", "not valid JSON: Expecting value at line 1 column 3"),
    (b"{", "S010", "body",
     "not valid JSON: Expecting property name enclosed in double quotes at line 1 column 2"),
    (b'{\n "itemId": "a",\n "reason": }', "S010", "body",
     "not valid JSON: Expecting value at line 3 column 12"),
    (b"\xff\xfe\xfa", "S010", "body", "not valid JSON: the body is not UTF-8 text"),
    (b"[" * 100_000, "S010", "body", "not valid JSON: it is nested too deeply"),
    (b"{}", "S011", "body.itemId", "required field 'itemId' is missing"),
    (b'{"itemId": 7}', "S013", "body.itemId", "expected text (a string), got number 7"),
    (b'{"itemId": ""}', "S014", "body.itemId", "expected text, got an empty string"),
    (b'{"itemId": "%s"}' % (b"x" * 2001), "S014", "body.itemId",
     "expected at most 2000 characters, got 2001"),
    (b'{"itemId": "a", "reasn": "r"}', "S012", "body.reasn",
     "unknown field 'reasn' (did you mean 'reason'?)"),
    (b'{"itemId": "a", "colour": 1}', "S012", "body.colour", "unknown field 'colour'"),
]  # fmt: skip


def test_wrong_bodies_are_worded_for_the_client(service: Callable[..., Running]) -> None:
    api = service(**ADMIN).client()
    for content, code, path, message in WRONG_BODIES:
        answer = _post(api, "/productOrder/X/skip", content, None)
        assert answer.status_code == 400, (content[:40], answer.text)
        assert answer.json()["issues"] == [{"code": code, "path": path, "message": message}]
        _assert_client_words(answer)


def test_nested_and_query_errors_are_worded_for_the_client(
    service: Callable[..., Running],
) -> None:
    api = service(**ADMIN).client()
    cancel = _post(api, "/cancelProductOrder", b'{"productOrder": "ORD-1"}', None)
    assert cancel.json()["issues"] == [
        {"code": "S013", "path": "body.productOrder", "message": "expected an object, got string "
         "'ORD-1'"}
    ]  # fmt: skip
    both = _post(api, "/tasks/x/reassign", b'{"frm": "a", "to": 5}', None)
    assert both.json()["issues"] == [
        {"code": "S012", "path": "body.frm", "message": "unknown field 'frm' (did you mean "
         "'from'?)"},
        {"code": "S013", "path": "body.to", "message": "expected text (a string), got number 5"},
    ]  # fmt: skip
    signal = _post(api, "/productOrder/X/signal", b'{"event": "e", "payload": [1]}', None)
    assert signal.json()["issues"][0]["message"] == "expected an object, got an array"
    for params, message in (
        ({"limit": "ten"}, "expected a whole number, got 'ten'"),
        ({"limit": "0"}, "expected a number of at least 1, got '0'"),
        ({"offset": "-1"}, "expected a number of at least 0, got '-1'"),
        ({"state": "x" * 1001}, "expected at most 1000 characters, got 1001"),
    ):
        answer = api.get("/productOrder", params=params)
        assert answer.status_code == 400
        issue = answer.json()["issues"][0]
        assert (issue["path"], issue["message"]) == (f"query.{next(iter(params))}", message)
        _assert_client_words(answer)


def test_the_size_limit_holds_whatever_the_content_type(service: Callable[..., Running]) -> None:
    running = service(max_body_bytes=4096)
    api = running.client()
    big = b'{"callback": "http://127.0.0.1:9/x", "query": "' + b"x" * 5000 + b'"}'
    for content_type in CONTENT_TYPES.values():
        answer = _post(api, "/hub", big, content_type)
        assert answer.status_code == 413 and answer.json()["code"] == "payloadTooLarge"
    assert running.runtime.hub.count() == 0


# Numbers JSON has no such thing as, or too large for an order, in every body read with a
# model: '@' marks where the number goes, and the path is where the issue points.
NUMBER_AT: dict[str, tuple[str, str]] = {
    "/cancelProductOrder": ('{"productOrder": {"id": "NOPE", "n": @}}', "body.productOrder.n"),
    "/hub": ('{"callback": "http://127.0.0.1:9/events", "n": @}', "body.n"),
    "/productInventory/v4/hub": ('{"callback": "http://127.0.0.1:9/p", "n": @}', "body.n"),
    "/productOrder/{id}/retry": ('{"itemId": "x", "reason": @}', "body.reason"),
    "/productOrder/{id}/skip": ('{"itemId": "x", "reason": @}', "body.reason"),
    "/productOrder/{id}/complete": ('{"itemId": "x", "outputs": {"n": @}}', "body.outputs.n"),
    "/productOrder/{id}/signal": ('{"event": "e", "payload": {"n": [1, @]}}',
                                  "body.payload.n[1]"),
    "/tasks/{id}/claim": ('{"user": @}', "body.user"),
    "/tasks/{id}/complete": ('{"outputs": {"n": @}}', "body.outputs.n"),
    "/tasks/{id}/fail": ('{"reason": @}', "body.reason"),
    "/tasks/{id}/reassign": ('{"from": "a", "to": @}', "body.to"),
    "/systems/{name}/offline": ('{"reason": @}', "body.reason"),
    "/systems/{name}/online": ('{"reason": @}', "body.reason"),
    "/fallout/retry": ('{"all": true, "reason": @}', "body.reason"),
    "/notifications/retry": ('{"all": true, "reason": @}', "body.reason"),
    "/prune": ('{"olderThan": "1d", "dryRun": @}', "body.dryRun"),
}  # fmt: skip
BAD_NUMBERS = {
    "NaN": "the number 'NaN' is not a JSON number (NaN and Infinity are not allowed)",
    "-Infinity": "the number '-Infinity' is not a JSON number (NaN and Infinity are not allowed)",
    "1e999": "the number '1e999' is too large for a number",
    "1" * 31: f"the number '{'1' * 31}' has 31 digits; the limit is 30",
    "9" * 5000: f"the number '{'9' * 36}... has 5000 digits; the limit is 30",
}


def test_every_route_with_a_model_body_is_checked_for_numbers() -> None:
    assert set(NUMBER_AT) == set(MODEL_ROUTES)


def test_nan_infinity_and_huge_numbers_are_a_400_on_every_model_route(
    service: Callable[..., Running],
) -> None:
    """As in an order (O004), whatever the route: Python's reader takes ``NaN`` and ``1e999``,
    so they reached the runtime (a 409 "Out of range float values are not JSON compliant"), a
    404 for an unknown order, or were ignored in a TMF extension field (the hub's 201)."""
    running = service(**ADMIN)
    api = running.client()
    for template, (text, path) in NUMBER_AT.items():
        for number, message in BAD_NUMBERS.items():
            content = text.replace("@", number).encode()
            answer = _post(api, BODIES[template][0], content, None)
            assert answer.status_code == 400, (template, number[:10], answer.text)
            error = answer.json()
            assert error["code"] == "invalidRequest", answer.text
            assert error["issues"] == [{"code": "O004", "path": path, "message": message}]
    assert running.runtime.hub.count() == 0


def test_a_number_json_lacks_is_a_400_on_a_live_task(service: Callable[..., Running]) -> None:
    """The tester's case: completing a waiting manual item with ``NaN`` was a 409 "rejected";
    it is the client's malformed request, and nothing changes."""
    running = service(**ADMIN)
    api = running.client()
    assert api.post("/productOrder", json=order_json("home-trio-tv")).status_code == 201
    task = wait_for(lambda: open_tasks(api, TRIO))[0]
    for path, body in (
        (f"/productOrder/{TRIO}/complete",
         b'{"itemId": "%s", "outputs": {"x": NaN}}' % task["itemId"].encode()),
        (f"/tasks/{task['id']}/complete", b'{"outputs": {"serial": Infinity}}'),
        (f"/productOrder/{TRIO}/signal", b'{"event": "number.ported", "payload": {"x": NaN}}'),
    ):  # fmt: skip
        answer = _post(api, path, body, "application/json")
        assert answer.status_code == 400, (path, answer.text)
        assert answer.json()["issues"][0]["code"] == "O004"
    assert [t["id"] for t in open_tasks(api, TRIO)] == [task["id"]]  # still open, unchanged
    anonymous = running.client(token="not-a-valid-token-0123456789")
    refused = anonymous.post(f"/tasks/{task['id']}/complete", content=b'{"outputs": {"x": NaN}}')
    assert refused.status_code == 401  # the token first: nothing about the body to a stranger
