"""What a security review of `om serve` found, each fixed and kept fixed, over real HTTP:
operator text that could forge log lines, a refused claim that was stored, downstream text
that could drive a terminal, secrets in encoded forms, routes that read a body before the
token check, and the dev mode's proxy headers."""

from __future__ import annotations

import base64
import contextlib
import http.server
import json
import logging
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from service_support import (
    REPO,
    TOKEN,
    Running,
    head_only,
    om_serve,
    open_tasks,
    order_json,
    stop_om_serve,
    wait_for,
    wait_state,
)

from om_dsl.oneline import escaped
from om_dsl.service.logs import JsonFormatter, TextFormatter

TRIO = "ORD-1004"
ACME = REPO / "examples" / "catalog" / "acme.om"
BILLING_TOKEN = "BILLSECRET-zq81Xk4PwR7tYv"
FORGED = "line1\r\n2026-11-28T22:31:40.000Z INFO om_dsl.service: order ORD-1004: task completed"


def _task(service: Callable[..., Running]) -> tuple[httpx.Client, dict[str, Any]]:
    """A client and the trio's first open field task."""
    api = service().client()
    assert api.post("/productOrder", json=order_json("home-trio-tv")).status_code == 201
    return api, wait_for(lambda: open_tasks(api, TRIO), what="the trio's task")[0]


def _refused(answer: httpx.Response, words: str) -> None:
    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == "invalidRequest"
    assert words in answer.json()["message"]


def _task_rows(api: httpx.Client) -> list[str]:
    events = api.get(f"/productOrder/{TRIO}/events").json()
    return [e["kind"] for e in events if e["kind"].startswith("task.")]


@pytest.mark.parametrize("reason", [FORGED, "r\x1b[31mX", "a\u2028b", "ok \u202edeifirev"])
def test_a_task_fail_reason_is_one_printable_line(
    service: Callable[..., Running], reason: str
) -> None:
    """`POST /tasks/{id}/fail` took CR/LF and escapes in its reason, which became the item's
    fallout reason in the text log and in `om events`: forged lines.  A 400 now, as every
    other operator reason, and the task is still open."""
    api, task = _task(service)
    answer = api.post(f"/tasks/{task['id']}/fail", json={"user": "alice", "reason": reason})
    _refused(answer, "a reason is one line of at most 1000 printable characters")
    assert api.get(f"/tasks/{task['id']}").json()["state"] == "open"


@pytest.mark.parametrize(
    "user, problem",
    [
        ("\u202eecila", "U+202E (a format character, such as a direction override)"),
        ("u\r\nX", "U+000D (a control character)"),
        ("alice\x1b[2J", "U+001B (a control character)"),
    ],
)
def test_a_bad_user_is_a_400_that_names_it_and_stores_nothing(
    service: Callable[..., Running], user: str, problem: str
) -> None:
    """A claim by a name with a right-to-left override answered 400 but was stored (the task
    held by a name displayed as "alice", with no event row); reassign took the name with a
    200; a newline in it was a 409 "at most 200 characters".  Now each is a 400 naming the
    character, and nothing changes."""
    api, task = _task(service)
    _refused(api.post(f"/tasks/{task['id']}/claim", json={"user": user}), problem)
    assert api.get(f"/tasks/{task['id']}").json()["claimedBy"] is None
    moved = api.post(f"/tasks/{task['id']}/reassign", json={"from": None, "to": user})
    _refused(moved, problem)
    _refused(api.post(f"/tasks/{task['id']}/fail", json={"user": user, "reason": "x"}), problem)
    assert api.get(f"/tasks/{task['id']}").json()["claimedBy"] is None
    assert _task_rows(api) == []


