"""Authentication, dev mode, body limits and secrets, against the real service."""

from __future__ import annotations

import logging
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.security import HTTPAuthorizationCredentials
from service_support import (
    OPS_TOKEN,
    REPO,
    TOKEN,
    Running,
    Sims,
    acme,
    om_serve,
    order_bytes,
    order_json,
    stop_om_serve,
    wait_for,
    wait_state,
)
from typer.testing import CliRunner, Result

from om_dsl import cli
from om_dsl.ir.io import dump_ir, with_hash
from om_dsl.service.auth import TokenCheck
from om_dsl.service.config import ServiceConfig, read_tokens
from om_dsl.service.errors import ApiError
from om_dsl.service.logs import RedactCallbackTokens
from om_dsl.service.slow_clients import BusyLog

API_CALLS = [
    ("GET", "/productOrder"),
    ("POST", "/productOrder"),
    ("GET", "/productOrder/30001"),
    ("GET", "/productOrder/30001/plan.svg"),
    ("GET", "/productOrder/30001/events"),
    ("POST", "/cancelProductOrder"),
    ("POST", "/hub"),
    ("GET", "/tasks"),
    ("GET", "/systems"),
    ("POST", "/systems/Billing/offline"),
    ("GET", "/fallout"),
    ("POST", "/fallout/retry"),
    ("GET", "/metrics"),
    ("GET", "/notifications"),
    ("POST", "/notifications/retry"),
    ("POST", "/prune"),
]


def test_every_api_route_needs_a_valid_token(service: Callable[..., Running]) -> None:
    running = service()
    anonymous = running.client(token="")
    wrong = running.client(token="not-the-token-at-all-000000")
    for method, path in API_CALLS:
        for client in (anonymous, wrong):
            answer = client.request(method, path, json={})
            assert answer.status_code == 401, (method, path, answer.text)
            assert answer.json()["code"] == "unauthorized"
            assert answer.headers["www-authenticate"] == "Bearer"
            assert "not-the-token" not in answer.text
    basic = running.client(token="").get("/tasks", headers={"Authorization": f"Basic {TOKEN}"})
    assert basic.status_code == 401
    assert running.client().get("/tasks").status_code == 200
    assert running.runtime.systems.status("Billing").offline is False


@pytest.mark.parametrize("token", ["", None])
def test_a_trailing_slash_is_an_unknown_path_not_a_redirect(
    service: Callable[..., Running], token: str | None
) -> None:
    """Starlette redirected `/productOrder/O1/` (307) to the client's own Host header, before
    authentication and outside the OpenAPI document; it is a 404 like any unknown path."""
    running = service()
    client = running.client(token=token, follow_redirects=False)
    unknown = client.get("/no-such-path", headers={"Host": "evil.example"})
    assert (unknown.status_code, unknown.json()["code"]) == (404, "notFound")
    for path in ["/productOrder/O1/", "/productOrder/", "/health/", "/tasks/",
                 "/tmf-api/productOrderingManagement/v4/productOrder/"]:  # fmt: skip
        answer = client.get(path, headers={"Host": "evil.example"})
        assert (answer.status_code, answer.json()) == (404, unknown.json()), path
        assert "location" not in answer.headers


def test_an_unauthenticated_order_is_not_stored(service: Callable[..., Running]) -> None:
    running = service()
    answer = running.client(token="").post(
        "/productOrder", content=order_bytes("tmf622-product-order")
    )
    assert answer.status_code == 401
    assert running.runtime.orders() == []


def test_probes_docs_and_callbacks_need_no_token(service: Callable[..., Running]) -> None:
    anonymous = service().client(token="")
    assert anonymous.get("/health").json() == {"status": "ok"}
    assert anonymous.get("/ready").json() == {"status": "ready"}
    schema = anonymous.get("/openapi.json").json()
    assert "/productOrder" in schema["paths"] and "HTTPBearer" in str(schema["components"])
    assert anonymous.get("/docs").status_code == 200
    callback = anonymous.post("/callbacks/made-up-token", json={})
    assert callback.status_code == 404  # the token is the credential: unknown, not unauthorized
    deep = anonymous.post("/callbacks/made-up-token", content=b"[" * 200_000 + b"]" * 200_000)
    assert deep.status_code == 400  # was a 500 (RecursionError), before the token was looked at
    too_deep = "the callback body is nested too deeply; the limit is 256 levels"
    assert deep.json() == {"error": too_deep}


