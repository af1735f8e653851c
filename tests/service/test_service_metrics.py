"""``GET /metrics``: Prometheus's text format, from counts the store answers with a GROUP BY
each (orders, items of unfinished orders, notifications by state), counters since start
(callouts by system and outcome, requests turned away), the store's size and whether the
runtime runs; with the token of the other read routes."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from service_support import REPO, Running, acme, order_json, wait_state

from om_dsl.runtime import MemoryStore, Runtime
from om_dsl.service.metrics import exposition

SAMPLE = re.compile(r"^(\w+)(?:\{(.*)\})? (\S+)$")


def _samples(text: str) -> dict[str, float]:
    """``name{labels}`` -> value, every line checked against the format."""
    found = {}
    for line in text.splitlines():
        if line.startswith("# "):
            assert re.match(r"^# (HELP|TYPE) \w+ ", line), line
            continue
        match = SAMPLE.match(line)
        assert match, line
        name, labels, value = match.groups()
        found[f"{name}{{{labels}}}" if labels else name] = float(value)
    return found


def test_metrics_say_what_an_operator_alerts_on(service: Callable[..., Running], sims: Any) -> None:
    running = service()
    api = running.client()
    sims.billing.configure(status=400)  # a permanent status: fallout at once
    assert api.post("/productOrder", json=order_json("fibre-modify")).status_code == 201
    assert wait_state(api, "ORD-1002", {"held"}) == "held"
    answer = api.get("/metrics")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert "# TYPE om_callouts_total counter" in answer.text
    got = _samples(answer.text)
    assert got['om_orders{state="held"}'] == 1 and got['om_orders{state="completed"}'] == 0
    assert got['om_items{state="fatally_failed"}'] == 1
    assert got['om_items{state="on_hold"}'] == 0 and got['om_items{state="waiting"}'] == 0
    assert got['om_notifications{state="abandoned"}'] == 0
    assert got['om_callouts_total{system="Billing",outcome="failed"}'] == 1
    assert got['om_callouts_total{system="Inventory",outcome="ok"}'] >= 1
    assert got["om_requests_turned_away_total"] == 0
    assert got["om_store_bytes"] > 0 and got["om_runtime_up"] == 1
    assert running.client(token="").get("/metrics").status_code == 401  # as /fallout
    assert api.get("/metrics", params={"x": "1"}).status_code == 400


DOC = (REPO / "docs" / "service.md").read_text(encoding="utf-8")
METRICS = DOC[DOC.index("### Metrics\n") : DOC.index("`GET /health` answers 200")]


def test_the_documented_metrics_are_the_ones_served(
    service: Callable[..., Running], sims: Any
) -> None:
    """The example's series (three Billing orders in fallout) are what a scrape shows, and
    the table names every metric."""
    api = service().client()
    sims.billing.configure(status=400)
    for order_id in ("F-1", "F-2", "F-3"):
        assert (
            api.post("/productOrder", json=order_json("fibre-modify", id=order_id)).status_code
            == 201
        )
        assert wait_state(api, order_id, {"held"}) == "held"
    got = _samples(api.get("/metrics").text)
    (example,) = re.findall(r"```text\n(.*?)```", METRICS, re.S)
    for name, value in _samples(example).items():
        assert name in got, name
        if name != "om_store_bytes":
            assert got[name] == value, name
    served = {name.split("{")[0] for name in got}
    assert served == set(re.findall(r"^\| `(\w+)", METRICS, re.M))


def test_a_hosts_own_store_without_counts_still_runs_and_is_scraped() -> None:
    """A store written before ``count_orders``/``count_items``: its runtime starts, and the
    metrics leave out those series rather than claim zeros."""

    class OldStore:
        def __getattr__(self, name: str) -> object:
            if name in ("count_orders", "count_items"):
                raise AttributeError(name)
            return getattr(self._inner, name)

        def __init__(self) -> None:
            self._inner = MemoryStore()

    with Runtime(acme(), store=OldStore()) as runtime:  # type: ignore[arg-type]
        got = _samples(exposition(runtime))
    assert not [name for name in got if name.startswith(("om_orders", "om_items"))]
    assert got['om_notifications{state="pending"}'] == 0 and "om_store_bytes" not in got
