"""Every request body is read as JSON whatever its Content-Type says (``curl -d @x.json`` sends
``application/x-www-form-urlencoded``, some clients send none), and a body that is not JSON, or
not the JSON a route takes, is a 400 TMF error worded for the client: a stable code, a JSON path
and JSON terms, never pydantic's wording.  Against the real service."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from service_support import Running, order_json

UNKNOWN_TASK = "Tk9QRR9ub3BlOng"
UNKNOWN_ORDER = "NOPE"
# (path template, a valid body, the answer it gets): a 404 comes from the route's handler, so
# the body was read and validated first.
BODIES: dict[str, tuple[str, dict[str, Any], int]] = {
    "/productOrder": ("/productOrder", {}, 201),  # the order is made per request below
    "/productOrder/{id}": (f"/productOrder/{UNKNOWN_ORDER}", {}, 404),  # PATCH: the same
    "/cancelProductOrder": ("/cancelProductOrder", {"productOrder": {"id": UNKNOWN_ORDER}}, 404),
    "/hub": ("/hub", {"callback": "http://127.0.0.1:9/events", "query": "state=completed"}, 201),
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
    "/callbacks/{token}": ("/callbacks/no-such-token", {"done": True}, 404),
}  # fmt: skip
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
    document = service().client().get("/openapi.json").json()
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
    running = service()
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
    api = service().client()
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
    api = service().client()
    for content, code, path, message in WRONG_BODIES:
        answer = _post(api, "/productOrder/X/skip", content, None)
        assert answer.status_code == 400, (content[:40], answer.text)
        assert answer.json()["issues"] == [{"code": code, "path": path, "message": message}]
        _assert_client_words(answer)


def test_nested_and_query_errors_are_worded_for_the_client(
    service: Callable[..., Running],
) -> None:
    api = service().client()
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
