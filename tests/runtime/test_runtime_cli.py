"""`om run`, `om resume`, `om status` and the operator commands, end to end on a SQLite store."""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

import pytest
from cli_support import om
from runtime_support import ACCOUNT_LAB

from om_dsl.runtime import SqliteStore
from om_dsl.runtime.notify.tmf import OrderViews
from om_dsl.runtime.notify.tmf_text import iso
from om_dsl.runtime.store.runner_lock import RunnerLock

CATALOG = """catalog "Lab" version "1"
offer Web "Web" id "100" { attribute speed: int default 100 }
cfs Line { attribute speed: int }
decompose Web { -> Line { speed = speed } }
plan Line on add {
  auto configure handler "lab.configure" expect 1h
  wait go event "go" after configure
  auto activate handler "lab.activate" after go point_of_no_return
}
"""
ORDER = {"id": "ORD-1", "items": [{"id": "1", "product": "Web", "attributes": {"speed": 300}}]}
HANDLERS = """
from om_dsl.runtime import HandlerRegistry

registry = HandlerRegistry()

@registry.handler("lab.configure")
def configure(ctx):
    return {"speed": ctx.line["speed"]}

@registry.handler("lab.activate")
def activate(ctx):
    return {"active": True}
"""


def lab_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The lab catalog, an order and handlers in ``tmp_path``, which becomes the cwd."""
    (tmp_path / "lab.om").write_text(CATALOG, encoding="utf-8")
    (tmp_path / "order.json").write_text(json.dumps(ORDER), encoding="utf-8")
    (tmp_path / "labhandlers.py").write_text(HANDLERS, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return lab_folder(tmp_path, monkeypatch)


def test_run_until_an_event_is_needed_then_signal_and_resume(lab: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, err = om(capsys, "run", "lab.om", "order.json", "--handlers", "labhandlers:registry")
    assert code == 0, err
    assert "submitted order ORD-1: 3 items" in err
    assert "order ORD-1: pending" in out
    assert "waiting        1/Line:go (wait, attempt 1) - waiting for event 'go'" in out
    code, _, err = om(capsys, "signal", "go", "--order", "ORD-1", "--payload", '{"by": "me"}')
    assert code == 0 and "completed 1 waiting item(s) in order ORD-1" in err
    code, out, _ = om(capsys, "resume", "--handlers", "labhandlers:registry")
    assert code == 0 and "order ORD-1: completed" in out
    code, out, _ = om(capsys, "status", "ORD-1", "--format", "json")
    status = json.loads(out)
    assert status["state"] == "completed" and status["ponr"] == {"1": "1/Line:activate"}
    assert status["ponr_reached"] is True
    assert [i["outputs"] for i in status["items"]] == [
        {"speed": 300},
        {"by": "me"},
        {"active": True},
    ]
    code, out, _ = om(capsys, "status", "ORD-1")
    assert "point of no return: root 1 by 1/Line:activate" in out
    assert "completed      1/Line:configure (auto, attempt 1)\n" in out  # done: no due date


def test_fallout_then_operator_commands(lab: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = om(capsys, "run", "lab.om", "order.json")  # no handlers: configure fails
    assert code == 1
    assert "order ORD-1: held" in out and "no handler is registered for 'lab.configure'" in out
    code, _, err = om(capsys, "complete", "ORD-1", "1/Line:configure", "--outputs", '{"speed": 1}')
    assert code == 0 and "1/Line:configure completed; order ORD-1 is inProgress" in err
    code, out, _ = om(capsys, "resume")
    assert "order ORD-1: pending" in out
    code, _, err = om(capsys, "skip", "ORD-1", "1/Line:go", "--reason", "ported by phone")
    assert code == 0
    code, out, _ = om(capsys, "resume")
    assert code == 1 and "1/Line:activate" in out  # activate has no handler either
    code, _, err = om(capsys, "cancel", "ORD-1")
    assert code == 6 and "its point of no return was reached" in err  # refused
    code, _, err = om(capsys, "retry", "ORD-1", "1/Line:activate")
    assert code == 0 and "will be retried" in err


def test_status_points_to_the_runner_when_another_process_runs_the_store(lab: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """An SRE followed `om status`'s hint, `om retry ...`, while `om serve` ran the store:
    refused, exit 7.  While a runner holds the store the hint names the service's routes."""
    code, _, _ = om(capsys, "run", "lab.om", "order.json")  # no handlers: configure fails
    assert code == 1
    lock = RunnerLock(str(lab / "om.db"))
    lock.acquire()  # as `om serve` would
    try:
        code, out, _ = om(capsys, "status", "ORD-1")
    finally:
        lock.release()
    assert code == 0
    assert "runs the store: act through it (om serve's API)" in out, out
    assert 'POST /productOrder/ORD-1/retry {"itemId": "1/Line:configure"}' in out
    assert "om retry ORD-1" not in out
    code, out, _ = om(capsys, "status", "ORD-1")  # nobody runs it: the commands again
    assert "om retry ORD-1 1/Line:configure" in out and "POST" not in out


