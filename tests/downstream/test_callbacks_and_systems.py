"""The callback endpoint (tokens: single use, unguessable, hashed) and systems going offline."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from downstream_support import (
    Sims,
    compile_text,
    lab_order,
    line,
    order,
    run_until,
    sqlite,
    wait_until,
)

from om_dsl.errors import NotFound
from om_dsl.runtime import DownstreamSettings, Runtime, StoreInUse
from om_dsl.runtime.callback_server import MAX_CALLBACK_BYTES
from om_dsl.runtime.downstream.request import idempotency_key
from om_dsl.runtime.events import InvalidAct
from om_dsl.runtime.store.sqlite import SqliteStore

Lab = Callable[..., Runtime]
DONE = {"completed", "held"}


def _token_of(sims: Sims) -> tuple[str, str]:
    (callback,) = sims.network.callbacks()
    url = str(callback["url"])
    return url, url.rsplit("/", 1)[1]


def test_a_token_is_single_use_and_only_its_hash_is_stored(
    lab: Lab, sims: Sims, tmp_path: Path
) -> None:
    runtime = lab(store=sqlite(tmp_path))
    runtime.submit(lab_order("O1", runtime.catalog))  # type: ignore[arg-type]
    assert run_until(runtime, "O1", DONE) == "completed"
    url, token = _token_of(sims)
    assert len(token) >= 40  # secrets.token_urlsafe(32)
    answer = httpx.post(url, json={"status": "completed", "activation": {"id": "X"}})
    assert answer.status_code == 404
    assert answer.json() == {"error": "unknown or already used callback token"}
    with pytest.raises(NotFound):
        runtime.callback(token, {"status": "completed"})
    runtime.close()
    assert token.encode() not in (tmp_path / "om.db").read_bytes()


def test_unknown_tokens_bad_bodies_and_huge_bodies_are_refused(lab: Lab) -> None:
    runtime = lab()
    base = runtime.callbacks.base_url
    assert base is not None and base.startswith("http://127.0.0.1:")
    assert httpx.post(f"{base}/callbacks/nope", json={}).status_code == 404
    assert httpx.post(f"{base}/callbacks/nope", content=b"{not json").status_code == 400
    assert httpx.post(f"{base}/callbacks/nope", json=[1, 2]).status_code == 400
    huge = b'{"x": "' + b"a" * MAX_CALLBACK_BYTES + b'"}'
    assert httpx.post(f"{base}/callbacks/nope", content=huge).status_code == 413
    assert httpx.get(f"{base}/callbacks/nope").status_code == 405


def test_a_callback_while_the_item_is_still_running_resolves_it(lab: Lab, sims: Sims) -> None:
    """The callback can beat the 202 answer: here the answer hangs for a second after the
    work is done, and the callback completes the item while its request is still out."""
    sims.network.configure(
        callback_delay_ms=0, fail_times=1, timeout=True, timeout_s=1.5, after_effect=True
    )
    runtime = lab()
    runtime.submit(lab_order("O1", runtime.catalog))  # type: ignore[arg-type]
    runtime.start_background()
    wait_until(lambda: runtime.status("O1").item("L:activate").state == "completed", 1.2)
    wait_until(lambda: runtime.status("O1").state == "completed")
    runtime.stop()
    item = runtime.status("O1").item("L:activate")
    assert (item.attempt, item.outputs) == (1, {"activation_id": "ACT-0001"})


def test_callouts_to_an_offline_system_are_held_until_it_is_back_online(
    lab: Lab, sims: Sims, tmp_path: Path
) -> None:
    runtime = lab(store=sqlite(tmp_path))
    runtime.systems.set_offline("Net", True, by="ops")
    runtime.submit(lab_order("O1", runtime.catalog))  # type: ignore[arg-type]
    runtime.start_background()
    wait_until(lambda: runtime.status("O1").item("L:activate").state == "on_hold")
    item = runtime.status("O1").item("L:activate")
    assert item.reason == "system Net is offline, taken offline by ops"
    assert sims.network.requests() == []
    status = runtime.systems.status("Net")
    assert (status.offline, status.source, status.changed_by) == (True, "operator", "ops")
    assert runtime.systems.set_offline("Net", False) == 1
    wait_until(lambda: runtime.status("O1").state == "completed")
    runtime.stop()
    assert (
        sims.network.effect_count(idempotency_key("O1", "L:activate", runtime.installation_id)) == 1
    )


def test_a_system_offline_in_the_catalog_holds_its_callouts_and_the_switch_persists(
    lab: Lab, sims: Sims, tmp_path: Path
) -> None:
    catalog = compile_text(
        """
        system Inv { url env("INV_URL") offline }
        cfs Line { attribute site: string  attribute technology: string }
        plan Line on add {
          callout reserve: Inv POST "/ports/reserve" request { technology: line.technology }
        }
        """
    )
    runtime = lab(catalog, store=sqlite(tmp_path))
    runtime.submit(lab_order("O1", catalog))
    runtime.run_until_idle()
    assert runtime.status("O1").item("L:reserve").state == "on_hold"
    assert runtime.systems.list()[0].source == "catalog"
    runtime.close()
    # an operator brings it online from another runtime (e.g. `om systems online`)
    other = lab(store=sqlite(tmp_path), serve=False)
    assert other.systems.set_offline("Inv", False, by="ops") == 1
    other.run_until_idle()
    assert other.status("O1").state == "completed"
    with pytest.raises(NotFound, match="no system 'Nope'"):
        other.systems.set_offline("Nope", True)


def test_a_switch_flipped_beside_a_running_runtime_is_released_by_that_runtime(
    lab: Lab, sims: Sims, tmp_path: Path
) -> None:
    """Another runtime (as `om systems online` is) only writes the switch: moving the items
    of a store that another scheduler runs left them ``ready`` and never run.  The running
    runtime sees the switch and releases its held callout itself, without a restart."""
    runner = lab(store=sqlite(tmp_path))
    runner.systems.set_offline("Net", True, by="ops")
    runner.submit(lab_order("O1", runner.catalog))  # type: ignore[arg-type]
    runner.start_background()
    wait_until(lambda: runner.status("O1").item("L:activate").state == "on_hold")
    other = lab(store=sqlite(tmp_path), serve=False)
    with pytest.raises(StoreInUse, match="act through that one"):
        other.release("system:Net")
    assert other.systems.set_offline("Net", False, by="ops") == 0  # the switch, and only it
    wait_until(lambda: runner.status("O1").state == "completed", 15)
    # the runner's release names who flipped the switch in the other process
    said = "released by ops (operator): system Net is back online"
    released = [e for e in runner.events("O1") if e.detail == said]
    assert [(e.item_id, e.from_state, e.to_state, e.by) for e in released] == [
        ("L:activate", "on_hold", "ready", "ops")
    ]
    assert (
        sims.network.effect_count(idempotency_key("O1", "L:activate", runner.installation_id)) == 1
    )


def test_why_a_system_is_offline_is_kept_shown_on_held_callouts_and_logged_on_release(
    lab: Lab, sims: Sims, tmp_path: Path
) -> None:
    """The night shift reads why a callout waits (and whom to ask) on the item itself, and
    the released items' rows say why the system came back."""
    runtime = lab(store=sqlite(tmp_path))
    runtime.systems.set_offline("Net", True, by="alice", reason="maintenance until 22:00")
    runtime.submit(lab_order("O1", runtime.catalog))  # type: ignore[arg-type]
    runtime.run_until_idle()
    item = runtime.status("O1").item("L:activate")
    assert (item.state, item.reason) == (
        "on_hold",
        "system Net is offline, taken offline by alice: maintenance until 22:00",
    )
    status = runtime.systems.status("Net")
    assert (status.changed_by, status.reason) == ("alice", "maintenance until 22:00")
    assert runtime.systems.set_offline("Net", False, by="bob", reason="done early") == 1
    assert runtime.systems.status("Net").reason == "done early"
    said = "released by bob (operator): system Net is back online: done early"
    assert [e.reason for e in runtime.events("O1") if e.detail == said] == [
        "system Net is back online: done early"
    ]
    runtime.run_until_idle()
    assert runtime.status("O1").state == "completed"


