"""Invalid requests get TMF error bodies (400 with JSON paths, 404, 409) and change nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from service_support import Running, order_json

from om_dsl.orders.decompose import Decomposer
from om_dsl.runtime import Runtime

METADATA = "http://169.254.169.254/latest/meta-data/"
UNKNOWN_OFFER = {"id": "1", "action": "add", "productOffering": {"id": "nope"}}
NATIVE = {"id": "X3", "items": [{"id": "1", "product": "HomeFibre"}], "colour": "red"}
TWICE = [{"id": "1", "product": "HomeFibre"}, {"id": "1", "product": "HomeFibre"}]
BAD_ORDERS: list[tuple[str, bytes | dict[str, Any], str]] = [
    ("not JSON", b"{'id': 1", ""),
    ("empty", b"", ""),
    ("a list", b"[1, 2]", ""),
    ("no items", {"id": "X1", "productOrderItem": []}, "productOrderItem"),
    ("unknown offering", {"id": "X2", "productOrderItem": [UNKNOWN_OFFER]}, "productOrderItem[0]"),
    ("bad native field", NATIVE, "colour"),
    ("a slash in the id", order_json("fibre-modify", id="A/B"), "id"),
    ("a trailing blank in the id", order_json("fibre-modify", id="TRAIL "), "id"),
    ("a blank in the id", order_json("fibre-modify", id="mid dle"), "id"),
    ("a control character in the id", order_json("fibre-modify", id="bell\x07"), "id"),
    ("a query mark in the id", order_json("fibre-modify", id="q?x"), "id"),
    ("a fragment mark in the id", order_json("fibre-modify", id="f#x"), "id"),
    ("a percent sign in the id", order_json("fibre-modify", id="pct%2Fx"), "id"),
    ("a dot segment as the id", order_json("fibre-modify", id=".."), "id"),
    ("a non-ASCII id", order_json("fibre-modify", id="Bestellung-\u00e4"), "id"),
    ("an empty id", order_json("fibre-modify", id=""), "id"),
    ("a hostile listener", order_json("fibre-modify", notify=["file:///etc/passwd"]), "notify"),
    ("a metadata listener", order_json("fibre-modify", notify=[METADATA]), "notify"),
    ("an item id used twice", order_json("home-duo-add", items=TWICE), "items[1]"),
]


def _snapshot(runtime: Runtime) -> tuple[Any, ...]:
    return (runtime.orders(), runtime.events(), runtime.hub.count(), runtime.tasks.list())


@pytest.mark.parametrize("name, body, path", BAD_ORDERS, ids=[b[0] for b in BAD_ORDERS])
def test_an_invalid_order_is_a_400_with_paths_and_stores_nothing(
    service: Callable[..., Running], name: str, body: bytes | dict[str, Any], path: str
) -> None:
    running = service()
    api = running.client()
    before = _snapshot(running.runtime)
    content = body if isinstance(body, bytes) else None
    answer = api.post("/productOrder", content=content, json=None if content else body)
    assert answer.status_code == 400, answer.text
    error = answer.json()
    assert error["@type"] == "Error" and error["status"] == "400"
    assert error["code"] in ("invalidOrder", "decompositionFailed")
    assert error["reason"] == "Bad Request" and error["message"]
    assert error["issues"] and all({"code", "path", "message"} <= set(i) for i in error["issues"])
    if path:
        assert any(i["path"].startswith(path) for i in error["issues"]), error["issues"]
    assert _snapshot(running.runtime) == before


def test_a_duplicate_order_is_a_409_and_changes_nothing(service: Callable[..., Running]) -> None:
    running = service()
    api = running.client()
    assert api.post("/productOrder", json=order_json("fibre-modify")).status_code == 201
    first = api.get("/productOrder/ORD-1002/status").json()
    again = api.post("/productOrder", json=order_json("fibre-modify"))
    assert again.status_code == 409 and again.json()["code"] == "duplicateOrder", again.text
    assert again.headers["Location"].endswith("/productOrder/ORD-1002")
    assert len(running.runtime.orders()) == 1
    assert api.get("/productOrder/ORD-1002/status").json()["created_at"] == first["created_at"]


def test_unknown_ids_are_404(service: Callable[..., Running]) -> None:
    api = service().client()
    for path in ("/productOrder/NOPE", "/productOrder/NOPE/status", "/productOrder/NOPE/events",
                 "/hub/nope", "/tasks/%%%", "/tasks/Tk9QRR9ub3BlOng", "/systems/Nope",
                 "/no/such/route"):  # fmt: skip
        answer = api.get(path)
        assert answer.status_code == 404, (path, answer.text)
        assert answer.json()["code"] == "notFound"
    assert api.delete("/hub/nope").status_code == 404
    assert api.post("/productOrder/NOPE/retry", json={"itemId": "x"}).status_code == 404
    claim = api.post("/tasks/Tk9QRR9ub3BlOng/claim", json={"user": "alice"})
    assert claim.status_code == 404


# (the path as sent, how the message shows the id): uvicorn decodes a %FF that is not UTF-8
# into U+FFFD, so the message used to read "no task \ufffd\ufffd".
NOT_TASK_IDS = [
    ("/tasks/%FF%FE", "'%FF%FE'"),  # not UTF-8 once percent-decoded
    ("/tasks/gA", "'gA'"),  # base64 of the byte 0x80: not UTF-8 once decoded
    ("/tasks/a%00b", "'a%00b'"),  # a control character
    ("/tasks/%C3%A9t%C3%A9", "'%C3%A9t%C3%A9'"),  # not base64
    ("/tasks/" + "A" * 2000, "'" + "A" * 63 + "…"),  # too long: cut as every 404's id
]


def test_an_id_that_is_no_task_is_quoted_as_the_client_sent_it(
    service: Callable[..., Running],
) -> None:
    running = service()
    api = running.client()
    for path, shown in NOT_TASK_IDS:
        for method, suffix, body in (("GET", "", None), ("POST", "/claim", {"user": "alice"})):
            url = httpx.URL(running.url + path + suffix)  # the escapes exactly as written
            answer = api.send(api.build_request(method, url, json=body))
            assert answer.status_code == 404, (path, answer.text)
            message = answer.json()["message"]
            assert message == f"no task {shown}: a task id is one that GET /tasks lists", path
            assert "\ufffd" not in message and "\x00" not in message


def test_an_empty_id_is_no_id_for_tmf622_and_refused_for_native(
    service: Callable[..., Running],
) -> None:
    """A TMF622 order's ``"id": ""`` (or null) is no id, on create and on PATCH alike; a
    native order needs one.  The empty id used to get a po- id of its own (so the same payload
    made two orders), and a PATCH with it was a 400 O071 ("the revision is for order po-...")."""
    running = service()
    api = running.client()
    for system in api.get("/systems").json():  # the orders stay in flight, to be amended
        assert api.post(f"/systems/{system['name']}/offline").status_code == 200
    sample = order_json("tmf622-product-order")
    del sample["id"]
    created = api.post("/productOrder", json=sample)
    assert created.status_code == 201, created.text
    derived = created.json()["id"]
    assert derived.startswith("po-")
    for empty in ("", None):
        again = api.post("/productOrder", json={**sample, "id": empty})
        assert again.status_code == 409, again.text
        assert again.json()["code"] == "duplicateOrder", again.text
        assert again.json()["message"].startswith(f"order {derived} exists already")
    # the sample says "state": "completed", which a PATCH may not ask for (S020): it goes
    revision = {k: v for k, v in sample.items() if k != "state"}
    revised = api.patch(f"/productOrder/{derived}", json={**revision, "id": ""})
    assert revised.status_code == 200, revised.text
    assert revised.json()["id"] == derived

    native = order_json("fibre-modify")
    del native["id"]
    for body, code, message in (
        (native, "O010", "required field 'id' is missing"),
        ({**native, "id": ""}, "O012", "expected text, got an empty string"),
    ):
        refused = api.post("/productOrder", json=body)
        assert refused.status_code == 400, refused.text
        assert refused.json()["issues"] == [{"code": code, "path": "id", "message": message}]
    assert api.post("/productOrder", json={**native, "id": "NAT-1"}).status_code == 201
    patched = api.patch("/productOrder/NAT-1", json={**native, "id": ""})
    assert patched.status_code == 400 and patched.json()["issues"][0]["code"] == "O012"
    assert [o.id for o in running.runtime.orders()] == [derived, "NAT-1"]


def test_illegal_state_changes_are_409(service: Callable[..., Running]) -> None:
    running = service()
    api = running.client()
    assert api.post("/productOrder", json=order_json("home-trio-tv")).status_code == 201
    status = api.get("/productOrder/ORD-1004/status").json()
    item = status["items"][0]["id"]
    for action, body in (("retry", {"itemId": item}), ("skip", {"itemId": item}),
                         ("complete", {"itemId": item, "outputs": {}})):  # fmt: skip
        answer = api.post(f"/productOrder/ORD-1004/{action}", json=body)
        assert answer.status_code == 409, (action, answer.text)
        assert answer.json()["code"] == "rejected" and "cannot" in answer.json()["message"]


def test_invalid_request_bodies_and_parameters_are_400(service: Callable[..., Running]) -> None:
    api = service().client()
    bad_hub = api.post("/hub", json={"callback": "ftp://example.com/x"})
    assert bad_hub.status_code == 400 and bad_hub.json()["code"] == "invalidListener"
    bad_query = api.post("/hub", json={"callback": "http://127.0.0.1:9/x", "query": "colour=1"})
    assert bad_query.status_code == 400
    no_callback = api.post("/hub", json={"query": "state=completed"})
    assert no_callback.status_code == 400
    assert no_callback.json()["issues"][0]["path"] == "body.callback"
    typo = api.post("/productOrder/X/signal", json={"event": "e", "payloda": {}})
    assert typo.status_code == 400 and "payloda" in typo.text
    for params in ({"limit": 0}, {"offset": -1}, {"limit": "ten"}):
        assert api.get("/productOrder", params=params).status_code == 400, params
    huge = api.get("/productOrder", params={"limit": 10**6})
    assert huge.status_code == 200  # clamped to the largest page
    not_json = api.post("/hub", content=b"{", headers={"content-type": "application/json"})
    assert not_json.status_code == 400 and not_json.json()["@type"] == "Error"


BAD_LISTENERS = [
    ("no host", "http:///events"),
    ("not http", "mailto:ops@example.com"),
    ("a relative URL", "/events"),
    ("cloud metadata", METADATA),
    ("link-local", "http://169.254.10.20:8080/events"),
    ("link-local, as one number", "http://2852039166/"),
    ("link-local, in hex", "http://0xa9.0xfe.0xa9.0xfe/"),
    ("IPv6 link-local", "http://[fe80::1]/events"),
    ("IPv4-mapped link-local", "http://[::ffff:169.254.169.254]/"),
    ("a metadata name", "http://metadata.google.internal/computeMetadata/v1/"),
    ("no address", "http://0.0.0.0:9/events"),
    ("NAT64 link-local", "http://[64:ff9b::a9fe:a9fe]/"),
    ("IPv4-translated link-local", "http://[::ffff:0:a9fe:a9fe]/"),
    ("IPv4-compatible link-local", "http://[::169.254.169.254]/"),
    ("IPv4-compatible link-local, in hex", "http://[::a9fe:a9fe]/"),
    ("local-use NAT64 link-local", "http://[64:ff9b:1::a9fe:a9fe]/"),
    ("local-use NAT64 link-local, /48 layout", "http://[64:ff9b:1:a9fe:a9:fe00::]/"),
    ("local-use NAT64 link-local, /56 layout", "http://[64:ff9b:1:ffa9:fe:a9fe::]/"),
    ("6to4 link-local", "http://[2002:a9fe:a9fe::]/"),
    ("Teredo link-local client", "http://[2001:0:4136:e378:8000:63bf:5601:5601]/"),
    ("percent-encoded link-local", "http://%31%36%39.254.169.254/"),
    ("a port out of range", "http://127.0.0.1:99999/events"),
    ("a negative port", "http://127.0.0.1:-1/events"),
]


@pytest.mark.parametrize("url", [b[1] for b in BAD_LISTENERS], ids=[b[0] for b in BAD_LISTENERS])
def test_unusable_listener_urls_are_refused(service: Callable[..., Running], url: str) -> None:
    running = service()
    answer = running.client().post("/hub", json={"callback": url})
    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == "invalidListener"
    assert running.runtime.hub.count() == 0


def test_hub_queries_that_can_never_match_are_refused(service: Callable[..., Running]) -> None:
    running = service()
    api = running.client()
    url = "http://127.0.0.1:9/events"
    bogus = api.post("/hub", json={"callback": url, "query": "eventType=Bogus"})
    assert bogus.status_code == 400, bogus.text
    message = bogus.json()["message"]
    assert "Bogus" in message
    assert "ProductOrderCreateEvent" in message and "ProductOrderStateChangeEvent" in message
    for query in ("state=finished", "productOrder.state=completed,done", "eventType=", "id="):
        answer = api.post("/hub", json={"callback": url, "query": query})
        assert answer.status_code == 400, (query, answer.text)
        assert answer.json()["code"] == "invalidListener"
    assert running.runtime.hub.count() == 0
    good = "eventType=ProductOrderStateChangeEvent&state=completed,cancelled&id=crm:ORD-1"
    assert api.post("/hub", json={"callback": url, "query": good}).status_code == 201
    private_urls = ("http://10.1.2.3:8080/events", "http://[::1]:9/events",
                    "http://[2002:a01:203::]/", "http://[64:ff9b:1:a01:2:300::]/")  # fmt: skip
    for private in private_urls:
        assert api.post("/hub", json={"callback": private}).status_code == 201, private


def test_hub_registrations_round_trip(service: Callable[..., Running]) -> None:
    api = service().client()
    plain = api.post("/hub", json={"callback": "http://127.0.0.1:9/all"})
    assert plain.status_code == 201
    assert plain.json() == {**plain.json(), "query": None}
    assert plain.headers["location"].endswith(f"/hub/{plain.json()['id']}")
    assert api.get(f"/hub/{plain.json()['id']}").json() == plain.json()
    assert api.delete(f"/hub/{plain.json()['id']}").status_code == 204
    created = api.post(
        "/hub", json={"callback": "http://127.0.0.1:9/events", "query": "state=completed"}
    )
    assert created.status_code == 201
    sub = created.json()
    assert api.get(f"/hub/{sub['id']}").json() == sub
    assert api.get("/hub").json() == [sub]
    assert api.delete(f"/hub/{sub['id']}").status_code == 204
    assert api.get("/hub").json() == []


def test_an_id_with_path_safe_punctuation_round_trips(service: Callable[..., Running]) -> None:
    running = service()
    api = running.client()
    order_id = "crm:ORD_2026-01.x~y@lyon"
    created = api.post("/productOrder", json=order_json("fibre-modify", id=order_id))
    assert created.status_code == 201, created.text
    href = created.json()["href"]
    assert href == f"{running.url}/productOrder/{quote(order_id, safe='')}"
    assert created.headers["location"] == href
    assert created.json()["id"] == order_id
    found = api.get(href)
    assert found.status_code == 200 and found.json()["id"] == order_id
    assert api.get(f"{href}/status").json()["id"] == order_id
    listed = api.get("/productOrder", params={"fields": "state"}).json()
    assert [o["href"] for o in listed] == [href]


def test_ids_stored_before_the_rule_get_hrefs_that_round_trip(
    service: Callable[..., Running],
) -> None:
    """The href is percent-encoded whatever the id, so orders an embedder submitted straight to
    the runtime (no service check) can still be read at their href."""
    running = service()
    api = running.client()
    decomposer = Decomposer(running.runtime.catalog)
    for order_id in ("q?x", "pct%2Fx", "mid dle", "a/b"):
        order = decomposer.read(order_json("fibre-modify", id=order_id))
        running.runtime.submit(decomposer.decompose(order), order)
        href = api.get("/productOrder", params={"fields": "id"}).json()[-1]["href"]
        assert href == f"{running.url}/productOrder/{quote(order_id, safe='')}"
        if "/" not in order_id:  # a path segment cannot hold a '/', even encoded
            answer = api.get(href)
            assert answer.status_code == 200 and answer.json()["id"] == order_id, href


REPEATED = [
    ("/productOrder", "state=completed&state=held", "state", "state=completed,held"),
    ("/productOrder", "fields=state&fields=note", "fields", "fields=state,note"),
    ("/productOrder", "limit=1&offset=0&limit=2", "limit", None),
    ("/productOrder", "externalId=Q-1&externalId=Q-2", "externalId", None),
    ("/productOrder/ORD-1002", "fields=state&fields=note", "fields", "fields=state,note"),
    ("/tmf-api/productOrderingManagement/v4/productOrder", "state=held&state=held", "state", None),
    ("/cancelProductOrder", "offset=1&offset=2", "offset", None),
    ("/cancelProductOrder/cpo-1", "fields=state&fields=state", "fields", None),
    ("/productOrder/ORD-1002/events", "afterSeq=0&afterSeq=1", "afterSeq", None),
    ("/productOrder/ORD-1002/plan.svg", "collapse=1&collapse=2", "collapse", None),
    ("/tasks", "queue=a&queue=b", "queue", None),
]


@pytest.mark.parametrize(("path", "query", "name", "hint"), REPEATED)
def test_a_query_parameter_given_twice_is_a_400(
    service: Callable[..., Running], path: str, query: str, name: str, hint: str | None
) -> None:
    """A repeated parameter used to be collapsed to its last value, so `state=completed&
    state=held` listed only the held orders: a wrong answer rather than the union the client
    meant.  Every route with query parameters refuses it, naming it, before any lookup."""
    running = service()
    api = running.client()
    assert api.post("/productOrder", json=order_json("fibre-modify")).status_code == 201
    answer = api.get(f"{path}?{query}")
    assert answer.status_code == 400, answer.text
    error = answer.json()
    assert (error["code"], error["@type"]) == ("invalidRequest", "Error")
    [issue] = error["issues"]
    assert (issue["code"], issue["path"]) == ("S019", f"query.{name}")
    assert name in issue["message"] and "once" in issue["message"]
    if hint:
        assert "comma-separated" in issue["message"] and hint in issue["message"]
    assert running.client(token="").get(f"{path}?{query}").status_code == 401  # the token first


def test_a_repeated_parameter_a_route_does_not_read_is_not_a_repetition_error(
    service: Callable[..., Running],
) -> None:
    """Only the parameters a route reads are checked: one it does not read is the route's
    unknown parameter (S016), or ignored where the route takes any (the hub)."""
    api = service().client()
    assert api.get("/hub?x=1&x=2").status_code == 200
    for path in ("/productOrder?colour=red&colour=blue", "/systems?x=1&x=2"):
        unknown = api.get(path)
        assert [i["code"] for i in unknown.json()["issues"]] == ["S016"], path


# (path, query, what the message says the route reads): each operations route refuses a
# query parameter it does not read, as the TMF lists do; they used to answer as if it were
# not there (`?queu=` listed every queue's tasks).
UNREAD_PARAMETERS = [
    ("/tasks", {"queu": "field_techs"}, "this route reads queue"),
    (
        "/fallout",
        {"sytem": "Billing"},
        "this route reads system, orderId, itemIdPattern, product, offset, limit",
    ),
    ("/productOrder/{id}/events", {"foo": "1"}, "this route reads afterSeq, limit"),
    ("/productOrder/{id}/status", {"verbose": "1"}, "this route reads none"),
    ("/productOrder/{id}/plan.svg", {"colapse": "2"}, "this route reads collapse"),
    ("/systems", {"name": "Billing"}, "this route reads none"),
    ("/cancelProductOrder", {"state": "done"}, "this route reads offset, limit, fields"),
    ("/productOrder/{id}", {"state": "completed"}, "this route reads fields"),  # was ignored
]


@pytest.mark.parametrize(("path", "query", "reads"), UNREAD_PARAMETERS)
def test_a_query_parameter_the_route_does_not_read_is_a_400(
    service: Callable[..., Running], path: str, query: dict[str, str], reads: str
) -> None:
    api = service().client()
    answer = api.get(path.replace("{id}", "ORD-1"), params=query)
    assert answer.status_code == 400, answer.text
    (issue,) = answer.json()["issues"]
    assert (issue["code"], issue["path"]) == ("S016", "query")
    assert issue["message"] == f"unknown query parameter(s) {next(iter(query))}; {reads}"
    operation = api.get("/openapi.json").json()["paths"][path]["get"]
    assert "400" in operation["responses"]  # declared, so the document says what it answers


def test_a_queue_no_catalog_declares_is_a_400_with_a_suggestion(
    service: Callable[..., Running],
) -> None:
    api = service().client()
    assert api.get("/tasks", params={"queue": "field_techs"}).json() == []
    for queue, hint in (
        ("field_tech", "did you mean 'field_techs'?"),
        ("nope", "they declare field_techs, provisioning_desk"),
    ):
        answer = api.get("/tasks", params={"queue": queue})
        assert answer.status_code == 400, answer.text
        (issue,) = answer.json()["issues"]
        assert (issue["code"], issue["path"]) == ("S021", "query.queue")
        assert issue["message"] == f"queue '{queue}' is not declared by the catalog(s); {hint}"
