"""Helpers for the service tests: the acme catalog on the simulators, a runtime, and the real
service (uvicorn on a free 127.0.0.1 port) around it, with an authenticated httpx client."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from subprocess import Popen
from typing import Any

import httpx
from simulators import Simulator, start

from om_dsl.compiler.driver import compile_catalog
from om_dsl.demo import demo_handlers
from om_dsl.ir.models import Catalog
from om_dsl.runtime import Runtime, SqliteStore
from om_dsl.runtime.downstream import DownstreamSettings
from om_dsl.runtime.notify import NotifySettings
from om_dsl.service import ServiceConfig, ServiceServer

REPO = Path(__file__).resolve().parents[2]
ORDERS = REPO / "examples" / "orders"
TOKEN = "test-token-for-the-crm-0123456789"
OPS_TOKEN = "test-token-for-the-ops-desk-98765"
BILLING_TOKEN = "billing-secret-token-4711"
TOKENS = {"crm": TOKEN, "ops": OPS_TOKEN}


@cache
def acme() -> Catalog:
    result = compile_catalog(REPO / "examples" / "catalog" / "acme.om")
    assert result.catalog is not None
    return result.catalog


def order_bytes(name: str) -> bytes:
    return (ORDERS / f"{name}.json").read_bytes()


def order_json(name: str, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(order_bytes(name))
    data.update(changes)
    return data


@dataclass
class Sims:
    billing: Simulator
    inventory: Simulator
    network: Simulator

    def all(self) -> list[Simulator]:
        return [self.billing, self.inventory, self.network]

    def environ(self) -> dict[str, str]:
        return {
            "BILLING_URL": self.billing.url,
            "INVENTORY_URL": self.inventory.url,
            "NETWORK_URL": self.network.url,
            "BILLING_TOKEN": BILLING_TOKEN,
        }


def start_sims() -> Sims:
    fast = {"callback_delay_ms": 20, "callback_backoff_ms": 30}
    return Sims(
        start("billing", token=BILLING_TOKEN, **fast),
        start("inventory", **fast),
        start("network", **fast),
    )


@dataclass
class Running:
    """A service running for a test, and what it runs on."""

    server: ServiceServer
    runtime: Runtime
    url: str
    token: str | None
    clients: list[httpx.Client] = field(default_factory=list)

    def client(self, token: str | None = None, base: str = "", **options: Any) -> httpx.Client:
        """A client of the service (``base``: a path its request paths go under)."""
        chosen = token if token is not None else self.token
        headers = {"Authorization": f"Bearer {chosen}"} if chosen else {}
        client = httpx.Client(base_url=self.url + base, headers=headers, timeout=30, **options)
        self.clients.append(client)
        return client

    def close(self) -> None:
        for client in self.clients:
            client.close()
        self.server.stop()
        self.runtime.close()


def serve(
    db: Path,
    sims: Sims,
    tokens: dict[str, str] | None = None,
    concurrency: int = 16,
    notify_href: str | None = None,
    notify_attempts: int = 12,
    restored: bool = False,
    **config: Any,
) -> Running:
    """The service on a runtime of its own (``notify_href``: the runtime's
    ``NotifySettings.href_base``; ``notify_attempts``: its ``max_attempts``; ``restored``:
    the store is a backup put in its place, as ``om serve --restored``)."""
    tokens = TOKENS if tokens is None else tokens
    notify = NotifySettings(backoff_ms=50, backoff_cap_ms=500, href_base=notify_href,
                            max_attempts=notify_attempts)  # fmt: skip
    runtime = Runtime(
        acme(),
        store=SqliteStore(db, restored=restored),
        handlers=demo_handlers(),
        concurrency=concurrency,
        downstream=DownstreamSettings(notify=notify, environ=sims.environ()),
    )
    settings = ServiceConfig(port=0, tokens=tokens, **config)
    server = ServiceServer(runtime, settings, access_log=False, log_level="warning")
    url = server.start()
    return Running(server, runtime, url, next(iter(tokens.values()), None))


def wait_for(condition: Callable[[], Any], timeout: float = 20.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what or condition}")
        time.sleep(0.03)


def state_of(client: httpx.Client, order_id: str) -> str:
    answer = client.get(f"/productOrder/{order_id}", params={"fields": "state"})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["state"])


def wait_state(
    client: httpx.Client, order_id: str, states: Iterable[str], timeout: float = 20.0
) -> str:
    wanted = set(states)
    return str(
        wait_for(
            lambda: (s := state_of(client, order_id)) in wanted and s,
            timeout,
            f"order {order_id} in {sorted(wanted)}",
        )
    )


def open_tasks(client: httpx.Client, order_id: str) -> list[dict[str, Any]]:
    answer = client.get("/tasks", params={"queue": "field_techs"})
    assert answer.status_code == 200, answer.text
    return [task for task in answer.json() if task["orderId"] == order_id]


def finish_tasks(client: httpx.Client, order_id: str, user: str = "alice") -> list[str]:
    """Claim and complete every open field task of the order through the API."""
    done = []
    for task in open_tasks(client, order_id):
        claimed = client.post(f"/tasks/{task['id']}/claim", json={"user": user})
        assert claimed.status_code == 200, claimed.text
        outputs = {"serial": f"SN-{task['name']}"}
        completed = client.post(
            f"/tasks/{task['id']}/complete", json={"user": user, "outputs": outputs}
        )
        assert completed.status_code == 204, completed.text
        done.append(task["itemId"])
    return done


def heard_orders(listener: Any, order_id: str) -> list[tuple[str, dict[str, Any]]]:
    """``(eventType, event.productOrder)`` of every TMF event the listener heard about the
    order, oldest first."""
    found = []
    for body in listener.bodies():
        order = body.get("event", {}).get("productOrder", {}) if isinstance(body, dict) else {}
        if order.get("id") == order_id:
            found.append((str(body["eventType"]), order))
    return found


def head_only(url: str, path: str, authorization: str = "") -> bytes:
    """A POST that declares a 100,000-byte body and sends none of it: the answer that comes
    within 3 s (nothing when the server waits for the body).  ``authorization``: a header
    line (``Authorization: Bearer ...``) ending in CRLF, or nothing."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=3) as sock:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: {host}\r\n{authorization}"
                     "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
                     .encode())  # fmt: skip
        try:
            return sock.recv(65536)
        except TimeoutError:
            return b""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def om_serve(
    catalog: Path, db: Path, environ: dict[str, str] | None = None, *options: str
) -> tuple[Popen[bytes], str]:
    """``om serve`` in a subprocess on a free 127.0.0.1 port, and its URL once it is ready
    (``options``: more of its command line)."""
    port = free_port()
    command = om_serve_command(catalog, port, *options)
    env = om_serve_env(db, environ)
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: answers(f"{url}/ready"), timeout=30, what="om serve to be ready")
    except AssertionError:
        process.kill()
        _out, err = process.communicate(timeout=30)
        raise AssertionError(f"om serve did not get ready: {err.decode()[-2000:]}") from None
    return process, url


def om_serve_command(catalog: Path, port: int, *options: str) -> list[str]:
    """The command line of ``om serve`` with the demo's handlers."""
    return [sys.executable, "-m", "om_dsl.cli", "serve", "--port", str(port),
            "--catalog", str(catalog), "--handlers", "om_dsl.service.demo:handlers",
            *options]  # fmt: skip


def om_serve_env(db: Path, environ: dict[str, str] | None = None) -> dict[str, str]:
    """Its environment: one API client (``crm``), the store ``db`` and ``environ``."""
    return {**os.environ, "OM_TOKENS": f"crm:{TOKEN}", "OM_DB": str(db), **(environ or {})}


def stop_om_serve(process: Popen[bytes]) -> str:
    """SIGTERM, like a service manager; the output, once it exited 0."""
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err.decode()
    return (out + err).decode()


def answers(url: str) -> bool:
    """Whether ``url`` answers 200 (a refused connection is a no, after a short pause)."""
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        time.sleep(0.1)
        return False
