"""eventIds: ``om-<seq>`` (``om-<seq>-cancel``) for a store never restored, as listeners and
snapshots have always seen them; ``om-<seq>-<epoch>`` (``om-<seq>-<epoch>-cancel``) once the
store keeps an event id epoch, as a restored store does (tests/downstream/
test_restore_safety.py restores one for real)."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from downstream_support import compile_text
from simulators import Listener

from om_dsl.runtime import Runtime, SqliteStore
from om_dsl.runtime.downstream import DownstreamSettings
from om_dsl.runtime.notify import NotifySettings
from om_dsl.runtime.notify.tmf_text import event_id
from om_dsl.runtime.store.restore import EVENT_ID_EPOCH

GO = """
offer Web "Web" id "1" { attribute n: int default 1 }
cfs Svc { attribute n: int }
decompose Web { -> Svc { n = n } }
plan Svc on add { wait go event "go" }
"""


def test_the_id_of_an_event() -> None:
    assert event_id(42, "") == "om-42"
    assert event_id(42, "", "-cancel") == "om-42-cancel"
    assert event_id(42, "0badcafe") == "om-42-0badcafe"
    assert event_id(42, "0badcafe", "-cancel") == "om-42-0badcafe-cancel"


def _ids(db: Path, listener: Listener) -> list[str]:
    notify = NotifySettings(urls=(f"{listener.url}/crm",), poll_s=0.05)
    downstream = DownstreamSettings(notify=notify)
    with Runtime(compile_text(GO), store=SqliteStore(db), downstream=downstream) as runtime:
        runtime.submit({"id": "O1", "items": [{"id": "1", "product": "Web"}]})
        runtime.run_until_idle()
        runtime.cancel("O1")
        runtime.run_until_idle()
        assert runtime.notifications.drain(10)
    return [body["eventId"] for body in listener.bodies()]


@pytest.mark.parametrize("epoch", ["", "0badcafe"])
def test_order_and_cancel_events_carry_the_store_s_epoch(
    epoch: str, listener: Listener, tmp_path: Path
) -> None:
    db = tmp_path / "om.db"
    SqliteStore(db).close()
    if epoch:
        connection = sqlite3.connect(db)
        with connection:
            connection.execute("INSERT INTO meta VALUES (?, ?)", (EVENT_ID_EPOCH, epoch))
        connection.close()
    ids = _ids(db, listener)
    stem = r"om-\d+" + (f"-{epoch}" if epoch else "")
    assert any(i.endswith("-cancel") for i in ids), ids
    assert all(re.fullmatch(stem + "(-cancel)?", i) for i in ids), ids
    assert len(set(ids)) == len(ids)
