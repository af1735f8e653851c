"""The service's life as an SRE sees it: it fails fast when its runtime dies, so that its
supervisor restarts it, and it says so in its exit code and its log."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from service_support import (
    REPO,
    TOKEN,
    Running,
    Sims,
    acme,
    om_serve,
    om_serve_command,
    om_serve_env,
    order_json,
    serve,
    stop_om_serve,
    wait_for,
    wait_state,
)

from om_dsl import compile_catalog
from om_dsl.runtime import Runtime, SqliteStore

ACME = REPO / "examples" / "catalog" / "acme.om"
FULL_DISK = (
    "CREATE TRIGGER full_disk BEFORE UPDATE OF state ON items WHEN NEW.state = 'running' "
    "BEGIN SELECT RAISE(FAIL, 'database or disk is full'); END"
)
"""A store error made by SQLite itself, from outside the service: the runtime's loop fails when
it marks an item running (a submit only inserts item rows, so orders are still taken)."""


def _break_the_store(db: Path) -> None:
    with sqlite3.connect(db) as other:
        other.execute(FULL_DISK)


def _mend_the_store(db: Path) -> None:
    with sqlite3.connect(db) as other:
        other.execute("DROP TRIGGER full_disk")


def test_a_dead_runtime_makes_health_a_503_and_refuses_new_work(tmp_path: Path, sims: Sims) -> None:
    """`/health` said 200 and new orders got a 201, were stored and never ran, while the
    runtime's loop was dead.  The app runs here without its own loop (`start_runtime=False`),
    so that the moment between the runtime's death and the server's exit can be looked at."""
    db = tmp_path / "om.db"
    running = serve(db, sims, start_runtime=False)
    try:
        running.runtime.start_background()
        api = running.client()
        _break_the_store(db)
        created = api.post("/productOrder", json=order_json("fibre-modify"))
        assert created.status_code == 201, created.text  # stored; the loop then dies
        wait_for(lambda: running.runtime.failure is not None, what="the runtime to die")
        health = api.get("/health")
        assert (health.status_code, health.json()) == (
            503,
            {"status": "unavailable", "detail": "the runtime stopped on an error"},
        )
        assert api.get("/ready").status_code == 503
        refused = api.post("/productOrder", json=order_json("home-duo-add"))
        assert refused.status_code == 503, refused.text
        assert refused.json()["code"] == "runtimeStopped"
        assert refused.headers["retry-after"] == "10"
        cancel = {"productOrder": {"id": "ORD-1002"}}
        assert api.post("/cancelProductOrder", json=cancel).status_code == 503
        listed = api.get("/productOrder")  # reading goes on
        assert listed.status_code == 200 and [o["id"] for o in listed.json()] == ["ORD-1002"]
    finally:
        running.close()


def test_the_server_stops_itself_when_its_runtime_dies(
    service: Callable[..., Running], tmp_path: Path
) -> None:
    running = service()
    _break_the_store(tmp_path / "om0.db")
    api = running.client()
    assert api.post("/productOrder", json=order_json("fibre-modify")).status_code == 201
    wait_for(lambda: running.server.failure is not None, what="the server to stop")
    assert "database or disk is full" in str(running.server.failure)

    def gone() -> bool:
        try:
            httpx.get(f"{running.url}/health", timeout=1)
        except httpx.TransportError:
            return True
        return False

    wait_for(gone, what="the server to stop listening")


def test_om_serve_exits_4_when_its_runtime_dies_and_a_restart_carries_on(
    tmp_path: Path, sims: Sims
) -> None:
    """It stayed up with a dead runtime until SIGTERM, then exited 0, so no supervisor ever
    restarted it, and nothing recovered when the disk had room again."""
    db = tmp_path / "om.db"
    environ = {**sims.environ(), "OM_ACCESS_LOG": "false"}
    process, url = om_serve(ACME, db, environ)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    try:
        _break_the_store(db)
        created = httpx.post(f"{url}/productOrder", json=order_json("fibre-modify"),
                             headers=headers)  # fmt: skip
        assert created.status_code == 201, created.text
        _out, err = process.communicate(timeout=60)
    except BaseException:
        process.kill()
        raise
    log = err.decode()
    assert process.returncode == 4, log
    assert log.count("the om runtime stopped on an error") == 1, log
    assert log.count("database or disk is full") == 1, log  # the error, said once
    assert "the service is shutting down: its runtime stopped on an error" in log
    _mend_the_store(db)
    process, url = om_serve(ACME, db, environ)  # as a supervisor would
    try:
        with httpx.Client(base_url=url, headers=headers) as api:
            assert wait_state(api, "ORD-1002", {"completed", "held"}) == "completed"
    finally:
        stop_om_serve(process)


def test_om_serve_that_cannot_start_its_runtime_exits_4_at_once(tmp_path: Path) -> None:
    """A runtime that dies as it starts (taking the store's orders back fails): the service
    waited 30 s for it, then went on serving without it."""
    db = tmp_path / "om.db"
    with Runtime(acme(), store=SqliteStore(db)) as runtime:
        runtime.submit(order_json("fibre-modify"))  # stored, never run
    with sqlite3.connect(db) as other:
        other.execute("UPDATE items SET state = 'running' WHERE idx = 0")  # a crash mid-item
        other.execute(FULL_DISK.replace(" WHEN NEW.state = 'running'", ""))  # recovery fails
    started = time.monotonic()
    done = subprocess.run(om_serve_command(ACME, 0), env=om_serve_env(db),
                          capture_output=True, timeout=60, check=False)  # fmt: skip
    log = done.stderr.decode()
    assert done.returncode == 4, log
    assert time.monotonic() - started < 20
    assert log.count("database or disk is full") == 1, log
    assert "stopped on an error as it started" in log


NO_HANDLERS = "from om_dsl import HandlerRegistry\n\nregistry = HandlerRegistry()\n"
OLD_CATALOG = """catalog "Old" version "1"
offer Web "Web" id "1" { attribute n: int default 1 }
cfs Svc { attribute n: int }
decompose Web { -> Svc { n = n } }
plan Svc on add { auto configure handler "old.configure" }
"""


def test_om_serve_warns_of_handlers_and_variables_the_catalog_and_the_stored_orders_need(
    tmp_path: Path,
) -> None:
    """`om run` and `om resume` warn of handlers their registry lacks; `om serve` started
    without a word, and the items failed when they ran, perhaps past a point of no return.
    The stored order here is pinned to an older catalog, whose handler counts too."""
    db = tmp_path / "om.db"
    old = compile_catalog("old.om", text=OLD_CATALOG).raise_on_error()
    with Runtime(old, store=SqliteStore(db)) as runtime:
        runtime.submit({"id": "OLD-1", "items": [{"id": "1", "product": "Web"}]})
    environ = {**_nohandlers(tmp_path), "OM_ACCESS_LOG": "false", "BILLING_TOKEN": ""}
    process, _url = om_serve(ACME, db, environ, "--handlers", "nohandlers:registry")
    log = stop_om_serve(process)
    warning = (
        "no handler is registered for logistics.ship_router, network.change_speed, "
        "network.configure_internet, network.provision_voice, old.configure, tv.entitle; "
        "their items will fail (--handlers module:registry)"
    )
    assert log.count(warning) == 1, log
    # an SRE's service said ready without BILLING_TOKEN, and every Billing step failed
    unset = (
        "environment variables that downstream systems need are not set: BILLING_TOKEN "
        "(Billing's credentials); their callouts will fail"
    )
    assert log.count(unset) == 1, log
    environ = {"OM_ACCESS_LOG": "false", "BILLING_TOKEN": "t"}
    log = stop_om_serve(om_serve(ACME, tmp_path / "other.db", environ)[0])
    assert "no handler is registered" not in log  # the demo's: all there
    assert "are not set" not in log


STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


def _nohandlers(tmp_path: Path) -> dict[str, str]:
    """The environment of an `om serve --handlers nohandlers:registry`: a registry without
    any handler, so that the catalog's auto items fail for good."""
    (tmp_path / "nohandlers.py").write_text(NO_HANDLERS, encoding="utf-8")
    return {"PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}


def test_om_serve_logs_its_milestones_one_line_each_with_a_timestamp(tmp_path: Path) -> None:
    """uvicorn's format had no time, the service's own lines (`om_dsl.*`) below WARNING were
    lost, and the service logged none of its events: it now says how many orders it resumed,
    which order and item went to fallout, which order is held; the probes can stay out."""
    db = tmp_path / "om.db"
    with Runtime(acme(), store=SqliteStore(db)) as runtime:
        runtime.submit(order_json("fibre-modify"))  # stored, to be resumed
    environ = _nohandlers(tmp_path)
    process, url = om_serve(ACME, db, environ, "--handlers", "nohandlers:registry",
                            "--no-access-log-probes")  # fmt: skip
    try:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}) as api:
            assert wait_state(api, "ORD-1002", {"held", "completed"}) == "held"
            for probe in ("/health", "/ready"):
                assert api.get(probe).status_code == 200
            assert api.get("/productOrder").status_code == 200
    finally:
        log = stop_om_serve(process)
    lines = log.splitlines()[3:]  # after the banner
    assert lines and all(re.match(rf"{STAMP} (DEBUG|INFO|WARNING|ERROR) [\w.]+: ", line)
                         for line in lines), log  # fmt: skip
    assert re.search(rf"{STAMP} INFO om_dsl.runtime: resumed 1 unfinished order\(s\) from the "
                     "store\n", log)  # fmt: skip
    fallout = re.search(r"INFO om_dsl.service: order ORD-1002: item (\S+) is in fallout: no "
                        r"handler is registered for '(\S+)'", log)  # fmt: skip
    assert fallout, log
    assert "INFO om_dsl.service: order ORD-1002 is held: an item needs an operator" in log
    assert '"GET /productOrder HTTP/1.1" 200' in log
    assert "/health" not in log and "/ready" not in log  # left out at INFO
    assert TOKEN not in log


