"""The process that tests/runtime/test_runtime_crash.py kills again and again.

    python crash_worker.py CATALOG.json STORE.db EFFECTS.db ORDERS

It submits the orders that are not in the store yet (one transaction each), prints READY, runs
the runtime until every order is done (WORKING at the first handler call), prints DONE.  Its
one handler applies an "effect" in a separate SQLite file, honouring the idempotency key: the
effect row is keyed by it, and every call (applied or not) is counted too, so the test can
tell re-attempts from double effects.
"""

from __future__ import annotations

import os
import random
import sqlite3
import sys
import threading
import time
from pathlib import Path
from typing import Any

from om_dsl.ir.io import load_ir
from om_dsl.orders.models import Decomposition, FulfillmentLine, FulfillmentRequest
from om_dsl.runtime import HandlerRegistry, ItemContext, Runtime, SqliteStore

CATALOG = """
cfs Access "Access" scope order { attribute site: string }
cfs Svc { attribute n: int }
plan Access on add {
  auto reserve handler "fx"
  auto install handler "fx" after reserve
  auto activate handler "fx" after install
  milestone ready after activate
}
plan Svc on add {
  auto configure handler "fx"
  auto provision handler "fx" after configure
  auto bill handler "fx" after provision
  milestone done after bill
}
depend Svc.provision after Access.ready within order
"""
SERVICES = 4
EFFECTS_SCHEMA = """
PRAGMA journal_mode=WAL;
CREATE TABLE IF NOT EXISTS effects (key TEXT PRIMARY KEY, attempt INTEGER, pid INTEGER);
CREATE TABLE IF NOT EXISTS calls (key TEXT, attempt INTEGER, pid INTEGER);
"""


def orders(count: int, catalog_hash: str) -> list[Decomposition]:
    """Orders of one shared access line and SERVICES services (each its own root item)."""
    roots = [str(k) for k in range(SERVICES)]
    work = []
    for n in range(count):
        access = _line("A", "Access", "order", roots, "fr:order", site=f"S{n}")
        requests = [FulfillmentRequest(id="fr:order", shared=True, scope="order", lines=[access])]
        for k in roots:
            service = _line(f"S{k}", "Svc", "line", [k], f"fr:{k}", n=int(k))
            requests.append(FulfillmentRequest(id=f"fr:{k}", root_item=k, lines=[service]))
        work.append(
            Decomposition(order_id=f"ORD-{n:03d}", catalog_hash=catalog_hash, requests=requests)
        )
    return work


def _line(
    line_id: str, product: str, scope: Any, roots: list[str], request: str, **attrs: Any
) -> FulfillmentLine:
    return FulfillmentLine(
        id=line_id,
        product=product,
        kind="cfs",
        scope=scope,
        action="add",
        attributes=attrs,
        source_items=roots,
        root_items=roots,
        rules=[],
        request=request,
    )


def effect_handler(path: str) -> Any:
    local = threading.local()
    first = threading.Event()

    def connection() -> sqlite3.Connection:
        if not hasattr(local, "db"):  # one per handler thread, kept open (no WAL churn)
            local.db = sqlite3.connect(path, timeout=60, isolation_level=None)
            local.db.execute("PRAGMA synchronous=NORMAL")
        return local.db  # type: ignore[no-any-return]

    def apply(ctx: ItemContext) -> dict[str, Any]:
        db = connection()
        db.execute(  # every attempt that starts is counted (autocommit)
            "INSERT INTO calls (key, attempt, pid) VALUES (?, ?, ?)",
            (ctx.idempotency_key, ctx.attempt, os.getpid()),
        )
        if not first.is_set():  # the test's cue: kills from now on land among handler calls
            first.set()
            print("WORKING", flush=True)
        time.sleep(random.uniform(0.005, 0.025))  # the work a SIGKILL may interrupt
        db.execute("BEGIN IMMEDIATE")
        db.execute(  # honour the key: a second call with it changes nothing
            "INSERT OR IGNORE INTO effects (key, attempt, pid) VALUES (?, ?, ?)",
            (ctx.idempotency_key, ctx.attempt, os.getpid()),
        )
        db.execute("COMMIT")
        return {"applied": ctx.idempotency_key}

    return apply


def main(catalog_path: str, store_path: str, effects_path: str, count: int) -> None:
    effects = sqlite3.connect(effects_path, timeout=60)
    effects.executescript(EFFECTS_SCHEMA)
    effects.close()
    catalog = load_ir(Path(catalog_path))
    registry = HandlerRegistry()
    registry.register("fx", effect_handler(effects_path))
    runtime = Runtime(catalog, store=SqliteStore(store_path), handlers=registry, concurrency=4)
    for work in orders(count, catalog.content_hash):
        if not runtime.has_order(work.order_id):
            runtime.submit(work)
    print("READY", flush=True)
    runtime.run_until_idle()
    print("DONE", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))