def test_stub_handlers_let_a_designer_run_plans_before_the_handlers_exist(
    lab: Path, capsys
) -> None:  # type: ignore[no-untyped-def]
    """A designer wrote a module of empty handlers to try a new catalog's plans."""
    code, out, err = om(capsys, "run", "lab.om", "order.json", "--handlers", "stub")
    assert "no handler" not in err + out, err + out
    assert code == 0 and "order ORD-1: pending" in out, out  # its wait for the event, as usual
    assert "3 items: 1 completed, 1 pending, 1 waiting" in out  # configure, by the stub


def test_user_mistakes_are_one_line_errors(lab: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    code, _, err = om(capsys, "status", "ORD-1", "--db", "missing.db")
    assert code == 5 and "no store at missing.db" in err
    om(capsys, "run", "lab.om", "order.json")
    code, _, err = om(capsys, "status", "NOPE")
    assert (code, err.strip()) == (5, "error: no order NOPE")
    code, _, err = om(capsys, "retry", "ORD-1", "1/Line:go")
    assert code == 6 and "cannot retry item 1/Line:go: it is pending, not failed\n" in err
    code, _, err = om(capsys, "skip", "ORD-1", "1/Line:go")
    assert code == 6
    assert "cannot skip item 1/Line:go: it is pending, not failed, waiting or on hold\n" in err
    code, _, err = om(capsys, "tasks", "claim", "ORD-1", "1/Line:configure", "--user", "al")
    assert code == 6 and "is not an open manual task (it is an auto item)\n" in err
    code, _, err = om(capsys, "complete", "ORD-1", "1/Line:configure", "--outputs", "[1]")
    assert code == 2 and "must be a JSON object" in err
    code, _, err = om(capsys, "run", "lab.om", "order.json")
    assert code == 6 and "order ORD-1 is already in om.db: `om resume --db om.db` carries" in err
    code, _, err = om(capsys, "resume", "--handlers", "nosuchmodule:registry")
    assert code == 2 and "cannot import handler module 'nosuchmodule'" in err
    Path("junk.db").write_text("not sqlite" * 100)
    code, _, err = om(capsys, "status", "ORD-1", "--db", "junk.db")
    assert code == 1 and "cannot use junk.db as an om store" in err


@pytest.mark.parametrize(
    ("option", "value"),
    [("--concurrency", "0"), ("--callback-port", "99999"), ("--notify-wait", "-1")],
)
def test_out_of_range_options_are_usage_errors_before_anything_is_stored(
    lab: Path,
    capsys,
    option: str,
    value: str,  # type: ignore[no-untyped-def]
) -> None:
    code, _, err = om(capsys, "run", "lab.om", "order.json", "--db", "new.db", option, value)
    assert code == 2 and f"Invalid value for '{option}'" in err
    assert not Path("new.db").exists()


def test_a_callback_port_in_use_refuses_the_run_before_the_order_is_stored(
    lab: Path,
    capsys,  # type: ignore[no-untyped-def]
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        code, _, err = om(capsys, "run", "lab.om", "order.json", "--callback-port", port)
    assert code == 1 and f"cannot listen for callbacks on 127.0.0.1:{port}" in err
    code, _, err = om(capsys, "status", "ORD-1")
    assert (code, err.strip()) == (5, "error: no order ORD-1")  # nothing half-done to resume


def test_run_warns_of_handlers_the_registry_lacks(lab: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """An item without a handler fails only when it runs, maybe after a point of no return
    (found by the embedding hunt); `om run` says so up front, and the API can ask."""
    code, _, err = om(capsys, "run", "lab.om", "order.json")
    assert code == 1
    assert (
        "warning: no handler is registered for lab.activate, lab.configure; their items will "
        "fail (--handlers module:registry)"
    ) in err
    assert err.index("warning: no handler") < err.index("submitted order")  # said first
    code, _, err = om(capsys, "run", "lab.om", "order.json", "--db", "other.db",
                      "--handlers", "labhandlers:registry")  # fmt: skip
    assert "warning: no handler" not in err


def test_amend_redoes_the_changed_line_then_past_the_ponr_refuses(lab: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    code, _, err = om(capsys, "run", "lab.om", "order.json", "--handlers", "labhandlers:registry")
    assert code == 0, err
    revised = {**ORDER, "items": [{"id": "1", "product": "Web", "attributes": {"speed": 500}}]}
    (lab / "revised.json").write_text(json.dumps(revised), encoding="utf-8")
    code, _, err = om(capsys, "amend", "ORD-1", "revised.json")
    assert code == 0, err
    assert "order ORD-1 amended, revision 1: 1 line(s) changed, 0 added, 0 removed" in err
    assert "run `om resume --db om.db` (with the --handlers of `om run`, if it had any)" in err
    code, _, err = om(capsys, "amend", "ORD-1", "revised.json")  # sent again
    assert code == 0 and "order ORD-1 nothing to amend: the revised order is the order" in err
    code, out, _ = om(capsys, "resume", "--handlers", "labhandlers:registry")
    assert code == 0
    code, out, _ = om(capsys, "status", "ORD-1", "--format", "json")
    items = {i["id"]: i for i in json.loads(out)["items"]}
    assert items["1/Line:configure"]["outputs"] == {"speed": 500}
    assert items["1/Line~1:configure"]["outputs"] == {"speed": 300}
    assert items["1/Line~1:go"]["state"] == "cancelled"

    code, _, err = om(capsys, "amend", "ORD-1", "order.json", "--db", "other.db")
    assert code == 5 and "no store at other.db" in err
    (lab / "bad.json").write_text(json.dumps({**ORDER, "id": "ORD-2"}), encoding="utf-8")
    code, _, err = om(capsys, "amend", "ORD-1", "bad.json")
    assert code == 1 and "id: error[O071]: the revision is for order ORD-2" in err
    om(capsys, "signal", "go", "--order", "ORD-1")
    code, out, _ = om(capsys, "resume")  # no handlers: activate starts (PONR), then fails
    assert "order ORD-1: held" in out
    code, _, err = om(capsys, "amend", "ORD-1", "order.json")
    assert code == 1 and "point of no return was reached when 1/Line:activate started" in err


def test_resume_warns_of_handlers_that_unfinished_items_need(lab: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    code, _, err = om(capsys, "run", "lab.om", "order.json", "--handlers", "labhandlers:registry")
    assert code == 0 and "warning" not in err
    code, _, err = om(capsys, "resume")  # configure completed: only activate is still to run
    assert "warning: no handler is registered for lab.activate;" in err
    assert "lab.configure" not in err
    code, _, err = om(capsys, "resume", "--handlers", "labhandlers:registry")
    assert code == 0 and "warning" not in err


def test_run_and_amend_take_the_installed_base(tmp_path: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    """An installed account line is not opened again, by the order or by its amendment."""
    monkeypatch.chdir(tmp_path)
    catalog = 'catalog "Accounts" version "1"\n' + ACCOUNT_LAB
    (tmp_path / "acct.om").write_text(catalog, encoding="utf-8")
    (tmp_path / "base.json").write_text('{"A1": {"Acct": {"account": "A1"}}}', "utf-8")
    for name, tier in (("order.json", 1), ("revised.json", 2)):
        items = [{"id": "1", "product": "Plan", "attributes": {"tier": tier}}]
        order = {"id": "P", "account": "A1", "items": items}
        (tmp_path / name).write_text(json.dumps(order), encoding="utf-8")
    code, _, err = om(capsys, "run", "acct.om", "order.json", "--installed-base", "base.json")
    assert code == 0 and "submitted order P: 1 items" in err, err  # the wait alone
    code, _, err = om(capsys, "amend", "P", "revised.json", "--installed-base", "base.json")
    assert code == 0 and "1 line(s) changed, 0 added" in err, err
    (tmp_path / "bad.json").write_text('{"A1": {"Svc": {}}}', "utf-8")
    code, _, err = om(capsys, "amend", "P", "revised.json", "--installed-base", "bad.json")
    assert code == 1 and "Svc has scope line" in err and "installed base is invalid" in err


@pytest.mark.parametrize(("reason", "shown"), [(["--reason", "customer moved"], "customer moved"),
                                               ([], None)])  # fmt: skip
def test_an_order_cancelled_with_om_cancel_has_the_tmf_cancellation_fields(
    lab: Path,
    capsys,  # type: ignore[no-untyped-def]
    reason: list[str],
    shown: str | None,
) -> None:
    """TMF622's cancellationDate (when the order was cancelled) and cancellationReason (what
    `--reason` said; none without it) are in the order's views and events, whoever cancelled."""
    code, _, err = om(capsys, "run", "lab.om", "order.json", "--handlers", "labhandlers:registry")
    assert code == 0, err  # pending: waiting for "go", before the point of no return
    code, _, err = om(capsys, "cancel", "ORD-1", *reason)
    assert code == 0, err
    store = SqliteStore(lab / "om.db", read_only=True)
    try:
        view = OrderViews(store).product_order("ORD-1")
        log = store.events("ORD-1")
    finally:
        store.close()
    assert view is not None and view["state"] == "cancelled"
    [when] = [row.ts for row in log if (row.kind, row.to_state) == ("order.state", "cancelled")]
    assert view["cancellationDate"] == iso(when)
    assert view.get("cancellationReason") == shown


def test_om_orders_lists_the_store_s_orders_and_filters_them_by_state(
    lab: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = om(capsys, "run", "lab.om", "order.json", "--handlers", "labhandlers:registry")
    assert code == 0, err
    code, out, err = om(capsys, "orders")
    assert code == 0, err
    (row,) = [line for line in out.splitlines() if "ORD-1" in line]
    assert row.split("│")[1:-3] == [" ORD-1 ", " pending ", "     3 ", "       0 ", "       0 ",
                                    "       1 "]  # fmt: skip
    code, out, _ = om(capsys, "orders", "--state", "pending,held", "--format", "json")
    (listed,) = json.loads(out)
    assert code == 0 and (listed["id"], listed["cancelling"], listed["items"]) == (
        "ORD-1",
        False,
        3,
    )
    assert listed["counts"] == {"completed": 1, "pending": 1, "waiting": 1}
    code, out, err = om(capsys, "orders", "--state", "completed")
    assert (code, out, err) == (0, "", "no orders in state completed in om.db\n")
    code, _, err = om(capsys, "orders", "--state", "hold")
    assert code == 2 and "error: --state: unknown state(s) hold; use acknowledged," in err
    code, out, _ = om(capsys, "orders", "--state", "completed", "--state", "pending")
    assert code == 0 and "ORD-1" in out  # every state given, not the last one alone
    code, _, err = om(capsys, "orders", "--state", "")
    assert code == 2 and "give at least one state" in err
    code, _, err = om(capsys, "orders", "--format", "xml")
    assert code == 2 and "unknown format 'xml'; choose one of: text, json, tsv" in err
    code, _, err = om(capsys, "orders", "--db", "nope.db")
    assert code == 5 and "no store at nope.db" in err


UNDO_CATALOG = CATALOG.replace(
    'auto configure handler "lab.configure" expect 1h',
    'auto configure handler "lab.configure" undo unconfigure',
).replace(
    "point_of_no_return\n", 'point_of_no_return\n  compensation auto unconfigure handler "u"\n'
)


def test_om_orders_shows_the_catalog_version_each_order_runs_on(
    lab: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An SRE retiring an old catalog version could not see which orders still run on it:
    `om orders` showed no catalog.  ORD-1 runs on version 1; ORD-2 was submitted with 2."""
    handlers = ("--handlers", "labhandlers:registry")
    assert om(capsys, "run", "lab.om", "order.json", *handlers)[0] == 0
    (lab / "lab.om").write_text(CATALOG.replace('version "1"', 'version "2"'), encoding="utf-8")
    (lab / "order2.json").write_text(json.dumps({**ORDER, "id": "ORD-2"}), encoding="utf-8")
    assert om(capsys, "run", "lab.om", "order2.json", *handlers)[0] == 0
    code, out, _ = om(capsys, "orders", "--format", "json")
    listed = {row["id"]: row for row in json.loads(out)}
    assert code == 0
    hashes = {}
    for order_id, version in (("ORD-1", "1"), ("ORD-2", "2")):
        row = listed[order_id]
        assert (row["catalog_name"], row["catalog_version"]) == ("Lab", version)
        _, status, _ = om(capsys, "status", order_id, "--format", "json")
        assert row["catalog_hash"] == json.loads(status)["catalog_hash"]
        hashes[order_id] = row["catalog_hash"]
    assert hashes["ORD-1"] != hashes["ORD-2"]
    code, out, _ = om(capsys, "orders")
    for order_id, version in (("ORD-1", "1"), ("ORD-2", "2")):
        (row,) = [line for line in out.splitlines() if f" {order_id} " in line]
        short = hashes[order_id].removeprefix("sha256:")[:8]
        assert row.split("│")[-3] == f" {version} {short} "


def test_om_status_says_when_a_held_order_is_being_cancelled(
    lab: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A cancel stuck on a compensation that failed for good reads "held" alone otherwise."""
    (lab / "undo.om").write_text(UNDO_CATALOG, encoding="utf-8")
    handlers = ("--handlers", "labhandlers:registry")  # no "u" handler: the undo fails
    assert om(capsys, "run", "undo.om", "order.json", *handlers)[0] == 0
    assert om(capsys, "cancel", "ORD-1")[0] == 0
    code, out, _ = om(capsys, "resume", *handlers)
    assert code == 1 and "order ORD-1: held (cancelling)\n" in out
    code, out, _ = om(capsys, "status", "ORD-1")
    assert code == 0 and out.startswith("order ORD-1: held (cancelling)\n"), out
    assert "fatally_failed 1/Line:unconfigure" in out
    code, out, _ = om(capsys, "orders")
    assert "│ held (cancelling) │" in out


def test_om_status_shows_the_revision_and_hides_replaced_items(
    lab: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """After amendments, the items of replaced lines (`~N`) outnumbered the live ones: they
    are counted, and `--all` lists them, marked with the revision that replaced them."""
    om(capsys, "run", "lab.om", "order.json", "--handlers", "labhandlers:registry")
    revised = {**ORDER, "items": [{"id": "1", "product": "Web", "attributes": {"speed": 500}}]}
    (lab / "revised.json").write_text(json.dumps(revised), encoding="utf-8")
    code, _, err = om(capsys, "amend", "ORD-1", "revised.json")
    assert code == 0, err
    code, out, _ = om(capsys, "status", "ORD-1")
    assert "  revision 1 (amended 1 time(s))\n" in out
    assert "1/Line~1:" not in out
    assert "(3 item(s) of lines earlier revisions replaced: --all lists them)" in out
    code, out, _ = om(capsys, "status", "ORD-1", "--all")
    assert "1/Line~1:configure (auto, replaced by revision 1, attempt 1)" in out
    assert "earlier revisions replaced" not in out
    code, out, _ = om(capsys, "status", "ORD-1", "--format", "json")
    status = json.loads(out)
    assert status["revision"] == 1
    replaced = {i["id"]: i["superseded"] for i in status["items"]}
    assert replaced["1/Line~1:configure"] == 1 and replaced["1/Line:configure"] == 0
    code, out, _ = om(capsys, "orders", "--format", "json")
    (listed,) = json.loads(out)
    assert (listed["items"], listed["replaced"]) == (3, 3)  # om orders counts the live ones


def test_om_status_says_who_cancelled_and_om_events_shows_the_log(
    lab: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    om(capsys, "run", "lab.om", "order.json", "--handlers", "labhandlers:registry")
    code, _, err = om(capsys, "cancel", "ORD-1", "--reason", "customer moved")
    assert code == 0, err
    code, out, _ = om(capsys, "status", "ORD-1")
    assert "  cancel: customer moved at 20" in out  # the date: when it became cancelled
    code, out, _ = om(capsys, "events", "ORD-1")
    assert code == 0
    lines = out.splitlines()
    assert "order.created" in lines[0]
    assert any(
        "item.state 1/Line:configure running -> completed (attempt 1)" in line for line in lines
    )
    assert any("order.state" in line and "-> cancelled" in line for line in lines)
    code, out, _ = om(capsys, "events", "ORD-1", "--item", "1/Line:go", "--format", "json")
    rows = json.loads(out)
    assert {row["item_id"] for row in rows} == {"1/Line:go"}
    assert rows[-1]["to_state"] == "cancelled"
    code, out, _ = om(capsys, "events", "ORD-1", "--last", "1")
    assert len(out.splitlines()) == 1 and "-> cancelled" in out
    code, _, err = om(capsys, "events", "NOPE")
    assert code == 5 and "no order NOPE" in err


HANGS = """
import threading
from om_dsl.runtime import HandlerRegistry

release = threading.Event()
registry = HandlerRegistry()

@registry.handler("lab.configure")
def configure(ctx):
    release.wait(60)
    return {}
"""


@pytest.mark.timeout(60)
def test_a_handler_still_running_at_the_end_of_a_command_is_a_warning(
    lab: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Its item timed out; the handler goes on.  Closing the runtime then raised an OmError,
    which the CLI printed as an internal error (a bug); before that, the process waited for
    the handler at its exit without a word."""
    (lab / "lab.om").write_text(CATALOG.replace("expect 1h", "timeout 100ms"), encoding="utf-8")
    (lab / "hanghandlers.py").write_text(HANGS, encoding="utf-8")
    try:
        code, out, err = om(
            capsys, "run", "lab.om", "order.json", "--handlers", "hanghandlers:registry"
        )
    finally:
        sys.modules["hanghandlers"].release.set()
    assert code == 1, err  # held: the item timed out and has no retry
    assert "1/Line:configure (auto, attempt 1) - timed out after 100 ms" in out
    assert "internal error" not in err
    assert (
        "warning: the runtime stopped, but 1 sync handler(s) still run after 5 s: order ORD-1 "
        "item 1/Line:configure (handler 'lab.configure')"
    ) in " ".join(err.split())


SKIP_CATALOG = """catalog "Lab" version "1"
offer Web "Web" id "100" { attribute speed: int default 100 }
cfs Line { attribute speed: int }
decompose Web { -> Line { speed = speed } }
plan Line on add {
  auto reserve handler "lab.reserve"
  callout activate: Net POST "/activate" request { rid: reserve.rid }
      after reserve point_of_no_return
}
system Net { url "http://127.0.0.1:9" }
"""


def test_skip_names_the_readers_of_the_outputs_and_force_overrides(  # type: ignore[no-untyped-def]
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    lab_folder(tmp_path, monkeypatch)
    (tmp_path / "lab.om").write_text(SKIP_CATALOG, encoding="utf-8")
    code, out, _ = om(capsys, "run", "lab.om", "order.json")
    assert code == 1 and "order ORD-1: held" in out  # lab.reserve has no handler
    code, _, err = om(capsys, "skip", "ORD-1", "1/Line:reserve")
    assert code == 6  # refused: nothing changed
    assert "cannot skip item 1/Line:reserve: items still to run read its outputs" in err
    assert "reserve.rid, read by 1/Line:activate" in err
    assert "om skip ORD-1 1/Line:reserve --force;" in err  # the default store: no --db
    code, out, _ = om(capsys, "status", "ORD-1")
    assert "1/Line:reserve" in out and "skipped" not in out  # nothing changed
    code, _, err = om(capsys, "skip", "ORD-1", "1/Line:reserve", "--force", "--reason", "by hand")
    assert code == 0 and "1/Line:reserve skipped" in err


def test_run_warns_of_the_environment_variables_systems_need(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A callout whose credentials' variable is unset fails at once, without retry: said
    before the order is stored, once per variable, with what it is for."""
    (tmp_path / "c.om").write_text(
        'catalog "c" version "1"\n'
        'system Inv { url env("INV_URL") auth basic env("INV_USER") env("INV_PASS") }\n'
        "offer Web { attribute n: int }\n"
        "cfs Svc { attribute n: int }\n"
        "decompose Web { -> Svc { n = n } }\n"
        'plan Svc on add { callout reserve: Inv POST "/r" }\n',
        encoding="utf-8",
    )
    order = {"id": "E-1", "items": [{"id": "1", "product": "Web", "attributes": {"n": 1}}]}
    (tmp_path / "o.json").write_text(json.dumps(order), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    for name in ("INV_URL", "INV_USER", "INV_PASS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("INV_PASS", "p")
    _code, _, err = om(capsys, "run", "c.om", "o.json")
    assert (
        "warning: environment variables that downstream systems need are not set: INV_URL "
        "(Inv's URL), INV_USER (Inv's credentials); their callouts will fail"
    ) in " ".join(err.split()), err
    assert err.index("are not set") < err.index("submitted order")
