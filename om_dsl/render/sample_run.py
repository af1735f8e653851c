"""A scripted, deterministic run of an example order, so the live view has something to show.

The docs' live diagram and the live-view tests need an order caught mid-flight with varied
states, and the same picture on every run.  Here the real runtime runs an order on a
:class:`~om_dsl.runtime.MemoryStore` with a frozen clock, no-op handlers, and callouts that
answer from a script (completed, on hold, or failed) instead of calling any system.  Manual
tasks go through the real task queues (``runtime.tasks``).

The default script, on ``home-trio-tv.json``: the access line is installed by a technician a
day later, so its point of no return is passed; one voice line's billing is on hold (Billing
offline), the other's was refused twice (fatally failed, the order is held); the TV boxes'
installation is hours past its expected duration: in jeopardy.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from om_dsl.ir import models as ir
from om_dsl.orders.decompose import Decomposer
from om_dsl.runtime.builder import build_plan
from om_dsl.runtime.context import ItemContext
from om_dsl.runtime.handlers import HandlerRegistry
from om_dsl.runtime.kinds.base import ItemKind, KindRegistry
from om_dsl.runtime.outcomes import Completed, Failed, OnHold, Outcome
from om_dsl.runtime.runtime import Runtime
from om_dsl.runtime.store.base import Store
from om_dsl.runtime.store.memory import MemoryStore

HOUR = 3600.0
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC).timestamp()
SAMPLE_ORDER = "home-trio-tv.json"
BILLING_REFUSED = Failed("Billing answered 409: a voice subscription exists already", True)
BILLING_OFFLINE = OnHold("system Billing is offline", key="system:Billing")


@dataclass
class FrozenClock:
    """The runtime's clock: it moves only when the script says so."""

    now: float = START

    def __call__(self) -> float:
        return self.now


class ScriptedCallouts(ItemKind):
    """Callouts that call nothing: each answers what the script says (default: completed)."""

    def __init__(self, script: Mapping[str, Outcome]) -> None:
        self.script = dict(script)

    def start_now(self, ctx: ItemContext) -> Outcome | None:
        return self.script.get(ctx.item_id, Completed({}))

    async def start(self, ctx: ItemContext) -> Outcome:
        return self.script.get(ctx.item_id, Completed({}))


@dataclass(frozen=True, slots=True)
class SampleRun:
    """The runtime after the script (still open), the order's id, and the time to draw at."""

    runtime: Runtime
    order_id: str
    now: float


@contextmanager
def sample_run(
    catalog: ir.Catalog, orders: Path, store: Store | None = None
) -> Iterator[SampleRun]:
    """Run the sample order of ``orders`` (a folder) to its scripted point, on ``store``
    (default: a new memory store); the runtime and its store are closed afterwards."""
    order_path = orders / SAMPLE_ORDER
    decomposer = Decomposer(catalog)
    order = decomposer.read(order_path.read_bytes())
    plan = build_plan(catalog, decomposer.decompose(order), order)
    clock = FrozenClock()
    runtime = Runtime(
        catalog,
        store=store if store is not None else MemoryStore(),
        handlers=_no_op_handlers(catalog),
        kinds=KindRegistry({"callout": ScriptedCallouts(_script())}),
        clock=clock,
    )
    try:
        # as the scripted hold says: a runtime releases what it holds for a system online
        runtime.systems.set_offline("Billing", True, by="ops")
        runtime.submit(plan)  # without the order: its notify URLs must not be called
        _play(runtime, plan.order_id, clock)
        yield SampleRun(runtime, plan.order_id, START + 34 * HOUR)
    finally:
        runtime.close()


def _script() -> dict[str, Outcome]:
    return {
        "voice[1]/VoiceService:subscribe": BILLING_OFFLINE,
        "voice[2]/VoiceService:subscribe": BILLING_REFUSED,
    }


def _no_op_handlers(catalog: ir.Catalog) -> HandlerRegistry:
    """An inline handler that does nothing for every ``auto`` item of the catalog."""
    registry = HandlerRegistry()
    names = {i.handler for p in catalog.plans for i in p.items if isinstance(i, ir.AutoItem)}
    for name in sorted(names):
        registry.register(name, lambda ctx: {}, inline=True)
    return registry


def _play(runtime: Runtime, order_id: str, clock: FrozenClock) -> None:
    """Day 1 08:00 submit; day 2 11:00 the technician installs the line; 11:10 an operator
    retries the refused billing once more; the picture is taken at day 2 18:00."""
    runtime.run_until_idle()
    clock.now = START + 27 * HOUR
    install = "order/AccessLine:install"
    runtime.tasks.claim(order_id, install, "tech.anna")
    runtime.tasks.complete(order_id, install, {"ont_serial": "ONT-77812"}, user="tech.anna")
    runtime.run_until_idle()
    clock.now += HOUR / 6
    runtime.retry(order_id, "voice[2]/VoiceService:subscribe")
    runtime.run_until_idle()
