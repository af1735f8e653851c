"""Retention beside the service: `om prune` while `om serve` runs the same store (neither side
fails, pruned orders are 404s, eventIds go on rising), and what a replayed create with the
Idempotency-Key of a pruned order does (it creates the order again: keys last as long as
their order)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from service_support import (
    TOKEN,
    Running,
    om_serve,
    order_json,
    stop_om_serve,
    wait_for,
    wait_state,
)

from om_dsl.runtime import PrunePolicy, SqliteStore
from om_dsl.runtime.store.prune import LAST_EVENT_SEQ

LAB = """catalog "Lab" version "1"
offer Web "Web" id "1" { attribute n: int default 1 }
cfs Svc { attribute n: int }
decompose Web { -> Svc { n = n } }
plan Svc on add {
  auto first handler "lab.first"
  auto second handler "lab.second" after first
}
"""
ORDERS = 120


def _serve(tmp_path: Path, db: Path) -> tuple[subprocess.Popen[bytes], str]:
    """`om serve` on the lab catalog, its auto items done by the stub handlers (the last
    ``--handlers`` given wins over the demo's)."""
    (tmp_path / "lab.om").write_text(LAB, encoding="utf-8")
    return om_serve(tmp_path / "lab.om", db, None, "--handlers", "stub")


def _prune(db: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "om_dsl.cli", "prune", "--db", str(db), "--older-than", "0s",
         *options],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip


def _event_seqs(db: Path) -> list[int]:
    store = SqliteStore(db, read_only=True)
    try:
        return [row.seq for row in store.events()]
    finally:
        store.close()


def _highest_seq(db: Path) -> int:
    """The highest seq the store ever issued: of the events it has, or of those pruned (each
    prune keeps the highest seq there was in ``meta``)."""
    store = SqliteStore(db, read_only=True)
    try:
        pruned = store.query("SELECT value FROM meta WHERE key = ?", (LAST_EVENT_SEQ,))
    finally:
        store.close()
    return max([*_event_seqs(db), *(int(value) for (value,) in pruned)])


def test_om_prune_beside_om_serve_fails_neither(tmp_path: Path) -> None:
    db = tmp_path / "om.db"
    process, url = _serve(tmp_path, db)
    api = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
    answered: list[int] = []

    def crm() -> None:
        for n in range(ORDERS):
            order = {"id": f"W{n}", "items": [{"id": "1", "product": "Web"}]}
            answered.append(api.post("/productOrder", json=order).status_code)

    try:
        sender = threading.Thread(target=crm)
        sender.start()
        prunes = []
        while sender.is_alive() or not prunes:
            prunes.append(_prune(db))
        sender.join()
        assert answered == [201] * ORDERS
        assert [done.returncode for done in prunes] == [0] * len(prunes), prunes[-1].stderr
        pruned = sum(
            int(done.stderr.split("pruned ")[1].split(" ")[0])
            for done in prunes
            if done.stderr.startswith("pruned ")
        )
        assert pruned > 0, [done.stderr for done in prunes]
        states = lambda: {o["state"] for o in api.get("/productOrder").json()}  # noqa: E731
        wait_for(lambda: states() <= {"completed"}, what="the orders left to complete")
        highest = _highest_seq(db)
        last = _prune(db, "--format", "json")
        assert last.returncode == 0, last.stderr
        assert pruned + json.loads(last.stdout)["orders"] == ORDERS
        listed = api.get("/productOrder")
        assert listed.status_code == 200 and listed.json() == []
        assert api.get("/productOrder/W0").status_code == 404
        assert api.get("/ready").status_code == 200
        created = api.post("/productOrder", json={"id": "AFTER", "items": [
            {"id": "1", "product": "Web"}]})  # fmt: skip
        assert created.status_code == 201, created.text
        wait_for(lambda: api.get("/productOrder/AFTER").json()["state"] == "completed")
        assert min(_event_seqs(db)) > highest  # no eventId issued twice
    finally:
        api.close()
        output = stop_om_serve(process)
    assert "Traceback" not in output


def test_a_create_replayed_after_its_order_was_pruned_creates_it_again(
    service: Callable[..., Running],
) -> None:
    """The Idempotency-Key is forgotten with its order (docs/service.md, Retention): within
    the retention a replay is answered with the order, after it the order is made anew."""
    running = service()
    api = running.client()
    key = {"Idempotency-Key": "crm-retry-7"}
    body = order_json("fibre-modify")
    created = api.post("/productOrder", json=body, headers=key)
    assert created.status_code == 201, created.text
    order_id = created.json()["id"]
    wait_state(api, order_id, {"completed"})
    replay = api.post("/productOrder", json=body, headers=key)
    assert (replay.status_code, replay.json()["id"]) == (200, order_id)

    store: Any = running.runtime.store
    wait_for(lambda: running.runtime.notifications.pending() == 0)
    report = store.prune(PrunePolicy(time.time() + 1, pause_s=0))
    assert report.orders == 1
    assert api.get(f"/productOrder/{order_id}").status_code == 404
    assert store.query("SELECT COUNT(*) FROM order_requests")[0][0] == 0

    again = api.post("/productOrder", json=body, headers=key)
    assert again.status_code == 201, again.text  # a new order, under the same id
    assert again.json()["id"] == order_id
    wait_state(api, order_id, {"completed"})