def test_dev_mode_needs_no_token_on_loopback(service: Callable[..., Running]) -> None:
    running = service(tokens={})
    assert running.server.config.dev_mode
    created = running.client(token="").post("/productOrder", json=order_json("fibre-modify"))
    assert created.status_code == 201, created.text
    claimed_by = running.client(token="").get("/systems/Billing").json()
    assert claimed_by["name"] == "Billing"


def test_dev_mode_refuses_web_pages_and_rebound_names(service: Callable[..., Running]) -> None:
    running = service(tokens={})
    client = running.client(token="")
    page = {"Origin": "http://evil.example"}
    assert (
        client.post("/productOrder", json=order_json("fibre-modify"), headers=page).status_code
        == 403
    )
    rebound = {"Host": "evil.example:8080"}
    assert client.get("/productOrder", headers=rebound).status_code == 403
    assert client.get("/productOrder").json() == []  # nothing was stored
    local_page = {"Origin": "http://localhost:3000", "Host": "localhost"}
    assert client.get("/productOrder", headers=local_page).status_code == 200
    with_token = service(tokens={"crm": TOKEN})  # with tokens, the token is what counts
    assert with_token.client().get("/productOrder", headers=page).status_code == 200


def test_dev_mode_refuses_remote_clients_and_addresses() -> None:
    check = TokenCheck({})
    assert check.principal(None, "127.0.0.1").name == "dev"
    with pytest.raises(ApiError) as refused:
        check.principal(None, "192.0.2.7")
    assert refused.value.status == 403
    for host in ("127.0.0.1", "::1", "localhost", "127.0.0.2"):
        ServiceConfig(host=host).check()
    with pytest.raises(ValueError, match="without API tokens"):
        ServiceConfig(host="0.0.0.0").check()
    ServiceConfig(host="0.0.0.0", tokens={"crm": TOKEN}).check()


def test_tokens_are_matched_by_digest_and_name_the_client() -> None:
    check = TokenCheck({"crm": TOKEN, "ops": "another-token-0123456789"})
    bearer = HTTPAuthorizationCredentials(scheme="Bearer", credentials=TOKEN)
    assert check.principal(bearer, "192.0.2.7").name == "crm"
    assert TOKEN not in repr(vars(check))
    assert TOKEN not in repr(ServiceConfig(tokens={"crm": TOKEN}))


def test_tokens_are_read_from_text_and_files(tmp_path: Path) -> None:
    file = tmp_path / "tokens"
    file.write_text("# API clients\nops:ops-token-0123456789abc\n\n", encoding="utf-8")
    tokens = read_tokens(f"crm:{TOKEN},\n billing : bill-token-0123456789abcdef", file)
    assert tokens == {
        "ops": "ops-token-0123456789abc",
        "crm": TOKEN,
        "billing": "bill-token-0123456789abcdef",
    }
    with pytest.raises(ValueError, match="too short"):
        read_tokens("crm:short")
    with pytest.raises(ValueError, match="client name"):
        read_tokens(f"bad name:{TOKEN}")
    with pytest.raises(ValueError, match="cannot read"):
        read_tokens(None, tmp_path / "missing")


