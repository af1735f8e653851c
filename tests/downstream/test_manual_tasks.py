"""Manual work: queues, due dates, claims and their conflicts, completing, failing, the CLI."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_support import om
from downstream_support import Sims, compile_text, line, order, sqlite

from om_dsl.cli.app import out as terminal
from om_dsl.errors import NotFound, OperatorActionRejected
from om_dsl.runtime import Runtime
from om_dsl.runtime.downstream.request import idempotency_key
from om_dsl.runtime.downstream.tasks import UnknownQueue
from om_dsl.runtime.events import InvalidAct

Lab = Callable[..., Runtime]
CATALOG = """
system Net { url env("NET_URL") timeout 2s }
queue techs "Technicians"
cfs Line { attribute site: string }
plan Line on add {
  manual install queue techs expect 2h
  callout activate: Net POST "/activations" request { site: line.site, ont: install.ont }
      response { activation_id = body.activation.id } after install
}
"""
INSTALL = "L:install"


@pytest.fixture
def runtime(lab: Lab, tmp_path: Path) -> Runtime:
    catalog = compile_text(CATALOG)
    runtime = lab(catalog, store=sqlite(tmp_path), serve=False)
    runtime.submit(order("O1", catalog, [line("L", site="S1")]))
    runtime.run_until_idle()
    return runtime


def test_a_manual_item_waits_in_its_queue_with_a_due_date(runtime: Runtime) -> None:
    (task,) = runtime.tasks.list("techs")
    assert (task.order_id, task.item_id, task.name, task.queue) == (
        "O1",
        INSTALL,
        "install",
        "techs",
    )
    assert task.expected_by == pytest.approx(task.created_at + 7200)
    assert (task.claimed_by, task.overdue) == (None, False)
    with pytest.raises(UnknownQueue, match=r"queue 'tech' is not declared .*'techs'\?"):
        runtime.tasks.list("tech")
    with pytest.raises(UnknownQueue, match=r"queue 'other' .*; they declare techs$"):
        runtime.tasks.list("other")
    item = runtime.status("O1").item(INSTALL)
    assert (item.state, item.reason) == ("waiting", "in queue techs")
    assert item.expected_by == pytest.approx(task.expected_by, abs=1)


def test_claims_conflict_until_reassigned_and_outputs_feed_later_items(
    runtime: Runtime, sims: Sims
) -> None:
    assert runtime.tasks.claim("O1", INSTALL, "alice").claimed_by == "alice"
    runtime.tasks.claim("O1", INSTALL, "alice")  # claiming one's own task again is fine
    with pytest.raises(OperatorActionRejected, match="claimed by alice: bob cannot claim it"):
        runtime.tasks.claim("O1", INSTALL, "bob")
    with pytest.raises(OperatorActionRejected, match="bob cannot complete it without reassign"):
        runtime.tasks.complete("O1", INSTALL, {"ont": "ONT-7"}, user="bob")
    with pytest.raises(OperatorActionRejected, match="cannot fail it"):
        runtime.tasks.fail("O1", INSTALL, "no access", user="bob")
    with pytest.raises(OperatorActionRejected, match="from carol: it is claimed by alice"):
        runtime.tasks.reassign("O1", INSTALL, "carol", "bob")
    assert runtime.tasks.reassign("O1", INSTALL, "alice", "bob").claimed_by == "bob"
    runtime.tasks.complete("O1", INSTALL, {"ont": "ONT-7"}, user="bob")
    assert runtime.tasks.list() == []
    runtime.run_until_idle()
    assert runtime.status("O1").state == "completed"
    (effect,) = sims.network.effects(idempotency_key("O1", "L:activate", runtime.installation_id))
    assert effect["body"] == {"site": "S1", "ont": "ONT-7"}
    log = [(e.kind, e.detail) for e in runtime.events("O1") if e.item_id == INSTALL]
    assert ("task.claimed", "claimed by alice in queue techs") in log
    assert ("task.reassigned", "reassigned from alice to bob") in log
    assert ("item.state", "task completed by bob") in log


def test_a_failed_task_holds_the_order_and_a_retry_reopens_it_unclaimed(runtime: Runtime) -> None:
    (first,) = runtime.tasks.list("techs")
    runtime.tasks.claim("O1", INSTALL, "alice")
    runtime.tasks.fail("O1", INSTALL, "customer not at home", user="alice")
    item = runtime.status("O1").item(INSTALL)
    assert item.state == "fatally_failed"
    assert item.reason == "customer not at home (task failed by alice)"
    assert runtime.status("O1").state == "held"
    assert runtime.tasks.list() == []
    with pytest.raises(
        OperatorActionRejected, match=r"open manual task \(it is failed for good\)$"
    ):
        runtime.tasks.claim("O1", INSTALL, "bob")
    runtime.retry("O1", INSTALL)
    runtime.run_until_idle()
    (task,) = runtime.tasks.list("techs")
    assert (task.attempt, task.claimed_by) == (2, None)
    # opened now, due `expect` from now: it kept the first attempt's times, overdue at once
    assert task.created_at > first.created_at
    assert task.expected_by == pytest.approx(task.created_at + 7200)
    runtime.tasks.complete("O1", INSTALL, {"ont": "ONT-8"}, user="bob")  # unclaimed: anyone


def test_what_is_not_an_open_task_is_refused_with_a_reason(runtime: Runtime) -> None:
    with pytest.raises(NotFound):
        runtime.tasks.claim("O1", "L:nope", "alice")
    with pytest.raises(NotFound):
        runtime.tasks.claim("nope", INSTALL, "alice")
    with pytest.raises(
        OperatorActionRejected, match=r"is not an open manual task \(it is a callout"
    ):
        runtime.tasks.claim("O1", "L:activate", "alice")
    with pytest.raises(InvalidAct, match="user name is needed"):
        runtime.tasks.claim("O1", INSTALL, "  ")
    with pytest.raises(OperatorActionRejected, match="JSON"):
        runtime.tasks.complete("O1", INSTALL, {"when": object()}, user="alice")
    with pytest.raises(InvalidAct, match="needs a reason"):
        runtime.tasks.fail("O1", INSTALL, " ", user="alice")


FORGED = "line1\r\n2026-11-28T22:31:40.000Z INFO om_dsl.service: order O1: task completed by bob"


BAD_REASONS = [FORGED, "r\x1b[31mX", "a\u2028b", "ok \u202edeifirev", "x" * 1001]


@pytest.mark.parametrize("reason", BAD_REASONS)
def test_a_task_fail_reason_is_one_printable_line(runtime: Runtime, reason: str) -> None:
    """The reason becomes the item's fallout reason, a line of the text log and of `om
    events`: a CR/LF in it forged whole lines there.  Refused as every operator reason is."""
    with pytest.raises(InvalidAct, match="a reason is one line of at most 1000 printable"):
        runtime.tasks.fail("O1", INSTALL, reason, user="alice")
    assert runtime.status("O1").item(INSTALL).state == "waiting"


@pytest.mark.parametrize(
    "user, problem",
    [
        ("\u202eecila", "U+202E (a format character"),
        ("u\r\nX", "U+000D (a control character)"),
        ("alice\x1b[2J", "U+001B (a control character)"),
        ("a\u2028b", "U+2028 (a line separator)"),
        ("x" * 201, "at most 200 characters"),
    ],
)
def test_a_bad_user_name_is_refused_before_anything_is_stored(
    runtime: Runtime, user: str, problem: str
) -> None:
    """A claim by a name with a right-to-left override was written, then refused when its
    event row was built: the task stayed claimed by a name displayed as "alice", with no
    row saying so.  Every action now checks the name first, the same way (InvalidAct)."""
    seen = len(runtime.events("O1"))
    with pytest.raises(InvalidAct, match=re.escape(problem)):
        runtime.tasks.claim("O1", INSTALL, user)
    with pytest.raises(InvalidAct, match=re.escape(problem)):
        runtime.tasks.reassign("O1", INSTALL, None, user)
    with pytest.raises(InvalidAct, match=re.escape(problem)):
        runtime.tasks.fail("O1", INSTALL, "no access", user=user)
    with pytest.raises(InvalidAct, match=re.escape(problem)):
        runtime.tasks.complete("O1", INSTALL, {"ont": "ONT-7"}, user=user)
    assert runtime.tasks.get("O1", INSTALL).claimed_by is None
    assert len(runtime.events("O1")) == seen


def test_a_task_reads_back_open_or_not_with_what_became_of_it(runtime: Runtime) -> None:
    """Reading a task is no action: a closed task (even of a finished order) reads as what
    became of it, with who claimed it; only ids that never were a task are NotFound."""
    assert runtime.tasks.get("O1", INSTALL).state == "open"
    runtime.tasks.claim("O1", INSTALL, "alice")
    runtime.tasks.fail("O1", INSTALL, "customer not at home", user="alice")
    failed = runtime.tasks.get("O1", INSTALL, attempt=1)
    assert (failed.state, failed.claimed_by, failed.overdue) == ("failed", "alice", False)
    runtime.retry("O1", INSTALL)
    assert runtime.tasks.get("O1", INSTALL).state == "closed"  # the retry opens a new one
    runtime.run_until_idle()
    replaced = runtime.tasks.get("O1", INSTALL, attempt=1)  # was NotFound once attempt 2 opened
    assert (replaced.state, replaced.attempt, replaced.claimed_by) == ("closed", 1, "alice")
    with pytest.raises(NotFound, match="opened no task at attempt 3: its latest task is attempt 2"):
        runtime.tasks.get("O1", INSTALL, attempt=3)
    with pytest.raises(NotFound, match="its task is now attempt 2; list the queue again"):
        runtime.tasks.claim("O1", INSTALL, "carol", attempt=1)  # an action: only the current
    runtime.tasks.complete("O1", INSTALL, {"ont": "ONT-8"}, user="bob")
    runtime.run_until_idle()
    assert runtime.status("O1").state == "completed"
    done = runtime.tasks.get("O1", INSTALL, attempt=2)
    assert (done.state, done.attempt, done.queue, done.claimed_by) == (
        "completed",
        2,
        "techs",
        None,
    )
    with pytest.raises(NotFound, match="has no task"):
        runtime.tasks.get("O1", "L:activate")
    with pytest.raises(NotFound, match="no order nope"):
        runtime.tasks.get("nope", INSTALL)
    with pytest.raises(NotFound, match="has no item L:nope"):
        runtime.tasks.get("O1", "L:nope")


def test_the_task_of_a_cancelled_order_reads_as_cancelled(runtime: Runtime) -> None:
    runtime.cancel("O1")
    assert runtime.status("O1").state == "cancelled"
    assert runtime.tasks.list() == []
    assert runtime.tasks.get("O1", INSTALL).state == "cancelled"


def test_the_om_tasks_commands_work_on_the_store(
    runtime: Runtime, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runtime.close()
    db = str(tmp_path / "om.db")
    code, out, _ = om(capsys, "tasks", "list", "--db", db, "--format", "json")
    assert code == 0 and json.loads(out)[0]["item_id"] == INSTALL
    twice = ("--queue", "techs", "--queue", "techs", "--format", "json")  # each queue, once
    code, out, _ = om(capsys, "tasks", "list", "--db", db, *twice)
    assert code == 0 and [t["item_id"] for t in json.loads(out)] == [INSTALL]
    code, _, err = om(capsys, "tasks", "list", "--db", db, "--queue", "techs", "--queue", "tech")
    assert code == 5 and "queue 'tech' is not declared" in err  # not the last one alone
    # a table, each id on one line to copy into `claim`, even in a narrow terminal
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(terminal, "width", 40)
        code, out, _ = om(capsys, "tasks", "list", "--db", db)
    assert code == 0 and any(INSTALL in row for row in out.splitlines()), out
    code, _, err = om(capsys, "tasks", "claim", "O1", INSTALL, "--user", "alice", "--db", db)
    assert code == 0 and "claimed by alice" in err
    code, _, err = om(capsys, "tasks", "complete", "O1", INSTALL, "--user", "bob", "--db", db)
    assert code == 6 and "claimed by alice: bob cannot complete it" in err
    assert "Traceback" not in err
    args = ("--from", "alice", "--to", "bob", "--db", db)
    assert om(capsys, "tasks", "reassign", "O1", INSTALL, *args)[0] == 0
    code, _, err = om(capsys, "tasks", "complete", "O1", INSTALL, "--user", "bob",
                      "--outputs", '{"ont": "ONT-9"}', "--db", db)  # fmt: skip
    assert code == 0 and "order O1 is inProgress" in err
    code, out, err = om(capsys, "tasks", "list", "--db", db)
    assert code == 0 and "no open tasks" in err
    code, out, err = om(capsys, "tasks", "list", "--queue", "techs", "--db", db)
    assert code == 0 and "no open tasks in queue techs" in err
    code, out, err = om(capsys, "tasks", "list", "--queue", "tech", "--db", db)
    assert code == 5 and "queue 'tech' is not declared by the catalog(s)" in err
    assert "did you mean 'techs'?" in err and "no open tasks" not in err
    code, out, _ = om(capsys, "tasks", "show", "O1", INSTALL, "--db", db)
    assert code == 0 and out.startswith(f"task {INSTALL} of order O1: completed\n"), out
    assert "queue techs, attempt 1" in out and "claimed by bob" in out
    code, out, _ = om(capsys, "tasks", "show", "O1", INSTALL, "--db", db, "--format", "json")
    assert code == 0 and json.loads(out)["state"] == "completed"
    code, _, err = om(capsys, "tasks", "show", "O1", "L:activate", "--db", db)
    assert code == 5 and "has no task" in err


def test_the_om_tasks_commands_refuse_a_forged_line_with_exit_2(
    runtime: Runtime, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`om tasks fail --reason` and `--user` take the check the service routes take: a usage
    error (exit 2) that names the problem, and the task is left as it was."""
    runtime.close()
    db = str(tmp_path / "om.db")
    fail = ("tasks", "fail", "O1", INSTALL, "--db", db)
    code, _, err = om(capsys, *fail, "--user", "alice", "--reason", FORGED)
    assert code == 2 and "a reason is one line of at most 1000 printable" in err
    code, _, err = om(capsys, *fail, "--user", "\u202eecila", "--reason", "no access")
    assert code == 2 and "U+202E" in err
    code, _, err = om(capsys, "tasks", "claim", "O1", INSTALL, "--user", "a\nb", "--db", db)
    assert code == 2 and "U+000A (a control character)" in err and "Traceback" not in err
    code, out, _ = om(capsys, "tasks", "show", "O1", INSTALL, "--db", db, "--format", "json")
    assert (json.loads(out)["state"], json.loads(out)["claimed_by"]) == ("open", None)


def test_the_om_systems_commands_switch_a_system(
    runtime: Runtime, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runtime.close()
    db = str(tmp_path / "om.db")
    code, _, err = om(capsys, "systems", "offline", "Net", "--db", db, "--by", "ops")
    assert code == 0 and "Net is offline" in err
    code, out, _ = om(capsys, "systems", "list", "--db", db)
    assert code == 0 and "offline" in out and "ops" in out
    code, _, err = om(capsys, "systems", "online", "Net", "--db", db)
    assert code == 0 and "0 held callout(s) released" in err
    code, _, err = om(capsys, "systems", "offline", "Nope", "--db", db)
    assert code == 5 and "no system 'Nope'" in err and "known systems: Net" in err


TWO_SITES = """
queue techs "Technicians"
offer Web "Web" id "1" { attribute site: string }
cfs Line { attribute site: string }
decompose Web { -> Line { site = site } }
plan Line on add { manual install queue techs }
"""


def test_the_task_of_a_line_an_amendment_removed_reads_as_cancelled(
    lab: Lab, tmp_path: Path
) -> None:
    """An adversarial probe: the amendment renames the removed line's items (`2/Line~1:...`)
    and the task stayed under its old id, which then answered 404 "has no item"."""
    runtime = lab(compile_text(TWO_SITES), store=sqlite(tmp_path), serve=False)
    web = [{"id": n, "product": "Web", "attributes": {"site": n}} for n in ("1", "2")]
    runtime.submit({"id": "M1", "items": web})
    runtime.run_until_idle()
    runtime.tasks.claim("M1", "2/Line:install", "alice")
    runtime.amend("M1", {"id": "M1", "items": web[:1]})
    task = runtime.tasks.get("M1", "2/Line:install")
    assert (task.state, task.claimed_by) == ("cancelled", "alice")
    assert [t.item_id for t in runtime.tasks.list("techs")] == ["1/Line:install"]


def test_the_task_of_a_manual_item_an_amendment_replaced_reads_back(
    lab: Lab, tmp_path: Path
) -> None:
    """A probe: the amendment changed the line of a claimed task; the line's item runs again
    (attempt 2, a new task in the same row) and its old work is history
    (`1/Line~1:install`).  The old task answered NotFound under both ids, its claim lost."""
    runtime = lab(compile_text(TWO_SITES), store=sqlite(tmp_path), serve=False)
    web = [{"id": "1", "product": "Web", "attributes": {"site": "S1"}}]
    runtime.submit({"id": "M1", "items": web})
    runtime.run_until_idle()
    runtime.tasks.claim("M1", "1/Line:install", "alice")
    moved = [{"id": "1", "product": "Web", "attributes": {"site": "S2"}}]
    assert runtime.amend("M1", {"id": "M1", "items": moved}).changed == ("1/Line",)
    runtime.run_until_idle()
    assert runtime.status("M1").item("1/Line~1:install").state == "cancelled"
    for old in (
        runtime.tasks.get("M1", "1/Line:install", attempt=1),  # the id it was opened with
        runtime.tasks.get("M1", "1/Line~1:install"),  # the id of its history item
        runtime.tasks.get("M1", "1/Line~1:install", attempt=1),
    ):
        assert (old.item_id, old.attempt, old.state, old.claimed_by) == (
            "1/Line:install",
            1,
            "cancelled",
            "alice",
        )
    new = runtime.tasks.get("M1", "1/Line:install")
    assert (new.attempt, new.state, new.claimed_by) == (2, "open", None)
    assert runtime.tasks.list("techs") == [new]
    with pytest.raises(NotFound, match="opened no task at attempt 2"):
        runtime.tasks.get("M1", "1/Line~1:install", attempt=2)