class Echo(http.server.BaseHTTPRequestHandler):
    """A downstream system whose every answer is a 400 (permanent for the acme systems) with
    a body that would drive a terminal and split a log line, and that quotes the bearer token
    it got in base64 (a debug dump of its headers)."""

    body = (
        "echo\r\n2026-11-28T00:00:00.000Z ERROR om_dsl.service: FORGED\x1b[31mRED\x1b]0;t\x07"
        "\u2028LS\u2029PS\x85NEL\x9b2J\u202eRLO"
    )

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        token = (self.headers.get("Authorization") or "").split(" ", 1)[-1].encode()
        dumps = (base64.b64encode(token), base64.urlsafe_b64encode(token).rstrip(b"="))
        data = b" ".join([b"b64=%s url64=%s" % dumps, self.body.encode()])
        self.send_response(400)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError):
            self.wfile.write(data)

    do_PUT = do_PATCH = do_GET = do_POST

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def echo() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def _held_log(tmp_path: Path, echo: str, fmt: str = "text") -> tuple[str, dict[str, Any]]:
    """The log of an `om serve` whose downstream systems all answer :class:`Echo`, once the
    fibre order is held on their answer, and the order's status."""
    environ = {"BILLING_URL": echo, "INVENTORY_URL": echo, "NETWORK_URL": echo,
               "BILLING_TOKEN": BILLING_TOKEN, "OM_LOG_FORMAT": fmt}  # fmt: skip
    process, url = om_serve(ACME, tmp_path / "om.db", environ)
    try:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}) as api:
            assert api.post("/productOrder", json=order_json("fibre-modify")).status_code == 201
            assert wait_state(api, "ORD-1002", {"held", "completed"}) == "held"
            status = api.get("/productOrder/ORD-1002/status").json()
    finally:
        log = stop_om_serve(process)
    return log, status


UNSAFE = ["\x1b", "\x07", "\u2028", "\u2029", "\x85", "\x9b", "\u202e"]


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_downstream_text_cannot_drive_a_terminal_or_split_a_log_line(
    tmp_path: Path, echo: str, fmt: str
) -> None:
    """A downstream error body's ESC sequences and U+2028 reached the text log raw (CR/LF
    were folded): `tail -f` repainted the terminal.  They are escaped now, in the reason the
    store keeps and in both log formats, and every line of the log is still one event."""
    log, status = _held_log(tmp_path, echo, fmt)
    assert "FORGED" in log, log
    assert not [ch for ch in UNSAFE if ch in log], log
    lines = log.splitlines()
    assert not [line for line in lines if line.startswith("2026-11-28T00:00:00")]
    reasons = " ".join(str(item.get("reason")) for item in status["items"])
    assert "FORGED\\x1b[31mRED" in reasons and "\\u202eRLO" in reasons, reasons
    if fmt == "text":
        assert "FORGED\\x1b[31mRED\\x1b]0;t\\x07 LS PS NEL\\x9b2J\\u202eRLO" in log, log


def _record(message: str, exc: bool = False) -> logging.LogRecord:
    info = None
    if exc:
        try:
            raise ValueError("boom")
        except ValueError:
            info = sys.exc_info()
    return logging.LogRecord("om_dsl.service", logging.INFO, "", 0, "%s", (message,), info)


def test_the_text_log_escapes_what_is_not_printable_and_keeps_a_traceback_s_lines() -> None:
    text = "a\r\nb\x1b[2Jc\u2028d\u202ee\U000e0001f\tg é中"
    line = TextFormatter().format(_record(text))
    assert line.endswith(r"a\r\nb\x1b[2Jc\u2028d\u202ee\U000e0001f\tg " + "é中"), line
    assert len(line.splitlines()) == 1 and line.isprintable()
    with_traceback = TextFormatter().format(_record("x\ny", exc=True))
    assert with_traceback.splitlines()[0].endswith(r"x\ny")
    assert "Traceback (most recent call last):" in with_traceback.splitlines()[1]
    assert escaped("plain text, é and 中") == "plain text, é and 中"


def test_the_json_log_writes_separators_and_overrides_as_escapes() -> None:
    text = "a\u2028b\x85c\x7fd\u202ee\U000e0001f é"
    line = JsonFormatter().format(_record(text))
    assert line.isprintable() and json.loads(line)["message"] == text