BAD_TOKEN_ENTRIES = [
    (f"crm:{TOKEN},bare-token-0123456789abcdef", "OM_TOKENS entry 2 has no client name: "
     "write it as name:token"),
    (f"crm:{TOKEN}, crm:{OPS_TOKEN}", "OM_TOKENS entry 2: the client name 'crm' is given twice"),
    (f":{TOKEN}", "OM_TOKENS entry 1: the client name must be 1-64 of"),
    ("crm:short-token", "OM_TOKENS entry 1: the token of crm is too short"),
    # alice's actions were recorded as bob's; a name that is a token is shown in the banner
    (f"alice:{TOKEN},bob:{TOKEN}", "OM_TOKENS entry 2: client 'bob' has the token of 'alice'"),
    ("s3cret-s3cret-s3cret:s3cret-s3cret-s3cret", "OM_TOKENS entry 1: a client name is also a "
     "token"),
]  # fmt: skip


@pytest.mark.parametrize("text, message", BAD_TOKEN_ENTRIES)
def test_token_entries_need_a_name_and_errors_say_where(text: str, message: str) -> None:
    with pytest.raises(ValueError) as refused:
        read_tokens(text)
    assert str(refused.value).startswith(message)
    assert "0123456789abcdef" not in str(refused.value) and TOKEN not in str(refused.value)


def test_token_file_errors_give_the_line(tmp_path: Path) -> None:
    file = tmp_path / "tokens"
    file.write_text(f"# clients\ncrm:{TOKEN}\n\n{OPS_TOKEN}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=f"^{re.escape(str(file))} line 4 has no client name"):
        read_tokens(None, file)


def test_config_is_read_from_the_environment() -> None:
    env = {"OM_TOKENS": f"crm:{TOKEN}", "OM_PORT": "9000", "OM_HOST": "0.0.0.0"}
    config = ServiceConfig.from_env(env)
    assert (config.port, config.host, dict(config.tokens)) == (9000, "0.0.0.0", {"crm": TOKEN})
    with pytest.raises(ValueError, match="OM_PORT"):
        ServiceConfig.from_env({"OM_PORT": "eighty"})


def test_bodies_over_the_limit_get_413(service: Callable[..., Running]) -> None:
    running = service(max_body_bytes=4096)
    api = running.client()
    declared = api.post("/productOrder", content=b"{" + b" " * 5000 + b"}")
    assert declared.status_code == 413 and declared.json()["code"] == "payloadTooLarge"
    assert "4096 bytes" in declared.json()["message"]

    def chunks() -> Iterator[bytes]:
        yield b'{"productOrderItem": ['
        for _ in range(100):
            yield b" " * 100

    streamed = api.post("/productOrder", content=chunks())
    assert streamed.status_code == 413, streamed.text
    hub = api.post("/hub", content=chunks(), headers={"content-type": "application/json"})
    assert hub.status_code == 413, hub.text
    assert running.runtime.orders() == []
    assert api.post("/productOrder", json=order_json("fibre-modify")).status_code == 201


def test_access_log_lines_mask_callback_tokens() -> None:
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, "", 0, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "POST", "/callbacks/s3cret-token", "1.1", 200), None,
    )  # fmt: skip
    assert RedactCallbackTokens().filter(record)
    assert "s3cret" not in record.getMessage() and "/callbacks/***" in record.getMessage()


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        ("/productOrder?token=s3cret", "/productOrder?token=***"),
        ("/productOrder?externalId=CRM-77&state=held&limit=10",
         "/productOrder?externalId=***&state=held&limit=10"),
        ("/productOrder?fields=id,state&offset=20", "/productOrder?fields=id,state&offset=20"),
        ("/productOrder?flag", "/productOrder?flag"),
        ("/productOrder/ORD-1", "/productOrder/ORD-1"),
    ],
)  # fmt: skip
def test_access_log_lines_show_paging_but_mask_other_query_values(path: str, logged: str) -> None:
    """An SRE found a token put in a query by mistake, and customers' external ids, in the
    access log as they were sent."""
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, "", 0, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "GET", path, "1.1", 200), None,
    )  # fmt: skip
    assert RedactCallbackTokens().filter(record)
    assert f"GET {logged} HTTP" in record.getMessage()


def acme_hash() -> str:
    return with_hash(acme()).content_hash


