"""``make serve-demo``: the example orders through the HTTP service, as a CRM and a field team
would use it.

It starts the downstream simulators and a listener on 127.0.0.1, then ``om serve``'s service
(the runtime inside, a SQLite store in a temporary folder, two API clients with generated
tokens).  The CRM registers the listener at ``POST /hub``, posts the TMF622 sample and the other
example orders to ``POST /productOrder`` (and one invalid order, to show the 400), a field
technician works the manual tasks through ``/tasks``, the porting desk signals the number
port-ins, and the demo watches ``GET /productOrder`` until every order is completed.  It ends
with a table per order and the TMF622 notifications the listener received, and exits 0 when
every order completed and its completion was notified.

    python -m om_dsl.service.demo

:func:`handlers` gives ``om serve`` the same stand-ins for the example catalog's ``auto`` items:
``om serve --catalog examples/catalog/acme.om --handlers om_dsl.service.demo:handlers``.
"""

from __future__ import annotations

import secrets
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from rich.table import Table

from om_dsl.compiler.driver import compile_catalog
from om_dsl.consoles import PlainConsole
from om_dsl.demo import EXAMPLES, ORDERS, demo_handlers, notification_listener
from om_dsl.demo import simulators_package as simulators
from om_dsl.runtime import HandlerRegistry, Runtime, SqliteStore
from om_dsl.runtime.downstream import DownstreamSettings
from om_dsl.runtime.notify import NotifySettings
from om_dsl.runtime.notify.tmf import every_item
from om_dsl.service.config import ServiceConfig
from om_dsl.service.server import ServiceServer

CATALOG = EXAMPLES / "catalog" / "acme.om"
BILLING_TOKEN = "demo-billing-token"
TECHNICIAN = "field-tech"
DEADLINE_S = 40.0
DONE = frozenset({"completed", "failed", "cancelled", "held", "partial", "rejected"})
console = PlainConsole(width=None if sys.stdout.isatty() else 140)


def handlers() -> HandlerRegistry:
    """Stand-ins for the example catalog's host handlers (the same as ``make demo``'s)."""
    return demo_handlers()


@dataclass
class Demo:
    url: str
    crm: httpx.Client
    tech: httpx.Client
    listener: Any
    orders: dict[str, str] = field(default_factory=dict)
    """Order id -> the example file it came from."""
    tasks: Counter[str] = field(default_factory=Counter)
    signalled: set[str] = field(default_factory=set)


def main() -> int:
    started = time.monotonic()
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="om-serve-demo-") as tmp:
        demo = _start(stack, Path(tmp))
        _submit(demo)
        _work(demo)
        ok = _report(demo)
    console.print(f"serve demo finished in {time.monotonic() - started:.1f} s")
    return 0 if ok else 1


# ---- setting up -------------------------------------------------------------------------------


def _start(stack: ExitStack, folder: Path) -> Demo:
    sims = simulators()
    billing = stack.enter_context(sims.start("billing", token=BILLING_TOKEN))
    inventory = stack.enter_context(sims.start("inventory"))
    network = stack.enter_context(sims.start("network", callback_delay_ms=300))
    listener = stack.enter_context(notification_listener("serve-demo-listener"))
    environ = {"BILLING_URL": billing.url, "INVENTORY_URL": inventory.url,
               "NETWORK_URL": network.url, "BILLING_TOKEN": BILLING_TOKEN}  # fmt: skip
    runtime = stack.enter_context(_runtime(folder / "om.db", environ))
    tokens = {"crm": secrets.token_urlsafe(24), TECHNICIAN: secrets.token_urlsafe(24)}
    server = stack.enter_context(_server(runtime, tokens))
    console.print(f"service:   {server.url} (OpenAPI at {server.url}/docs)")
    console.print(f"clients:   {', '.join(tokens)} (generated bearer tokens, not shown)")
    console.print(f"listener:  {listener.url} (registered at POST /hub)")
    crm = stack.enter_context(_client(server.url, tokens["crm"]))
    tech = stack.enter_context(_client(server.url, tokens[TECHNICIAN]))
    return Demo(server.url, crm, tech, listener)


@contextmanager
def _runtime(db: Path, environ: dict[str, str]) -> Iterator[Runtime]:
    result = compile_catalog(CATALOG)
    if result.catalog is None:
        raise SystemExit(f"{CATALOG} does not compile")
    notify = NotifySettings(backoff_ms=100, max_attempts=4)
    downstream = DownstreamSettings(notify=notify, environ=environ)
    runtime = Runtime(result.catalog, store=SqliteStore(db), handlers=handlers(),
                      downstream=downstream)  # fmt: skip
    try:
        yield runtime
    finally:
        runtime.close()


@contextmanager
def _server(runtime: Runtime, tokens: dict[str, str]) -> Iterator[ServiceServer]:
    server = ServiceServer(runtime, ServiceConfig(port=0, tokens=tokens), access_log=False,
                           log_level="warning")  # fmt: skip
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def _client(url: str, token: str) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
        yield client


# ---- the CRM ----------------------------------------------------------------------------------