def test_the_base64_of_a_bearer_token_is_redacted(tmp_path: Path, echo: str) -> None:
    """Only basic auth's pair was hidden in base64: a system that quoted the bearer token it
    got base64-encoded put it in the log, `GET /fallout`, `/status` and the store."""
    log, status = _held_log(tmp_path, echo)
    token = BILLING_TOKEN.encode()
    forms = {base64.b64encode(token), base64.urlsafe_b64encode(token).rstrip(b"=")}
    assert "b64=*** url64=***" in log, log
    kept = [log.encode(), json.dumps(status).encode()]
    kept += [path.read_bytes() for path in tmp_path.iterdir() if path.is_file()]
    assert not [form for form in forms for text in kept if form in text]
    assert not [text for text in kept if token in text]


BODY_ROUTES = [
    "/hub",
    "/tmf-api/productOrderingManagement/v4/hub",
    "/cancelProductOrder",
    "/productOrder/ORD-1004/retry",
    "/productOrder/ORD-1004/signal",
    "/fallout/retry",
    "/tasks/T1JELTEwMDQ/complete",
    "/systems/Billing/offline",
    "/notifications/retry",
    "/prune",
    "/productOrder",
]


@pytest.mark.parametrize("path", BODY_ROUTES)
def test_a_request_without_a_valid_token_is_refused_before_its_body_is_read(
    service: Callable[..., Running], path: str
) -> None:
    """FastAPI reads a route's body before its dependencies (the token check): without a
    token, most POST routes waited for the whole body, and a client could hold a connection
    by trickling one.  The token is checked first now: a 401 at once, connection closed."""
    running = service()
    for authorization in ("", "Authorization: Bearer not-a-valid-token-at-all\r\n"):
        answer = head_only(running.url, path, authorization)
        assert answer.startswith(b"HTTP/1.1 401 "), (path, answer)
        head = answer.split(b"\r\n\r\n", 1)[0].lower()
        assert b"www-authenticate: bearer" in head and b"connection: close" in head
    valid = running.client().post(path, content=b"{}")
    assert valid.status_code != 401, valid.text  # the token still lets a client in


REMOTE = [
    {"Forwarded": "for=8.8.8.8"},
    {"Forwarded": 'for="[2001:db8::1]:4711";proto=https'},
    {"Forwarded": "for=127.0.0.1, for=8.8.8.8:443"},
    {"Forwarded": "for=unknown"},
    {"X-Real-IP": "8.8.8.8"},
    {"X-Forwarded-For": "127.0.0.1, 8.8.8.8"},
]
LOCAL = [{"Forwarded": 'for="[::1]:5000"'}, {"X-Real-IP": "127.0.0.1"}, {"Forwarded": "by=x"}]


def test_dev_mode_refuses_a_remote_client_named_by_any_proxy_header(
    service: Callable[..., Running],
) -> None:
    """Dev mode refused a local proxy's `X-Forwarded-For: 8.8.8.8` (uvicorn makes it the
    client) but took `Forwarded: for=8.8.8.8` and `X-Real-IP: 8.8.8.8`: a proxy that used
    them let remote clients into the open API.  Every address any of them names must be on
    loopback; one it cannot know (``unknown``) is not."""
    running = service(tokens={})
    api = running.client(token="")
    for headers in REMOTE:
        answer = api.get("/productOrder", headers=headers)
        assert answer.status_code == 403, (headers, answer.text)
        assert answer.json()["message"] == "dev mode (no API tokens) serves loopback only"
        refused = api.post("/hub", json={"callback": "http://127.0.0.1:9/x"}, headers=headers)
        assert refused.status_code == 403, headers
    for headers in LOCAL:
        assert api.get("/productOrder", headers=headers).status_code == 200, headers
    assert api.get("/hub").json() == []  # nothing was registered
    with_token = service(tokens={"crm": "a-token-of-the-crm-0123456789"}).client()
    assert with_token.get("/productOrder", headers=REMOTE[0]).status_code == 200