def test_om_serve_runs_the_service_and_stops_on_sigterm(tmp_path: Path) -> None:
    process, url = om_serve(REPO / "examples" / "catalog" / "acme.om", tmp_path / "om.db")
    try:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        order = order_bytes("tmf622-product-order")
        created = httpx.post(f"{url}/productOrder", content=order, headers=headers)
        assert created.status_code == 201, created.text
        assert httpx.get(f"{url}/productOrder").status_code == 401
    finally:
        text = stop_om_serve(process)
    assert "1 API client(s): crm" in text and TOKEN not in text
    assert '"POST /productOrder HTTP/1.1" 201' in text


def test_om_serve_runs_orders_from_compiled_ir(tmp_path: Path, sims: Sims) -> None:
    """``--catalog`` may be IR JSON (``om compile``'s output): orders are planned and run."""
    ir_file = tmp_path / "acme.ir.json"
    ir_file.write_text(dump_ir(acme()), encoding="utf-8")
    environ = {**sims.environ(), "OM_ACCESS_LOG": "false"}
    process, url = om_serve(ir_file, tmp_path / "om.db", environ)
    try:
        api = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"})
        with api:
            created = api.post("/productOrder", json=order_json("fibre-modify"))
            assert created.status_code == 201, created.text
            assert wait_state(api, "ORD-1002", {"completed", "held"}) == "completed"
            status = api.get("/productOrder/ORD-1002/status").json()
            assert status["catalog_hash"] == acme_hash()
    finally:
        text = stop_om_serve(process)
    assert "Traceback" not in text and "acme.ir.json" in text, text
    assert "POST /productOrder" not in text  # OM_ACCESS_LOG=false: no access log


def test_om_serve_refuses_a_public_address_without_tokens(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OM_")}
    command = [sys.executable, "-m", "om_dsl.cli", "serve", "--host", "0.0.0.0",
               "--catalog", str(REPO / "examples" / "catalog" / "acme.om"),
               "--db", str(tmp_path / "om.db")]  # fmt: skip
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert "refusing to listen on 0.0.0.0 without API tokens" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "om.db").exists()


def _om(*args: str, **environ: str) -> Result:
    cli._register()
    env = {name: None for name in os.environ if name.startswith("OM_")}
    return CliRunner().invoke(cli.app, list(args), env={**env, "COLUMNS": "200", **environ})


def test_om_serve_help_says_where_tokens_come_from() -> None:
    shown = _om("serve", "--help")
    assert shown.exit_code == 0, shown.output
    text = " ".join(shown.output.split())
    assert "OM_TOKENS holds name:token entries separated by commas" in text
    assert "env var: OM_TOKENS_FILE" in text and "env var: OM_ACCESS_LOG" in text


def test_om_serve_refuses_a_token_without_a_name(tmp_path: Path) -> None:
    catalog = str(REPO / "examples" / "catalog" / "acme.om")
    done = _om("serve", "--catalog", catalog, "--db", str(tmp_path / "om.db"),
               OM_TOKENS=f"crm:{TOKEN},{OPS_TOKEN}")  # fmt: skip
    assert done.exit_code == 2
    assert "OM_TOKENS entry 2 has no client name: write it as name:token" in done.output
    assert OPS_TOKEN not in done.output and not (tmp_path / "om.db").exists()


def test_an_internal_error_is_a_500_without_details(
    service: Callable[..., Running], caplog: pytest.LogCaptureFixture
) -> None:
    running = service()
    api = running.client()
    running.runtime.store.close()  # every store read now fails inside the service
    with caplog.at_level(logging.ERROR, "om_dsl.service"):
        answer = api.get("/productOrder/ORD-1?fields=state")
    assert answer.status_code == 500
    assert answer.json() == {
        "code": "internalError",
        "reason": "Internal Server Error",
        "message": "internal error; the service log has the details",
        "status": "500",
        "@type": "Error",
    }
    with caplog.at_level(logging.ERROR, "om_dsl.service"):
        callback = running.client(token="").post("/callbacks/s3cret-callback-token", json={})
    assert callback.status_code == 500
    logged = [r for r in caplog.records if r.name == "om_dsl.service"]
    assert [r.getMessage().split(": ", 1)[0] for r in logged] == [  # the route was "?"
        "internal error on GET /productOrder/ORD-1",
        "internal error on POST /callbacks/***",  # the token is a credential
    ]
    assert "ProgrammingError: Cannot operate on a closed database" in logged[0].getMessage()
    assert all(r.exc_info is not None for r in logged)  # a bug: its traceback
    ready = api.get("/ready")
    assert ready.status_code == 503 and ready.json()["status"] == "unavailable"


