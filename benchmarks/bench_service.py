"""The HTTP service (``om serve``): orders/s through ``POST /productOrder`` to completion.

Each order is one TMF622 product order whose single line runs a chain of three callouts to the
simulators (inventory, network, billing; each response feeds the next request).  The
simulators run in their own process (``python -m simulators all``), and so does the service
(``om serve`` on a fresh SQLite store for every run), so the benchmark process holds only the
clients: 1, 8 or 32 threads, each with its own keep-alive ``httpx.Client``, posting the orders
as fast as they are acknowledged.  A run ends when ``GET /productOrder?state=completed`` counts
every order (polled every 50 ms).

- ``orders/s``: orders / (first POST -> last completion), wall clock, median of the repeats;
- ``ack p50/p99``: the round trip of ``POST /productOrder`` (validate, decompose, plan, commit,
  answer 201), over every order of every repeat;
- ``embedded`` is the in-run baseline: the same orders, the same catalog, simulators and runtime
  concurrency, submitted by the same number of threads straight to ``runtime.submit`` in this
  process (read + decompose + plan + commit, as the service does), completions heard through
  ``runtime.add_listener``.  ``http/embedded`` is the ratio of the wall times: what the HTTP layer
  (FastAPI, uvicorn, JSON views, the client's requests) costs end to end;
- peak memory: the service process's peak RSS (``VmHWM``) after the 32-client run, next to the
  same figure for an idle ``om serve`` that has taken no order yet.

Runs are interleaved (every level, HTTP then embedded, once per repeat) so that load on the
shared machine hits both alike.
"""

from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from benchmarks import harness
from benchmarks.bench_downstream import Sims, simulators
from om_dsl.compiler.driver import compile_catalog
from om_dsl.ir import models as ir
from om_dsl.orders.decompose import Decomposer
from om_dsl.runtime import LifecycleEvent, Runtime, SqliteStore
from om_dsl.runtime.downstream import DownstreamSettings
from om_dsl.runtime.downstream.http import ssl_context

NAME = "service"
LEVELS = (1, 8, 32)
ORDERS = 200
QUICK_ORDERS = 40
REPEATS = 3
CONCURRENCY = 16
"""The runtime's concurrency (callouts in flight), as in bench_downstream."""
LATENCY_MS = 0
TOKEN = "bench-service-token-0123456789"
CATALOG = """catalog "BenchService" version "1"
system Inv { url env("INV_URL") timeout 30s retry fixed 50ms max 3 }
system Net { url env("NET_URL") timeout 30s retry fixed 50ms max 3 }
system Bill { url env("BILL_URL") timeout 30s retry fixed 50ms max 3 }
offer Broadband "Broadband" id "B1" { attribute site: string }
cfs Line { attribute site: string }
decompose Broadband { -> Line { site = site } }
plan Line on add {
  callout reserve: Inv POST "/generic/ports" request { site: line.site }
      response { port = body.id }
  callout activate: Net POST "/generic/activations" request { port: reserve.port }
      response { activation = body.id } after reserve
  callout bill: Bill POST "/generic/subscriptions"
      request { account: line.site, activation: activate.activation }
      response { subscription = body.id } after activate
}
"""


def order(n: int, run: str) -> dict[str, Any]:
    """A TMF622 product order of one Broadband item."""
    site = {"name": "site", "value": f"SITE-{n}"}
    item = {"id": "1", "action": "add", "productOffering": {"id": "B1"},
            "product": {"productCharacteristic": [site]}}  # fmt: skip
    return {"id": f"{run}-{n:05d}", "productOrderItem": [item], "@type": "ProductOrder"}


@dataclass
class Run:
    elapsed: float
    latencies: list[float]
    cpu: float
    """CPU seconds of the process that ran the orders (the service; the embedded runtime)."""
    client_cpu: float = 0.0
    """CPU seconds of this process's HTTP clients (HTTP runs only)."""
    peak_rss: int = 0
    idle_rss: int = 0


