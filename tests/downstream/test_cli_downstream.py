"""The `om` CLI's downstream options end to end, against the real simulators on 127.0.0.1.

`om run`/`om resume` with `--callback-port` (async callouts' callbacks arrive there),
`--notify` (TMF622 events reach a listener) and `--notify-wait` (a listener that is down does
not keep the command waiting), and `om tasks fail` on a manual task.  The CLI runs in this
process; system URLs and the billing token come from the environment, as in `make demo`.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from cli_support import free_port, om
from downstream_support import LAB, TOKEN, Sims, lab_source
from simulators import Listener

from om_dsl.runtime import SqliteStore

REPO = Path(__file__).resolve().parents[2]
ACME = str(REPO / "examples" / "catalog" / "acme.om")
TRIO = str(REPO / "examples" / "orders" / "home-trio-tv.json")
HANDLERS = "om_dsl.demo:demo_handlers"  # the demo's stand-ins for the catalog's auto items
INSTALL = "order/AccessLine:install"
BOXES = "tv/TvService:install_boxes"
DEFAULT_NOTIFY_WAIT_S = 5.0
# The lab catalog (a sync reserve, an async activate, a sync bill) sold by an offer, plus a
# manual visit that retries once when it fails.
CATALOG = lab_source(
    LAB
    + """
offer Web "Web" id "100" {
  attribute site: string default "SITE-1"
  attribute technology: string default "FTTH"
}
decompose Web { -> Line { site = site; technology = technology } }
cfs Visit { attribute site: string }
offer Call "Call" id "200" { attribute site: string default "SITE-1" }
decompose Call { -> Visit { site = site } }
plan Visit on add { manual visit queue techs retry fixed 10ms max 1 expect 1h }
"""
)
WEB = {"id": "CLI-1", "items": [{"id": "1", "product": "Web", "attributes": {"site": "S-9"}}]}
CALL = {"id": "CLI-2", "items": [{"id": "1", "product": "Call"}]}
NOT_DELIVERED = re.compile(r"(\d+) notification\(s\) not delivered yet: retried at the next run")


@pytest.fixture
def work(sims: Sims, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The lab catalog and its orders in ``tmp_path``; the environment points every system of
    the lab and of the example catalog at the simulators.  Returns the folder."""
    environ = sims.environ(
        BILLING_URL=sims.billing.url,
        INVENTORY_URL=sims.inventory.url,
        NETWORK_URL=sims.network.url,
        BILLING_TOKEN=TOKEN,
    )
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    (tmp_path / "lab.om").write_text(CATALOG, encoding="utf-8")
    for order in (WEB, CALL):
        (tmp_path / f"{order['id']}.json").write_text(json.dumps(order), encoding="utf-8")
    return tmp_path


def status_json(capsys: pytest.CaptureFixture[str], order_id: str, db: Path) -> dict[str, Any]:
    code, out, err = om(capsys, "status", order_id, "--db", str(db), "--format", "json")
    assert code == 0, err
    return dict(json.loads(out))


def items(status: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["id"]: item for item in status["items"]}


def of_order(order_id: str, bodies: list[Any]) -> list[tuple[str, str]]:
    """(eventType, order state) of the TMF622 events about ``order_id``, in arrival order."""
    return [
        (b["eventType"], b["event"]["productOrder"]["state"])
        for b in bodies
        if b["event"]["productOrder"]["id"] == order_id
    ]


def assert_one_callback_via(sims: Sims, port: int) -> None:
    """The network answered 202 once and called back to the CLI's port, which took it."""
    (callback,) = sims.network.callbacks()
    assert callback["url"].startswith(f"http://127.0.0.1:{port}/callbacks/"), callback
    assert (callback["state"], callback["last_status"]) == ("delivered", 200), callback


# ---- om run --callback-port --notify ---------------------------------------------------------


def test_run_takes_the_async_callback_on_its_port_and_notifies_the_listener(
    work: Path, sims: Sims, listener: Listener, capsys: pytest.CaptureFixture[str]
) -> None:
    db, port = work / "om.db", free_port()
    code, out, err = om(capsys, "run", str(work / "lab.om"), str(work / "CLI-1.json"),
                        "--db", str(db), "--callback-port", str(port),
                        "--notify", f"{listener.url}/events")  # fmt: skip
    assert code == 0, err
    assert "submitted order CLI-1: 3 items" in err
    assert "order CLI-1: completed" in out and "3 completed" in out
    assert "not delivered" not in err
    assert_one_callback_via(sims, port)
    activate = items(status_json(capsys, "CLI-1", db))["1/Line:activate"]
    assert (activate["state"], activate["attempt"]) == ("completed", 1)
    assert activate["outputs"] == {"activation_id": "ACT-0001"}  # mapped from the callback
    completed = listener.wait_for(lambda e: e["body"]["title"] == "order CLI-1 is completed")
    assert completed[0]["path"] == "/events"
    events = of_order("CLI-1", listener.bodies())
    assert events[0] == ("ProductOrderCreateEvent", "acknowledged")
    assert ("ProductOrderStateChangeEvent", "inProgress") in events
    assert events[-1] == ("ProductOrderStateChangeEvent", "completed")


