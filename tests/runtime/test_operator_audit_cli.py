"""The night shift's findings: operator commands record who acted and why, `om status` says
when a failed item retries and what to do once retries are spent, every hint that names a
command carries the store's `--db`, and mistyped ids and events get a suggestion."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest
from cli_support import om

from om_dsl.cli.runtime_args import carry_on
from om_dsl.runtime import SqliteStore
from om_dsl.runtime.item_ids import meant

CATALOG = """catalog "Lab" version "1"
offer Web "Web" id "100" { attribute speed: int default 100 }
cfs Line { attribute speed: int }
decompose Web { -> Line { speed = speed } }
plan Line on add {
  auto reserve handler "lab.reserve" retry fixed 1h max 4
  wait go event "go.ahead" after reserve
  callout activate: Net POST "/activate" request { rid: reserve.rid }
      after go point_of_no_return
}
system Net { url "http://127.0.0.1:9" }
"""
ORDER = {"id": "ORD-1", "items": [{"id": "1", "product": "Web", "attributes": {"speed": 300}}]}
FAILING = """
from om_dsl.runtime import HandlerRegistry, PermanentFailure

registry = HandlerRegistry()
broken = HandlerRegistry()

@registry.handler("lab.reserve")
def reserve(ctx):
    raise RuntimeError("Inventory answered 503")

@broken.handler("lab.reserve")
def refused(ctx):
    raise PermanentFailure("Inventory answered 400")