@dataclass
class Results:
    """Samples per case (``http-8``, ``embedded-32``)."""

    times: dict[str, list[float]] = field(default_factory=dict)
    latencies: dict[str, list[float]] = field(default_factory=dict)
    cpu: dict[str, list[float]] = field(default_factory=dict)
    client_cpu: dict[str, list[float]] = field(default_factory=dict)
    memory: list[tuple[int, int]] = field(default_factory=list)

    def add(self, case: str, run: Run) -> None:
        self.times.setdefault(case, []).append(run.elapsed)
        self.latencies.setdefault(case, []).extend(run.latencies)
        self.cpu.setdefault(case, []).append(run.cpu)
        self.client_cpu.setdefault(case, []).append(run.client_cpu)

    def timing(self, case: str) -> harness.Timing:
        return harness.Timing(tuple(self.times[case]))


# ---- the service in its own process ------------------------------------------------------------


@dataclass
class Service:
    url: str
    process: subprocess.Popen[bytes]

    def cpu(self) -> float:
        """CPU seconds (user + system) the service process used so far."""
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_peak(self) -> int:
        """VmHWM of the service process (its peak resident set so far), in bytes."""
        try:
            status = Path(f"/proc/{self.process.pid}/status").read_text()
        except OSError:
            return 0
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        return 0


@contextmanager
def service(sims: Sims, catalog_file: Path, folder: Path) -> Iterator[Service]:
    port = _free_port()
    env = {**os.environ, **sims.environ(), "OM_TOKENS": f"bench:{TOKEN}"}
    command = [sys.executable, "-m", "om_dsl.cli", "serve", "--catalog", str(catalog_file),
               "--db", str(folder / "om.db"), "--port", str(port), "--no-access-log",
               "--concurrency", str(CONCURRENCY)]  # fmt: skip
    process = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
    running = Service(f"http://127.0.0.1:{port}", process)
    try:
        _wait_ready(running)
        yield running
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)


