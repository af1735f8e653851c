"""A prune killed with SIGKILL at a random point leaves every order whole: each is either all
there (its row, plan, items, events, product changes) or all gone, and the next prune goes
on from there."""

from __future__ import annotations

import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from crash_support import wait_line
from runtime_support import compile_text

from om_dsl.runtime import HandlerRegistry, PrunePolicy, Runtime, SqliteStore

LAB = """
offer Web "Web" id "1" { attribute n: int default 1 }
cfs Svc { attribute n: int }
decompose Web { -> Svc { n = n } }
plan Svc on add {
  auto first handler "first"
  auto second handler "second" after first
}
"""
ORDERS = 200
WORKER = """
import sys, time
from om_dsl.runtime import PrunePolicy, SqliteStore
store = SqliteStore(sys.argv[1])
print("READY", flush=True)
report = store.prune(PrunePolicy(time.time() + 1, batch_size=2, pause_s=0.005))
print("DONE", report.orders, flush=True)
"""
TABLES = ("orders", "plans", "items", "events", "order_products")


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store of ORDERS real orders, all completed (made once, copied per round)."""
    db = tmp_path_factory.mktemp("prune-crash") / "om.db"
    registry = HandlerRegistry()
    for name in ("first", "second"):
        registry.register(name, lambda ctx: {"done": True})
    with Runtime(compile_text(LAB), store=SqliteStore(db), handlers=registry) as runtime:
        for n in range(ORDERS):
            runtime.submit({"id": f"O{n:03}", "items": [{"id": "1", "product": "Web"}]})
        runtime.run_until_idle()
        assert runtime.store.count_orders() == {"completed": ORDERS}
    return db


def _rows(db: Path) -> dict[str, tuple[int, ...]]:
    """Order id -> how many rows it has in each of TABLES (0 for none: pruned)."""
    con = sqlite3.connect(db)
    try:
        counts: dict[str, list[int]] = {}
        for position, table in enumerate(TABLES):
            column = "id" if table == "orders" else "order_id"
            for order_id, n in con.execute(
                f"SELECT {column}, COUNT(*) FROM {table} GROUP BY {column}"
            ):
                counts.setdefault(order_id, [0] * len(TABLES))[position] = n
        return {order_id: tuple(n) for order_id, n in counts.items()}
    finally:
        con.close()


def test_a_killed_prune_leaves_every_order_whole(finished: Path, tmp_path: Path) -> None:
    whole = _rows(finished)
    assert len(whole) == ORDERS and all(all(rows[:4]) for rows in whole.values())
    rng = random.Random(7)
    cut_short = 0
    for round_ in range(5):
        db = tmp_path / f"om{round_}.db"
        shutil.copyfile(finished, db)
        worker = subprocess.Popen([sys.executable, "-c", WORKER, str(db)],
                                  stdout=subprocess.PIPE, text=True)  # fmt: skip
        assert wait_line(worker, "READY", 60)
        time.sleep(rng.uniform(0.02, 0.4))
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        left = _rows(db)
        assert all(left[order_id] == whole[order_id] for order_id in left), "half-pruned"
        cut_short += 0 < len(left) < ORDERS
        store = SqliteStore(db)  # the next prune goes on where the killed one stopped
        report = store.prune(PrunePolicy(time.time() + 1, pause_s=0))
        assert report.orders == len(left)
        assert store.count_orders() == {}
        store.close()
        assert _rows(db) == {}
    assert cut_short, "no kill fell in the middle of a prune"
