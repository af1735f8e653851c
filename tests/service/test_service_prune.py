"""Retention beside the service: `om prune` while `om serve` runs the same store (neither side
fails, pruned orders are 404s, eventIds go on rising), what a replayed create with the
Idempotency-Key of a pruned order does (it creates the order again: keys last as long as
their order), and `POST /prune`: an admin token prunes through the service, as `om prune`
does, and a client's token is refused."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from service_support import (
    OPS_TOKEN,
    TOKEN,
    Running,
    Sims,
    om_serve,
    order_json,
    serve,
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


def _serve(
    tmp_path: Path, db: Path, environ: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """`om serve` on the lab catalog, its auto items done by the stub handlers (the last
    ``--handlers`` given wins over the demo's)."""
    (tmp_path / "lab.om").write_text(LAB, encoding="utf-8")
    return om_serve(tmp_path / "lab.om", db, environ, "--handlers", "stub")


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


ADMIN_TOKEN = "test-token-for-the-admin-0123456"


def test_post_prune_by_an_admin_token_prunes_as_om_prune_does(tmp_path: Path) -> None:
    """`om serve` with roles: the client's token orders and may not prune; the admin's dry
    run says what would go and changes nothing, a retention longer than the orders' age
    prunes none, and one they are older than prunes them, answered as `om prune --format
    json` answers."""
    db = tmp_path / "om.db"
    tokens = f"crm/client:{TOKEN},root/admin:{ADMIN_TOKEN}"
    process, url = _serve(tmp_path, db, {"OM_TOKENS": tokens})
    crm = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
    root = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
                        timeout=30)  # fmt: skip
    prune = lambda **body: root.post("/prune", json={"olderThan": "0s", **body})  # noqa: E731
    try:
        for n in range(3):
            order = {"id": f"W{n}", "items": [{"id": "1", "product": "Web"}]}
            assert crm.post("/productOrder", json=order).status_code == 201
        wait_for(lambda: prune(dryRun=True).json()["orders"] == 3, what="3 orders to prune")
        refused = crm.post("/prune", json={"olderThan": "0s"})
        assert refused.status_code == 403, refused.text
        assert "role admin" in refused.json()["message"]
        dry = prune(dryRun=True).json()
        assert (dry["dry_run"], dry["states"], dry["transactions"]) == (True, {"completed": 3}, 0)
        assert crm.get("/productOrder/W0").status_code == 200
        assert prune(olderThan="1d").json()["orders"] == 0
        done = prune()
        assert done.status_code == 200, done.text
        report = done.json()
        assert (report["orders"], report["dry_run"], report["vacuum"]) == (3, False, None)
        assert report["transactions"] == 1 and report["kept_undelivered"] == 0
        assert report["finished_before"] <= time.time() and report["oldest"] is not None
        assert crm.get("/productOrder/W0").status_code == 404
        assert crm.get("/productOrder").json() == []
    finally:
        crm.close()
        root.close()
        output = stop_om_serve(process)
    assert "prune by root: pruned 3 order(s) finished longer ago than 0s" in output
    assert "2 API client(s): crm (client), root (admin)" in output
    assert ADMIN_TOKEN not in output and TOKEN not in output
    cli = _prune(db, "--format", "json", "--dry-run")
    assert set(json.loads(cli.stdout)) == set(report)  # one shape for scripts


BAD_BODIES = [
    ({"olderThan": "90days"}, "S015", "body.olderThan", "'90days' is not a duration: give a "
     "whole number and a unit: 30s, 15m, 12h, 90d (did you mean 90d?)"),
    ({"olderThan": "1.5d"}, "S015", "body.olderThan", "(did you mean 36h?)"),
    ({"dryRun": True}, "S011", "body.olderThan", "required field 'olderThan' is missing"),
    ({"olderThan": "90d", "vacuum": True}, "S012", "body.vacuum", "unknown field 'vacuum': the "
     "service does not vacuum: VACUUM rewrites the whole store file and needs the runner "
     "lock, which the running service holds; stop the service and run om prune --vacuum"),
]  # fmt: skip


@pytest.mark.parametrize("body, code, path, message", BAD_BODIES)
def test_a_bad_prune_request_is_a_400_with_its_code(
    service: Callable[..., Running], body: dict[str, Any], code: str, path: str, message: str
) -> None:
    running = service(tokens={"root": ADMIN_TOKEN}, roles={"root": "admin"})
    answer = running.client().post("/prune", json=body)
    assert answer.status_code == 400, answer.text
    issue = answer.json()["issues"][0]
    assert (answer.json()["code"], issue["code"], issue["path"]) == ("invalidRequest", code, path)
    assert message in issue["message"]


def test_one_prune_at_a_time_and_a_store_without_prune_is_a_501(
    service: Callable[..., Running], monkeypatch: pytest.MonkeyPatch
) -> None:
    running = service(tokens={"root": ADMIN_TOKEN, "ops": OPS_TOKEN}, roles={"root": "admin"})
    api = running.client()
    store: Any = running.runtime.store
    started, release = threading.Event(), threading.Event()
    real = store.prune

    def slow(policy: PrunePolicy) -> Any:
        started.set()
        release.wait(10)
        return real(policy)

    monkeypatch.setattr(store, "prune", slow)
    first: list[httpx.Response] = []
    sender = threading.Thread(target=lambda: first.append(api.post("/prune", json={
        "olderThan": "1d"})))  # fmt: skip
    sender.start()
    assert started.wait(10)
    second = api.post("/prune", json={"olderThan": "1d"})
    release.set()
    sender.join()
    assert (second.status_code, second.json()["code"]) == (409, "rejected"), second.text
    assert "a prune is under way" in second.json()["message"]
    assert first[0].status_code == 200, first[0].text
    monkeypatch.setattr(store, "prune", None)  # a host's store without prune keeps everything
    missing = api.post("/prune", json={"olderThan": "1d"})
    assert (missing.status_code, missing.json()["code"]) == (501, "notImplemented")


FULL_DISK = (
    "CREATE TRIGGER full_disk BEFORE UPDATE OF state ON items WHEN NEW.state = 'running' "
    "BEGIN SELECT RAISE(FAIL, 'database or disk is full'); END"
)


def test_a_prune_is_refused_once_the_runtime_stopped_on_an_error(
    tmp_path: Path, sims: Sims
) -> None:
    """New orders and operator actions were 503s (``runtimeStopped``) once the runtime's loop
    had died, and ``POST /prune`` went on writing to the store that had failed.  The app runs
    without its own loop here, so that the moment before the server exits can be looked at;
    a dry run writes nothing and still answers."""
    db = tmp_path / "om.db"
    running = serve(db, sims, tokens={"root": ADMIN_TOKEN}, roles={"root": "admin"},
                    start_runtime=False)  # fmt: skip
    try:
        running.runtime.start_background()
        api = running.client()
        assert api.post("/prune", json={"olderThan": "1d"}).status_code == 200  # alive: fine
        with sqlite3.connect(db) as other:
            other.execute(FULL_DISK)
        assert api.post("/productOrder", json=order_json("fibre-modify")).status_code == 201
        wait_for(lambda: running.runtime.failure is not None, what="the runtime to die")
        refused = api.post("/prune", json={"olderThan": "0s"})
        assert (refused.status_code, refused.json()["code"]) == (503, "runtimeStopped")
        assert "nothing is pruned until it runs again" in refused.json()["message"]
        assert refused.headers["retry-after"] == "10"
        dry = api.post("/prune", json={"olderThan": "0s", "dryRun": True})
        assert dry.status_code == 200, dry.text
    finally:
        running.close()