def test_om_serve_logs_json_lines_and_probes_at_debug(tmp_path: Path) -> None:
    environ = {"OM_LOG_FORMAT": "json", "OM_LOG_LEVEL": "debug", "OM_ACCESS_LOG_PROBES": "false"}
    process, url = om_serve(ACME, tmp_path / "om.db", environ)
    try:
        assert httpx.get(f"{url}/health").status_code == 200
        callback = httpx.post(f"{url}/callbacks/s3cret-callback-token", json={})
        assert callback.status_code == 404
    finally:
        log = stop_om_serve(process)
    entries = [json.loads(line) for line in log.splitlines()]  # every line, the banner's too
    assert all(set(entry) >= {"time", "level", "logger", "message"} for entry in entries)
    assert all(re.fullmatch(STAMP, entry["time"]) for entry in entries)
    assert entries[0]["message"].startswith(f"om serve: {url} (catalog ")
    shown = {(e["level"], e["logger"], e["message"].split(" - ", 1)[-1]) for e in entries}
    assert ("DEBUG", "uvicorn.access", '"GET /health HTTP/1.1" 200') in shown
    assert ("INFO", "uvicorn.access", '"POST /callbacks/*** HTTP/1.1" 404') in shown
    assert "s3cret" not in log and TOKEN not in log


