"""Roles of API tokens (docs/service.md, Security): a token may call the routes of its role
and of the roles below it (read < client < operator < admin), an entry without a role keeps
every route it had (operator), and the one table of roles covers every route of the app.

Entries are parsed by unit tests; each role is tried over real HTTP (uvicorn on loopback)
with an allowed and a refused call."""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from service_support import (
    OPS_TOKEN,
    REPO,
    TOKEN,
    Running,
    head_only,
    order_json,
)
from typer.testing import CliRunner, Result

from om_dsl import cli
from om_dsl.compiler.driver import compile_catalog
from om_dsl.logfields import ATTRIBUTE
from om_dsl.runtime import MemoryStore, Runtime
from om_dsl.service import Role, ServiceConfig, create_app, read_clients, read_tokens
from om_dsl.service.roles import DEFAULT_ROLE, OPEN, ROLE_NAMES, ROUTE_ROLES, RouteRoles
from om_dsl.service.routes.common import AUTH
from om_dsl.service.token_first import needs_token

READ_TOKEN = "test-token-for-grafana-0123456789"
ADMIN_TOKEN = "test-token-for-the-admin-0123456"
ROLE_TOKENS = f"grafana/read:{READ_TOKEN},crm/client:{TOKEN},ops/operator:{OPS_TOKEN}," \
              f"root/admin:{ADMIN_TOKEN}"  # fmt: skip
ACME = REPO / "examples" / "catalog" / "acme.om"
TMF = "/tmf-api/productOrderingManagement/v4"


def _app() -> FastAPI:
    catalog = compile_catalog(ACME).catalog
    assert catalog is not None
    return create_app(Runtime(catalog, store=MemoryStore()), ServiceConfig(start_runtime=False))


def _service(service: Callable[..., Running]) -> Running:
    """A service with a client of each role."""
    clients = read_clients(ROLE_TOKENS)
    return service(tokens=clients.tokens, roles=clients.roles)


def _refused(answer: Any, needed: str, role: str, client: str) -> None:
    """A 403 of the role check: the TMF error shape of the other 403s, both roles and the
    client named, no token, and the connection closed (the body was never read)."""
    assert answer.status_code == 403, answer.text
    body = answer.json()
    assert (body["code"], body["status"], body["@type"]) == ("forbidden", "403", "Error")
    assert f"needs an API token with the role {needed} (or higher)" in body["message"]
    assert f"the client {client} has the role {role}" in body["message"]
    assert not any(token in answer.text for token in (READ_TOKEN, TOKEN, OPS_TOKEN, ADMIN_TOKEN))
    assert answer.headers["connection"] == "close"


# ---- token entries -----------------------------------------------------------------------------


def test_a_role_follows_the_name_and_an_entry_without_one_is_an_operator(tmp_path: Path) -> None:
    file = tmp_path / "tokens"
    file.write_text(f"# clients\nroot / Admin : {ADMIN_TOKEN}\n", encoding="utf-8")
    clients = read_clients(f"grafana/read:{READ_TOKEN},\nops:{OPS_TOKEN}", file)
    assert clients.tokens == {"root": ADMIN_TOKEN, "grafana": READ_TOKEN, "ops": OPS_TOKEN}
    assert clients.roles == {"root": Role.ADMIN, "grafana": Role.READ}
    config = ServiceConfig(tokens=clients.tokens, roles=clients.roles)
    assert [config.role_of(name) for name in ("root", "grafana", "ops")] == [
        Role.ADMIN, Role.READ, Role.OPERATOR]  # fmt: skip
    assert config.clients_text() == "grafana (read), ops (operator), root (admin)"
    assert ServiceConfig().role_of("dev") == Role.ADMIN  # dev mode: every route, as before


def test_a_token_is_never_cut_to_find_a_role() -> None:
    """Everything after the first colon is the token, as before roles existed: a token with
    ``:``, ``/`` or ``@`` (or ending in a role's name) is read whole, and is no role."""
    token = "abc/def:ghi@jk-0123456789:admin"
    clients = read_clients(f"crm:{token}")
    assert (clients.tokens, clients.roles) == ({"crm": token}, {})
    assert ServiceConfig(tokens=clients.tokens).role_of("crm") == DEFAULT_ROLE == Role.OPERATOR


