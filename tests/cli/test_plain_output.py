"""Data printed by `om` is text, never console markup or emoji codes.

Order ids, attribute values and queue titles come from users.  `[/]` in an order id
used to make `om decompose --format table` an internal error (rich read it as a closing tag),
and `[red]` or `:phone:` would have been styled or replaced.
"""

from __future__ import annotations

import contextlib
import json
import types
from pathlib import Path
from typing import Any

import pytest
from cli_support import om

import om_dsl.cli as cli
from om_dsl.cli import tasks_cmds
from om_dsl.cli.app import report_error
from om_dsl.consoles import PlainConsole
from om_dsl.runtime.downstream.tasks import Task

MARKUP = "[/] [bold]B[/bold] :phone:"
CATALOG = f"""catalog "Lab" version "1"
offer Web "Web" id "100" {{ attribute note: string default "n" }}
cfs Line {{ attribute note: string }}
decompose Web {{ -> Line {{ note = note }} }}
queue desk "{MARKUP}"
plan Line on add {{
  manual install queue desk
}}
"""
ORDER = {
    "id": f"ORD {MARKUP}",
    "items": [{"id": "1", "product": "Web", "attributes": {"note": MARKUP}}],
}


@pytest.fixture
def lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "lab.om").write_text(CATALOG, encoding="utf-8")
    (tmp_path / "order.json").write_text(json.dumps(ORDER), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize(
    "argv",
    [
        ("decompose", "lab.om", "order.json", "--format", "table"),
        ("decompose", "lab.om", "order.json", "--format", "table", "--explain"),
        ("plan", "lab.om", "order.json"),
    ],
)
def test_order_data_in_tables_is_printed_as_written(
    lab: Path, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...]
) -> None:
    code, out, err = om(capsys, *argv)
    assert code == 0, err
    assert f"ORD {MARKUP}" in out
    assert "internal error" not in err


def test_stored_data_is_printed_as_written(lab: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = om(capsys, "run", "lab.om", "order.json")
    assert code == 0, err
    assert f"submitted order ORD {MARKUP}" in err
    code, out, err = om(capsys, "status", f"ORD {MARKUP}")
    assert code == 0, err
    assert f"order ORD {MARKUP}: pending" in out
    code, out, err = om(capsys, "tasks", "list", "--format", "text")
    assert code == 0, err
    assert f"ORD {MARKUP}" in out


def test_an_internal_error_with_brackets_in_its_message_is_still_reported(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("[/] no closing tag")

    monkeypatch.setattr(cli, "app", broken)
    code, _, err = om(capsys, "check", "x.om")
    assert code == 3
    assert "internal error: RuntimeError: [/] no closing tag" in err


def test_markup_is_opt_in_per_print_and_control_characters_are_shown() -> None:
    console = PlainConsole(record=True, width=80, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print("[red]x[/] :phone: \x1b[2J")
    console.print("[bold]fixed[/] text", markup=True)
    assert console.export_text() == "[red]x[/] :phone: \u241b[2J\nfixed text\n"


def test_an_error_of_several_lines_keeps_them_and_shows_other_controls(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A plan's cycle is reported as the cycle, then one line per edge: those lines are kept
    (they were printed as one line joined by U+240A), indented under the first."""
    report_error(
        "a cycle: x -> y -> x\n  x waits for y [depend]\n  y waits \x1b[2Jfor x\r!", lines=True
    )
    assert capsys.readouterr().err.splitlines() == [
        "error: a cycle: x -> y -> x",
        "    x waits for y [depend]",
        "    y waits \u241b[2Jfor x\u240d!",
    ]
    report_error("no order NOPE\nerror: injected")  # user input cannot forge a line
    assert capsys.readouterr().err == "error: no order NOPE\u240aerror: injected\n"


def test_a_task_table_never_folds_an_id(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ids long enough to pass the 200-column cap of other tables stay on one line each."""
    item = "item-with-long-id-0001/VeryLongTechnicalProductName:install_the_router" + "_x" * 40
    task = Task("ORDER-WITH-A-RATHER-LONG-IDENTIFIER-0001", item, "install", "field_techs", 1,
                0.0, None, False, "tech.anna-with-a-long-name", None)  # fmt: skip
    monkeypatch.setattr(tasks_cmds, "open_runtime", _fake_runtime([task]))
    code, out, _ = om(capsys, "tasks", "list")
    assert code == 0
    assert any(item in row for row in out.splitlines()), out
    assert all(row == row.rstrip() for row in out.splitlines())


def _fake_runtime(tasks: list[Task]) -> Any:
    @contextlib.contextmanager
    def open_runtime(*_: Any, **__: Any) -> Any:
        yield types.SimpleNamespace(tasks=types.SimpleNamespace(list=lambda queue: tasks))

    return open_runtime
