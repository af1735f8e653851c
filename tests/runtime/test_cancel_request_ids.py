"""Cancel request ids across restores: ``cpo-<seq>`` before any restore, ``cpo-<seq>-<epoch>``
for a request recorded after one.  A restore rewinds the event log's sequence, and a request
made after it took the id a client held for another request, which the restore lost; an id
names one request or none, and the requests the backup holds keep their ids."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from runtime_support import compile_text

from om_dsl.runtime import MemoryStore, Runtime, SqliteStore
from om_dsl.runtime.notify import cancels
from om_dsl.runtime.notify.tmf import OrderViews
from om_dsl.runtime.store import StoreError, backup_store
from om_dsl.runtime.store.base import Store
from om_dsl.runtime.store.restore import EPOCH_STARTS, epoch_at

GO = """
offer Web "Web" id "1" { attribute n: int default 1 }
cfs Svc { attribute n: int }
decompose Web { -> Svc { n = n } }
plan Svc on add { wait go event "go" }
"""
ORDERS = ("O1", "O2", "O3", "O4", "O5")


def _ids(store: Store) -> dict[str, str]:
    """Order -> the id of its cancel request, as the listing, the views and the events say."""
    views = OrderViews(store)
    found = {}
    for row in store.cancel_requests():
        ident = views.cancel_request(row, {})["id"]
        (event,) = [e for e in views.events(row) if "cancelProductOrder" in e["event"]]
        assert event["event"]["cancelProductOrder"]["id"] == ident
        found[row.order_id] = ident
    return found


def _cancel(db: Path, order_id: str, *, restored: bool = False) -> dict[str, str]:
    """Cancel one order on the store at ``db`` (accepting it as a restore when told)."""
    with Runtime(compile_text(GO), store=SqliteStore(db, restored=restored)) as runtime:
        runtime.claim_store()
        runtime.cancel(order_id)
        return _ids(runtime.store)


def _restore(backup: Path, db: Path) -> None:
    for name in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
        name.unlink(missing_ok=True)
    shutil.copyfile(backup, db)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """Five orders waiting for an event: each can be cancelled."""
    path = tmp_path / "om.db"
    with Runtime(compile_text(GO), store=SqliteStore(path)) as runtime:
        for order_id in ORDERS:
            runtime.submit({"id": order_id, "items": [{"id": "1", "product": "Web"}]})
        runtime.run_until_idle()
    return path


def test_no_id_is_given_twice_across_two_restores(db: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "first.db", tmp_path / "second.db"
    before = _cancel(db, "O1")["O1"]
    assert cancels.parse_request_id(before) is not None and before.count("-") == 1
    backup_store(db, first)
    lost = _cancel(db, "O2")["O2"]  # the client holds it; the restore loses it

    after = _cancel(_restored(first, db), "O3", restored=True)
    assert after["O1"] == before  # in the backup: it keeps its id
    seq, epoch = cancels.parse_request_id(after["O3"]) or (0, "")
    assert f"cpo-{seq}" == lost and epoch  # the lost request's number, its own id
    backup_store(db, second)  # a backup of the restored store: it holds O3's request
    lost_again = _cancel(db, "O4")["O4"]

    again = _cancel(_restored(second, db), "O5", restored=True)
    assert (again["O1"], again["O3"]) == (before, after["O3"])
    assert again["O5"] not in (lost, lost_again, after["O3"])
    assert again["O5"].removeprefix("cpo-").split("-")[0] == lost_again.split("-")[1]

    twice = _cancel(_restored(first, db), "O4", restored=True)  # the first backup, again
    assert set(twice) == {"O1", "O4"} and twice["O1"] == before
    assert twice["O4"] not in (lost, lost_again, after["O3"], again["O5"])


def _restored(backup: Path, db: Path) -> Path:
    _restore(backup, db)
    return db


def test_an_epoch_counts_from_where_its_restore_started_the_log() -> None:
    starts = ((41, "aaaaaaaa"), (59, "bbbbbbbb"), (59, "cccccccc"))
    assert [epoch_at(starts, seq) for seq in (1, 40, 41, 58, 59, 90)] == [
        "", "", "aaaaaaaa", "aaaaaaaa", "cccccccc", "cccccccc"]  # fmt: skip
    assert epoch_at((), 7) == ""


def test_ids_read_back() -> None:
    assert cancels.request_id(12) == "cpo-12"
    assert cancels.request_id(12, "0badcafe") == "cpo-12-0badcafe"
    assert cancels.parse_request_id("cpo-12") == (12, "")
    assert cancels.parse_request_id("cpo-12-0badcafe") == (12, "0badcafe")
    for text in ("cpo-", "cpo-x", "cpo-12-", "cpo-12-XYZ", "cpo-١٢", "om-12", "cpo-1" + "0" * 18):
        assert cancels.parse_request_id(text) is None


def test_a_store_never_restored_and_a_host_s_store_give_no_epoch(db: Path) -> None:
    store = SqliteStore(db)
    assert store.epoch_of(1) == "" and MemoryStore().epoch_of(1) == ""
    assert cancels.epoch_of(object(), 1) == ""  # type: ignore[arg-type]
    store.close()


def test_a_damaged_list_of_epochs_is_a_store_error(db: Path) -> None:
    with sqlite3.connect(db) as raw:
        raw.execute("INSERT INTO meta VALUES (?, ?)", (EPOCH_STARTS, "[[1, 2]]"))
    with pytest.raises(StoreError, match=f"its meta row {EPOCH_STARTS} is not a list"):
        SqliteStore(db)
