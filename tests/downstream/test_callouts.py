"""Callouts against the real simulators over loopback: every path, every failure class."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from downstream_support import (
    TOKEN,
    Sims,
    compile_text,
    lab_order,
    line,
    loopback_http,
    order,
    run_until,
    sqlite,
    url_of,
    wait_until,
)

from om_dsl.ir import models as ir
from om_dsl.runtime import Runtime
from om_dsl.runtime.downstream import correlation_id, idempotency_key

Lab = Callable[..., Runtime]
DONE = {"completed", "held"}


def test_sync_and_async_callouts_complete_with_mapped_outputs_feeding_later_items(
    lab: Lab, sims: Sims
) -> None:
    runtime = lab()
    runtime.submit(lab_order("O1", runtime.catalog))  # type: ignore[arg-type]
    assert run_until(runtime, "O1", DONE) == "completed"
    status = runtime.status("O1")
    port = status.item("L:reserve").outputs
    activation = status.item("L:activate").outputs
    assert port == {"port_id": "PORT-0001"}
    assert activation == {"activation_id": "ACT-0001"}
    assert status.item("L:bill").outputs == {"account_id": "ACC-0001"}
    # the reserved port (an output of reserve) is in activate's request body
    (effect,) = sims.network.effects()
    assert effect["body"] == {"port_id": "PORT-0001", "technology": "FTTH"}
    # activate was answered 202 and completed by the callback
    (callback,) = sims.network.callbacks()
    assert callback["state"] == "delivered"
    assert "/callbacks/" in str(callback["url"])


def test_every_request_carries_an_idempotency_key_and_a_correlation_id(
    lab: Lab, sims: Sims
) -> None:
    """The key is new after each 503 (the system answered: that operation is over, and a new
    one may succeed where a replay of the failure could not); see test_idempotency_keys.py."""
    sims.inventory.configure(fail_times=2)
    runtime = lab()
    runtime.submit(lab_order("O1", runtime.catalog))  # type: ignore[arg-type]
    assert run_until(runtime, "O1", DONE) == "completed"
    requests = [r for r in sims.inventory.requests() if r["path"] == "/ports/reserve"]
    keys = [idempotency_key("O1", "L:reserve", runtime.installation_id, n) for n in (1, 2, 3)]
    assert [r["key"] for r in requests] == keys
    assert [r["correlation_id"] for r in requests] == [
        correlation_id("O1", "L:reserve", n) for n in (1, 2, 3)
    ]
    assert [sims.inventory.effect_count(key) for key in keys] == [0, 0, 1]
    assert runtime.status("O1").item("L:reserve").attempt == 3


def test_a_synchronous_answer_to_an_async_callout_completes_it_at_once(
    lab: Lab, sims: Sims, listener
) -> None:  # type: ignore[no-untyped-def]
    catalog = compile_text(
        """
        system Echo { url env("ECHO_URL") timeout 2s }
        cfs Line { attribute site: string }
        plan Line on add {
          callout push: Echo POST "/hooks/{line.site}" async request { site: line.site }
              response { seq = body.seq }
        }
        """
    )
    runtime = lab(catalog, environ={"ECHO_URL": listener.url})
    runtime.submit(order("O1", catalog, [line("L", site="S 1/2")]))
    assert run_until(runtime, "O1", DONE) == "completed"
    assert runtime.status("O1").item("L:push").outputs == {"seq": 1}
    (event,) = listener.events()
    assert event["path"] == "/hooks/S%201%2F2"  # the placeholder cannot add a path segment
    headers = {k.lower(): v for k, v in event["headers"].items()}
    assert headers["prefer"] == "respond-async"
    assert headers["x-callback-url"].startswith(runtime.callbacks.base_url + "/callbacks/")


def test_a_callback_reporting_failure_fails_the_attempt_then_fallout_then_operator_retry(
    lab: Lab, sims: Sims
) -> None:
    sims.network.configure(callback_status="failed", callback_reason="no free VLAN")
    runtime = lab()
    runtime.submit(lab_order("O1", runtime.catalog))  # type: ignore[arg-type]
    assert run_until(runtime, "O1", DONE) == "held"
    item = runtime.status("O1").item("L:activate")
    assert item.state == "fatally_failed" and item.attempt == 3  # fixed 50ms max 2
    assert item.reason == "the callback of Net POST /activations reports a failure: no free VLAN"
    assert sims.network.effects() == []  # a failed async operation has no effect
    sims.network.clear_faults()
    runtime.retry("O1", "L:activate")
    assert run_until(runtime, "O1", DONE) == "completed"
    key = idempotency_key("O1", "L:activate", runtime.installation_id, 4)  # failures: new keys
    assert sims.network.effect_count(key) == 1


def test_a_timeout_is_a_failed_attempt_and_the_retry_applies_the_effect_once(
    lab: Lab, sims: Sims
) -> None:
    catalog = compile_text(
        """
        system Inv { url env("INV_URL") timeout 300ms retry fixed 50ms max 2 }
        cfs Line { attribute site: string }
        plan Line on add {
          callout reserve: Inv POST "/ports/reserve" request { technology: "FTTH" }
              response { port_id = body.port.id }
        }
        """
    )
    sims.inventory.configure(fail_times=1, timeout=True, timeout_s=2, after_effect=True)
    runtime = lab(catalog)
    runtime.submit(order("O1", catalog, [line("L", site="S")]))
    assert run_until(runtime, "O1", DONE) == "completed"
    failures = [d for d in _details(runtime) if "no answer within 0.3 s" in d]
    assert failures, _details(runtime)
    key = idempotency_key("O1", "L:reserve", runtime.installation_id)
    assert sims.inventory.effect_count(key) == 1  # the lost reply was replayed, not re-applied
    assert runtime.status("O1").item("L:reserve").outputs == {"port_id": "PORT-0001"}


def test_a_callback_that_outlives_the_attempts_timeout_still_completes_the_item(
    lab: Lab, sims: Sims
) -> None:
    catalog = compile_text(
        """
        system Net { url env("NET_URL") timeout 2s retry fixed 100ms max 3 }
        cfs Line { attribute site: string }
        plan Line on add {
          callout activate: Net POST "/activations" async request { site: line.site }
              response { activation_id = body.activation.id } timeout 300ms
        }
        """
    )
    sims.network.configure(callback_delay_ms=700)
    runtime = lab(catalog)
    runtime.submit(order("O1", catalog, [line("L", site="S")]))
    assert run_until(runtime, "O1", DONE) == "completed"
    item = runtime.status("O1").item("L:activate")
    assert item.outputs == {"activation_id": "ACT-0001"}
    assert item.attempt >= 2  # the first attempt timed out; the retry was a replay (no callback)
    assert (
        sims.network.effect_count(idempotency_key("O1", "L:activate", runtime.installation_id)) == 1
    )
    assert any("timed out after 300 ms" in d for d in _details(runtime))


def test_a_non_2xx_answer_is_retried_and_a_permanent_status_goes_straight_to_fallout(
    lab: Lab, sims: Sims
) -> None:
    runtime = lab()
    # no technology: the simulator answers 400 (missing required field), permanent for Inv
    runtime.submit(order("O1", runtime.catalog, [line("L", site="S")]))  # type: ignore[arg-type]
    assert run_until(runtime, "O1", DONE) == "held"
    item = runtime.status("O1").item("L:reserve")
    assert (item.state, item.attempt) == ("fatally_failed", 1)
    assert item.reason is not None
    assert item.reason.startswith("Inv POST /ports/reserve answered 400: ")
    assert "missing required fields" in item.reason and "no retry" in item.reason

    sims.inventory.configure(status=503)
    runtime.submit(lab_order("O2", runtime.catalog))  # type: ignore[arg-type]
    assert run_until(runtime, "O2", DONE) == "held"
    item = runtime.status("O2").item("L:reserve")
    assert (item.state, item.attempt) == ("fatally_failed", 3)
    assert item.reason is not None and item.reason.startswith(
        "Inv POST /ports/reserve answered 503"
    )


def test_exhausted_retries_hold_the_order_and_an_operator_retry_finishes_it(
    lab: Lab, sims: Sims
) -> None:
    sims.inventory.configure(status=503)
    runtime = lab()
    runtime.submit(lab_order("O1", runtime.catalog))  # type: ignore[arg-type]
    assert run_until(runtime, "O1", DONE) == "held"
    assert runtime.status("O1").item("L:reserve").state == "fatally_failed"
    sims.inventory.clear_faults()
    runtime.retry("O1", "L:reserve")
    assert run_until(runtime, "O1", DONE) == "completed"
    assert runtime.status("O1").item("L:reserve").attempt == 4
    key = idempotency_key("O1", "L:reserve", runtime.installation_id, 4)  # 503s: new keys
    assert sims.inventory.effect_count(key) == 1


def test_a_refused_connection_is_a_clear_failure(lab: Lab, sims: Sims) -> None:
    closed = _closed_port_url()
    runtime = lab(environ=sims.environ(INV_URL=closed))
    runtime.submit(lab_order("O1", runtime.catalog))  # type: ignore[arg-type]
    assert run_until(runtime, "O1", DONE) == "held"
    reason = runtime.status("O1").item("L:reserve").reason
    assert reason is not None and reason.startswith("Inv POST /ports/reserve: cannot connect")


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://127.0.0.1:99999", "has a port that is not a number from 1 to 65535"),
        ("http://127.0.0.1:-1", "has a port that is not a number from 1 to 65535"),
        ("http://[::1", "is not a valid URL"),
    ],
)
def test_a_system_url_that_cannot_be_used_fails_permanently_saying_why(
    lab: Lab, sims: Sims, url: str, why: str
) -> None:
    """Not an exception from deep inside the HTTP client, retried as if the network failed."""
    runtime = lab(environ=sims.environ(INV_URL=url))
    runtime.submit(lab_order("O1", runtime.catalog))  # type: ignore[arg-type]
    assert run_until(runtime, "O1", DONE) == "held"
    item = runtime.status("O1").item("L:reserve")
    assert (item.state, item.attempt) == ("fatally_failed", 1)
    assert item.reason is not None and f"environment variable INV_URL {why}" in item.reason


def test_an_unmappable_answer_names_the_missing_field(lab: Lab, sims: Sims) -> None:
    catalog = compile_text(
        """
        system Inv { url env("INV_URL") timeout 2s }
        cfs Line { attribute site: string }
        plan Line on add {
          callout reserve: Inv POST "/ports/reserve" request { technology: "FTTH" }
              response { port_id = body.port.id; vlan = body.port.vlan.id }
        }
        """
    )
    assert held_reason(lab, catalog, "L:reserve") == (
        "the answer of Inv POST /ports/reserve cannot be mapped: body.port.vlan.id is missing"
    )


def held_reason(lab: Lab, catalog: ir.Catalog, item_id: str) -> str | None:
    """Run a one-line order of ``catalog`` until it is held; the reason ``item_id`` gives."""
    runtime = lab(catalog)
    runtime.submit(order("O1", catalog, [line("L", site="S")]))
    assert run_until(runtime, "O1", DONE) == "held"
    return runtime.status("O1").item(item_id).reason


def test_a_missing_credential_fails_permanently_naming_the_variable(lab: Lab, sims: Sims) -> None:
    environ = sims.environ()
    del environ["BILL_TOKEN"]
    runtime = lab(environ=environ)
    runtime.submit(lab_order("O1", runtime.catalog))  # type: ignore[arg-type]
    assert run_until(runtime, "O1", DONE) == "held"
    item = runtime.status("O1").item("L:bill")
    assert (item.state, item.attempt) == ("fatally_failed", 1)
    assert item.reason is not None and "environment variable BILL_TOKEN" in item.reason
    assert sims.billing.requests() == []


def test_path_placeholders_are_encoded_and_cannot_climb_out_of_the_path(
    lab: Lab, sims: Sims
) -> None:
    catalog = compile_text(
        """
        system Inv { url env("INV_URL") timeout 2s permanent 404 }
        cfs Line { attribute port: string }
        plan Line on add { callout look: Inv GET "/ports/{line.port}?x={line.port}" }
        """
    )
    runtime = lab(catalog)
    runtime.submit(
        order("O1", catalog, [line("A", root="1", port="../../_sim/reset@evil.example")])
    )
    runtime.submit(order("O2", catalog, [line("B", root="2", port="..")]))
    assert run_until(runtime, "O1", DONE) == "held"
    assert run_until(runtime, "O2", DONE) == "held"
    (request,) = sims.inventory.requests()
    assert request["path"] == "/ports/..%2F..%2F_sim%2Freset%40evil.example"
    assert request["query"] == {"x": "../../_sim/reset@evil.example"}
    reason = runtime.status("O2").item("B:look").reason
    assert (
        reason
        == "Inv GET /ports/{line.port}?x={line.port}: the path placeholder {line.port} is '..'"
    )


def test_credentials_never_reach_the_event_log_the_store_or_reasons(
    lab: Lab, sims: Sims, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    sims.billing.configure(status=401)  # the answer even echoes an error
    runtime = lab(store=sqlite(tmp_path))
    runtime.submit(lab_order("O1", runtime.catalog))  # type: ignore[arg-type]
    assert run_until(runtime, "O1", DONE) == "held"
    assert "answered 401" in (runtime.status("O1").item("L:bill").reason or "")
    sims.billing.clear_faults()
    runtime.retry("O1", "L:bill")
    assert run_until(runtime, "O1", DONE) == "completed"
    (request,) = [r for r in sims.billing.requests() if r["outcome"] == "effect"]
    assert request["headers"]["Authorization"] == "***"  # it was sent (the simulator redacts)
    everything = json.dumps([e._asdict() for e in runtime.events()])
    everything += runtime.status("O1").model_dump_json()
    assert TOKEN not in everything
    runtime.close()
    for path in tmp_path.iterdir():
        assert TOKEN.encode() not in path.read_bytes(), path


def _details(runtime: Runtime) -> list[str]:
    return [e.detail for e in runtime.events() if e.detail]


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_after_a_restart_run_until_idle_waits_for_a_callback_already_on_its_way(
    lab: Lab, sims: Sims, tmp_path: Path
) -> None:
    catalog = compile_text(
        """
        system Net { url env("NET_URL") timeout 2s }
        cfs Line { attribute site: string }
        plan Line on add {
          callout activate: Net POST "/activations" async request { site: line.site }
              response { activation_id = body.activation.id } timeout 30s
        }
        """
    )
    sims.network.configure(callback_delay_ms=1500)
    first = lab(catalog, store=sqlite(tmp_path), serve=False)
    port = int(first.serve_callbacks().rstrip("/").rsplit(":", 1)[1])
    first.submit(order("O1", catalog, [line("L", site="S")]))
    first.start_background()
    wait_until(lambda: first.status("O1").item("L:activate").state == "waiting")
    first.stop()
    first.close()  # the process "restarts" while the callback is on its way

    second = lab(catalog, store=sqlite(tmp_path), serve=False)
    second.serve_callbacks(port)
    second.run_until_idle()
    assert second.status("O1").state == "completed"
    assert second.status("O1").item("L:activate").outputs == {"activation_id": "ACT-0001"}


INDEXING = """
system Inv { url env("INV_URL") timeout 2s }
cfs Line { attribute site: string }
plan Line on add {
  callout allocate: Inv POST "/ips/allocate" request { count: 3 }
      response { first = body.ips[0]; last = body.ips[-1]; prefix = body["prefix"] }
  callout reserve: Inv POST "/ports/reserve"
      request { technology: "FTTH", site: line.site, address: allocate.first }
      response { port_id = body.port.id }
      after allocate
}
"""


def test_a_response_mapping_reads_items_of_a_list_by_position(lab: Lab, sims: Sims) -> None:
    """``body.ips[0]``: the answer's list, read by position over real HTTP, and the output
    fed to the next request."""
    catalog = compile_text(INDEXING)
    runtime = lab(catalog)
    runtime.submit(order("O1", catalog, [line("L", site="S")]))
    assert run_until(runtime, "O1", DONE) == "completed"
    outputs = runtime.status("O1").item("L:allocate").outputs
    assert outputs is not None
    first, last = outputs["first"], outputs["last"]
    assert (first, last) != (None, None) and first != last
    assert outputs["prefix"]
    reserve = next(e for e in sims.inventory.effects() if e["path"] == "/ports/reserve")
    assert reserve["body"]["address"] == first


def test_a_position_beyond_the_answers_list_names_what_is_missing(lab: Lab, sims: Sims) -> None:
    catalog = compile_text(INDEXING.replace("body.ips[-1]", "body.ips[3]"))
    assert held_reason(lab, catalog, "L:allocate") == (
        "the answer of Inv POST /ips/allocate cannot be mapped: body.ips[3] is missing"
    )


def test_a_request_sends_lists_of_objects(lab: Lab, sims: Sims) -> None:
    """``characteristics: [{ name: ..., value: ... }, ...]``, the shape TMF-style APIs
    take, built from line values and sent as JSON over real HTTP."""
    catalog = compile_text(
        """
        system Inv { url env("INV_URL") timeout 2s }
        cfs Line { attribute site: string  attribute speed: int }
        plan Line on add {
          callout create: Inv POST "/generic/services"
              request {
                characteristics: [
                    { name: "site", value: line.site },
                    { name: "speed", value: line.speed, unit: "Mbit/s" },
                ]
                related: { parties: [{ role: "owner", id: order.account }] }
              }
        }
        """
    )
    runtime = lab(catalog)
    runtime.submit(order("O1", catalog, [line("L", site="S", speed=500)]))
    assert run_until(runtime, "O1", DONE) == "completed"
    (effect,) = sims.inventory.effects()
    assert effect["body"] == {
        "characteristics": [
            {"name": "site", "value": "S"},
            {"name": "speed", "value": 500, "unit": "Mbit/s"},
        ],
        "related": {"parties": [{"role": "owner", "id": None}]},
    }


def test_a_request_mapping_error_fails_at_once_while_a_response_mapping_error_is_retried(
    lab: Lab, sims: Sims
) -> None:
    """docs/language.md, "Null values": a request that cannot be built would be built the same
    way by a retry (fallout at once, nothing sent); an answer that cannot be mapped may be
    mapped next time (the item's retry policy applies)."""
    catalog = compile_text(
        """
        system Inv { url env("INV_URL") timeout 2s retry fixed 50ms max 2 }
        cfs Line { attribute site: string }
        plan Line on add {
          callout reserve: Inv POST "/ports/reserve" request { technology: "FTTH" }
              response { port_id = body.port.id }
          callout number: Inv POST "/numbers/reserve" request { msisdn: reserve.port_id + 1 }
              after reserve
          callout ips: Inv POST "/ips/allocate" request { count: 1 }
              response { gateway = body.gateway }
        }
        """
    )
    runtime = lab(catalog)
    runtime.submit(order("O1", catalog, [line("L", site="S")]))
    runtime.start_background()
    try:
        wait_until(lambda: runtime.status("O1").item("L:ips").state == "fatally_failed")
    finally:
        runtime.stop()
    status = runtime.status("O1")
    number, ips = status.item("L:number"), status.item("L:ips")
    assert (number.state, number.attempt) == ("fatally_failed", 1)
    assert number.reason == (
        "Inv POST /numbers/reserve: the request mapping failed: "
        "cannot apply '+' to 'PORT-0001' and 1"
    )
    assert not [r for r in sims.inventory.requests() if r["path"] == "/numbers/reserve"]
    assert (ips.state, ips.attempt) == ("fatally_failed", 3)
    assert ips.reason == (
        "the answer of Inv POST /ips/allocate cannot be mapped: body.gateway is missing"
    )


def test_reasons_name_the_path_as_rendered_for_the_item(lab: Lab, sims: Sims) -> None:
    """The path as written (``/accounts/{line.site}``) did not say which line's request
    failed; only a path that cannot be rendered is shown as written."""
    catalog = compile_text(
        """
        system Bill { url env("BILL_URL") timeout 2s auth bearer env("NO_SUCH_TOKEN") }
        system Inv { url env("INV_URL") timeout 2s }
        cfs Line { attribute site: string }
        plan Line on add {
          callout open: Bill POST "/accounts/{line.site}" request { site: line.site }
          callout reserve: Inv POST "/ports/{line.site}" request { n: int(line.site) }
        }
        """
    )
    runtime = lab(catalog)
    runtime.submit(order("O1", catalog, [line("L", site="S 1")]))
    runtime.start_background()
    try:
        wait_until(lambda: runtime.status("O1").item("L:reserve").state == "fatally_failed")
        wait_until(lambda: runtime.status("O1").item("L:open").state == "fatally_failed")
    finally:
        runtime.stop()
    status = runtime.status("O1")
    assert status.item("L:open").reason == (
        "Bill POST /accounts/S%201: system Bill needs the environment variable NO_SUCH_TOKEN "
        "for its credentials, and it is not set"
    )
    reason = status.item("L:reserve").reason
    assert reason is not None
    assert reason.startswith("Inv POST /ports/S%201: the request mapping failed: "), reason


class NoContent(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_a_mapping_of_an_answer_without_a_body_says_it_had_none(lab: Lab, sims: Sims) -> None:
    catalog = compile_text(
        """
        system Inv { url env("INV_URL") timeout 2s retry none }
        cfs Line { attribute site: string }
        plan Line on add {
          callout reserve: Inv POST "/ports/reserve" response { port_id = body.port.id }
        }
        """
    )
    with loopback_http(NoContent) as server:
        runtime = lab(catalog, environ=sims.environ(INV_URL=url_of(server, "")))
        runtime.submit(order("O1", catalog, [line("L", site="S")]))
        assert run_until(runtime, "O1", DONE) == "held"
    assert runtime.status("O1").item("L:reserve").reason == (
        "the answer of Inv POST /ports/reserve cannot be mapped: it had no body (204)"
    )


def test_two_stores_running_an_order_with_the_same_id_send_different_keys(
    lab: Lab, sims: Sims, tmp_path: Path
) -> None:
    """Staging beside production, or a store made anew: the system deduplicated the second
    store's request by the first one's key, and gave order O1 the port of the other O1."""
    catalog = compile_text(
        """
        system Inv { url env("INV_URL") timeout 2s }
        cfs Line { attribute site: string }
        plan Line on add {
          callout reserve: Inv POST "/ports/reserve" request { technology: "FTTH" }
              response { port_id = body.port.id }
        }
        """
    )
    ports, keys = [], []
    for name in ("staging", "production"):
        (tmp_path / name).mkdir()
        runtime = lab(catalog, store=sqlite(tmp_path / name))
        runtime.submit(order("O1", catalog, [line("L", site="S")]))
        assert run_until(runtime, "O1", DONE) == "completed"
        ports.append(runtime.status("O1").item("L:reserve").outputs)
        keys.append(idempotency_key("O1", "L:reserve", runtime.installation_id))
    assert ports == [{"port_id": "PORT-0001"}, {"port_id": "PORT-0002"}]
    assert [r["key"] for r in sims.inventory.requests()] == keys
    assert [sims.inventory.effect_count(key) for key in keys] == [1, 1]
