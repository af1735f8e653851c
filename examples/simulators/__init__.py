"""Downstream-system simulators for om_dsl: billing, inventory, network and a webhook listener.

Real HTTP servers on 127.0.0.1, idempotency-aware and fault-injectable, so that the runtime's
callouts, retries, async callbacks and notifications are tested over real connections::

    from simulators import start_all, Listener

    sims = start_all(token="s3cret")
    with Listener() as listener:
        ...  # point the catalog's systems at sims["billing"].url etc.
    stop_all(sims)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from . import billing, inventory, network
from .base import Simulator
from .core import (
    CALLBACK_URL,
    CORRELATION_ID,
    IDEMPOTENCY_KEY,
    PREFER,
    SIM_FAULT,
    HttpError,
    Reply,
    Request,
)
from .faults import SimConfig
from .listener import Listener
from .routing import Route
from .server import LoopbackServer

# In the order of the example catalog's default ports (8101, 8102, 8103; the listener 8104), so
# that `python -m simulators all --port 8101` needs no URL overrides.
SYSTEMS: dict[str, Callable[[SimConfig | None], Simulator]] = {
    inventory.NAME: inventory.create,
    billing.NAME: billing.create,
    network.NAME: network.create,
}


def create(system: str, **config: Any) -> Simulator:
    """A simulator for ``system`` (``billing``, ``inventory`` or ``network``), not started."""
    if system not in SYSTEMS:
        raise ValueError(f"unknown system {system!r}; expected one of {sorted(SYSTEMS)}")
    return SYSTEMS[system](SimConfig().merged(config))


def start(system: str, port: int = 0, **config: Any) -> Simulator:
    """Create and start one simulator on ``port`` (0 = a free port)."""
    return create(system, **config).start(port)


def start_all(*, ports: Mapping[str, int] | None = None, **config: Any) -> dict[str, Simulator]:
    """Start billing, inventory and network with the same config; stops them all on failure."""
    started: dict[str, Simulator] = {}
    try:
        for name in SYSTEMS:
            started[name] = start(name, (ports or {}).get(name, 0), **config)
    except BaseException:
        stop_all(started.values())
        raise
    return started


def stop_all(simulators: Mapping[str, LoopbackServer] | Iterable[LoopbackServer]) -> None:
    """Stop every simulator or listener (dict values or any iterable)."""
    items = simulators.values() if isinstance(simulators, Mapping) else simulators
    for simulator in list(items):
        simulator.stop()


__all__ = [
    "CALLBACK_URL",
    "CORRELATION_ID",
    "IDEMPOTENCY_KEY",
    "PREFER",
    "SIM_FAULT",
    "SYSTEMS",
    "HttpError",
    "Listener",
    "LoopbackServer",
    "Reply",
    "Request",
    "Route",
    "SimConfig",
    "Simulator",
    "create",
    "start",
    "start_all",
    "stop_all",
]
