"""Downstream end to end: orders whose items are HTTP callouts to the simulators, on SQLite.

Each order is one line with a chain of three callouts (inventory, network, billing), each
response feeding the next request, so one order costs three sequential simulator round trips.
The simulators run in a **separate process** (``python -m simulators all``) with a fixed
latency ``L`` per request, so their work does not compete with the runtime for the GIL.

Measured for 10 / 100 / 1,000 concurrent orders (all submitted, then ``run_until_idle``),
medians over repeats, a fresh SQLite store and freshly reset simulators each time:

- ``e2e``: submit + run, wall clock; orders/s and callouts/s from it;
- ``ideal``: the simulators' latency alone: ``orders x 3 x L / min(concurrency, orders)``
  (each order's chain is sequential, at most ``concurrency`` callouts are out at once);
- ``floor``: the in-run baseline, a bare ``httpx.AsyncClient`` loop sending the same requests
  with the same concurrency and the same chains (no store, no plans, no mappings);
- ``e2e/ideal`` (our overhead on top of the simulators' latency) and ``e2e/floor`` (our
  overhead on top of the HTTP plumbing and the simulators' own costs);
- ``e2e/sum``: end-to-end time over the plain sum of the simulators' latencies
  (``orders x 3 x L``), the issue's own measure: below 1 because callouts overlap;
- an async case (the network callout answers 202, the simulator calls back) at 100 orders;
- peak memory: tracemalloc peak of one extra run of the largest size, and the process's RSS.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from benchmarks import harness
from om_dsl.compiler.driver import compile_catalog
from om_dsl.ir import models as ir
from om_dsl.orders.models import Decomposition, FulfillmentLine, FulfillmentRequest
from om_dsl.runtime import Runtime, SqliteStore
from om_dsl.runtime.downstream import DownstreamSettings
from om_dsl.runtime.downstream.http import ssl_context

NAME = "downstream"
SIZES = (10, 100, 1_000)
QUICK_SIZES = (10, 100)
REPEATS = 3
LATENCY_MS = 20
CONCURRENCY = 16
"""Callouts in flight at once.  httpx's pool and the threaded simulators both degrade above
this on a 2-core machine (measured: 200 orders take 3.3 s at 16, 7.5 s at 128, floor alike)."""
CPU: dict[str, list[float]] = {}
"""CPU seconds of this process (runtime + HTTP client; the simulators run elsewhere) per case."""
CALLOUTS = 3
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
CATALOG = """catalog "Bench" version "1"
system Inv { url env("INV_URL") timeout 30s retry fixed 50ms max 3 }
system Net { url env("NET_URL") timeout 30s retry fixed 50ms max 3 }
system Bill { url env("BILL_URL") timeout 30s retry fixed 50ms max 3 }
cfs Line { attribute site: string }
plan Line on add {
  callout reserve: Inv POST "/generic/ports" request { site: line.site }
      response { port = body.id }
  callout activate: Net POST "/generic/activations" ASYNC request { port: reserve.port }
      response { activation = body.id } after reserve timeout 60s
  callout bill: Bill POST "/generic/subscriptions"
      request { account: line.site, activation: activate.activation }
      response { subscription = body.id } after activate
}
"""


@dataclass(frozen=True)
class Sims:
    urls: dict[str, str]

    def environ(self) -> dict[str, str]:
        return {"INV_URL": self.urls["INVENTORY"], "NET_URL": self.urls["NETWORK"],
                "BILL_URL": self.urls["BILLING"]}  # fmt: skip

    def reset(self) -> None:
        for name in ("INVENTORY", "NETWORK", "BILLING"):
            httpx.post(f"{self.urls[name]}/_sim/reset", timeout=30).raise_for_status()

    def requests(self) -> int:
        total = 0
        for name in ("INVENTORY", "NETWORK", "BILLING"):
            total += int(httpx.get(f"{self.urls[name]}/_sim/stats", timeout=30).json()["requests"])
        return total


@contextmanager
def simulators(latency_ms: int) -> Iterator[Sims]:
    """``python -m simulators all`` in its own process; stopped at the end."""
    env = {**os.environ, "PYTHONPATH": str(EXAMPLES)}
    process = subprocess.Popen(
        [sys.executable, "-m", "simulators", "all", "--latency-ms", str(latency_ms),
         "--callback-delay-ms", "0"],
        stdout=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        urls: dict[str, str] = {}
        assert process.stdout is not None
        while len(urls) < 4:
            line = process.stdout.readline()
            if not line:
                raise RuntimeError("the simulators did not start")
            name, _, url = line.strip().partition("=")
            urls[name.removesuffix("_URL")] = url
        yield Sims(urls)
    finally:
        process.terminate()
        process.wait(10)


def catalog(async_network: bool) -> ir.Catalog:
    text = CATALOG.replace(" ASYNC", " async" if async_network else "")
    result = compile_catalog("bench.om", text=text)
    assert result.catalog is not None, [d.headline() for d in result.diagnostics]
    return result.catalog


def orders(count: int, cat: ir.Catalog) -> list[Decomposition]:
    work = []
    for n in range(count):
        line = FulfillmentLine(id="L", product="Line", kind="cfs", scope="line", action="add",
                               attributes={"site": f"S{n}"}, source_items=["1"],
                               root_items=["1"], rules=[], request="fr:1")  # fmt: skip
        request = FulfillmentRequest(id="fr:1", root_item="1", lines=[line])
        work.append(Decomposition(order_id=f"B{n:05d}", catalog_hash=cat.content_hash,
                                  requests=[request]))  # fmt: skip
    return work


def run_runtime(sims: Sims, cat: ir.Catalog, count: int) -> float:
    """Submit ``count`` orders and run them to completion; returns the wall time."""
    sims.reset()
    work = orders(count, cat)
    with tempfile.TemporaryDirectory(prefix="om-bench-") as tmp:
        settings = DownstreamSettings(environ=sims.environ())
        runtime = Runtime(cat, store=SqliteStore(Path(tmp) / "om.db"), concurrency=CONCURRENCY,
                          downstream=settings)  # fmt: skip
        runtime.serve_callbacks()
        start, cpu = time.perf_counter(), time.process_time()
        for order in work:
            runtime.submit(order)
        runtime.run_until_idle()
        elapsed = time.perf_counter() - start
        CPU.setdefault(f"runtime-{count}", []).append(time.process_time() - cpu)
        _check(runtime, work)
        runtime.close()
    return elapsed


def _check(runtime: Runtime, work: list[Decomposition]) -> None:
    states = {r.state for r in runtime.orders()}
    if states != {"completed"} or len(runtime.orders()) != len(work):
        raise RuntimeError(f"the benchmark orders did not all complete: {states}")


def run_floor(sims: Sims, count: int) -> float:
    """The same chains of requests with a bare httpx client and the same concurrency."""
    sims.reset()
    cpu = time.process_time()
    elapsed = asyncio.run(_floor(sims, count))
    CPU.setdefault(f"floor-{count}", []).append(time.process_time() - cpu)
    return elapsed


async def _floor(sims: Sims, count: int) -> float:
    gate = asyncio.Semaphore(CONCURRENCY)
    paths = [
        (sims.urls["INVENTORY"], "/generic/ports"),
        (sims.urls["NETWORK"], "/generic/activations"),
        (sims.urls["BILLING"], "/generic/subscriptions"),
    ]
    limits = httpx.Limits(max_connections=CONCURRENCY)
    tls = ssl_context()  # as the runtime's clients: built once, not per client
    async with httpx.AsyncClient(limits=limits, timeout=30, trust_env=False, verify=tls) as client:

        async def chain(n: int) -> None:
            previous: Any = f"S{n}"
            for k, (base, path) in enumerate(paths):
                async with gate:
                    headers = {"Idempotency-Key": f"floor-{n}-{k}"}
                    answer = await client.post(base + path, json={"x": previous}, headers=headers)
                answer.raise_for_status()
                previous = answer.json()["id"]

        start = time.perf_counter()
        await asyncio.gather(*(chain(n) for n in range(count)))
        return time.perf_counter() - start


def latency_sum_s(count: int) -> float:
    """The simulators' latencies added up, as if every callout waited for the one before."""
    return count * CALLOUTS * LATENCY_MS / 1000