def test_a_store_that_cannot_be_written_is_a_503_and_keeps_nothing_half_written(
    service: Callable[..., Running], caplog: pytest.LogCaptureFixture
) -> None:
    """A full disk or a read-only store was a 500 `internalError`, with a traceback logged
    per request that named no route (`internal error on POST ?`).  It is a 503 that says the
    store cannot be written, with `Retry-After`, logged in one line; nothing of the order
    stays, so the same POST succeeds once the store can be written again."""
    running = service()
    api, store = running.client(), running.runtime.store
    order = order_json("fibre-modify", notify=["http://127.0.0.1:9/listener"])
    pages = store.query("PRAGMA page_count")[0][0]
    for breaks, mends, sqlite_says in (
        ("PRAGMA query_only = 1", "PRAGMA query_only = 0", "attempt to write a readonly database"),
        (f"PRAGMA max_page_count = {pages}", "PRAGMA max_page_count = 1073741823",
         "database or disk is full"),
    ):  # fmt: skip
        caplog.clear()
        store.query(breaks)  # SQLite itself refuses the service's writes from now on
        with caplog.at_level(logging.ERROR, "om_dsl.service"):
            answer = api.post("/productOrder", json=order)
        store.query(mends)
        assert answer.status_code == 503, answer.text
        assert answer.headers["retry-after"] == "10"
        assert answer.json() == {
            "code": "storeUnavailable",
            "reason": "Service Unavailable",
            "message": "the order store cannot be written or read now; try again later "
            "(the service log says why)",
            "status": "503",
            "@type": "Error",
        }
        [logged] = [r for r in caplog.records if r.name == "om_dsl.service"]
        assert logged.getMessage() == (
            f"the store cannot be used, answered 503 on POST /productOrder: {sqlite_says}"
        )
        assert logged.exc_info is None
        assert api.get("/productOrder/ORD-1002").status_code == 404
        assert api.get("/productOrder").json() == []
    created = api.post("/productOrder", json=order)
    assert created.status_code == 201, created.text  # not 409: nothing of it stayed
    assert wait_state(api, "ORD-1002", {"completed", "held"}) == "completed"


def test_tokens_never_reach_the_store(service: Callable[..., Running], tmp_path: Path) -> None:
    running = service()
    api = running.client()
    assert api.post("/productOrder", json=order_json("fibre-modify")).status_code == 201
    assert api.post("/hub", json={"callback": "http://127.0.0.1:9/x"}).status_code == 201
    running.close()
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("om0.db*"))
    assert stored and TOKEN.encode() not in stored


BLOCK_FASTAPI = """
import sys, importlib.abc
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] == "fastapi":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, Block())
import om_dsl, om_dsl.cli, om_dsl.runtime, om_dsl.render
print("imported")
om_dsl.cli.main(["serve", "--catalog", "examples/catalog/acme.om"])
"""


def test_om_dsl_works_without_fastapi_and_om_serve_says_what_to_install() -> None:
    done = subprocess.run([sys.executable, "-c", BLOCK_FASTAPI], cwd=REPO, capture_output=True,
                          text=True, timeout=60, check=False)  # fmt: skip
    assert done.stdout.strip() == "imported"
    assert done.returncode == 1
    assert "pip install 'om-dsl[service]'" in done.stderr and "Traceback" not in done.stderr


