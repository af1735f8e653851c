"""The process that test_downstream_crash.py kills again and again.

    python crash_callout_worker.py CATALOG.json STORE.db ORDERS CALLBACK_PORT LISTENER INV NET BILL

It serves callbacks on a fixed port (a system calls back the same URL after a restart),
submits the orders that are not in the store yet, prints READY, runs until idle, waits until
every notification is delivered, and prints DONE.  Its callouts go to the simulators that the
test runs, which count effects per idempotency key.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from om_dsl.ir.io import load_ir
from om_dsl.orders.models import Decomposition, FulfillmentLine, FulfillmentRequest
from om_dsl.runtime import Runtime, SqliteStore
from om_dsl.runtime.downstream import DownstreamSettings
from om_dsl.runtime.notify import NotifySettings

TOKEN = "crash-test-token"
LINES = 2
CATALOG = """
system Inv { url env("INV_URL") timeout 5s retry fixed 50ms max 30 }
system Net { url env("NET_URL") timeout 5s retry fixed 50ms max 30 }
system Bill { url env("BILL_URL") timeout 5s auth bearer env("BILL_TOKEN") retry fixed 50ms max 30 }
cfs Line { attribute site: string  attribute technology: string }
plan Line on add {
  callout reserve: Inv POST "/ports/reserve"
      request { technology: line.technology, site: line.site }
      response { port_id = body.port.id }
  callout activate: Net POST "/activations" async
      request { port_id: reserve.port_id }
      response { activation_id = body.activation.id }
      after reserve timeout 20s
  callout bill: Bill POST "/subscriptions"
      request { account: line.site, product: "fibre", port: reserve.port_id }
      response { subscription_id = body.id }
      after activate
  milestone done after bill
}
"""
CALLOUTS = ("reserve", "activate", "bill")


def orders(count: int, catalog_hash: str) -> list[Decomposition]:
    work = []
    for n in range(count):
        requests = []
        for k in range(LINES):
            root = str(k + 1)
            line = FulfillmentLine(
                id=f"L{root}", product="Line", kind="cfs", scope="line", action="add",
                attributes={"site": f"S{n}-{root}", "technology": "FTTH"},
                source_items=[root], root_items=[root], rules=[], request=f"fr:{root}",
            )  # fmt: skip
            requests.append(FulfillmentRequest(id=f"fr:{root}", root_item=root, lines=[line]))
        work.append(Decomposition(order_id=f"ORD-{n:03d}", catalog_hash=catalog_hash,
                                  requests=requests))  # fmt: skip
    return work


def finished(runtime: Runtime, deadline: float) -> None:
    """Wait until every order is done: after a restart, items may wait for callbacks that the
    systems are still retrying, which run_until_idle would not wait for."""
    while any(r.state != "completed" for r in runtime.orders()):
        if time.monotonic() > deadline:
            print("NOT FINISHED", flush=True)
            sys.exit(1)
        time.sleep(0.05)


def main(argv: list[str]) -> None:
    catalog_path, store_path, count, port, listener, inv, net, bill = argv
    catalog = load_ir(Path(catalog_path))
    environ = {"INV_URL": inv, "NET_URL": net, "BILL_URL": bill, "BILL_TOKEN": TOKEN}
    notify = NotifySettings(urls=(listener,), backoff_ms=50, backoff_cap_ms=500,
                            max_attempts=10_000, poll_s=0.05)  # fmt: skip
    settings = DownstreamSettings(environ=environ, notify=notify)
    runtime = Runtime(catalog, store=SqliteStore(store_path), concurrency=8, downstream=settings)
    runtime.serve_callbacks(int(port))
    for work in orders(int(count), catalog.content_hash):
        if not runtime.has_order(work.order_id):
            runtime.submit(work)
    print("READY", flush=True)
    runtime.start_background()
    finished(runtime, deadline=time.monotonic() + 120)
    runtime.stop()
    if not runtime.notifications.drain(60):
        print("NOTIFICATIONS PENDING", flush=True)
        sys.exit(1)
    runtime.close()
    print("DONE", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