def test_the_json_log_names_the_fallout_and_held_order_in_fields(tmp_path: Path) -> None:
    """A log pipeline alerts on fallout by fields (``event``, ``order_id``, ``item_id``), not by
    parsing the message: the JSON lines of the milestones carry them; the text stays as it was."""
    db = tmp_path / "om.db"
    with Runtime(acme(), store=SqliteStore(db)) as runtime:
        runtime.submit(order_json("fibre-modify"))
    environ = {**_nohandlers(tmp_path), "OM_LOG_FORMAT": "json", "OM_ACCESS_LOG": "false"}
    process, url = om_serve(ACME, db, environ, "--handlers", "nohandlers:registry")
    try:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}) as api:
            assert wait_state(api, "ORD-1002", {"held", "completed"}) == "held"
    finally:
        log = stop_om_serve(process)
    entries = [json.loads(line) for line in log.splitlines()]
    fallout = [e for e in entries if e.get("event") == "item_fallout"]
    assert fallout, log
    first = fallout[0]
    assert first["order_id"] == "ORD-1002" and first["level"] == "INFO"
    assert first["message"] == (
        f"order ORD-1002: item {first['item_id']} is in fallout: {first['reason']}"
    )
    assert first["reason"].startswith("no handler is registered for ")
    assert isinstance(first["attempt"], int)
    held = [e for e in entries if e.get("event") == "order_held"]
    assert [(e["order_id"], e["logger"]) for e in held] == [("ORD-1002", "om_dsl.service")]


def test_om_serve_refuses_an_unknown_log_level_or_format(tmp_path: Path) -> None:
    for option, value, what in (("--log-level", "loud", "log level"),
                                ("--log-format", "xml", "log format")):  # fmt: skip
        done = subprocess.run([*om_serve_command(ACME, 0), option, value],
                              env=om_serve_env(tmp_path / "om.db"), capture_output=True,
                              text=True, timeout=60, check=False)  # fmt: skip
        assert done.returncode == 2, done.stderr
        assert f"error: unknown {what} '{value}'; choose one of: " in done.stderr
    assert not (tmp_path / "om.db").exists()