def _partial_body(url: str, path: str) -> None:
    """A request that declares 1,000 bytes of body, sends 6 and goes away."""
    port = int(url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n"
            'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"a":'.encode()
        )
        time.sleep(0.3)  # the app is reading the body when the client goes


def test_a_client_that_leaves_mid_body_is_not_an_internal_error(tmp_path: Path) -> None:
    """It was logged as `internal error on POST ?: ClientDisconnect` with a traceback."""
    process, url = om_serve(REPO / "examples" / "catalog" / "acme.om", tmp_path / "om.db")
    try:
        for path in ["/productOrder", "/hub", "/cancelProductOrder"]:
            _partial_body(url, path)
        time.sleep(0.5)
        headers = {"Authorization": f"Bearer {TOKEN}"}
        assert httpx.get(f"{url}/productOrder", headers=headers).status_code == 200
    finally:
        text = stop_om_serve(process)
    assert "internal error" not in text and "Traceback" not in text, text
    assert "ClientDisconnect" not in text


def test_a_client_that_leaves_mid_body_is_one_info_line(
    service: Callable[..., Running], caplog: pytest.LogCaptureFixture
) -> None:
    running = service()
    with caplog.at_level(logging.INFO, logger="om_dsl.service"):
        _partial_body(running.url, "/productOrder")
        _partial_body(running.url, "/hub")
        wait_for(lambda: len(caplog.records) >= 2, what="the disconnects to be logged")
    assert [(r.levelname, r.getMessage(), r.exc_info) for r in caplog.records] == [
        ("INFO", f"POST {path}: the client disconnected before its request body was read", None)
        for path in ["/productOrder", "/hub"]
    ]
    assert running.runtime.orders() == []


def _silent(port: int, start: bytes) -> socket.socket:
    """A connection that sends ``start`` of a request, then nothing."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(start)
    sock.settimeout(10)
    return sock


def test_slow_clients_are_turned_away_and_cut_off(tmp_path: Path) -> None:
    """Thousands of connections that sent part of a request and stayed silent were never
    timed out (uvicorn has no such timeout): `/health` stopped answering.  Past
    OM_MAX_CONNECTIONS a request gets a 503 at once, and a client that does not send its
    request within OM_CLIENT_TIMEOUT is disconnected."""
    environ = {"OM_MAX_CONNECTIONS": "5", "OM_CLIENT_TIMEOUT": "3"}  # > the steps below
    process, url = om_serve(REPO / "examples" / "catalog" / "acme.om", tmp_path / "om.db",
                             environ)  # fmt: skip
    port = int(url.rsplit(":", 1)[1])
    try:
        # a client let in (its token is checked before its body) that sends part of its body
        auth = f"Authorization: Bearer {TOKEN}\r\n".encode()
        body = _silent(port, b"POST /hub HTTP/1.1\r\nHost: a\r\n" + auth
                       + b"Content-Length: 99\r\n\r\n{")  # fmt: skip
        time.sleep(0.2)  # its head is read before the others connect: no 503 for it
        heads = [_silent(port, b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n") for _ in range(3)]
        time.sleep(0.2)
        assert httpx.get(f"{url}/health", timeout=5).status_code == 200  # the 5th: not past 5
        time.sleep(0.2)  # that connection is closed
        heads.append(_silent(port, b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n"))
        time.sleep(0.2)
        busy = httpx.get(f"{url}/productOrder", timeout=5)  # the 6th
        # a liveness probe is still answered, also as the 6th: a busy service must not be
        # restarted by its orchestrator
        assert httpx.get(f"{url}/health", timeout=5).status_code == 200
        assert (busy.status_code, busy.headers["retry-after"]) == (503, "1")
        assert busy.json() == {
            "code": "serviceBusy",
            "reason": "Service Unavailable",
            "message": "too many connections are open: try again shortly",
            "status": "503",
            "@type": "Error",
        }
        for sock in [*heads, body]:
            assert sock.recv(100) == b""  # closed by the service, within its timeout
            sock.close()
        assert httpx.get(f"{url}/health", timeout=5).status_code == 200
        with socket.create_connection(("127.0.0.1", port)) as kept:  # kept alive, then silent
            kept.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert kept.recv(12) == b"HTTP/1.1 200"
            kept.sendall(b"GET /health HTTP/1.1\r\n")
            kept.settimeout(10)
            while kept.recv(4096):  # the rest of the answer, then the end
                pass
    finally:
        text = stop_om_serve(process)
    assert "Traceback" not in text, text
    assert "answered 503 serviceBusy to 1 request(s): more than 5 connections open" in text, text


def test_requests_turned_away_are_logged_once_per_period_with_their_count(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A flood of connections wrote one warning per request turned away."""
    now = [100.0]
    busy = BusyLog(every=10.0, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger="om_dsl.service"):
        for _ in range(500):
            busy.refused(5)
        now[0] += 10.0
        busy.refused(5)
    assert [r.getMessage() for r in caplog.records] == [
        "answered 503 serviceBusy to 1 request(s): more than 5 connections open",
        "answered 503 serviceBusy to 500 request(s): more than 5 connections open",
    ]