# ---- --notify-wait with a listener that refuses connections -------------------------------------


def test_notify_wait_bounds_the_wait_for_a_refusing_listener_and_the_next_run_delivers(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, port = work / "om.db", free_port()  # nothing listens there: connections are refused
    url = f"http://127.0.0.1:{port}/events"
    started = time.monotonic()
    code, out, err = om(capsys, "run", str(work / "lab.om"), str(work / "CLI-1.json"),
                        "--db", str(db), "--notify", url, "--notify-wait", "0.2")  # fmt: skip
    took = time.monotonic() - started
    assert code == 0, err  # undelivered events do not make the order's run a failure
    assert "order CLI-1: completed" in out
    found = NOT_DELIVERED.search(err)
    assert found is not None, err
    pending = int(found.group(1))
    assert pending >= 3  # created, in progress, completed (at least)
    # Did not wait the default 5 s: a bound on behaviour (the option is used), not a benchmark.
    assert took < DEFAULT_NOTIFY_WAIT_S, took
    with Listener().start(port) as back:  # the listener comes back on the same URL
        code, _, err = om(capsys, "resume", "--db", str(db), "--notify", url)
        assert code == 0, err
        assert "nothing to resume" in err and "not delivered" not in err
        events = of_order("CLI-1", back.bodies())
    assert len(events) == pending
    assert events[0] == ("ProductOrderCreateEvent", "acknowledged")
    assert events[-1] == ("ProductOrderStateChangeEvent", "completed")


def test_a_later_resume_delivers_what_an_earlier_run_left_pending(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, port = work / "om.db", free_port()
    url = f"http://127.0.0.1:{port}/events"
    om(capsys, "run", str(work / "lab.om"), str(work / "CLI-1.json"), "--db", str(db),
       "--notify", url, "--notify-wait", "0")  # fmt: skip
    with Listener().start(port) as back:
        code, _, err = om(capsys, "resume", "--db", str(db), "--notify-wait", "3")
        assert code == 0 and "not delivered" not in err, err
        assert of_order("CLI-1", back.bodies())[-1][1] == "completed"


# ---- om resume --callback-port, on the example catalog ------------------------------------------


def test_resume_carries_on_after_manual_work_and_takes_the_callback_on_its_port(
    work: Path, sims: Sims, listener: Listener, capsys: pytest.CaptureFixture[str]
) -> None:
    """home-trio-tv.json, unchanged: the line's activation (async) follows a technician's
    install, so `om run` stops at the install and `om resume` runs the activation."""
    db, port = str(work / "om.db"), free_port()
    notify = ("--notify", f"{listener.url}/crm")
    code, out, err = om(capsys, "run", ACME, TRIO, "--db", db, "--handlers", HANDLERS, *notify)
    assert code == 0, err
    assert "order ORD-1004: pending" in out
    assert f"waiting        {INSTALL} (manual, attempt 1)" in out
    assert sims.network.callbacks() == []
    code, _, err = om(capsys, "tasks", "complete", "ORD-1004", INSTALL, "--user", "alice",
                      "--outputs", '{"serial": "SN-1"}', "--db", db)  # fmt: skip
    assert code == 0 and "run `om resume" in err, err
    code, out, err = om(capsys, "resume", "--db", db, "--handlers", HANDLERS,
                        "--callback-port", str(port), *notify)  # fmt: skip
    assert code == 0, err
    assert_one_callback_via(sims, port)
    assert f"waiting        {BOXES} (manual, attempt 1)" in out  # the next technician visit
    activate = items(status_json(capsys, "ORD-1004", Path(db)))["order/AccessLine:activate_line"]
    assert activate["state"] == "completed" and activate["outputs"]["activation_id"]
    om(capsys, "tasks", "complete", "ORD-1004", BOXES, "--user", "bob", "--db", db)
    code, out, err = om(capsys, "resume", "--db", db, "--handlers", HANDLERS, *notify)
    assert code == 0 and "order ORD-1004: completed" in out, out + err
    events = of_order("ORD-1004", listener.bodies())
    assert events[0] == ("ProductOrderCreateEvent", "acknowledged")
    assert events[-1] == ("ProductOrderStateChangeEvent", "completed")


# ---- om tasks fail -----------------------------------------------------------------------------


def test_tasks_fail_without_retries_is_fallout_and_an_operator_retry_reopens_the_task(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(work / "om.db")
    assert om(capsys, "run", ACME, TRIO, "--db", db, "--handlers", HANDLERS)[0] == 0
    assert om(capsys, "tasks", "claim", "ORD-1004", INSTALL, "--user", "alice", "--db", db)[0] == 0
    code, _, err = om(capsys, "tasks", "fail", "ORD-1004", INSTALL, "--user", "alice",
                      "--reason", "customer not at home", "--db", db)  # fmt: skip
    assert code == 0, err
    assert f"{INSTALL} failed by alice; order ORD-1004 is held" in err
    install = items(status_json(capsys, "ORD-1004", Path(db)))[INSTALL]
    assert install["state"] == "fatally_failed"
    assert install["reason"] == "customer not at home (task failed by alice)"
    code, out, _ = om(capsys, "status", "ORD-1004", "--db", db)
    assert "order ORD-1004: held" in out
    assert f"fatally_failed {INSTALL} (manual, attempt 1)" in out
    assert "- customer not at home (task failed by alice)" in out
    assert "no open tasks" in om(capsys, "tasks", "list", "--db", db)[2]
    assert om(capsys, "retry", "ORD-1004", INSTALL, "--db", db)[0] == 0
    retried = items(status_json(capsys, "ORD-1004", Path(db)))[INSTALL]
    assert (retried["state"], retried["reason"]) == ("ready", None)  # the failure is history
    code, out, _ = om(capsys, "status", "ORD-1004", "--db", db)
    assert f"ready          {INSTALL} (manual, attempt 1) due " in out, out
    assert "customer not at home" not in out
    assert om(capsys, "resume", "--db", db, "--handlers", HANDLERS)[0] == 0
    (task,) = json.loads(om(capsys, "tasks", "list", "--db", db, "--format", "json")[1])
    assert (task["item_id"], task["attempt"], task["claimed_by"]) == (INSTALL, 2, None)


def test_tasks_fail_with_a_retry_policy_reopens_the_task_at_the_next_resume(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(work / "om.db")
    assert om(capsys, "run", str(work / "lab.om"), str(work / "CLI-2.json"), "--db", db)[0] == 0
    code, _, err = om(capsys, "tasks", "fail", "CLI-2", "1/Visit:visit", "--user", "carol",
                      "--reason", "ladder too short", "--db", db)  # fmt: skip
    assert code == 0, err
    visit = items(status_json(capsys, "CLI-2", Path(db)))["1/Visit:visit"]
    assert visit["state"] == "failed"  # will retry: no fallout, the order is not held
    assert visit["reason"] == "ladder too short (task failed by carol)"
    assert "order CLI-2 is held" not in err
    code, out, _ = om(capsys, "resume", "--db", db)
    assert code == 0 and "waiting        1/Visit:visit (manual, attempt 2)" in out
    (task,) = json.loads(om(capsys, "tasks", "list", "--db", db, "--format", "json")[1])
    assert (task["attempt"], task["claimed_by"]) == (2, None)


def test_tasks_fail_on_what_is_not_there_is_a_one_line_error(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(work / "om.db")
    assert om(capsys, "run", ACME, TRIO, "--db", db, "--handlers", HANDLERS)[0] == 0
    for order_id, item in (("ORD-1004", "order/AccessLine:nope"), ("NOPE", INSTALL)):
        code, out, err = om(capsys, "tasks", "fail", order_id, item, "--user", "alice",
                            "--reason", "gone", "--db", db)  # fmt: skip
        assert code == 5, err
        assert err.startswith("error: ") and err.count("\n") == 1, err
        assert "Traceback" not in err and out == ""
    (task,) = json.loads(om(capsys, "tasks", "list", "--db", db, "--format", "json")[1])
    assert (task["item_id"], task["attempt"]) == (INSTALL, 1)  # untouched


# ---- om systems offline|online, nobody running the store ---------------------------------------


@pytest.mark.parametrize("command", [["offline", "Net"], ["online", "Net"], ["list"]])
def test_systems_on_a_missing_store_is_exit_5_and_makes_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    """As `om status` and `om prune`: "no store" (exit 5), one line, and no empty store made
    (a switch flipped in a store made by mistake would never reach the real one)."""
    db = tmp_path / "nope.db"
    code, out, err = om(capsys, "systems", *command, "--db", str(db))
    assert (code, out) == (5, ""), err
    assert (
        err.startswith(f"error: no store at {db} (start one with `om run") and err.count("\n") == 1
    )
    assert list(tmp_path.iterdir()) == []


def test_systems_online_with_no_runner_releases_the_held_callout_for_om_resume(
    work: Path, sims: Sims, capsys: pytest.CaptureFixture[str]
) -> None:
    """No process runs the store: `om systems online` releases the held callout itself, and
    `om resume` sends it (a service beside the store releases it instead: tests/service)."""
    db, port = str(work / "om.db"), free_port()
    run = ("--db", db, "--callback-port", str(port))
    code, _, err = om(capsys, "run", str(work / "lab.om"), str(work / "CLI-1.json"), *run)
    assert code == 0, err  # the store knows the lab's systems now
    why = ("--reason", "maintenance until 22:00")
    code, _, err = om(capsys, "systems", "offline", "Net", "--db", db, "--by", "ops", *why)
    assert code == 0, err
    (work / "CLI-3.json").write_text(json.dumps({**WEB, "id": "CLI-3"}), encoding="utf-8")
    code, out, err = om(capsys, "run", str(work / "lab.om"), str(work / "CLI-3.json"), *run)
    assert code == 0, err
    assert items(status_json(capsys, "CLI-3", Path(db)))["1/Line:activate"]["state"] == "on_hold"
    code, _, err = om(capsys, "systems", "online", "Net", "--db", db)
    assert code == 0, err
    assert "system Net is online; 1 held callout(s) released" in err
    assert f"run `om resume --db {db}` to send them" in err
    released = items(status_json(capsys, "CLI-3", Path(db)))["1/Line:activate"]
    assert (released["state"], released["reason"]) == ("ready", None)
    code, out, _ = om(capsys, "status", "CLI-3", "--db", db)
    assert code == 0 and "offline" not in out, out
    log = [e.detail for e in SqliteStore(Path(db), read_only=True).events("CLI-3")]
    # the event log keeps why it was held, and who said so
    assert "system Net is offline, taken offline by ops: maintenance until 22:00" in log
    code, out, err = om(capsys, "resume", *run)
    assert code == 0 and "order CLI-3: completed" in out, out + err


def test_systems_on_a_store_with_no_orders_yet_take_the_catalog(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before the first order (a service just started), the store knew no catalog, so
    `om systems offline Net` said "no system": maintenance could not be planned ahead."""
    db = str(work / "om.db")
    SqliteStore(Path(db)).close()
    code, _, err = om(capsys, "systems", "offline", "Net", "--db", db)
    assert code == 5 and "no catalog is known yet" in err and "--catalog CATALOG" in err, err
    lab = ("--db", db, "--catalog", str(work / "lab.om"))
    code, _, err = om(capsys, "systems", "offline", "Net", *lab, "--by", "ops")
    assert code == 0 and "system Net is offline" in err, err
    code, out, _ = om(capsys, "systems", "list", *lab)
    assert code == 0 and re.search(r"Net\s+│ offline │ ops", out), out
    code, out, _ = om(capsys, "systems", "list", "--db", db)  # the switch the store keeps
    assert code == 0 and re.search(r"Net\s+│ offline │ ops", out), out
    (work / "CLI-4.json").write_text(json.dumps({**WEB, "id": "CLI-4"}), encoding="utf-8")
    code, _, err = om(capsys, "run", str(work / "lab.om"), str(work / "CLI-4.json"), "--db", db,
                      "--callback-port", str(free_port()))  # fmt: skip
    assert items(status_json(capsys, "CLI-4", Path(db)))["1/Line:activate"]["state"] == "on_hold"
    # --catalog adds its systems to those of the store's orders (it replaced them)
    acme = str(Path(__file__).resolve().parents[2] / "examples" / "catalog" / "acme.om")
    code, out, _ = om(capsys, "systems", "list", "--db", db, "--catalog", acme)
    assert code == 0 and all(name in out for name in ("Net ", "Billing", "Network")), out
    code, _, err = om(capsys, "systems", "online", "Net", "--db", db, "--catalog", acme)
    assert code == 0 and "system Net is online" in err, err


def test_om_systems_and_tasks_on_a_store_no_runtime_wrote_to_read_as_empty(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A store made by SqliteStore alone has no side tables; read-only they are not made, and
    `om systems list` / `om tasks list` were an internal error (exit 3)."""
    db = str(work / "bare.db")
    SqliteStore(Path(db)).close()
    code, _, err = om(capsys, "systems", "list", "--db", db)
    assert code == 0 and "internal error" not in err, err
    code, _, err = om(capsys, "tasks", "list", "--db", db)
    assert code == 0 and "no open tasks" in err, err