def ideal_s(count: int) -> float:
    return count * CALLOUTS * LATENCY_MS / 1000 / min(CONCURRENCY, count)


def main(argv: list[str]) -> int:
    args = harness.parse_args(NAME, argv, __doc__ or "")
    sizes = QUICK_SIZES if args.quick else SIZES
    repeats = args.repeats or (1 if args.quick else REPEATS)
    sync_catalog, async_catalog = catalog(False), catalog(True)
    rows, cases = [], []
    with simulators(LATENCY_MS) as sims:
        for count in sizes:
            timings = harness.time_interleaved(
                {
                    "runtime": lambda _m, c=count: run_runtime(sims, sync_catalog, c),
                    "floor": lambda _m, c=count: run_floor(sims, c),
                },
                repeats,
                warmup=0,
            )
            rows.append(_row(f"{count} orders", count, timings["runtime"], timings["floor"]))
            cases.append(_case(f"sync-{count}", count, timings["runtime"], timings["floor"]))
        async_count = 100
        CPU.clear()
        timings = harness.time_interleaved(
            {"runtime": lambda _m: run_runtime(sims, async_catalog, async_count),
             "floor": lambda _m: run_floor(sims, async_count)},
            repeats,
            warmup=0,
        )  # fmt: skip
        rows.append(_row("100 orders, async", async_count, timings["runtime"], timings["floor"]))
        cases.append(_case("async-100", async_count, timings["runtime"], timings["floor"]))
        _, peak = harness.peak_memory(lambda: run_runtime(sims, sync_catalog, sizes[-1]))
    headers = ["case", "e2e", "orders/s", "callouts/s", "ideal", "floor", "e2e/ideal",
               "e2e/floor", "e2e/sum", "cpu/callout", "floor cpu"]  # fmt: skip
    harness.print_table(
        f"downstream (L = {LATENCY_MS} ms, concurrency {CONCURRENCY})", headers, rows
    )
    print(f"peak memory of one {sizes[-1]}-order run: {harness.fmt_bytes(peak)} (tracemalloc), "
          f"max RSS {harness.fmt_bytes(harness.max_rss_bytes())}")  # fmt: skip
    if not args.no_write:
        data = {
            "latency_ms": LATENCY_MS,
            "concurrency": CONCURRENCY,
            "callouts_per_order": CALLOUTS,
            "cases": cases,
            "peak_bytes": peak,
            "max_rss_bytes": harness.max_rss_bytes(),
        }
        harness.write_result(NAME, data, quick=args.quick)
    return 0


