"""Helpers for downstream tests: the lab catalog, orders of it, simulators and runtimes.

Runtimes read system URLs and credentials from an explicit environment (never the process's
``os.environ``), so tests stay independent of each other and of the machine.
"""

from __future__ import annotations

import textwrap
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from simulators import Simulator, start

from om_dsl.compiler.driver import compile_catalog
from om_dsl.ir import models as ir
from om_dsl.orders.models import Decomposition, FulfillmentLine, FulfillmentRequest
from om_dsl.runtime import HandlerRegistry, Runtime, SqliteStore
from om_dsl.runtime.downstream import DownstreamSettings
from om_dsl.runtime.notify import NotifySettings
from om_dsl.runtime.store.base import Store

TOKEN = "s3cr3t-billing-token-4711"
LAB = """
system Inv "Inventory" {
  url env("INV_URL")
  timeout 2s
  retry fixed 50ms max 2
  permanent 400, 404, 422
}
system Net "Network" {
  url env("NET_URL")
  timeout 2s
  retry fixed 50ms max 2
  permanent 400, 422
}
system Bill "Billing" {
  url env("BILL_URL")
  timeout 2s
  auth bearer env("BILL_TOKEN")
  retry none
  permanent 400, 401, 422
}
queue techs "Technicians"
cfs Line { attribute site: string  attribute technology: string }
plan Line on add {
  callout reserve: Inv POST "/ports/reserve"
      request { technology: line.technology, site: line.site }
      response { port_id = body.port.id }
  callout activate: Net POST "/activations" async
      request { port_id: reserve.port_id, technology: line.technology }
      response { activation_id = body.activation.id }
      after reserve timeout 5s
  callout bill: Bill POST "/accounts" request { account: line.site }
      response { account_id = body.id } after activate
}
"""


@dataclass
class Sims:
    inventory: Simulator
    network: Simulator
    billing: Simulator

    def all(self) -> list[Simulator]:
        return [self.inventory, self.network, self.billing]

    def environ(self, **extra: str) -> dict[str, str]:
        env = {
            "INV_URL": self.inventory.url,
            "NET_URL": self.network.url,
            "BILL_URL": self.billing.url,
            "BILL_TOKEN": TOKEN,
        }
        env.update(extra)
        return env


def start_sims(**config: Any) -> Sims:
    fast = {"callback_delay_ms": 20, "callback_backoff_ms": 30, **config}
    return Sims(
        start("inventory", **fast), start("network", **fast), start("billing", token=TOKEN, **fast)
    )


def lab_source(text: str = LAB) -> str:
    """A whole catalog file of ``text`` (declarations without the catalog header)."""
    return 'catalog "Lab" version "1"\n' + textwrap.dedent(text)


def compile_text(text: str = LAB) -> ir.Catalog:
    result = compile_catalog("lab.om", text=lab_source(text))
    errors = [d.headline() for d in result.diagnostics if d.is_error]
    assert result.catalog is not None, "\n".join(errors)
    return result.catalog


def line(
    line_id: str, product: str = "Line", root: str = "1", **attributes: Any
) -> FulfillmentLine:
    return FulfillmentLine(
        id=line_id,
        product=product,
        kind="cfs",
        scope="line",
        action="add",
        attributes=attributes,
        source_items=[root],
        root_items=[root],
        rules=[f"rule->{product}"],
        request=f"fr:{root}",
    )


def order(order_id: str, catalog: ir.Catalog, lines: Iterable[FulfillmentLine]) -> Decomposition:
    by_root: dict[str, list[FulfillmentLine]] = {}
    for ln in lines:
        by_root.setdefault(ln.root_items[0], []).append(ln)
    requests = [
        FulfillmentRequest(id=f"fr:{root}", root_item=root, lines=found)
        for root, found in by_root.items()
    ]
    return Decomposition(order_id=order_id, catalog_hash=catalog.content_hash, requests=requests)


def lab_order(order_id: str, catalog: ir.Catalog, **attrs: Any) -> Decomposition:
    values = {"site": "SITE-1", "technology": "FTTH", **attrs}
    return order(order_id, catalog, [line("L", **values)])


class Lab:
    """Makes runtimes on the simulators and closes every one of them at the end."""

    def __init__(self, sims: Sims) -> None:
        self.sims = sims
        self.runtimes: list[Runtime] = []

    def runtime(
        self,
        catalog: ir.Catalog | None = None,
        *,
        store: Store | None = None,
        environ: Mapping[str, str] | None = None,
        notify: NotifySettings | None = None,
        handlers: HandlerRegistry | None = None,
        serve: bool = True,
    ) -> Runtime:
        settings = DownstreamSettings(
            notify=notify or NotifySettings(), environ=dict(environ or self.sims.environ())
        )
        runtime = Runtime(catalog or compile_text(), store=store, handlers=handlers,
                          downstream=settings)  # fmt: skip
        self.runtimes.append(runtime)
        if serve:
            runtime.serve_callbacks()
        return runtime

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, *exc: object) -> None:
        for runtime in self.runtimes:
            runtime.close()


def sqlite(path: Path) -> SqliteStore:
    return SqliteStore(path / "om.db")


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} s")
        time.sleep(0.02)


def run_until(runtime: Runtime, order_id: str, states: set[str], timeout: float = 15.0) -> str:
    """Run in the background until the order is in one of ``states``; returns its state."""
    runtime.start_background()
    try:
        wait_until(lambda: runtime.status(order_id).state in states, timeout)
    finally:
        runtime.stop()
    return runtime.status(order_id).state


def reasons(runtime: Runtime, order_id: str) -> list[str]:
    return [e.detail for e in runtime.events(order_id) if e.detail]


@contextmanager
def loopback_http(handler: type[BaseHTTPRequestHandler]) -> Iterator[ThreadingHTTPServer]:
    """A bare HTTP server on 127.0.0.1 (a free port) in a thread, for listeners the
    simulators cannot play (one that never answers, one that keeps raw bodies); stopped at
    the end of the block."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def url_of(server: ThreadingHTTPServer, path: str) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}{path}"