def _wait_ready(running: Service, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if running.process.poll() is not None:
            raise RuntimeError("om serve exited before it was ready")
        try:
            if httpx.get(f"{running.url}/ready", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError("om serve was not ready in time")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ---- one run of each kind ----------------------------------------------------------------------


def run_http(sims: Sims, catalog_file: Path, clients: int, count: int, tag: str) -> Run:
    sims.reset()
    with (
        tempfile.TemporaryDirectory(prefix="om-bench-service-") as tmp,
        service(sims, catalog_file, Path(tmp)) as running,
        _clients(running.url, clients + 1) as pool,
    ):
        idle = running.rss_peak()
        orders = [order(n, tag) for n in range(count)]
        cpu, client_cpu = running.cpu(), time.process_time()
        start = time.perf_counter()
        latencies = _post_all(pool[1:], orders)
        _wait_completed(pool[0], count)
        elapsed = time.perf_counter() - start
        client_cpu = time.process_time() - client_cpu
        return Run(elapsed, latencies, running.cpu() - cpu, client_cpu, running.rss_peak(), idle)


@contextmanager
def _clients(url: str, count: int) -> Iterator[list[httpx.Client]]:
    """Keep-alive clients made before the clock starts, sharing one TLS context (building one
    per client costs ~80 ms of CPU, which would compete with the service being measured)."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    made = [httpx.Client(base_url=url, headers=headers, timeout=60, verify=ssl_context(),
                         trust_env=False) for _ in range(count)]  # fmt: skip
    try:
        yield made
    finally:
        for client in made:
            client.close()


def _post_all(clients: list[httpx.Client], orders: list[dict[str, Any]]) -> list[float]:
    """Each client posts its share of the orders, one after the other, in its own thread."""

    def post(mine: list[dict[str, Any]], client: httpx.Client) -> list[float]:
        took = []
        for body in mine:
            began = time.perf_counter()
            answer = client.post("/productOrder", json=body)
            took.append(time.perf_counter() - began)
            if answer.status_code != 201:
                raise RuntimeError(f"POST /productOrder: {answer.status_code} {answer.text}")
        return took

    shares = [orders[k :: len(clients)] for k in range(len(clients))]
    with ThreadPoolExecutor(len(clients)) as pool:
        return [t for part in pool.map(post, shares, clients) for t in part]


def _wait_completed(client: httpx.Client, count: int, timeout: float = 300.0) -> None:
    params = {"state": "completed", "limit": 1, "fields": "state"}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = client.get("/productOrder", params=params).headers["x-total-count"]
        if int(done) >= count:
            return
        time.sleep(0.05)
    raise RuntimeError(f"the orders did not complete within {timeout} s")


def run_embedded(sims: Sims, cat: ir.Catalog, clients: int, count: int, tag: str) -> Run:
    """The baseline: the same orders straight into an embedded runtime."""
    sims.reset()
    decomposer = Decomposer(cat)
    with tempfile.TemporaryDirectory(prefix="om-bench-service-") as tmp:
        settings = DownstreamSettings(environ=sims.environ())
        runtime = Runtime(cat, store=SqliteStore(Path(tmp) / "om.db"), concurrency=CONCURRENCY,
                          downstream=settings)  # fmt: skip
        completed = _counter(runtime, count)
        runtime.start_background()
        try:
            start, cpu = time.perf_counter(), time.process_time()
            latencies = _submit_all(runtime, decomposer, [order(n, tag) for n in range(count)],
                                    clients)  # fmt: skip
            if not completed.wait(300):
                raise RuntimeError("the embedded orders did not complete")
            elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        finally:
            runtime.close()
    return Run(elapsed, latencies, cpu)


def _counter(runtime: Runtime, count: int) -> threading.Event:
    done = threading.Event()
    seen = [0]

    def hear(event: LifecycleEvent) -> None:
        if event.completed:
            seen[0] += 1
            if seen[0] >= count:
                done.set()

    runtime.add_listener(hear)
    return done


def _submit_all(
    runtime: Runtime, decomposer: Decomposer, orders: list[dict[str, Any]], clients: int
) -> list[float]:
    """As :func:`_post_all`: each thread submits its share, one after the other."""

    def submit(mine: list[dict[str, Any]]) -> list[float]:
        took = []
        for body in mine:
            began = time.perf_counter()
            valid = decomposer.read(body)
            runtime.submit(decomposer.decompose(valid), valid)
            took.append(time.perf_counter() - began)
        return took

    shares = [orders[k::clients] for k in range(clients)]
    with ThreadPoolExecutor(clients) as pool:
        return [t for part in pool.map(submit, shares) for t in part]


# ---- the benchmark ----------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    args = harness.parse_args(NAME, argv, __doc__ or "")
    count = QUICK_ORDERS if args.quick else ORDERS
    repeats = args.repeats or (1 if args.quick else REPEATS)
    result = compile_catalog("bench.om", text=CATALOG)
    assert result.catalog is not None, [d.headline() for d in result.diagnostics]
    results = Results()
    with (
        tempfile.TemporaryDirectory(prefix="om-bench-catalog-") as tmp,
        simulators(LATENCY_MS) as sims,
    ):
        catalog_file = Path(tmp) / "bench.om"
        catalog_file.write_text(CATALOG, encoding="utf-8")
        for repeat in range(repeats):
            _one_round(results, sims, catalog_file, result.catalog, count, repeat)
    _report(results, count, repeats, args)
    return 0


def _one_round(
    results: Results, sims: Sims, catalog_file: Path, cat: ir.Catalog, count: int, repeat: int
) -> None:
    for clients in LEVELS:
        tag = f"R{repeat}C{clients}"
        http = run_http(sims, catalog_file, clients, count, tag)
        results.add(f"http-{clients}", http)
        if clients == LEVELS[-1]:
            results.memory.append((http.peak_rss, http.idle_rss))
        results.add(f"embedded-{clients}", run_embedded(sims, cat, clients, count, tag))
        print(f"  repeat {repeat + 1}, {clients} client(s): http {harness.fmt_s(http.elapsed)}, "
              f"embedded {harness.fmt_s(results.times[f'embedded-{clients}'][-1])}",
              flush=True)  # fmt: skip


def _report(results: Results, count: int, repeats: int, args: Any) -> None:
    rows, cases = [], []
    for clients in LEVELS:
        http, embedded = results.timing(f"http-{clients}"), results.timing(f"embedded-{clients}")
        ack = _percentiles(results.latencies[f"http-{clients}"])
        base_ack = _percentiles(results.latencies[f"embedded-{clients}"])
        cpu = {name: _per_order(values, f"{kind}-{clients}", count) for name, values, kind in
               (("service", results.cpu, "http"), ("client", results.client_cpu, "http"),
                ("embedded", results.cpu, "embedded"))}  # fmt: skip
        rows.append([f"{clients} client(s)", f"{http.rate(count):.0f}",
                     f"{embedded.rate(count):.0f}", f"{http.median / embedded.median:.2f}",
                     harness.fmt_s(ack[0]), harness.fmt_s(ack[1]), harness.fmt_s(base_ack[0]),
                     harness.fmt_s(base_ack[1]), harness.fmt_s(cpu["service"]),
                     harness.fmt_s(cpu["client"]), harness.fmt_s(cpu["embedded"]),
                     f"{max(http.spread, embedded.spread):.0%}"])  # fmt: skip
        cases.append(
            _case(clients, count, http, embedded, ack, base_ack)
            | {f"{name}_cpu_per_order_s": round(value, 6) for name, value in cpu.items()}
        )
    peak, idle = (int(statistics.median(v)) for v in zip(*results.memory, strict=True))
    headers = ["clients", "http orders/s", "embedded orders/s", "http/embedded", "ack p50",
               "ack p99", "submit p50", "submit p99", "service cpu/order", "client cpu/order",
               "embedded cpu/order", "spread"]  # fmt: skip
    harness.print_table(f"service ({count} orders per run, 3 callouts each, medians of "
                        f"{repeats})", headers, rows)  # fmt: skip
    print(f"service peak RSS after the {LEVELS[-1]}-client run: {harness.fmt_bytes(peak)} "
          f"(idle om serve: {harness.fmt_bytes(idle)})")  # fmt: skip
    if not args.no_write:
        data = {"orders_per_run": count, "callouts_per_order": 3, "runtime_concurrency":
                CONCURRENCY, "latency_ms": LATENCY_MS, "cases": cases,
                "service_peak_rss_bytes": peak, "service_idle_rss_bytes": idle}  # fmt: skip
        harness.write_result(NAME, data, quick=args.quick)


def _per_order(samples: dict[str, list[float]], case: str, count: int) -> float:
    """Median CPU seconds per order of one case."""
    return statistics.median(samples[case]) / count


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def _case(
    clients: int,
    count: int,
    http: harness.Timing,
    embedded: harness.Timing,
    ack: tuple[float, float],
    base_ack: tuple[float, float],
) -> dict[str, Any]:
    return {
        "clients": clients,
        "http": http.to_dict(),
        "embedded": embedded.to_dict(),
        "http_orders_per_s": round(http.rate(count), 1),
        "embedded_orders_per_s": round(embedded.rate(count), 1),
        "http_over_embedded": round(http.median / embedded.median, 3),
        "ack_p50_s": round(ack[0], 6),
        "ack_p99_s": round(ack[1], 6),
        "embedded_submit_p50_s": round(base_ack[0], 6),
        "embedded_submit_p99_s": round(base_ack[1], 6),
    }


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