def _row(name: str, count: int, ours: harness.Timing, floor: harness.Timing) -> list[str]:
    ideal = ideal_s(count)
    return [name, harness.fmt_s(ours.median), f"{ours.rate(count):.0f}",
            f"{ours.rate(count * CALLOUTS):.0f}", harness.fmt_s(ideal),
            harness.fmt_s(floor.median), f"{ours.median / ideal:.2f}",
            f"{ours.median / floor.median:.2f}", f"{ours.median / latency_sum_s(count):.3f}",
            harness.fmt_s(cpu_per_callout("runtime", count)),
            harness.fmt_s(cpu_per_callout("floor", count))]  # fmt: skip


def cpu_per_callout(case: str, count: int) -> float:
    """Median CPU seconds of this process per callout (the simulators' CPU is not counted)."""
    samples = CPU.get(f"{case}-{count}", [])
    return statistics.median(samples) / (count * CALLOUTS) if samples else 0.0


def _case(name: str, count: int, ours: harness.Timing, floor: harness.Timing) -> dict[str, Any]:
    ideal = ideal_s(count)
    return {
        "name": name,
        "orders": count,
        "callouts": count * CALLOUTS,
        "runtime": ours.to_dict(),
        "floor": floor.to_dict(),
        "ideal_s": round(ideal, 6),
        "orders_per_s": round(ours.rate(count), 1),
        "callouts_per_s": round(ours.rate(count * CALLOUTS), 1),
        "e2e_over_ideal": round(ours.median / ideal, 3),
        "e2e_over_floor": round(ours.median / floor.median, 3),
        "e2e_over_latency_sum": round(ours.median / latency_sum_s(count), 4),
        "cpu_per_callout_s": round(cpu_per_callout("runtime", count), 6),
        "floor_cpu_per_callout_s": round(cpu_per_callout("floor", count), 6),
    }


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
