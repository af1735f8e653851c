"""Hostile or broken input to the store commands: strict JSON options, handler specs that
name the wrong thing, foreign SQLite files and damaged store rows; each is one line, never a
traceback, and nothing is stored or changed."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from cli_support import om
from test_runtime_cli import lab_folder

from om_dsl.cli.json_args import MAX_DEPTH, parse_json_object
from om_dsl.runtime.handlers import HandlerRegistry, load_registry
from om_dsl.runtime.store.sqlite import SqliteStore, StoreError

DEEP = '{"a": ' + "[" * 5000 + "]" * 5000 + "}"
BAD_JSON = [
    ('{"a": NaN}', "holds NaN, which is not a JSON number"),
    ('{"a": -Infinity}', "holds -Infinity, which is not a JSON number"),
    ('{"a": 1e999}', "holds the number 1e999, which is too large"),
    (DEEP, f"is nested too deeply; the limit is {MAX_DEPTH} levels"),
    ('{"a": ' + "[" * 70 + "]" * 70 + "}", "is nested too deeply"),
    ('{"a": "\\ud800"}', "has a lone surrogate"),
    ("{bad", "is not JSON: Expecting property name"),
    ("[1]", "must be a JSON object"),
    ('{"a": ' + "9" * 5000 + "}", "is not usable JSON"),
    ('{"a": 1, "a": 2}', "has the key 'a' twice in one object"),
]


@pytest.fixture
def lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return lab_folder(tmp_path, monkeypatch)


@pytest.fixture
def held(lab: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A store with ORD-1 held: configure has no handler."""
    code, _, err = om(capsys, "run", "lab.om", "order.json")
    assert code == 1, err
    return lab / "om.db"


def _one_line_error(err: str, expected: str) -> None:
    assert expected in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


# ---- 1. JSON options ----------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), BAD_JSON)
def test_strict_json_objects_refuse_what_json_cannot_write_back(text: str, expected: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_json_object(text)
    assert expected in str(caught.value)


def test_strict_json_objects_keep_ordinary_values() -> None:
    text = '{"a": [1, 2.5, true, null, {"b": "é"}], "c": -3e2}'
    assert parse_json_object(text) == json.loads(text)


@pytest.mark.parametrize(
    "command",
    [
        ("signal", "go", "--order", "ORD-1", "--payload"),
        ("complete", "ORD-1", "1/Line:configure", "--outputs"),
        ("tasks", "complete", "ORD-1", "1/Line:configure", "--user", "ann", "--outputs"),
    ],
    ids=["signal", "complete", "tasks-complete"],
)
@pytest.mark.parametrize(("text", "expected"), BAD_JSON[:4], ids=["nan", "inf", "big", "deep"])
def test_bad_json_options_are_usage_errors_and_nothing_is_stored(
    held: Path,
    capsys: pytest.CaptureFixture[str],
    command: tuple[str, ...],
    text: str,
    expected: str,
) -> None:
    before = held.read_bytes()
    code, _, err = om(capsys, *command, text)
    assert code == 2
    _one_line_error(err, f"{command[-1]} {expected}")
    assert held.read_bytes() == before
    code, out, _ = om(capsys, "status", "ORD-1", "--format", "json")
    assert code == 0 and json.loads(out)["state"] == "held"


def test_an_empty_event_name_is_a_usage_error(
    held: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """As in the API (S014): no item can wait for an event without a name."""
    before = held.read_bytes()
    code, _, err = om(capsys, "signal", "", "--db", str(held))
    assert code == 2
    assert "the event name is empty" in err
    assert held.read_bytes() == before


# ---- 2. handler registries ----------------------------------------------------------------------


def test_a_registry_or_a_function_returning_one_is_accepted() -> None:
    assert len(load_registry("om_dsl.demo:demo_handlers")) > 0
    assert len(load_registry("om_dsl.service.demo:handlers")) > 0


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("json:loads", "json:loads is not a HandlerRegistry nor a function returning one"),
        ("os:getcwd", "os:getcwd is not a HandlerRegistry nor a function returning one"),
        ("om_dsl.runtime.handlers:HandlerRegistry", "is not a HandlerRegistry nor a function"),
        ("json:nope", "module 'json' has no attribute 'nope'"),
        ("badhandlers:broken", "badhandlers:broken failed: RuntimeError: no config"),
        ("badhandlers:wrong", "badhandlers:wrong returned dict, not a HandlerRegistry"),
        ("badhandlers:needs_args", "is not a HandlerRegistry nor a function returning one"),
        ("crashing:registry", "importing 'crashing' failed: ZeroDivisionError"),
    ],
)
def test_anything_else_is_a_clear_error(
    lab: Path, capsys: pytest.CaptureFixture[str], spec: str, expected: str
) -> None:
    (lab / "badhandlers.py").write_text(
        "def broken():\n    raise RuntimeError('no config')\n"
        "def wrong():\n    return {}\n"
        "def needs_args(a):\n    return a\n",
        encoding="utf-8",
    )
    (lab / "crashing.py").write_text("1 / 0\n", encoding="utf-8")
    with pytest.raises(ValueError) as caught:
        load_registry(spec)
    assert expected in str(caught.value)
    code, _, err = om(capsys, "run", "lab.om", "order.json", "--handlers", spec)
    assert code == 2
    _one_line_error(err, expected)
    assert not (lab / "om.db").exists()


