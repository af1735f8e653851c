"""`om systems online` next to a running service: it only flips the switch, and the service
releases and sends the held callouts itself, without a restart.

The CLI used to release them into the store the service runs: the store said ``ready``, the
service's scheduler never saw it, the order stalled until a restart, and
``POST /systems/{name}/online`` then found nothing held (``"released": 0``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from cli_support import free_port, om
from service_support import REPO, TOKEN, Running, Sims, order_json, wait_for, wait_state

from om_dsl.runtime import Runtime, SqliteStore

ACME = REPO / "examples" / "catalog" / "acme.om"
DEACTIVATE = "order/AccessLine:deactivate"
OFFLINE = "system Network is offline, taken offline by ops"


def _item(api: httpx.Client, order_id: str, item_id: str) -> dict[str, Any]:
    status = api.get(f"/productOrder/{order_id}/status").json()
    return next(dict(i) for i in status["items"] if i["id"] == item_id)


def _held_order(api: httpx.Client, capsys: pytest.CaptureFixture[str], db: Path) -> None:
    """Network offline (by the CLI), then ORD-1003, whose deactivate callout goes on hold."""
    # a first order pins the catalog to the store, so the CLI knows its systems
    assert api.post("/productOrder", json=order_json("fibre-modify")).status_code == 201
    assert wait_state(api, "ORD-1002", {"completed", "held"}) == "completed"
    code, _, err = om(capsys, "systems", "offline", "Network", "--db", str(db), "--by", "ops")
    assert code == 0, err
    assert api.post("/productOrder", json=order_json("copper-delete")).status_code == 201
    wait_for(lambda: _item(api, "ORD-1003", DEACTIVATE)["state"] == "on_hold", what="held callout")
    assert _item(api, "ORD-1003", DEACTIVATE)["reason"] == OFFLINE


def test_om_systems_online_beside_om_serve_lets_the_service_send_the_held_callout(
    tmp_path: Path, sims: Sims, capsys: pytest.CaptureFixture[str]
) -> None:
    """The tester's steps, with `om serve` in its own process on a free 127.0.0.1 port."""
    db = tmp_path / "svc.db"
    port = free_port()
    command = [sys.executable, "-m", "om_dsl.cli", "serve", "--port", str(port),
               "--catalog", str(ACME), "--handlers", "om_dsl.service.demo:handlers"]  # fmt: skip
    env = {**os.environ, **sims.environ(), "OM_TOKENS": f"crm:{TOKEN}", "OM_DB": str(db),
           "OM_ACCESS_LOG": "false"}  # fmt: skip
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _answers(f"{url}/ready"), timeout=30, what="om serve to be ready")
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}) as api:
            _held_order(api, capsys, db)
            code, _, err = om(
                capsys, "systems", "online", "Network", "--db", str(db), "--user", "nightshift"
            )
            assert code == 0, err
            assert f"another process (pid {process.pid} on " in err
            assert "runs the store, so it releases and sends the callouts held for Network" in err
            assert "om resume" not in err  # it would be refused: the service runs the store
            assert wait_state(api, "ORD-1003", {"completed", "held"}) == "completed"
            assert _item(api, "ORD-1003", DEACTIVATE)["state"] == "completed"
            system = api.get("/systems/Network").json()
            assert (system["offline"], system["source"]) == (False, "operator")
    finally:
        process.send_signal(signal.SIGTERM)
        _out, service_err = process.communicate(timeout=30)
    assert process.returncode == 0, service_err.decode()
    assert b"Traceback" not in service_err
    # the CLI moved no item: the release is the service's own event
    with Runtime(store=SqliteStore(db, read_only=True)) as stored:
        events = stored.events("ORD-1003")
    said = "released by nightshift (operator): system Network is back online"
    released = [e for e in events if e.item_id == DEACTIVATE and e.detail == said]
    assert len(released) == 1 and released[0].by == "nightshift"


def test_post_online_releases_what_is_held_when_the_cli_flipped_the_switch_already(
    service: Callable[..., Running], capsys: pytest.CaptureFixture[str]
) -> None:
    running = service()
    api = running.client()
    # The service would notice the switch within a second; an hour here keeps the API's
    # release, the one under test, from racing it.
    running.runtime._world.online_watch.every = 3600.0
    db = Path(running.runtime.store.path)  # type: ignore[attr-defined]
    _held_order(api, capsys, db)
    code, _, err = om(capsys, "systems", "online", "Network", "--db", str(db))
    assert code == 0, err
    assert "another Runtime of this process runs the store" in err and "(1 held now)" in err
    assert _item(api, "ORD-1003", DEACTIVATE)["state"] == "on_hold"  # nothing moved by the CLI
    online = api.post("/systems/Network/online")
    assert online.status_code == 200, online.text
    assert online.json()["released"] == 1
    assert wait_state(api, "ORD-1003", {"completed", "held"}) == "completed"


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