BAD_ROLES = [
    (f"crm:{TOKEN},grafana/reader:{READ_TOKEN}", "OM_TOKENS entry 2 (client grafana): 'reader' "
     "is not a role: give one of read, client, operator, admin (did you mean 'read'?)"),
    (f"grafana/:{READ_TOKEN}", "OM_TOKENS entry 1 (client grafana): an empty role is not a "
     "role: give one of read, client, operator, admin"),
    (f"a/b/c:{READ_TOKEN}", "OM_TOKENS entry 1 (client a): 'b/c' is not a role"),
    (f"/read:{READ_TOKEN}", "OM_TOKENS entry 1: the client name must be 1-64 of"),
]  # fmt: skip


@pytest.mark.parametrize("text, message", BAD_ROLES)
def test_an_unknown_role_is_refused_naming_the_entry_never_the_token(
    text: str, message: str
) -> None:
    with pytest.raises(ValueError) as refused:
        read_clients(text)
    assert str(refused.value).startswith(message)
    assert READ_TOKEN not in str(refused.value) and TOKEN not in str(refused.value)


def test_a_tokens_file_names_the_line_of_a_bad_role(tmp_path: Path) -> None:
    file = tmp_path / "tokens"
    file.write_text(f"crm:{TOKEN}\nops/superuser:{OPS_TOKEN}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=f"^{re.escape(str(file))} line 2 \\(client ops\\): "):
        read_clients(None, file)


def test_read_tokens_refuses_roles_it_would_drop() -> None:
    """Code written before roles gets the tokens alone: dropping a ``read`` role would make
    that client an operator, so such entries are refused, with what to call instead."""
    assert read_tokens(f"crm:{TOKEN}") == {"crm": TOKEN}
    with pytest.raises(ValueError, match=re.escape("read them with om_dsl.service.read_clients")):
        read_tokens(f"grafana/read:{READ_TOKEN}")


def test_the_config_takes_roles_by_name_and_checks_them() -> None:
    config = ServiceConfig(tokens={"grafana": READ_TOKEN}, roles={"grafana": "read"})
    assert config.roles == {"grafana": Role.READ}
    with pytest.raises(ValueError, match="'boss' is not a role"):
        ServiceConfig(tokens={"crm": TOKEN}, roles={"crm": "boss"})
    with pytest.raises(ValueError, match="roles are given for clients without a token: nobody"):
        ServiceConfig(tokens={"crm": TOKEN}, roles={"nobody": Role.READ}).check()
    env = ServiceConfig.from_env({"OM_TOKENS": ROLE_TOKENS})
    assert env.role_of("grafana") == Role.READ and env.role_of("root") == Role.ADMIN


def test_from_env_logs_the_token_entry_warnings_om_serve_prints(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An embedder reading OM_TOKENS gets the warning about ``name:token:role`` as a log
    line (om serve prints it), never the token."""
    with caplog.at_level(logging.WARNING, "om_dsl.service"):
        config = ServiceConfig.from_env(
            {"OM_TOKENS": f"crm:{TOKEN}:client,grafana/read:{READ_TOKEN}"}
        )
    assert config.role_of("crm") == DEFAULT_ROLE
    logged = [r for r in caplog.records if r.name == "om_dsl.service"]
    assert [r.getMessage() for r in logged] == [
        "OM_TOKENS entry 1 (client crm): the token ends with ':client', which is read as part of "
        "the token, and crm gets the default role (operator); to give crm the role client, "
        "write crm/client:<token>"
    ]
    assert logged[0].levelno == logging.WARNING
    assert getattr(logged[0], ATTRIBUTE) == {"event": "token_entry"}
    assert TOKEN not in caplog.text and READ_TOKEN not in caplog.text
    with caplog.at_level(logging.WARNING, "om_dsl.service"):
        caplog.clear()
        ServiceConfig.from_env({"OM_TOKENS": ROLE_TOKENS})
    assert caplog.records == []


def _om(*args: str, **environ: str) -> Result:
    cli._register()
    env = {name: None for name in os.environ if name.startswith("OM_")}
    return CliRunner().invoke(cli.app, list(args), env={**env, "COLUMNS": "200", **environ})


def test_om_serve_refuses_an_unknown_role_with_exit_2(tmp_path: Path) -> None:
    done = _om("serve", "--catalog", str(ACME), "--db", str(tmp_path / "om.db"),
               OM_TOKENS=f"crm/clinet:{TOKEN}")  # fmt: skip
    assert done.exit_code == 2, done.output
    assert "OM_TOKENS entry 1 (client crm): 'clinet' is not a role" in done.output
    assert "(did you mean 'client'?)" in done.output
    assert TOKEN not in done.output and not (tmp_path / "om.db").exists()


# ---- the table ---------------------------------------------------------------------------------


def test_every_route_has_one_entry_in_the_table_of_roles() -> None:
    """A route added without an entry fails here (and, served, would need admin)."""
    app = _app()
    roles = RouteRoles(app)
    assert roles.unlisted(app) == []
    assert roles.stale(app) == []


def test_the_open_routes_of_the_table_are_those_that_need_no_token() -> None:
    app = _app()
    roles = RouteRoles(app)
    for route in app.routes:
        for method in getattr(route, "methods", None) or ():
            if method != "HEAD" and hasattr(route, "dependant"):
                needed, path = roles.needed(route, method)
                assert (needed is OPEN) == (not needs_token(route)), (method, path)


def test_a_route_the_table_lacks_is_reported_and_needs_admin() -> None:
    app = _app()

    def extra() -> dict[str, str]:
        return {}

    app.add_api_route("/extra", extra, methods=["GET"], dependencies=AUTH)
    roles = RouteRoles(app)
    assert roles.unlisted(app) == ["GET /extra"]
    route = next(r for r in app.routes if getattr(r, "path", None) == "/extra")
    assert roles.needed(route, "GET") == (Role.ADMIN, "/extra")


def test_the_openapi_document_says_each_route_s_role_and_its_403() -> None:
    paths = _app().openapi()["paths"]
    for (method, path), role in ROUTE_ROLES.items():
        operation = paths.get(path, {}).get(method.lower())
        if operation is None:  # FastAPI's own /openapi.json and /docs
            assert role is OPEN, path
        elif role is OPEN:
            assert "x-om-role" not in operation, path
        else:
            assert operation["x-om-role"] == str(role), path
            assert f"with the role `{role}` or higher" in operation["description"]
            assert f"role is below `{role}`" in operation["responses"]["403"]["description"]
    prune = paths["/prune"]["post"]
    assert prune["x-om-role"] == "admin" and {"400", "409", "501"} <= set(prune["responses"])


# ---- each role over HTTP -----------------------------------------------------------------------


def test_read_can_read_and_scrape_and_cannot_order(service: Callable[..., Running]) -> None:
    running = _service(service)
    grafana = running.client(READ_TOKEN)
    assert grafana.get("/metrics").status_code == 200
    assert grafana.get("/productOrder").status_code == 200
    assert grafana.get(f"{TMF}/productOrder").status_code == 200
    refused = grafana.post("/productOrder", json=order_json("fibre-modify"))
    _refused(refused, "client", "read", "grafana")
    assert "POST /productOrder needs" in refused.json()["message"]
    _refused(grafana.post(f"{TMF}/hub", json={"callback": "http://127.0.0.1:9/x"}),
             "client", "read", "grafana")  # fmt: skip
    assert running.runtime.orders() == []


def test_client_orders_and_cannot_act_as_an_operator(service: Callable[..., Running]) -> None:
    running = _service(service)
    crm = running.client(TOKEN)
    created = crm.post(f"{TMF}/productOrder", json=order_json("fibre-modify"))
    assert created.status_code == 201, created.text
    assert crm.get("/tasks").status_code == 200
    _refused(crm.post("/systems/Billing/offline", json={"reason": "x"}), "operator", "client",
             "crm")  # fmt: skip
    _refused(crm.post("/fallout/retry", json={"all": True}), "operator", "client", "crm")
    _refused(crm.post("/tasks/T1JELTEwMDQ/claim", json={}), "operator", "client", "crm")
    _refused(crm.post("/prune", json={"olderThan": "0s"}), "admin", "client", "crm")
    assert running.runtime.systems.status("Billing").offline is False


def test_operator_acts_and_cannot_prune(service: Callable[..., Running]) -> None:
    running = _service(service)
    ops = running.client(OPS_TOKEN)
    offline = ops.post("/systems/Billing/offline", json={"reason": "maintenance"})
    assert offline.status_code == 200, offline.text
    assert running.runtime.systems.status("Billing").changed_by == "ops"
    assert ops.post("/systems/Billing/online").status_code == 200
    _refused(ops.post("/prune", json={"olderThan": "0s"}), "admin", "operator", "ops")


def test_admin_prunes(service: Callable[..., Running]) -> None:
    running = _service(service)
    root = running.client(ADMIN_TOKEN)
    answer = root.post("/prune", json={"olderThan": "90d", "dryRun": True})
    assert answer.status_code == 200, answer.text
    assert (answer.json()["dry_run"], answer.json()["orders"]) == (True, 0)
    assert root.post("/systems/Billing/offline").status_code == 200  # and everything below


def test_an_entry_without_a_role_keeps_every_route_but_prune(
    service: Callable[..., Running],
) -> None:
    """``name:token`` as before roles: ordering, operator actions, and no new power."""
    running = service()  # crm:TOKEN, ops:OPS_TOKEN, no roles
    crm = running.client()
    assert crm.post("/productOrder", json=order_json("fibre-modify")).status_code == 201
    assert crm.post("/systems/Billing/offline").status_code == 200
    _refused(crm.post("/prune", json={"olderThan": "0s"}), "admin", "operator", "crm")


def test_dev_mode_may_call_every_route(service: Callable[..., Running]) -> None:
    running = service(tokens={})
    answer = running.client().post("/prune", json={"olderThan": "1d", "dryRun": True})
    assert answer.status_code == 200, answer.text


def test_a_role_refusal_comes_before_the_body_is_read(service: Callable[..., Running]) -> None:
    running = _service(service)
    for path, token in (("/prune", OPS_TOKEN), ("/productOrder", READ_TOKEN),
                        ("/systems/Billing/offline", TOKEN)):  # fmt: skip
        answer = head_only(running.url, path, f"Authorization: Bearer {token}\r\n")
        assert answer.startswith(b"HTTP/1.1 403 "), (path, answer)
        assert b"connection: close" in answer.split(b"\r\n\r\n", 1)[0].lower()


def test_a_role_refusal_is_logged_without_the_token(
    service: Callable[..., Running], caplog: pytest.LogCaptureFixture
) -> None:
    running = _service(service)
    with caplog.at_level(logging.WARNING, "om_dsl.service"):
        running.client(TOKEN).post("/prune", json={"olderThan": "0s"})
    logged = [r for r in caplog.records if r.name == "om_dsl.service"]
    assert [r.getMessage() for r in logged] == [
        "refused POST /prune to client crm: it needs the role admin, the client has client"
    ]
    assert logged[0].om_fields == {"event": "role_refused", "principal": "crm", "role": "client",
                                   "needed": "admin", "route": "POST /prune"}  # fmt: skip


# ---- the documented examples -------------------------------------------------------------------

DOC = " ".join((REPO / "docs" / "service.md").read_text(encoding="utf-8").split())
README = " ".join((REPO / "README.md").read_text(encoding="utf-8").split())


def _with_tokens(text: str) -> str:
    """A documented entry list with a distinct real token for each ``<token>``."""
    parts = text.split("<token>")
    return "".join(f"{part}{n:02d}-token-0123456789abcdef" for n, part in enumerate(parts[:-1])) \
        + parts[-1]  # fmt: skip


def test_the_documented_entries_give_the_documented_roles() -> None:
    listed = re.search(r"`OM_TOKENS=(grafana/read:\S+)`", DOC)
    assert listed, "the OM_TOKENS example with roles is gone from docs/service.md"
    clients = read_clients(_with_tokens(listed[1]))
    assert {name: str(role) for name, role in clients.roles.items()} == {
        "grafana": "read", "crm": "client", "ops": "operator", "root": "admin"}  # fmt: skip
    for entry, role in re.findall(r"`(\w+/(\w+):<token>)`", README):
        assert read_clients(_with_tokens(entry)).roles.popitem()[1] == Role[role.upper()]
    plain = read_clients(_with_tokens("crm:<token>"))
    assert ServiceConfig(tokens=plain.tokens).role_of("crm") == Role.OPERATOR
    config = ServiceConfig(tokens=read_clients(_with_tokens(
        "crm/client:<token>,grafana/read:<token>")).tokens, roles={"crm": "client",
        "grafana": "read"})  # fmt: skip
    assert f"2 API client(s): {config.clients_text()}" in DOC


def test_the_documented_role_errors_are_what_is_said() -> None:
    with pytest.raises(ValueError) as refused:
        read_clients(_with_tokens("crm:<token>,grafana/reader:<token>"))
    assert str(refused.value) in DOC


def test_the_documented_403_and_its_log_line_are_what_the_service_says(
    service: Callable[..., Running], caplog: pytest.LogCaptureFixture
) -> None:
    running = _service(service)
    with caplog.at_level(logging.WARNING, "om_dsl.service"):
        answer = running.client(TOKEN).post("/prune", json={"olderThan": "90d"})
    documented = re.search(r'`(\{"code": "forbidden".*?\})`', DOC)
    assert documented, "the 403 example is gone from docs/service.md"
    assert answer.json() == json.loads(documented[1])
    logged = [r.getMessage() for r in caplog.records if r.name == "om_dsl.service"]
    assert f"(`{logged[0]}`;" in DOC


def test_the_documented_prune_answers_are_what_the_service_says(
    service: Callable[..., Running],
) -> None:
    running = service(tokens={"root": ADMIN_TOKEN}, roles={"root": "admin"})
    root = running.client()
    body = re.search(r'The body is `om prune`\'s options: `(\{"olderThan".*?\})`', DOC)
    assert body, "the POST /prune body example is gone from docs/service.md"
    answer = root.post("/prune", json=json.loads(body[1]))
    assert answer.status_code == 200 and answer.json()["dry_run"] is True
    for field, code in (("olderThan", "S015"), ("vacuum", "S012")):
        sent = {"olderThan": "90days"} if field == "olderThan" else {"olderThan": "1d",
                                                                      "vacuum": True}  # fmt: skip
        issue = root.post("/prune", json=sent).json()["issues"][0]
        assert (issue["code"], issue["path"]) == (code, f"body.{field}")
        assert issue["message"] in DOC, issue["message"]
    line = re.search(r"\(`(prune by root: .*?)`;", DOC)
    assert line and re.fullmatch(
        r"prune by \w+: pruned \d+ order\(s\) finished longer ago than \w+, kept \d+ with "
        r"notifications still owed", line[1])  # fmt: skip


# ---- who am I ----------------------------------------------------------------------------------


def test_whoami_names_each_token_s_client_and_role_never_the_token(
    service: Callable[..., Running],
) -> None:
    running = _service(service)
    for token, client, roles in (
        (READ_TOKEN, "grafana", ["read"]),
        (TOKEN, "crm", ["read", "client"]),
        (OPS_TOKEN, "ops", ["read", "client", "operator"]),
        (ADMIN_TOKEN, "root", ["read", "client", "operator", "admin"]),
    ):
        answer = running.client(token).get("/whoami")
        assert answer.status_code == 200, answer.text
        assert answer.json() == {
            "client": client, "role": roles[-1], "roles": roles, "devMode": False,
        }  # fmt: skip
        assert token not in answer.text
        pattern = r'`(\{"client": "' + client + r'".*?\})`'
        documented = re.search(pattern, DOC.replace("\n", " "))
        if documented:  # docs/service.md shows grafana's and crm's answers
            assert answer.json() == json.loads(documented[1])
    assert re.findall(r'`\{"client": "(\w+)"', DOC.replace("\n", " ")) == ["grafana", "crm"]
    assert running.client("not-a-token-of-this-service-000").get("/whoami").status_code == 401


def test_whoami_in_dev_mode_and_for_an_entry_without_a_role(
    service: Callable[..., Running],
) -> None:
    assert service().client().get("/whoami").json()["role"] == "operator"  # crm:TOKEN
    dev = service(tokens={}).client().get("/whoami").json()
    assert dev == {"client": "dev", "role": "admin", "roles": list(ROLE_NAMES), "devMode": True}
