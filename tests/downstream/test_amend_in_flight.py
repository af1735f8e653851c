"""Amending an order while its work is in flight downstream (docs/runtime.md, "Amending an
order", "Unknown outcomes"): an async callout waiting for its callback counts as running, so
the amendment is applied once it settled and its undo sees the real outcome; a callout that
timed out after its system took the request is not taken for one that did nothing.

Real simulators on 127.0.0.1; the runtime serves its callback listener.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from downstream_support import wait_until
from simulators import Simulator, start, stop_all

from om_dsl.compiler.driver import compile_catalog
from om_dsl.errors import OperatorActionRejected
from om_dsl.runtime import Runtime, SqliteStore
from om_dsl.runtime.downstream import DownstreamSettings

CATALOG = """catalog "Lab" version "1"
system Net "Net" { url env("NET_URL") timeout 2s retry none }
offer Web "Web" id "1" { attribute speed: int default 100 }
cfs Line { attribute speed: int }
decompose Web { -> Line { speed = speed } }
plan Line on add {
  callout act: Net POST "/generic/act" async
      request { speed: line.speed }
      response { aid = body.id }
      undo deact timeout 10s
  wait go event "go" after act
  compensation callout deact: Net POST "/generic/deact" request { aid: act.aid }
}
"""


def _web(speed: int) -> dict[str, object]:
    return {"id": "O1", "items": [{"id": "1", "product": "Web", "attributes": {"speed": speed}}]}


@pytest.fixture
def net() -> Iterator[Simulator]:
    sim = start("network", callback_delay_ms=20, callback_backoff_ms=30)
    yield sim
    stop_all([sim])


def _runtime(tmp_path: Path, net: Simulator, text: str = CATALOG) -> Runtime:
    catalog = compile_catalog("lab.om", text=text).raise_on_error()
    settings = DownstreamSettings(environ={"NET_URL": net.url})
    found = Runtime(catalog, store=SqliteStore(tmp_path / "om.db"), downstream=settings)
    found.serve_callbacks()
    return found


@pytest.fixture
def runtime(tmp_path: Path, net: Simulator) -> Iterator[Runtime]:
    found = _runtime(tmp_path, net)
    yield found
    found.close()


def _item(runtime: Runtime, item: str) -> str:
    return runtime.status("O1").item(item).state


def test_an_amendment_waits_for_the_callback_and_undoes_what_it_did(
    runtime: Runtime, net: Simulator
) -> None:
    net.configure(callback_delay_ms=700)
    runtime.start_background()
    runtime.submit(_web(100))
    wait_until(lambda: _item(runtime, "1/Line:act") == "waiting")
    revision = runtime.amend("O1", _web(300))
    assert revision.undo == ("1/Line~1:deact",)  # the callback came: act completed
    wait_until(lambda: _item(runtime, "1/Line:go") == "waiting")
    runtime.signal("go", "O1")
    wait_until(lambda: runtime.status("O1").state == "completed")
    acts = [e for e in net.effects() if e["path"] == "/generic/act"]
    assert [e["body"] for e in acts] == [{"speed": 100}, {"speed": 300}]
    assert acts[0]["key"] != acts[1]["key"]
    deacts = [e["body"] for e in net.effects() if e["path"] == "/generic/deact"]
    assert deacts == [{"aid": acts[0]["response"]["id"]}]  # the first activation is undone


def test_an_amendment_is_refused_while_a_callback_is_awaited_past_settle(
    runtime: Runtime, net: Simulator
) -> None:
    net.configure(callback_delay_ms=3000)
    runtime.start_background()
    runtime.submit(_web(100))
    wait_until(lambda: _item(runtime, "1/Line:act") == "waiting")
    with pytest.raises(OperatorActionRejected, match="wait for the callback") as refused:
        runtime.amend("O1", _web(300), settle=0.2)
    assert "1/Line:act" in str(refused.value)
    assert _item(runtime, "1/Line:act") == "waiting"  # nothing of the revision was written


def test_a_timed_out_callout_with_an_undo_is_settled_before_its_line_is_redone(
    tmp_path: Path, net: Simulator
) -> None:
    """The activation timed out (its callback is late): its outcome is unknown.  The
    amendment keeps it on the history line in fallout, and the redo waits for its undo; the
    late callback settles it, its undo runs with the real id, and only then the redo."""
    net.configure(callback_delay_ms=1500)
    text = CATALOG.replace("undo deact timeout 10s", "undo deact timeout 300ms")
    other = _runtime(tmp_path, net, text)
    try:
        other.start_background()
        other.submit(_web(100))
        wait_until(lambda: _item(other, "1/Line:act") == "fatally_failed")
        revision = other.amend("O1", _web(300))
        assert revision.undo == ("1/Line~1:deact",)
        status = other.status("O1")
        assert status.item("1/Line~1:act").state == "fatally_failed"
        assert "its outcome is unknown" in (status.item("1/Line~1:act").reason or "")
        assert status.item("1/Line:act").state == "pending"  # the redo waits for the undo
        wait_until(lambda: _item(other, "1/Line:go") == "waiting", timeout=15)
        other.signal("go", "O1")
        wait_until(lambda: other.status("O1").state == "completed")
        acts = [e for e in net.effects() if e["path"] == "/generic/act"]
        deacts = [e["body"] for e in net.effects() if e["path"] == "/generic/deact"]
        assert deacts == [{"aid": acts[0]["response"]["id"]}]
        assert other.status("O1").item("1/Line~1:act").state == "completed"
    finally:
        other.close()