def test_a_reason_that_cannot_be_a_line_of_the_log_changes_no_switch(
    lab: Lab, tmp_path: Path
) -> None:
    runtime = lab(store=sqlite(tmp_path), serve=False)
    with pytest.raises(InvalidAct, match="one line"):
        runtime.systems.set_offline("Net", True, by="eve", reason="ok\nreleased by admin")
    with pytest.raises(InvalidAct):
        runtime.systems.set_offline("Net", True, reason="x" * 1001)
    assert (runtime.systems.status("Net").offline, runtime.systems.status("Net").source) == (
        False,
        "catalog",
    )
    runtime.systems.set_offline("Net", True, reason="x" * 1000)  # the bound itself is fine
    runtime.systems.set_offline("Net", False, reason="y" * 1000)  # and so is the release


def test_a_store_whose_systems_table_predates_reasons_is_read_and_gains_the_column(
    lab: Lab, tmp_path: Path
) -> None:
    """An older om_dsl made the table without ``reason``: read-only readers (``om systems
    list``) still read it, and the first writer adds the column."""
    path = tmp_path / "om.db"
    lab(store=sqlite(tmp_path), serve=False).close()
    with sqlite3.connect(path) as db:
        db.execute("DROP TABLE systems")
        db.execute(
            "CREATE TABLE systems (name TEXT PRIMARY KEY, offline INTEGER NOT NULL, "
            "changed_at REAL NOT NULL, changed_by TEXT)"
        )
        db.execute("INSERT INTO systems VALUES ('Net', 1, 0, 'old')")
    db.close()
    with Runtime(store=SqliteStore(path, read_only=True)) as reader:
        (net,) = [s for s in reader.systems.list() if s.name == "Net"]
        assert (net.offline, net.changed_by, net.reason) == (True, "old", None)
    writer = lab(store=sqlite(tmp_path), serve=False)
    writer.systems.set_offline("Net", False, by="new", reason="back")
    assert writer.systems.status("Net").reason == "back"