def test_the_registry_object_itself_is_not_called(monkeypatch: pytest.MonkeyPatch) -> None:
    registry = HandlerRegistry()
    monkeypatch.setattr("om_dsl.demo.some_registry", registry, raising=False)
    assert load_registry("om_dsl.demo:some_registry") is registry


# ---- 3. foreign databases and damaged rows ------------------------------------------------------


def _foreign(path: Path) -> bytes:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE people (name TEXT)")
    db.execute("INSERT INTO people VALUES ('ann')")
    db.commit()
    db.close()
    return path.read_bytes()


@pytest.mark.parametrize(
    "command",
    [
        ("status", "X"),
        ("systems", "list"),
        ("tasks", "list"),
        ("render", "live", "X", "--format", "dot"),
        ("run", "lab.om", "order.json"),
    ],
    ids=["status", "systems", "tasks", "render-live", "run"],
)
def test_a_foreign_sqlite_database_is_refused_untouched(
    lab: Path, capsys: pytest.CaptureFixture[str], command: tuple[str, ...]
) -> None:
    before = _foreign(lab / "other.db")
    code, _, err = om(capsys, *command, "--db", "other.db")
    assert code == 1
    _one_line_error(err, "other.db is a SQLite database but not an om store")
    assert (lab / "other.db").read_bytes() == before
    assert not (lab / "other.db-wal").exists()


def test_a_new_or_empty_file_becomes_a_store(tmp_path: Path) -> None:
    (tmp_path / "empty.db").write_bytes(b"")
    for name in ("empty.db", "new.db"):
        SqliteStore(tmp_path / name).close()
        store = SqliteStore(tmp_path / name)  # and opens again as a store
        assert store.query("SELECT key, value FROM meta WHERE key = 'schema_version'") == [
            ("schema_version", "1")
        ]
        assert len(store.installation_id) == 32
        store.close()


def test_the_store_refuses_a_foreign_database_directly(tmp_path: Path) -> None:
    before = _foreign(tmp_path / "other.db")
    with pytest.raises(StoreError, match="is a SQLite database but not an om store"):
        SqliteStore(tmp_path / "other.db")
    assert (tmp_path / "other.db").read_bytes() == before


def _damage(db: Path, sql: str) -> None:
    conn = sqlite3.connect(db)
    conn.execute(sql)
    conn.commit()
    conn.close()