def _submit(demo: Demo) -> None:
    hub = demo.crm.post("/hub", json={"callback": f"{demo.listener.url}/crm-events"})
    console.print(f"POST /hub -> {hub.status_code} (listener {hub.json()['id']})")
    for name in ORDERS:
        path = EXAMPLES / "orders" / f"{name}.json"
        answer = demo.crm.post("/productOrder", content=path.read_bytes())
        body = answer.json()
        console.print(f"POST /productOrder {path.name} -> {answer.status_code} "
                      f"{body.get('state')} {body.get('href')}")  # fmt: skip
        if answer.status_code == 201:
            demo.orders[body["id"]] = path.name
    _show_invalid(demo)


def _show_invalid(demo: Demo) -> None:
    bad = {"productOrderItem": [{"id": "1", "action": "add", "productOffering": {"id": "999"}}]}
    answer = demo.crm.post("/productOrder", json=bad)
    issue = answer.json()["issues"][0]
    console.print(f"POST /productOrder (an unknown offering) -> {answer.status_code} "
                  f"{issue['path']}: {issue['message']}")  # fmt: skip


# ---- the people -------------------------------------------------------------------------------


def _work(demo: Demo) -> None:
    """Play the field technician and the porting desk until every order is done."""
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline and not _all_done(demo):
        _work_tasks(demo)
        _signal_porting(demo)
        time.sleep(0.1)


def _work_tasks(demo: Demo) -> None:
    for task in demo.tech.get("/tasks", params={"queue": "field_techs"}).json():
        demo.tech.post(f"/tasks/{task['id']}/claim", json={})
        outputs = {"serial": f"SN-{task['orderId']}-{task['name']}"}
        done = demo.tech.post(f"/tasks/{task['id']}/complete", json={"outputs": outputs})
        demo.tasks[task["orderId"]] += 1
        console.print(f"{TECHNICIAN}: POST /tasks/.../complete {task['itemId']} of "
                      f"{task['orderId']} -> {done.status_code}")  # fmt: skip


def _signal_porting(demo: Demo) -> None:
    for order_id in set(demo.orders) - demo.signalled:
        status = demo.crm.get(f"/productOrder/{order_id}/status").json()
        if any(i["kind"] == "wait" and i["state"] == "waiting" for i in status["items"]):
            body = {"event": "number.ported", "payload": {"ported": True}}
            answer = demo.crm.post(f"/productOrder/{order_id}/signal", json=body)
            demo.signalled.add(order_id)
            console.print(f"porting desk: POST /productOrder/{order_id}/signal number.ported "
                          f"-> {answer.json()}")  # fmt: skip


def _all_done(demo: Demo) -> bool:
    orders = demo.crm.get("/productOrder", params={"fields": "state", "limit": 1000}).json()
    states = {o["id"]: o["state"] for o in orders}
    return all(states.get(order_id) in DONE for order_id in demo.orders)


# ---- reporting --------------------------------------------------------------------------------


def _report(demo: Demo) -> bool:
    _wait_for_completions(demo)
    heard = _notifications(demo)
    table = Table(title="orders (GET /productOrder)", title_justify="left")
    for column in ("order", "from", "state", "items", "tasks", "events", "notifications"):
        table.add_column(column)
    ok = True
    for order_id, source in demo.orders.items():
        row, fine = _row(demo, order_id, source, heard.get(order_id, []))
        table.add_row(*row)
        ok = ok and fine
    console.print(table)
    _print_notifications(heard)
    return ok


def _row(demo: Demo, order_id: str, source: str, heard: list[str]) -> tuple[list[str], bool]:
    order = demo.crm.get(f"/productOrder/{order_id}").json()
    items = Counter(i["state"] for i in every_item(order))
    events = demo.crm.get(f"/productOrder/{order_id}/events").json()
    completed = "completed" in heard
    notes = f"{len(heard)}" + ("" if completed else " (no completion!)")
    row = [order_id, source, order["state"], ", ".join(f"{n} {s}" for s, n in items.items()),
           str(demo.tasks[order_id]), str(len(events)), notes]  # fmt: skip
    return row, order["state"] == "completed" and completed


def _notifications(demo: Demo) -> dict[str, list[str]]:
    """Order id -> the states its events reported (``created`` for the create event)."""
    heard: dict[str, list[str]] = {}
    for event in demo.listener.events():
        body = event["body"]
        if event["path"] != "/crm-events" or not isinstance(body, dict):
            continue
        order = body.get("event", {}).get("productOrder", {})
        kind = "created" if body.get("eventType") == "ProductOrderCreateEvent" else None
        heard.setdefault(order.get("id", "?"), []).append(kind or order.get("state", "?"))
    return heard


def _wait_for_completions(demo: Demo, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        heard = _notifications(demo)
        if all("completed" in heard.get(o, []) for o in demo.orders):
            return
        time.sleep(0.1)


def _print_notifications(heard: dict[str, list[str]]) -> None:
    console.print("notifications received by the listener (POST /hub):")
    for order_id, states in heard.items():
        console.print(f"  {order_id}: {' -> '.join(states)}")


if __name__ == "__main__":
    sys.exit(main())
