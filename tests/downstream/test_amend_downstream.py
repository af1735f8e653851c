"""Amending orders whose work is downstream: a late callback of a superseded callout must not
complete the item run again (it is recorded and ignored), and a listener named by the revision
hears the amendment."""

from __future__ import annotations

from pathlib import Path

from downstream_support import wait_until
from simulators import start, stop_all

from om_dsl.compiler.driver import compile_catalog
from om_dsl.runtime import Runtime, SqliteStore
from om_dsl.runtime.downstream import DownstreamSettings

CATALOG = """catalog "Lab" version "1"
system Net "Net" { url env("NETWORK_URL") timeout 5s }
offer Web "Web" id "1" { attribute speed: int default 100 }
cfs Line { attribute speed: int }
decompose Web { -> Line { speed = speed } }
plan Line on add {
  callout act: Net POST "/activations" async
      request { speed: line.speed }
      response { activation_id = body.activation.id, speed = body.activation.speed }
      timeout 300ms
}
"""


def _web(speed: int) -> dict[str, object]:
    return {"id": "O1", "items": [{"id": "1", "product": "Web", "attributes": {"speed": speed}}]}


def test_a_late_callback_of_a_superseded_callout_is_not_the_redone_items(tmp_path: Path) -> None:
    catalog = compile_catalog("lab.om", text=CATALOG).raise_on_error()
    net = start("network", callback_delay_ms=1200)  # slower than the item's 300 ms
    settings = DownstreamSettings(environ={"NETWORK_URL": net.url})
    runtime = Runtime(catalog, store=SqliteStore(tmp_path / "om.db"), downstream=settings)
    try:
        runtime.serve_callbacks()
        runtime.start_background()
        runtime.submit(_web(100))
        wait_until(lambda: runtime.status("O1").item("1/Line:act").state == "fatally_failed")
        runtime.amend("O1", _web(300))  # the callout runs again, for 300
        wait_until(lambda: runtime.status("O1").state == "completed", timeout=15)
        assert net.wait_callbacks(10)  # both callbacks have come: the first one was ignored
        act = runtime.status("O1").item("1/Line:act")
        assert act.outputs is not None and act.outputs["speed"] == 300
        assert runtime.status("O1").item("1/Line~1:act").state == "cancelled"
        assert [(c["state"], c["last_status"]) for c in net.callbacks()] == [
            ("delivered", 200),
            ("delivered", 200),
        ]
        (note,) = [e for e in runtime.events("O1") if e.kind == "callback.ignored"]
        assert note.detail is not None and note.detail.startswith(
            "callback of attempt 1 ignored: the item no longer waits for it"
        )
    finally:
        runtime.close()
        stop_all([net])