@pytest.mark.parametrize(
    "command",
    [("status", "ORD-1"), ("status", "ORD-1", "--format", "json"), ("render", "live", "ORD-1")],
    ids=["status", "status-json", "render-live"],
)
def test_damaged_item_outputs_are_one_line_errors(
    held: Path, capsys: pytest.CaptureFixture[str], command: tuple[str, ...]
) -> None:
    _damage(held, "UPDATE items SET outputs_json = '{bad' WHERE item_id = '1/Line:configure'")
    extra = ("--format", "dot") if "render" in command else ()
    code, _, err = om(capsys, *command, *extra)
    assert code == 1
    _one_line_error(err, "the store is damaged: order ORD-1: the outputs of item 1/Line:configure")


def test_damaged_catalogs_are_one_line_errors(
    held: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _damage(held, "UPDATE catalogs SET ir_json = '{bad'")
    content_hash = sqlite3.connect(held).execute("SELECT hash FROM catalogs").fetchone()[0]
    code, _, err = om(capsys, "systems", "list")
    assert code == 1
    _one_line_error(err, f"the store is damaged: catalog {content_hash[:19]}")
    code, _, err = om(capsys, "render", "live", "ORD-1", "--format", "dot")
    assert code == 1
    _one_line_error(err, f"catalog {content_hash[:19]}")


def test_damaged_order_rows_name_the_order(held: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _damage(held, "UPDATE orders SET ponr_json = 'nope'")
    code, _, err = om(capsys, "status", "ORD-1")
    assert code == 1
    _one_line_error(err, "the store is damaged: order ORD-1: its point of no return")


@pytest.mark.parametrize(
    "command",
    [("status", "ORD-1"), ("render", "live", "ORD-1", "--format", "dot"), ("resume",)],
)
def test_a_damaged_plan_names_the_order(
    held: Path, capsys: pytest.CaptureFixture[str], command: tuple[str, ...]
) -> None:
    _damage(held, "UPDATE plans SET plan_json = '{bad'")
    code, _, err = om(capsys, *command)
    assert code == 1
    _one_line_error(err, "the store is damaged: order ORD-1: its plan")


def test_om_orders_lists_an_order_whose_plan_is_damaged(
    held: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`om orders` reads each plan for its live items; one damaged plan must not hide the
    store's other orders (`om status` of it names the damage)."""
    _damage(held, "UPDATE plans SET plan_json = '{bad'")
    code, out, _ = om(capsys, "orders", "--format", "json")
    assert code == 0
    (listed,) = json.loads(out)
    assert listed["id"] == "ORD-1" and listed["items"] == 3 and listed["replaced"] == 0


def test_every_bad_listener_url_of_an_order_is_reported_and_nothing_stored(
    lab: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    order = json.loads((lab / "order.json").read_text(encoding="utf-8"))
    order["notify"] = ["ftp://x", "http://127.0.0.1:9/ok", "http://[::1"]
    (lab / "order.json").write_text(json.dumps(order), encoding="utf-8")
    code, _, err = om(capsys, "run", "lab.om", "order.json")
    assert code == 1
    assert "notify[0]: error[O070]: a listener URL must be an http(s) URL with a host" in err
    assert "notify[2]: error[O070]:" in err
    assert "error: the order is invalid: 2 problem(s)" in err
    code, _, err = om(capsys, "status", "ORD-1")
    assert code == 5 and "ORD-1" in err  # not found: nothing was stored


@pytest.mark.parametrize(
    "command", [("status", "X"), ("tasks", "list"), ("render", "live", "X", "--format", "dot")]
)
def test_a_folder_is_no_store(
    lab: Path, capsys: pytest.CaptureFixture[str], command: tuple[str, ...]
) -> None:
    (lab / "folder.db").mkdir()
    code, _, err = om(capsys, *command, "--db", "folder.db")
    assert code == 5
    _one_line_error(err, "no store at folder.db (start one with `om run CATALOG ORDER")
