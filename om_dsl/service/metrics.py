"""``GET /metrics``: the service's state in Prometheus's text format, for scraping.

Written by hand (the format is a few lines of text; ``prometheus_client`` would be a new
dependency for a registry this service does not need) from counts the store answers with
one ``GROUP BY`` each: orders by state, the items of unfinished orders by state, the
outbox's notifications by state.  Nothing loads an order, so a scrape costs milliseconds
whatever the store holds (docs/service.md, "Metrics").  Counters since the process started:
callouts by system and outcome, requests turned away (``serviceBusy``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

from om_dsl.runtime.runtime import Runtime
from om_dsl.runtime.states import ACTIVE_ORDER_STATES, ItemState, OrderState
from om_dsl.service.slow_clients import BUSY_LOG

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
WATCHED_ITEMS = (ItemState.FATALLY_FAILED, ItemState.ON_HOLD, ItemState.WAITING)
"""Item states that always have a series (0 included), so an alert on them has data."""
NOTIFICATION_STATES = ("pending", "delivered", "abandoned")
Sample = tuple[Mapping[str, str], float]


def exposition(runtime: Runtime) -> str:
    """Every metric, in Prometheus's text exposition format (0.0.4)."""
    orders = _counted(runtime.store, "count_orders")
    items = _counted(runtime.store, "count_items", ACTIVE_ORDER_STATES)
    outbox = runtime.notifications.counts()
    callouts = runtime.systems.callouts.counts()
    parts = [
        _metric("om_orders", "gauge", "Orders in the store, by TMF622 state.",
                _by("state", orders, [s.value for s in OrderState])),
        _metric("om_items", "gauge",
                "Items of unfinished orders, by state (fatally_failed: in fallout).",
                _by("state", items, [s.value for s in WATCHED_ITEMS])),
        _metric("om_notifications", "gauge", "Notifications in the outbox, by state.",
                _by("state", outbox, NOTIFICATION_STATES)),
        _metric("om_callouts_total", "counter",
                "Callouts since the service started, by system and outcome.",
                [({"system": system, "outcome": outcome}, n)
                 for (system, outcome), n in sorted(callouts.items())]),
        _metric("om_requests_turned_away_total", "counter",
                "Requests answered 503 serviceBusy since the service started.",
                [({}, BUSY_LOG.total)]),
        _metric("om_store_bytes", "gauge", "Size of the SQLite store and its -wal file.",
                _store_size(getattr(runtime.store, "path", None))),
        _metric("om_runtime_up", "gauge", "1 while the runtime's loop runs, else 0.",
                [({}, 1 if runtime.running and runtime.failure is None else 0)]),
    ]  # fmt: skip
    return "".join(parts)


def _counted(store: object, method: str, *args: object) -> dict[str, int] | None:
    """The store's counts, None when it has no such method: a host's own ``Store`` written
    before them still runs (and is scraped), without those series."""
    count = getattr(store, method, None)
    return count(*args) if callable(count) else None


def _by(label: str, counts: Mapping[str, int] | None, always: Iterable[str]) -> list[Sample]:
    """One sample per value: those in ``always`` (0 when absent), then any other found;
    none when the counts are unknown (a zero would be a lie)."""
    if counts is None:
        return []
    names = list(dict.fromkeys([*always, *sorted(counts)]))
    return [({label: name}, counts.get(name, 0)) for name in names]


def _store_size(path: object) -> list[Sample]:
    """None for a store that is no file (a ``MemoryStore``): no sample then."""
    if not isinstance(path, str):
        return []
    size = 0
    for name in (path, path + "-wal"):
        try:
            size += os.stat(name).st_size
        except OSError:  # no -wal at the moment (checkpointed, closed)
            continue
    return [({}, size)]


def _metric(name: str, kind: str, text: str, samples: list[Sample]) -> str:
    lines = [f"# HELP {name} {text}", f"# TYPE {name} {kind}"]
    lines += [f"{name}{_labels(labels)} {value:g}" for labels, value in samples]
    return "\n".join(lines) + "\n"


def _labels(labels: Mapping[str, str]) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{key}="{_escaped(value)}"' for key, value in labels.items())
    return "{" + inner + "}"


def _escaped(value: str) -> str:
    """A label value as the format writes it: backslash, double quote and line feed escaped."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
