"""How `om` prints for terminals, pipes, scripts and screen readers (docs/runtime.md, "Output").

An operator found that `om orders` drew 102-114 columns in an 80-column terminal, that box
lines stayed whatever the terminal, and that `PYTHONIOENCODING=ascii om orders` was an internal
error (``UnicodeEncodeError``, exit 3); usage errors came in a box, with escape codes under
``NO_COLOR``.
"""

from __future__ import annotations

import importlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cli_support import om
from rich.table import Table

from om_dsl.consoles import PlainConsole, fitted_table_text, records_text

REPO = Path(__file__).resolve().parents[2]
CATALOG = """catalog "Lab" version "1"
offer Web "Web" id "100" { attribute note: string default "n" }
cfs Line { attribute note: string }
decompose Web { -> Line { note = note } }
queue desk "Desk"
plan Line on add {
  manual install queue desk
}
"""
LONG_ID = "ORD-2026-11-NIGHTLY-000123"


@pytest.fixture
def store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Path:
    """om.db in the current folder: one order, pending on a manual task."""
    (tmp_path / "lab.om").write_text(CATALOG, encoding="utf-8")
    order = {"id": LONG_ID, "items": [{"id": "1", "product": "Web"}]}
    (tmp_path / "order.json").write_text(json.dumps(order), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert om(capsys, "run", "lab.om", "order.json")[0] == 0
    return tmp_path


def _om_process(cwd: Path, *argv: str, **env: str) -> subprocess.CompletedProcess[bytes]:
    environ = {**os.environ, "PYTHONPATH": str(REPO), **env}
    environ.pop("COLUMNS", None)
    return subprocess.run(
        [sys.executable, "-m", "om_dsl.cli", *argv],
        check=False,
        cwd=cwd,
        env=environ,
        capture_output=True,
    )


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
@pytest.mark.parametrize(
    "argv",
    [
        ("orders",),
        ("tasks", "list"),
        ("systems", "list", "--catalog", "lab.om"),
        ("status", LONG_ID),
        ("plan", "lab.om", "order.json"),
        ("decompose", "lab.om", "order.json", "--format", "table"),
    ],
)
def test_an_ascii_stream_gets_ascii_boxes_and_no_error(
    store: Path, encoding: str, argv: tuple[str, ...]
) -> None:
    done = _om_process(store, *argv, PYTHONIOENCODING=encoding)
    assert done.returncode == 0, done.stderr
    done.stdout.decode("ascii")  # every byte ASCII
    if argv[0] != "status":
        assert b"+---" in done.stdout and b"| " in done.stdout


def test_an_explicit_c_locale_gets_ascii_boxes(store: Path) -> None:
    done = _om_process(store, "orders", LC_ALL="C")
    assert done.returncode == 0 and done.stdout.isascii(), done.stderr


def test_data_that_an_ascii_stream_cannot_show_is_escaped_not_an_error(tmp_path: Path) -> None:
    order = {"id": "ORD-caf\u00e9", "items": [{"id": "1", "product": "Web"}]}
    (tmp_path / "lab.om").write_text(CATALOG, encoding="utf-8")
    (tmp_path / "order.json").write_text(json.dumps(order), encoding="utf-8")
    assert _om_process(tmp_path, "run", "lab.om", "order.json").returncode == 0
    done = _om_process(tmp_path, "orders", PYTHONIOENCODING="ascii")
    assert done.returncode == 0 and b"ORD-caf\\xe9" in done.stdout, done.stderr
    done = _om_process(tmp_path, "orders", "--format", "json", PYTHONIOENCODING="ascii")
    assert json.loads(done.stdout)[0]["id"] == "ORD-caf\u00e9"  # JSON stays the value


@pytest.mark.parametrize(
    "argv",
    [(), ("--explain",), ("--format", "tmf641"), ("--format", "tmf641", "--explain")],
)
def test_decompose_json_on_an_ascii_stream_is_still_json(
    tmp_path: Path, argv: tuple[str, ...]
) -> None:
    """`om decompose` wrote its JSON through the stream's fallback: "ORD-caf\\xe9", no JSON."""
    order = {"id": "ORD-caf\u00e9", "items": [{"id": "1", "product": "Web"}]}
    (tmp_path / "lab.om").write_text(CATALOG, encoding="utf-8")
    (tmp_path / "order.json").write_text(json.dumps(order), encoding="utf-8")
    args = ("decompose", "lab.om", "order.json", *argv)
    done = _om_process(tmp_path, *args, PYTHONIOENCODING="ascii")
    assert done.returncode == 0, done.stderr
    assert "ORD-caf\u00e9" in json.dumps(json.loads(done.stdout), ensure_ascii=False)
    assert done.stdout.isascii()
    utf8 = _om_process(tmp_path, *args, PYTHONIOENCODING="utf-8")
    assert json.loads(utf8.stdout) == json.loads(done.stdout)


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def _orders_table(order_id: str) -> Table:
    table = Table()
    for column in ("order", "state", "items", "fallout", "on hold", "waiting", "catalog",
                   "last change"):  # fmt: skip
        table.add_column(column)
    table.add_row(order_id, "held (cancelling)", "2", "1", "0", "0", "1 7a4e4cdf",
                  "2026-11-28 15:55:33Z")  # fmt: skip
    return table


def test_a_table_fits_the_terminal_and_keeps_ids_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    text = fitted_table_text(_orders_table(LONG_ID), Terminal(), keep=("order",))
    lines = text.splitlines()
    assert max(map(len, lines)) <= 100 and any(LONG_ID in line for line in lines), text
    assert any("2026-11-28 " in line for line in lines)  # the time wrapped at its space


def test_a_table_too_wide_for_the_terminal_is_one_block_per_row(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    text = fitted_table_text(_orders_table(LONG_ID), Terminal(), keep=("order",))
    assert text == records_text(_orders_table(LONG_ID))
    assert text.splitlines()[:3] == [f"order {LONG_ID}", "  state        held (cancelling)",
                                     "  items        2"]  # fmt: skip


def test_a_piped_table_is_as_wide_as_its_content_whatever_columns_says(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "40")
    text = fitted_table_text(_orders_table(LONG_ID), io.StringIO(), keep=("order",))
    assert len(text.splitlines()) == 5 and "2026-11-28 15:55:33Z" in text


def test_tsv_and_json_for_scripts(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = om(capsys, "orders", "--format", "tsv")
    assert code == 0, err
    head, row = out.splitlines()
    assert head.split("\t")[:2] == ["order", "state"] and row.split("\t")[:2] == [
        LONG_ID,
        "pending",
    ]
    code, out, err = om(capsys, "tasks", "list", "--format", "tsv")
    assert code == 0 and out.splitlines()[1].split("\t")[:3] == ["desk", LONG_ID, "1/Line:install"]
    code, out, err = om(capsys, "systems", "list", "--format", "json")
    assert code == 0 and json.loads(out) == [], err  # the catalog declares no system
    code, out, err = om(capsys, "orders", "--format", "tsv", "--state", "completed")
    assert (code, out.split("\t")[:2]) == (0, ["order", "state"])  # no rows: the header


@pytest.mark.parametrize("argv", [("orders",), ("tasks", "list"), ("status", LONG_ID),
                                  ("events", LONG_ID)])  # fmt: skip
def test_text_and_table_are_one_format(
    store: Path, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...]
) -> None:
    code, as_text, err = om(capsys, *argv, "--format", "text")
    assert code == 0, err
    assert om(capsys, *argv, "--format", "table") == (0, as_text, err)


def test_a_usage_error_is_one_error_line_then_the_usage(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = om(capsys, "skip", "ORD-1", "1/Line:go", "--force", "true")
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        "error: Got unexpected extra argument(s) (true)",
        "Usage: om skip [OPTIONS] ORDER_ID ITEM",
        "Try 'om skip -h' for help.",
    ]
    code, _, err = om(capsys, "skip", "ORD-1", "X", "--forc")
    assert code == 2 and err.startswith("error: No such option: --forc (Possible options: --force)")


def test_no_color_means_no_escape_code(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    console = PlainConsole(file=io.StringIO(), force_terminal=True)
    console.print("[bold red]error:[/] x", markup=True)
    assert console.file.getvalue() == "error: x\n"  # type: ignore[attr-defined]


DOC = (REPO / "docs" / "runtime.md").read_text(encoding="utf-8")


def test_the_documented_usage_error_is_what_om_prints(capsys: pytest.CaptureFixture[str]) -> None:
    block = DOC.split("```text\n$ om skip ", 1)[1].split("```", 1)[0]
    argv, shown = block.split("\n", 1)
    code, _, err = om(capsys, "skip", *argv.split())
    assert (code, err) == (2, shown)


def test_the_exit_code_table_is_the_codes_om_uses() -> None:
    cli_app = importlib.import_module("om_dsl.cli.app")  # the module, not the Typer app

    table = DOC.split("### Exit codes", 1)[1].split("\n\n")[2]
    documented = {int(row.split("|")[1]) for row in table.splitlines()[2:]}
    codes = {value for name, value in vars(cli_app).items() if name.startswith("EXIT_")}
    assert documented == codes - {cli_app.EXIT_STOPPED}  # 4 is `om serve`'s, in service.md


def test_an_argument_that_is_not_utf8_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """'café' typed in a latin-1 terminal reaches Python as 'caf\\udce9', and failed when it
    was stored or printed: an internal error (exit 3)."""
    code, out, err = om(capsys, "status", "ORD\udcff", "--db", "nowhere.db")
    assert (code, out) == (2, "")
    assert "the argument 'ORD\\xff' is not UTF-8 text" in err
