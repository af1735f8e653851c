"""docs/runtime.md shows the transition tables the code enforces (a changed table fails here),
and its `om orders` example is what the command prints for the store it describes.  Its Python
examples run in tests/docs/test_python_blocks.py."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from cli_support import om
from runtime_support import REPO

from om_dsl import HandlerRegistry, PermanentFailure, Runtime, SqliteStore, compile_catalog
from om_dsl.runtime.context import ItemContext
from om_dsl.runtime.states import ITEM_TRANSITIONS, ORDER_TRANSITIONS

DOC = (REPO / "docs" / "runtime.md").read_text(encoding="utf-8")


def documented(heading: str) -> dict[str, set[str]]:
    section = DOC.split(heading, 1)[1].split("\n\n", 2)[1]
    table: dict[str, set[str]] = {}
    for row in section.splitlines()[2:]:
        source, targets = (cell.strip() for cell in row.strip("|").split("|"))
        table[source] = (
            set() if targets == "(terminal)" else {t.strip() for t in targets.split(",")}
        )
    return table


def test_the_item_table_matches_the_code() -> None:
    code = {s.value: {t.value for t in targets} for s, targets in ITEM_TRANSITIONS.items()}
    assert documented("### Item states") == code


def test_the_order_table_matches_the_code() -> None:
    code = {s.value: {t.value for t in targets} for s, targets in ORDER_TRANSITIONS.items()}
    assert documented("### Order states (TMF622)") == code


ORDERS_CATALOG = """catalog "Lab" version "1"
offer Web "Web" id "100" { attribute speed: int default 100 }
cfs Line { attribute speed: int }
decompose Web { -> Line { speed = speed } }
plan Line on add {
  auto configure handler "configure"
  wait go event "go" after configure
}
"""
DOC_TIME = 1795854850.0  # the "last change" the example shows: 2026-11-28 08:34:10Z


def _configure(ctx: ItemContext) -> dict[str, object]:
    if ctx.order_id == "ORD-3":
        raise PermanentFailure("no port left at the site")
    return {}


def _store_of_the_example(db: Path) -> None:
    """ORD-1 completed, ORD-2 waits for the event `go`, ORD-3's first item failed for good."""
    registry = HandlerRegistry()
    registry.register("configure", _configure)
    catalog = compile_catalog("lab.om", text=ORDERS_CATALOG).raise_on_error()
    store = SqliteStore(db)
    with Runtime(catalog, store=store, handlers=registry, clock=lambda: DOC_TIME) as runtime:
        for n in (1, 2, 3):
            runtime.submit({"id": f"ORD-{n}", "items": [{"id": "1", "product": "Web"}]})
        runtime.run_until_idle()
        runtime.signal("go", "ORD-1")


def test_the_om_orders_example_is_what_it_prints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    example = DOC.split("```console\n$ om orders ", 1)[1].split("```", 1)[0]
    args, shown = example.split("\n", 1)
    monkeypatch.chdir(tmp_path)
    _store_of_the_example(tmp_path / "om.db")
    code, out, err = om(capsys, "orders", *args.split())
    assert code == 0, err
    # The catalog's hash follows the IR's content: the example's stands for whichever it is.
    documented = re.search(r"│ 1 ([0-9a-f]{8}) │", shown)
    printed = re.search(r"│ 1 ([0-9a-f]{8}) │", out)
    assert documented and printed, out
    assert out == shown.replace(documented[1], printed[1])


def _example(start: str) -> tuple[list[str], str]:
    """The arguments and the output of the console example that starts with ``$ om START``."""
    block = DOC.split(f"```console\n$ om {start}", 1)[1].split("```", 1)[0]
    args, shown = block.split("\n", 1)
    return (start + args).split()[1:], shown


def test_the_status_and_events_examples_of_an_item_in_fallout_are_what_they_print(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`om status` gives the commands for an item in fallout with the store's --db, and the
    skip the page describes is logged with who did it and why."""
    monkeypatch.chdir(tmp_path)
    _store_of_the_example(tmp_path / "night.db")
    args, shown = _example("status ORD-3 ")
    code, out, err = om(capsys, "status", *args)
    assert code == 0, err
    documented = re.search(r"catalog (sha256:[0-9a-f]{12})", shown)
    printed = re.search(r"catalog (sha256:[0-9a-f]{12})", out)
    assert documented and printed, out
    assert out == shown.replace(documented[1], printed[1])
    skip = DOC.split("After `om skip ", 1)[1].split("`", 1)[0]
    code, _, err = om(capsys, "skip", *shlex.split(skip))
    assert code == 0, err
    args, shown = _example("events ORD-3 ")
    code, out, err = om(capsys, "events", *args)
    assert code == 0, err
    stamp = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ")  # the skip's time is now's
    assert stamp.sub("T", out) == stamp.sub("T", shown)
