"""`om retry --all-failed` and ``Runtime.retry_fallout``: after an outage every held order's
item in fallout is retried in one command, each recorded with who and why as a single retry
is; a filter narrows it, a typo in it is an error, and the store's runner is respected."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_support import om
from test_runtime_cli import ORDER, lab_folder

from om_dsl.runtime import FalloutFilter, FalloutItem, Runtime, SqliteStore
from om_dsl.runtime.store.runner_lock import RunnerLock

ITEM = "1/Line:configure"


@pytest.fixture
def held(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> Path:  # type: ignore[no-untyped-def]
    """Three orders held on their first item (no handlers: `configure` fails for good)."""
    lab = lab_folder(tmp_path, monkeypatch)
    for order_id in ("ORD-1", "ORD-2", "ORD-3"):
        (lab / "order.json").write_text(json.dumps({**ORDER, "id": order_id}), encoding="utf-8")
        assert om(capsys, "run", "lab.om", "order.json")[0] == 1  # held
    return lab


def _by_of_retries(capsys, order_id: str) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    code, out, err = om(capsys, "events", order_id, "--format", "json", "--item", ITEM)
    assert code == 0, err
    return [(r["by"], r["reason"], r["detail"]) for r in json.loads(out) if r["by"]]


def test_all_failed_retries_each_item_recorded_like_a_single_retry(held: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, err = om(capsys, "retry", "--all-failed", "--reason", "billing outage over",
                        "--user", "sre")  # fmt: skip
    assert code == 0, err
    assert out.splitlines() == [f"ORD-{n}\t{ITEM}" for n in (1, 2, 3)]  # for scripts
    assert "retried 3 item(s) of 3 order(s)" in err and "om resume" in err
    for order_id in ("ORD-1", "ORD-2", "ORD-3"):
        assert _by_of_retries(capsys, order_id) == [
            ("sre", "billing outage over", "retried by sre (operator): billing outage over")
        ]
    code, out, err = om(capsys, "retry", "--all-failed")  # nothing left: no error
    assert (code, out) == (0, "") and "no item in fallout matches: nothing to retry" in err


def test_a_filter_narrows_it_and_a_typo_is_not_found(held: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, err = om(capsys, "retry", "--all-failed", "--order", "ORD-2")
    assert (code, out) == (0, f"ORD-2\t{ITEM}\n"), err
    code, out, err = om(capsys, "retry", "--all-failed", "--items", "*:activate")
    assert (code, out) == (0, "")
    code, out, err = om(capsys, "retry", "--all-failed", "--product", "Line", "--items", "1/*")
    assert code == 0 and out.splitlines() == [f"ORD-1\t{ITEM}", f"ORD-3\t{ITEM}"]
    code, _, err = om(capsys, "retry", "--all-failed", "--order", "ORD-9")
    assert (code, err.strip()) == (5, "error: no order ORD-9")
    code, _, err = om(capsys, "retry", "--all-failed", "--system", "Billing")
    assert code == 5 and "no system 'Billing'" in err  # the lab catalog declares none


def test_usage_mistakes_are_exit_2(held: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    code, _, err = om(capsys, "retry", "ORD-1", ITEM, "--all-failed")
    assert code == 2 and "give no ORDER_ID ITEM" in err
    code, _, err = om(capsys, "retry", "--system", "Billing")
    assert code == 2 and "filter --all-failed: add it" in err
    code, _, err = om(capsys, "retry", "ORD-1")
    assert code == 2 and "Missing argument 'ITEM'" in err and "Usage: om retry" in err
    code, _, err = om(capsys, "retry")
    assert code == 2 and "Missing argument 'ORDER_ID'" in err


def test_refused_while_another_process_runs_the_store_naming_the_route(held: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    lock = RunnerLock(str(held / "om.db"))
    lock.acquire()  # as `om serve` would
    try:
        code, out, err = om(capsys, "retry", "--all-failed", "--order", "ORD-1", "--reason", "x")
    finally:
        lock.release()
    assert (code, out) == (7, "")
    text = " ".join(err.split())
    assert (
        'through om serve\'s API: POST /fallout/retry {"orderId": "ORD-1", "reason": "x"}' in text
    )
    assert _by_of_retries(capsys, "ORD-1") == []  # nothing changed


def test_an_item_that_moved_since_it_was_found_is_refused_and_the_rest_retried(
    held: Path,
) -> None:
    """The race a bulk retry meets: another operator retried one item in between.  That item
    is refused with why; the others of its order and of other orders are retried."""
    with Runtime(store=SqliteStore(held / "om.db")) as runtime:
        found = runtime.fallout()
        runtime.retry("ORD-2", ITEM, by="alice")  # someone else, meanwhile
        runtime.fallout = lambda wanted=None: found  # type: ignore[method-assign]
        done = runtime.retry_fallout(FalloutFilter(), by="sre")
        assert [(i.order_id, i.item_id) for i in done.retried] == [
            ("ORD-1", ITEM), ("ORD-3", ITEM)]  # fmt: skip
        ((item, why),) = done.refused
        assert isinstance(item, FalloutItem) and item.order_id == "ORD-2"
        assert why == f"cannot retry item {ITEM}: it is ready to run, not failed"
        assert runtime.status("ORD-1").item(ITEM).state == "ready"
