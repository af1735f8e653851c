"""What a callback body says: a failure in each of the shapes systems write it in, or a result
to map.  The network simulator answers ``202`` and is slow to call back; the test posts the
system's callback itself, over HTTP, to the runtime's own callback listener."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from downstream_support import Sims, compile_text, lab_order, wait_until

from om_dsl import UnmappableCallback
from om_dsl.runtime import Runtime
from om_dsl.runtime.kinds.callout import callback_failure

Lab = Callable[..., Runtime]
ITEM = "L:activate"
CATALOG = """
system Net "Network" { url env("NET_URL") timeout 2s retry none }
cfs Line { attribute site: string  attribute technology: string }
plan Line on add {
  callout activate: Net POST "/generic/activations/{line.site}" async
      request { technology: line.technology }
      response { activation_id = body.activation.id }
      timeout 30s
}
"""
LABEL = "the callback of Net POST /generic/activations/S%201"


def waiting(lab: Lab, sims: Sims, catalog: str = CATALOG) -> tuple[Runtime, str]:
    """O1 running, its activation waiting for the callback; the URL the system calls back."""
    sims.network.configure(callback_delay_ms=60_000)
    compiled = compile_text(catalog)
    runtime = lab(compiled)
    runtime.submit(lab_order("O1", compiled, site="S 1"))
    runtime.start_background()
    wait_until(lambda: runtime.status("O1").item(ITEM).state == "waiting")
    (request,) = sims.network.requests()
    return runtime, str(request["headers"]["X-Callback-Url"])


def settled(runtime: Runtime) -> Any:
    wait_until(lambda: runtime.status("O1").item(ITEM).state != "waiting")
    runtime.stop()
    return runtime.status("O1").item(ITEM)


FAILURES: list[tuple[dict[str, Any], str]] = [
    ({"status": "failed", "reason": "OLT down"}, "OLT down"),
    ({"status": "Rejected", "message": "OLT down"}, "OLT down"),
    ({"state": "failed", "reason": "OLT down"}, "OLT down"),
    ({"state": "FAILURE", "error": "OLT down"}, "OLT down"),
    ({"error": "OLT down"}, "OLT down"),
    ({"status": "completed", "error": "OLT down"}, "OLT down"),
    ({"error": {"code": 7, "text": "OLT down"}}, '{"code":7,"text":"OLT down"}'),
    ({"status": "error", "reason": {"code": 7, "text": "é"}}, '{"code":7,"text":"é"}'),
    ({"error": True}, "true"),
    ({"state": "failed"}, "no reason given"),
    # one line that shows as it is: a newline forged a line of the log, an ESC repainted it
    ({"error": "OLT\r\n2026-11-28 INFO forged\u2028x"}, "OLT 2026-11-28 INFO forged x"),
    ({"error": "OLT \x1b[31mred\u202e"}, "OLT \\x1b[31mred\\u202e"),
]


@pytest.mark.parametrize(("payload", "reason"), FAILURES)
def test_a_failure_is_read_from_status_state_or_error(payload: dict[str, Any], reason: str) -> None:
    assert callback_failure(payload) == reason


@pytest.mark.parametrize(
    "payload",
    [
        {"status": "completed", "activation": {"id": "A1"}},
        {"state": "active", "activation": {"id": "A1"}},
        {"error": None},
        {"error": ""},
        {"error": False},
        {"error": {}},
        {"error": 0},
        {"state": 3, "status": ["failed"]},
        {"reason": "no error member, no failed status"},
    ],
)
def test_a_callback_without_such_a_member_reports_no_failure(payload: dict[str, Any]) -> None:
    assert callback_failure(payload) is None


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({"state": "failed", "reason": "OLT down"}, "OLT down"),
        ({"error": {"code": 7, "text": "OLT down"}}, '{"code":7,"text":"OLT down"}'),
    ],
)
def test_a_tmf_style_or_error_callback_fails_the_item(
    lab: Lab, sims: Sims, payload: dict[str, Any], reason: str
) -> None:
    """Both shapes completed the item (its mapping may not even read the body) before."""
    runtime, url = waiting(lab, sims, CATALOG.replace("body.activation.id", '"none"'))
    answer = httpx.post(url, json={**payload, "activation": {"id": "A1"}})
    assert (answer.status_code, answer.json()["result"]) == (200, "resolved")
    item = settled(runtime)
    assert (item.state, item.outputs) == ("fatally_failed", None)
    assert item.reason == f"{LABEL} reports a failure: {reason}"


def test_an_error_member_that_is_null_does_not_fail_the_item(lab: Lab, sims: Sims) -> None:
    runtime, url = waiting(lab, sims)
    answer = httpx.post(url, json={"error": None, "activation": {"id": "A1"}})
    assert answer.status_code == 200, answer.text
    item = settled(runtime)
    assert (item.state, item.outputs) == ("completed", {"activation_id": "A1"})


def test_a_callback_that_cannot_be_mapped_is_answered_422_and_fails_the_attempt(
    lab: Lab, sims: Sims
) -> None:
    runtime, url = waiting(lab, sims)
    answer = httpx.post(url, json={"foo": 1})
    reason = f"{LABEL} cannot be mapped: body.activation.id is missing"
    assert (answer.status_code, answer.json()) == (422, {"error": reason})
    item = settled(runtime)
    assert (item.state, item.reason) == ("fatally_failed", reason)
    assert httpx.post(url, json={"foo": 1}).status_code == 404  # the token is used


def test_runtime_callback_raises_for_a_result_it_cannot_map_after_applying_it(
    lab: Lab, sims: Sims
) -> None:
    runtime, url = waiting(lab, sims)
    with pytest.raises(UnmappableCallback, match=r"body\.activation\.id is missing"):
        runtime.callback(url.rsplit("/", 1)[1], {"foo": 1})
    assert settled(runtime).state == "fatally_failed"


def test_an_async_timeout_names_the_request_and_says_a_late_callback_still_completes_it(
    lab: Lab, sims: Sims
) -> None:
    runtime, url = waiting(lab, sims, CATALOG.replace("timeout 30s", "timeout 300ms"))
    wait_until(lambda: runtime.status("O1").item(ITEM).state == "fatally_failed")
    item = runtime.status("O1").item(ITEM)
    assert item.reason == (
        "Net POST /generic/activations/S%201: timed out after 300 ms with no callback; its "
        "outcome is unknown (Net may still do it, and a late callback still completes the item)"
    )
    answer = httpx.post(url, json={"activation": {"id": "A1"}})  # as the reason says
    assert (answer.status_code, answer.json()["result"]) == (200, "resolved")
    item = settled(runtime)
    assert (item.state, item.outputs) == ("completed", {"activation_id": "A1"})


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32"])
def test_a_callback_that_is_not_utf8_is_a_400_and_the_item_still_waits(
    lab: Lab, sims: Sims, encoding: str
) -> None:
    """A UTF-16 callback completed its item (Python's reader takes UTF-16); the service's
    own bodies refuse it (S010), and so does the callback now, by the same check."""
    runtime, url = waiting(lab, sims)
    sent = json.dumps({"activation": {"id": "A1"}}).encode(encoding)
    answer = httpx.post(url, content=sent, headers={"Content-Type": "application/json"})
    assert answer.status_code == 400, answer.text
    assert answer.json() == {
        "error": "the callback body is refused: body: [S010] not valid JSON: the body is not "
        "UTF-8 text (UTF-16 and UTF-32 are refused)",
        "code": "S010",
    }
    assert runtime.status("O1").item(ITEM).state == "waiting"  # the token is not used
    with_bom = json.dumps({"activation": {"id": "A1"}}).encode("utf-8-sig")
    assert httpx.post(url, content=with_bom).status_code == 200  # RFC 8259: a BOM may be
    assert settled(runtime).outputs == {"activation_id": "A1"}


def test_a_callback_that_gives_a_key_twice_is_a_400_naming_it(lab: Lab, sims: Sims) -> None:
    """``{"status": "failed", ..., "status": "completed"}`` completed the item with the last
    value, where the system's own log (a reader that keeps the first) saw a failure."""
    runtime, url = waiting(lab, sims)
    twice = (
        '{"status": "failed", "reason": "OLT down", "activation": {"id": "A1", "id": "A2"}, '
        '"status": "completed"}'
    )
    answer = httpx.post(url, content=twice)
    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == "S026"
    error = answer.json()["error"]
    assert error.startswith(
        "the callback body is refused: body.activation.id: [S026] the key 'id' is given 2 "
        "times in this object; give it once (JSON readers disagree on which value counts); "
        "body.status: [S026] the key 'status' is given 2 times"
    ), error
    assert runtime.status("O1").item(ITEM).state == "waiting"
    assert httpx.post(url, json={"activation": {"id": "A1"}}).status_code == 200
    assert settled(runtime).outputs == {"activation_id": "A1"}
