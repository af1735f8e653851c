"""``make demo``: example orders through decomposition, planning and execution, for real.

It starts the downstream simulators (billing, inventory, network) and a notification listener
on free 127.0.0.1 ports, points the catalog's systems at them through the environment (with a
demo billing token), compiles ``examples/catalog/acme.om`` and runs the TMF622 sample order and
three more example orders, unchanged, on a SQLite store in a temporary folder.  Along the way
billing fails twice (retries), the network is in a short maintenance window (callouts held,
then released), line activations answer asynchronously (callbacks), a field technician claims
and completes the manual tasks and the number port-in is signalled.  It ends with a summary per
order, and exits 0 when every order completed and its completion was notified.

    python -m om_dsl.demo
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.table import Table

from om_dsl.compiler.driver import compile_catalog
from om_dsl.consoles import PlainConsole
from om_dsl.ir.models import Catalog
from om_dsl.orders.decompose import Decomposer
from om_dsl.runtime import HandlerRegistry, ItemContext, Runtime, SqliteStore
from om_dsl.runtime.downstream import DownstreamSettings
from om_dsl.runtime.notify import NotifySettings
from om_dsl.runtime.states import ORDER_TERMINAL

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
CATALOG = EXAMPLES / "catalog" / "acme.om"
ORDERS = ("tmf622-product-order", "home-duo-add", "home-trio-tv", "fibre-modify", "copper-delete")
NOTIFY_PORT = 8104
"""The port ``home-duo-add.json`` names in its ``notify`` (used when it is free)."""
TECHNICIAN = "demo-field-tech"
MAINTENANCE_S = 1.0
DEADLINE_S = 40.0
DEMO_TOKEN = "demo-billing-token"
SETTLED = frozenset(s.value for s in ORDER_TERMINAL) | {"held"}
"""Where the demo stops waiting for an order (held: it needs an operator)."""

console = PlainConsole(width=None if sys.stdout.isatty() else 132)


@dataclass
class Demo:
    """What the demo started, and what it saw."""

    sims: dict[str, Any]
    listener: Any
    runtime: Runtime
    orders: dict[str, str] = field(default_factory=dict)
    """Order id -> the example file it came from."""
    tasks_done: dict[str, int] = field(default_factory=dict)


def main() -> int:
    started = time.monotonic()
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="om-demo-") as tmp:
        demo = _start(stack, Path(tmp))
        _submit(demo)
        _drive(demo)
        delivered = demo.runtime.notifications.drain(10.0)
        ok = _report(demo, delivered)
    console.print(f"demo finished in {time.monotonic() - started:.1f} s")
    return 0 if ok else 1


# ---- setting up -------------------------------------------------------------------------------


def simulators_package() -> Any:
    """The simulators package of ``examples/`` (not part of the installed om_dsl)."""
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    try:
        return importlib.import_module("simulators")
    except ImportError:
        message = f"the demo needs the simulators in {EXAMPLES}: run it from a checkout"
        raise SystemExit(message) from None


def _start(stack: ExitStack, folder: Path) -> Demo:
    start = simulators_package().start
    sims = {
        "billing": stack.enter_context(start("billing", token=DEMO_TOKEN, callback_delay_ms=150)),
        "inventory": stack.enter_context(start("inventory")),
        "network": stack.enter_context(start("network", callback_delay_ms=300)),
    }
    listener = stack.enter_context(notification_listener())
    stack.enter_context(_environment(sims))
    catalog = _catalog()
    runtime = stack.enter_context(_runtime(catalog, folder / "om.db", listener.url))
    console.print(f"callbacks: {runtime.serve_callbacks()}/callbacks/<token>")
    console.print(f"listener:  {listener.url} (TMF622 events)")
    console.print(f"store:     {folder / 'om.db'}")
    return Demo(sims, listener, runtime)


@contextmanager
def notification_listener(name: str = "demo-listener") -> Iterator[Any]:
    """A TMF622 event listener on the port the example orders name in ``notify`` (or any free
    port when that one is taken); stopped on exit."""
    listener = simulators_package().Listener(name)
    try:
        listener.start(NOTIFY_PORT)
    except OSError:
        listener.start(0)
    try:
        yield listener
    finally:
        listener.stop()


@contextmanager
def _environment(sims: dict[str, Any]) -> Iterator[None]:
    """The catalog reads its systems' URLs (and billing's token) from these variables."""
    values = {
        "BILLING_URL": sims["billing"].url,
        "INVENTORY_URL": sims["inventory"].url,
        "NETWORK_URL": sims["network"].url,
        "BILLING_TOKEN": DEMO_TOKEN,
    }
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _catalog() -> Catalog:
    result = compile_catalog(CATALOG)
    if result.catalog is None:
        raise SystemExit(f"{CATALOG} does not compile")
    console.print(f"catalog:   {CATALOG.relative_to(REPO)} ({result.catalog.content_hash[:19]})")
    return result.catalog


@contextmanager
def _runtime(catalog: Catalog, db: Path, listener_url: str) -> Iterator[Runtime]:
    notify = NotifySettings(urls=(f"{listener_url}/om-demo",), backoff_ms=100, max_attempts=4)
    runtime = Runtime(
        catalog,
        store=SqliteStore(db),
        handlers=demo_handlers(),
        downstream=DownstreamSettings(notify=notify),
    )
    try:
        yield runtime
    finally:
        runtime.close()


def demo_handlers() -> HandlerRegistry:
    """The host's code for the catalog's ``auto`` items (quick stand-ins)."""
    registry = HandlerRegistry()

    def done(ctx: ItemContext) -> dict[str, Any]:
        return {"done_by": ctx.spec.handler, "key": ctx.idempotency_key}

    def change_speed(ctx: ItemContext) -> dict[str, Any]:
        return {**done(ctx), "from": ctx.previous("max_speed"), "to": ctx.line["max_speed"]}

    for name in ("network.configure_internet", "network.provision_voice",
                 "logistics.ship_router", "tv.entitle"):  # fmt: skip
        registry.register(name, done)
    registry.register("network.change_speed", change_speed)
    return registry


# ---- running ----------------------------------------------------------------------------------


def _submit(demo: Demo) -> None:
    decomposer = Decomposer(demo.runtime.catalog or _catalog())
    for name in ORDERS:
        path = EXAMPLES / "orders" / f"{name}.json"
        order = decomposer.read(json.loads(path.read_text(encoding="utf-8")))
        demo.orders[demo.runtime.submit(order)] = path.name
        console.print(f"submitted {path.name} as order {order.id}")


def _drive(demo: Demo) -> None:
    """Run in the background and play the people: technician, porting desk, network ops."""
    runtime = demo.runtime
    demo.sims["billing"].configure(fail_times=2)  # billing stumbles: retried
    runtime.systems.set_offline("Network", True, by="demo")
    console.print("billing will fail twice; network is in maintenance for a second")
    runtime.start_background()
    start, deadline = time.monotonic(), time.monotonic() + DEADLINE_S
    online = False
    while time.monotonic() < deadline and not _all_finished(demo):
        if not online and time.monotonic() - start > MAINTENANCE_S:
            released = runtime.systems.set_offline("Network", False, by="demo")
            console.print(f"network is back online: {released} held callout(s) released")
            online = True
        _work_tasks(demo)
        _signal_porting(demo)
        time.sleep(0.05)
    runtime.stop()


def _work_tasks(demo: Demo) -> None:
    for task in demo.runtime.tasks.list("field_techs"):
        demo.runtime.tasks.claim(task.order_id, task.item_id, TECHNICIAN)
        outputs = {"installed_by": TECHNICIAN, "serial": f"SN-{task.order_id}-{task.name}"}
        demo.runtime.tasks.complete(task.order_id, task.item_id, outputs, user=TECHNICIAN)
        demo.tasks_done[task.order_id] = demo.tasks_done.get(task.order_id, 0) + 1
        console.print(f"{TECHNICIAN} completed {task.item_id} of order {task.order_id}")


def _signal_porting(demo: Demo) -> None:
    for order_id in demo.orders:
        status = demo.runtime.status(order_id)
        if any(i.kind == "wait" and i.state == "waiting" for i in status.items):
            count = demo.runtime.signal("number.ported", order_id, {"ported": True})
            console.print(f"number.ported signalled to order {order_id} ({count} item)")


def _all_finished(demo: Demo) -> bool:
    return all(demo.runtime.status(o).state in SETTLED for o in demo.orders)


# ---- reporting --------------------------------------------------------------------------------


def _report(demo: Demo, delivered: bool) -> bool:
    table = Table(title="orders", title_justify="left")
    for column in ("order", "from", "state", "items", "callouts", "requests", "callbacks",
                   "retries", "tasks", "notifications"):  # fmt: skip
        table.add_column(column)
    requests = _requests_per_order(demo)
    ok = True
    for order_id, source in demo.orders.items():
        row, fine = _row(demo, order_id, source, requests.get(order_id, 0))
        table.add_row(*row)
        ok = ok and fine
    console.print(table)
    _report_systems(demo)
    if not delivered:
        console.print(f"{demo.runtime.notifications.pending()} notification(s) still pending")
    return ok


def _row(demo: Demo, order_id: str, source: str, requests: int) -> tuple[list[str], bool]:
    status = demo.runtime.status(order_id)
    callouts = [i for i in status.items if i.kind == "callout" and i.attempt]
    callbacks = sum(1 for e in demo.runtime.events(order_id) if _is_callback(e.detail))
    done = [d for d in demo.runtime.notifications.deliveries(order_id) if d.status == "delivered"]
    completed = any(d.state == "completed" for d in done)
    urls = len({d.url for d in done})
    states = ", ".join(f"{n} {s}" for s, n in status.counts.items())
    notes = f"{len(done)} to {urls} URL(s)" + ("" if completed else " (no completion!)")
    row = [order_id, source, status.state, states, str(len(callouts)), str(requests),
           str(callbacks), str(sum(i.failures for i in status.items)),
           str(demo.tasks_done.get(order_id, 0)), notes]  # fmt: skip
    return row, status.state == "completed" and completed


def _is_callback(detail: str | None) -> bool:
    return detail is not None and "callback" in detail and "received" in detail


def _requests_per_order(demo: Demo) -> dict[str, int]:
    """Requests the simulators saw, by order (their correlation id starts with the order id)."""
    counts: dict[str, int] = {}
    for sim in demo.sims.values():
        for request in sim.requests():
            order_id = str(request.get("correlation_id") or "").split("/", 1)[0]
            counts[order_id] = counts.get(order_id, 0) + 1
    return counts


def _report_systems(demo: Demo) -> None:
    parts = []
    for name, sim in demo.sims.items():
        stats = sim.stats()
        parts.append(f"{name}: {stats['requests']} requests, {stats['effects']} effects, "
                     f"{stats['faults']} faults, {stats['replays']} replays")  # fmt: skip
    console.print("simulators: " + "; ".join(parts))
    console.print(f"listener: {len(demo.listener.events())} events received")


if __name__ == "__main__":
    sys.exit(main())