LONG = "A" * 5000
LONG_ID_PATHS = [
    f"/productOrder/{LONG}",
    f"/productOrder/{LONG}/status",
    f"/productOrder/{LONG}/events",
    f"/cancelProductOrder/{LONG}",
    f"/productInventory/v4/product/{LONG}",
    f"/hub/{LONG}",
    f"/systems/{LONG}",
]


@pytest.mark.parametrize("path", LONG_ID_PATHS)
def test_a_404_quotes_the_first_64_characters_of_an_unknown_id(
    service: Callable[..., Running], path: str
) -> None:
    """`GET /productOrder/<60,000 characters>` answered a 404 that echoed all of them."""
    answer = service().client().get(path)
    assert answer.status_code == 404, answer.text
    message = answer.json()["message"]
    assert "A" * 63 in message and "A" * 65 not in message and "…" in message, message
    assert len(message) < 200, message


HUB = {"callback": "http://127.0.0.1:9/events"}
SHARED = Path("/work/shared/tmf")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_a_body_that_is_not_utf8_is_refused(service: Callable[..., Running], encoding: str) -> None:
    """`POST /hub` with a UTF-16 body registered its listener (Python's reader takes UTF-16
    and UTF-32); the docs say a body that is not UTF-8 text is a 400 (S010)."""
    api = service().client()
    answer = api.post("/hub", content=json.dumps(HUB).encode(encoding))
    assert answer.status_code == 400, answer.text
    (issue,) = answer.json()["issues"]
    assert (issue["code"], issue["path"]) == ("S010", "body")
    assert "not UTF-8 text" in issue["message"]
    assert api.get("/hub").json() == []
    with_bom = api.post("/hub", content=json.dumps(HUB).encode("utf-8-sig"))
    assert with_bom.status_code == 201, with_bom.text  # RFC 8259: a UTF-8 BOM may be ignored


def test_a_key_given_twice_is_refused_with_its_path(service: Callable[..., Running]) -> None:
    """`{"reason": "a", "reason": "b"}` kept "b"; a reader that keeps the first value (an
    audit tool) saw another request.  A 400 (S026) naming each repeated key, as an order's
    O014, and nothing is done."""
    api, task = _task(service)
    twice = '{"user": "alice", "reason": "a", "reason": "b", "user": "bob"}'
    answer = api.post(f"/tasks/{task['id']}/fail", content=twice)
    assert answer.status_code == 400, answer.text
    issues = [(i["code"], i["path"]) for i in answer.json()["issues"]]
    assert issues == [("S026", "body.reason"), ("S026", "body.user")]
    assert "the key 'reason' is given 2 times in this object" in answer.json()["message"]
    nested = '{"user": "alice", "outputs": {"serial": "S1", "serial": "S2"}}'
    answer = api.post(f"/tasks/{task['id']}/complete", content=nested)
    assert [(i["code"], i["path"]) for i in answer.json()["issues"]] == [
        ("S026", "body.outputs.serial")
    ]
    assert api.get(f"/tasks/{task['id']}").json()["state"] == "open"


@pytest.mark.parametrize(
    ("body", "code"),
    [(json.dumps({"done": True}).encode("utf-16"), "S010"), (b'{"a": 1, "a": 2}', "S026")],
    ids=["utf-16", "key-twice"],
)
def test_the_callback_route_takes_the_same_body_checks(
    service: Callable[..., Running], body: bytes, code: str
) -> None:
    """`POST /callbacks/{token}` read UTF-16 and repeated keys where every other body of the
    service refused them; it answers in the callback's own shape, with the same code."""
    answer = service().client(token="").post("/callbacks/made-up-token", content=body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == code
    assert f"[{code}]" in answer.json()["error"]


def test_the_tmf622_samples_still_pass_unchanged(service: Callable[..., Running]) -> None:
    api = service().client()
    created = api.post("/productOrder", content=(SHARED / "ProductOrder.example.json").read_bytes())
    assert created.status_code == 201, created.text
    cancel = api.post(
        "/cancelProductOrder", content=(SHARED / "CancelProductOrder.example.json").read_bytes()
    )
    assert cancel.status_code == 404, cancel.text  # read, and its order is unknown here