"""
ITEM = "1/Line:reserve"
DB = "night.db"


@pytest.fixture
def night(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An order whose first item failed for good, in ``night.db`` (not the default store)."""
    (tmp_path / "lab.om").write_text(CATALOG, encoding="utf-8")
    (tmp_path / "order.json").write_text(json.dumps(ORDER), encoding="utf-8")
    (tmp_path / "labfail.py").write_text(FAILING, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("LOGNAME", "nightowl")
    return tmp_path


def _held(capsys: pytest.CaptureFixture[str]) -> str:
    code, out, _ = om(capsys, "run", "lab.om", "order.json", "--db", DB,
                      "--handlers", "labfail:broken")  # fmt: skip
    assert code == 1 and "order ORD-1: held" in out
    return out


def _events(capsys: pytest.CaptureFixture[str], *options: str) -> list[dict[str, object]]:
    code, out, err = om(capsys, "events", "ORD-1", "--db", DB, "--format", "json", *options)
    assert code == 0, err
    rows: list[dict[str, object]] = json.loads(out)
    return rows


def test_each_operator_command_records_who_and_why(night: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    _held(capsys)
    code, _, err = om(capsys, "retry", "ORD-1", ITEM, "--db", DB, "--reason", "handler fixed")
    assert code == 0, err
    om(capsys, "resume", "--db", DB, "--handlers", "labfail:broken")
    code, _, err = om(capsys, "complete", "ORD-1", ITEM, "--db", DB, "--outputs", '{"rid": 7}',
                      "--user", "alice", "--reason", "reserved by phone")  # fmt: skip
    assert code == 0, err
    om(capsys, "resume", "--db", DB, "--handlers", "labfail:broken")
    code, _, err = om(capsys, "signal", "go.ahead", "--order", "ORD-1", "--db", DB,
                      "--by", "carol", "--reason", "field team confirmed")  # fmt: skip
    assert code == 0, err
    code, _, err = om(capsys, "cancel", "ORD-1", "--db", DB, "--user", "dave")
    named = [(r["to_state"], r["by"], r["reason"], r["detail"]) for r in _events(capsys) if r["by"]]
    assert named[:4] == [
        ("ready", "nightowl", "handler fixed", "retried by nightowl (operator): handler fixed"),
        ("completed", "alice", "reserved by phone",
         "completed by alice (operator): reserved by phone"),
        (None, "carol", "field team confirmed",
         "event 'go.ahead' signalled by carol (operator): field team confirmed"),
        ("completed", "carol", "field team confirmed",
         "event 'go.ahead' signalled by carol (operator): field team confirmed"),
    ]  # fmt: skip
    code, out, _ = om(capsys, "events", "ORD-1", "--db", DB, "--item", ITEM)
    assert "- completed by alice (operator): reserved by phone" in out


def test_a_skip_keeps_the_words_and_the_reason(night: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    _held(capsys)
    code, _, err = om(capsys, "skip", "ORD-1", ITEM, "--db", DB, "--force",
                      "--user", "bob", "--reason", "bob says it never happened")  # fmt: skip
    assert code == 0, err
    code, out, _ = om(capsys, "status", "ORD-1", "--db", DB, "--all")
    assert "skipped by bob (operator): bob says it never happened" in out


def test_a_reason_is_one_printable_line(night: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """A newline in a reason printed a forged row in `om events` ("... completed by admin");
    a right-to-left override showed other words than grep saw."""
    _held(capsys)
    forged = "ok\n    99 2026-11-28 16:50:14Z item.state x fatally_failed -> completed"
    for reason in (forged, "approved \u202edeifirev ton", "x" * 1001):
        code, _, err = om(capsys, "retry", "ORD-1", ITEM, "--db", DB, "--reason", reason)
        assert code == 2 and "a reason is one line of at most 1000 printable" in err
    code, _, err = om(capsys, "amend", "ORD-1", "order.json", "--db", DB, "--reason", forged)
    assert code == 2 and "a reason is one line" in err  # not an internal error
    code, out, _ = om(capsys, "events", "ORD-1", "--db", DB)
    assert "99 2026" not in out  # nothing was recorded


def test_a_hint_s_store_is_quoted_for_the_shell(night: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert carry_on(Path("dir with space/it's.db")).startswith(
        "run `om resume --db 'dir with space/it'\"'\"'s.db'` (with"
    )


def test_an_empty_user_is_a_usage_error(night: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    _held(capsys)
    code, _, err = om(capsys, "retry", "ORD-1", ITEM, "--db", DB, "--user", " ")
    assert code == 2 and "--user is needed: 1 to 200 printable characters" in err
    for user, problem in (("a\u202eb", "U+202E"), ("a\x1b[2Jb", "U+001B"), ("x" * 201, "200")):
        code, _, err = om(capsys, "systems", "offline", "Net", "--db", DB, "--user", user)
        assert code == 2 and problem in err and "Traceback" not in err


def test_status_says_when_a_failed_item_retries_and_how_many_attempts_are_left(  # type: ignore[no-untyped-def]
    night: Path, capsys
) -> None:
    """The row as a runtime leaves it after the first of five attempts failed (`om run`
    would wait the hour for the retry)."""
    _held(capsys)
    with sqlite3.connect(DB) as db:
        db.execute(
            "UPDATE items SET state = 'failed', failures = 1, due_at = ? WHERE item_id = ?",
            (time.time() + 3600, ITEM),
        )
    code, out, _ = om(capsys, "status", "ORD-1", "--db", DB)
    assert code == 0
    line = next(x for x in out.splitlines() if "next attempt at" in x)
    assert line.strip().endswith("4 of 5 attempts left")  # fixed 1h max 4: 5 attempts
    assert "(in 59m" in line or "(in 1h)" in line
    code, out, _ = om(capsys, "status", "ORD-1", "--db", DB, "--format", "json")
    reserve = next(i for i in json.loads(out)["items"] if i["id"] == ITEM)
    assert (reserve["max_attempts"], reserve["attempts_left"]) == (5, 4)


def test_status_of_an_item_in_fallout_gives_the_commands_with_the_store(  # type: ignore[no-untyped-def]
    night: Path, capsys
) -> None:
    out = _held(capsys)
    assert "retries spent: retry, skip or complete it:" in out
    for command in (
        f"om retry ORD-1 {ITEM} --db {DB}",
        f"om skip ORD-1 {ITEM} --reason '...' --db {DB}",
        f"om complete ORD-1 {ITEM} --outputs '{{...}}' --db {DB}",
    ):
        assert command in out


def test_the_skip_refusal_names_the_store_in_its_commands(night: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    _held(capsys)
    code, _, err = om(capsys, "skip", "ORD-1", ITEM, "--db", DB)
    assert code == 6  # refused by the item's state
    assert f"(om complete ORD-1 {ITEM} --outputs '{{...}}' --db {DB}," in err
    assert f"(om skip ORD-1 {ITEM} --force --db {DB};" in err


def test_a_mistyped_or_short_item_id_gets_the_whole_one(night: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    _held(capsys)
    for typed, hint in (
        ("1/Line:reserv", f"(did you mean {ITEM}?)"),
        ("reserve", f"(did you mean {ITEM}? give the whole item id)"),
        ("Line:reserve", f"(did you mean {ITEM}? give the whole item id)"),
    ):
        code, _, err = om(capsys, "retry", "ORD-1", typed, "--db", DB)
        assert code == 5 and f"order ORD-1 has no item {typed} {hint}" in err
    code, out, _ = om(capsys, "status", "ORD-1", "--db", DB)
    assert "fatally_failed 1/Line:reserve" in out  # nothing was done on a guess


def test_a_short_form_of_several_items_lists_them() -> None:
    ids = ["1/Line:reserve", "2/Line:reserve", "1/Line:go"]
    assert meant("reserve", ids) == (
        "it names 2 items: 1/Line:reserve, 2/Line:reserve; give one whole"
    )
    assert meant("zzz", ids) == ""


def test_om_signal_warns_of_an_event_no_catalog_declares(night: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    _held(capsys)
    code, _, err = om(capsys, "signal", "go.ahed", "--db", DB)
    assert code == 0
    assert "warning: no catalog of the store declares the event 'go.ahed'" in err
    assert "did you mean 'go.ahead'?" in err
    code, _, err = om(capsys, "signal", "go.ahead", "--db", DB)
    assert code == 0 and "warning" not in err  # declared: nobody waits for it yet


def test_om_events_of_an_unknown_item_exits_5_with_a_suggestion(night: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    _held(capsys)
    code, _, err = om(capsys, "events", "ORD-1", "--db", DB, "--item", "1/Line:reserv")
    assert code == 5 and f"has no item 1/Line:reserv (did you mean {ITEM}?)" in err
    code, out, err = om(capsys, "events", "ORD-1", "--db", DB, "--item", "1/Line:activate")
    assert code == 0 and out == "" and "has no events of item" in err  # it has not moved yet


def test_a_store_without_the_acts_table_opens_and_reads_as_before(night: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """A store an older om_dsl made: read-only it reads every row with no one named; opened
    for writing it gets the table.  And an older om_dsl still reads the log of an upgraded
    store (its ``SELECT *`` of ``events`` keeps nine columns)."""
    _held(capsys)
    with sqlite3.connect(DB) as db:
        db.execute("DROP TABLE event_acts")
    old = SqliteStore(DB, read_only=True)
    try:
        assert old.events("ORD-1") and all(row.by is None for row in old.events("ORD-1"))
    finally:
        old.close()
    code, _, err = om(capsys, "retry", "ORD-1", ITEM, "--db", DB, "--user", "erin")
    assert code == 0, err
    assert [row["by"] for row in _events(capsys, "--item", ITEM) if row["by"]] == ["erin"]
    with sqlite3.connect(DB) as db:
        assert len(db.execute("SELECT * FROM events").fetchone()) == 9