def test_the_last_period_of_a_flood_is_written_when_the_period_ends(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Written only by the next refusal, the count of a flood's last period was lost: the log
    said one request was turned away where hundreds were."""
    now = [100.0]
    due: list[tuple[float, Callable[[], None]]] = []
    busy = BusyLog(every=10.0, clock=lambda: now[0])

    def later(delay: float, callback: Callable[[], None]) -> None:
        due.append((now[0] + delay, callback))

    with caplog.at_level(logging.WARNING, logger="om_dsl.service"):
        for _ in range(300):
            busy.refused(5, later)
        now[0] = 105.0
        for _ in range(200):
            busy.refused(5, later)
        assert [when for when, _ in due] == [110.0]  # one line per period, so one callback
        now[0], callback = due.pop()
        callback()
        now[0] = 125.0
        busy.refused(5, later)
    assert [r.getMessage() for r in caplog.records] == [
        "answered 503 serviceBusy to 1 request(s): more than 5 connections open",
        "answered 503 serviceBusy to 499 request(s): more than 5 connections open",
        "answered 503 serviceBusy to 1 request(s): more than 5 connections open",
    ]
    assert busy.total == 501 and not due


def test_a_period_whose_callback_was_lost_is_written_by_a_later_refusal(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """BUSY_LOG is the process's: a server whose loop stopped before a period's callback ran
    must not leave it waiting for ever (a host that starts the service again)."""
    now = [100.0]
    busy = BusyLog(every=10.0, clock=lambda: now[0])

    def dropped(_delay: float, _callback: Callable[[], None]) -> None:
        """A loop that stops before the callback is due."""

    with caplog.at_level(logging.WARNING, logger="om_dsl.service"):
        busy.refused(5, dropped)
        busy.refused(5, dropped)
        now[0] = 115.0
        busy.refused(5, dropped)  # still within a period of the lost callback's time
        now[0] = 120.0
        busy.refused(5, dropped)
    assert [r.getMessage() for r in caplog.records] == [
        "answered 503 serviceBusy to 1 request(s): more than 5 connections open",
        "answered 503 serviceBusy to 3 request(s): more than 5 connections open",
    ]


def test_connection_limits_are_read_from_the_environment() -> None:
    config = ServiceConfig.from_env({"OM_MAX_CONNECTIONS": "50", "OM_CLIENT_TIMEOUT": "2.5"})
    assert (config.max_connections, config.client_timeout_s) == (50, 2.5)
    assert (ServiceConfig().max_connections, ServiceConfig().client_timeout_s) == (1000, 30.0)
    with pytest.raises(ValueError, match="OM_CLIENT_TIMEOUT must be a number of seconds"):
        ServiceConfig.from_env({"OM_CLIENT_TIMEOUT": "soon"})
    with pytest.raises(ValueError, match="OM_MAX_CONNECTIONS must be at least 1"):
        ServiceConfig(max_connections=0).check()