def test_a_runtime_that_starts_releases_what_is_held_for_a_system_already_online(
    lab: Lab, sims: Sims, tmp_path: Path
) -> None:
    """The switch went online while its runner was stopping (or the release of a crashed
    process never ran): the next runner releases the held callout when it starts."""
    first = lab(store=sqlite(tmp_path))
    first._world.online_watch.every = 3600.0  # it never looks again: it is about to stop
    first.systems.set_offline("Net", True)
    first.submit(lab_order("O1", first.catalog))  # type: ignore[arg-type]
    first.start_background()
    wait_until(lambda: first.status("O1").item("L:activate").state == "on_hold")
    assert lab(store=sqlite(tmp_path), serve=False).systems.set_offline("Net", False) == 0
    first.close()
    with Runtime(store=sqlite(tmp_path)) as peek:
        assert peek.status("O1").item("L:activate").state == "on_hold"
    second = lab(store=sqlite(tmp_path))
    assert run_until(second, "O1", DONE) == "completed"


@pytest.mark.parametrize("how", ["serve_callbacks", "base_url"])
def test_an_async_callout_before_any_callback_endpoint_is_held_then_sent(
    lab: Lab, sims: Sims, how: str
) -> None:
    """A host that forgot ``serve_callbacks()`` got the item failed for good, perhaps past
    the order's point of no return: it is held instead, and sent once an endpoint exists."""
    runtime = lab(serve=False)
    runtime.submit(lab_order("O1", runtime.catalog))  # type: ignore[arg-type]
    runtime.start_background()
    wait_until(lambda: runtime.status("O1").item("L:activate").state == "on_hold")
    item = runtime.status("O1").item("L:activate")
    assert "an async callout needs a callback endpoint" in str(item.reason)
    assert sims.network.requests() == []
    if how == "serve_callbacks":
        runtime.serve_callbacks()
        wait_until(lambda: runtime.status("O1").state == "completed")
    else:  # a host that serves callbacks itself says where (here: nowhere that answers)
        runtime.callbacks.base_url = "http://127.0.0.1:9/om"
        wait_until(lambda: runtime.status("O1").item("L:activate").state == "waiting")
        wait_until(lambda: bool(sims.network.callbacks()))
        (callback,) = sims.network.callbacks()
        assert str(callback["url"]).startswith("http://127.0.0.1:9/om/callbacks/")
    runtime.stop()
    (request,) = sims.network.requests()
    assert request["key"] == idempotency_key("O1", "L:activate", runtime.installation_id)


def test_a_runtime_restarted_with_a_callback_base_sends_what_waited_for_one(
    lab: Lab, sims: Sims, tmp_path: Path
) -> None:
    first = lab(store=sqlite(tmp_path), serve=False)
    first.submit(lab_order("O1", first.catalog))  # type: ignore[arg-type]
    first.start_background()
    wait_until(lambda: first.status("O1").item("L:activate").state == "on_hold")
    first.stop()
    first.close()
    served = lab()  # another runtime's listener: only the URL matters here
    settings = DownstreamSettings(environ=sims.environ(), callback_base=served.callbacks.base_url)
    second = Runtime(first.catalog, store=sqlite(tmp_path), downstream=settings)
    try:
        second.start_background()
        wait_until(lambda: second.status("O1").item("L:activate").state == "waiting")
        second.stop()
    finally:
        second.close()
    (request,) = sims.network.requests()
    assert request["key"] == idempotency_key("O1", "L:activate", second.installation_id)


def test_an_unknown_system_is_said_as_it_is() -> None:
    """A probe: a runtime given a catalog that declares no systems, on a store that holds an
    order, said "no catalog is known yet (the store has no orders ...)"."""
    bare = compile_text("cfs V { attribute n: int }\nplan V on add { milestone done }")
    with Runtime(bare) as runtime:
        runtime.submit(order("O1", bare, [line("V", "V", n=1)]))
        with pytest.raises(NotFound, match=r"^no system 'Nope': the catalog declares no systems$"):
            runtime.systems.set_offline("Nope", True)
    with Runtime(compile_text()) as runtime, pytest.raises(NotFound) as unknown:
        runtime.systems.set_offline("Nte", True)
    assert str(unknown.value) == (
        "no system 'Nte' in the catalog (did you mean 'Net'? known systems: Bill, Inv, Net)"
    )
    with Runtime() as runtime, pytest.raises(NotFound, match="no catalog is known yet"):
        runtime.systems.set_offline("Network", True)
