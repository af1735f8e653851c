"""Runtime throughput: generated plans of 1k, 10k and 100k items, against graphlib and Spiff.

The workload has the shape of real orders: orders of 100 lines (one order-wide access line and
99 service lines over 33 root items), each line a small DAG of 10 tasks (a fork, a join and a
chain), with cross-line dependencies (every service waits for the access line, services of a
root item wait for each other).  Size N runs N/1000 such orders.  Handlers are no-ops.

Measured, as medians over repeats taken round-robin:

- ``memory`` / ``sqlite``: ``Runtime`` on :class:`MemoryStore` / :class:`SqliteStore` (a fresh
  file).  ``submit`` = building and persisting the plans; ``run`` = executing them
  (``run_until_idle``); items/s is reported for ``run`` and for both together.
- ``graphlib``: a bare ``graphlib.TopologicalSorter`` loop over the same DAG, the floor.
- ``spiff``: SpiffWorkflow runs each order's DAG as BPMN (parallel gateways for forks and
  joins, a host loop running the ready tasks), with and without serializing the workflow after
  every task.  It degrades superlinearly on wide shapes, so it runs only where it finishes within
  a time budget; the table says where it did not.
- ``ready->running``: the latency from an item becoming ready to it starting, from the event log.
- ``peak/item``: the tracemalloc peak of one extra submit+run, divided by the items.

Targets (issue 4): memory store within 10x of graphlib and >= 30x SpiffWorkflow; SQLite store
>= 5,000 items/s; <= 2 KB of memory per item.
"""

from __future__ import annotations

import graphlib
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from benchmarks import harness
from om_dsl.compiler.driver import compile_catalog
from om_dsl.ir import models as ir
from om_dsl.orders.models import Decomposition, FulfillmentLine, FulfillmentRequest
from om_dsl.runtime import HandlerRegistry, ItemContext, MemoryStore, Runtime, SqliteStore
from om_dsl.runtime.builder import build_plan
from om_dsl.runtime.plan import OrderPlan

NAME = "runtime"
SIZES = (1_000, 10_000, 100_000)
QUICK_SIZES = (1_000, 10_000)
REPEATS = {1_000: 5, 10_000: 3, 100_000: 2}
QUICK_REPEATS = 1
ITEMS_PER_ORDER = 1_000
LINES_PER_ORDER = 100
SPIFF_BUDGET_S = 30.0
TARGET_GRAPHLIB_RATIO = 10.0
TARGET_SPIFF_RATIO = 30.0
TARGET_SQLITE_RATE = 5_000
TARGET_BYTES_PER_ITEM = 2_048

PLAN_BODY = """
  auto t0 handler "noop"
  auto t1 handler "noop" after t0
  auto t2 handler "noop" after t0
  auto t3 handler "noop" after t1, t2
  auto t4 handler "noop" after t3
  auto t5 handler "noop" after t4
  auto t6 handler "noop" after t5
  auto t7 handler "noop" after t6
  auto t8 handler "noop" after t7
  milestone t9 after t8
"""
CATALOG = (
    'catalog "Bench" version "1"\n'
    'cfs Access "Access" scope order { attribute site: string }\n'
    + "".join(f"cfs Svc{k} {{ attribute n: int }}\n" for k in (1, 2, 3))
    + "".join(f"plan {p} on add {{{PLAN_BODY}}}\n" for p in ("Access", "Svc1", "Svc2", "Svc3"))
    + "depend Svc1.t0 after Access.t9 within order\n"
    "depend Svc2.t0 after Svc1.t4\n"
    "depend Svc3.t3 after Svc2.t9\n"
)


# ---- the workload -----------------------------------------------------------------------------


def bench_catalog() -> ir.Catalog:
    result = compile_catalog("bench.om", CATALOG)
    if result.catalog is None:
        raise AssertionError("the benchmark catalog does not compile")
    return result.catalog


def orders(catalog: ir.Catalog, size: int) -> Iterator[Decomposition]:
    """``size`` items worth of orders, generated one at a time (inputs stay transient)."""
    for n in range(size // ITEMS_PER_ORDER):
        yield _order(catalog, f"B{n:05d}")


def _order(catalog: ir.Catalog, order_id: str) -> Decomposition:
    roots = [f"r{k}" for k in range((LINES_PER_ORDER - 1) // 3)]
    access = _line("access", "Access", "order", roots, "fr:order")
    requests = [FulfillmentRequest(id="fr:order", shared=True, scope="order", lines=[access])]
    for index, root in enumerate(roots):
        lines = [_line(f"{root}/s{k}", f"Svc{k}", "line", [root], f"fr:{root}") for k in (1, 2, 3)]
        requests.append(FulfillmentRequest(id=f"fr:{root}", root_item=root, lines=lines))
        del index
    return Decomposition(order_id=order_id, catalog_hash=catalog.content_hash, requests=requests)


def _line(
    line_id: str, product: str, scope: Any, roots: list[str], request: str
) -> FulfillmentLine:
    return FulfillmentLine(
        id=line_id,
        product=product,
        kind="cfs",
        scope=scope,
        action="add",
        source_items=roots,
        root_items=roots,
        rules=[],
        request=request,
    )


def noop_handlers(flavour: str) -> HandlerRegistry:
    """No-op handlers: ``inline`` (on the loop), ``async`` (a task each), ``thread`` (pool)."""
    registry = HandlerRegistry()
    if flavour == "async":

        async def noop(ctx: ItemContext) -> None:
            return None

        registry.register("noop", noop)
    else:
        registry.register("noop", lambda ctx: None, inline=flavour == "inline")
    return registry


# ---- the cases --------------------------------------------------------------------------------


@dataclass
class Latency:
    samples: list[float] = field(default_factory=list)

    def add(self, runtime: Runtime) -> None:
        ready: dict[tuple[str, str | None], float] = {}
        for event in runtime.events():
            key = (event.order_id, event.item_id)
            if event.to_state == "ready":
                ready[key] = event.ts
            elif event.to_state == "running" and key in ready:
                self.samples.append(event.ts - ready.pop(key))

    def percentile(self, q: float) -> float:
        if not self.samples:
            return float("nan")
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run_runtime(
    catalog: ir.Catalog,
    size: int,
    store: str,
    flavour: str,
    mark: harness.Mark,
    latency: Latency | None,
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        backend = MemoryStore() if store == "memory" else SqliteStore(Path(tmp) / "om.db")
        runtime = Runtime(catalog, store=backend, handlers=noop_handlers(flavour), concurrency=64)
        for work in orders(catalog, size):
            runtime.submit(work)
        mark("submit")
        runtime.run_until_idle()
        mark("run")
        if latency is not None:
            latency.add(runtime)
        _check_done(runtime, size)
        runtime.close()


def _check_done(runtime: Runtime, size: int) -> None:
    records = runtime.orders()
    if len(records) != size // ITEMS_PER_ORDER or {r.state for r in records} != {"completed"}:
        raise AssertionError("the benchmark orders did not all complete")


def dag(plan: OrderPlan) -> dict[str, tuple[str, ...]]:
    return {item.id: item.deps for item in plan.items}


def run_graphlib(graphs: Sequence[dict[str, tuple[str, ...]]]) -> int:
    """The floor: each order's DAG through a bare TopologicalSorter loop, no-op per node."""
    done = 0
    for graph in graphs:
        sorter = graphlib.TopologicalSorter(graph)
        sorter.prepare()
        while sorter.is_active():
            for node in sorter.get_ready():
                done += 1
                sorter.done(node)
    return done


# ---- SpiffWorkflow ----------------------------------------------------------------------------


def bpmn(graph: dict[str, tuple[str, ...]]) -> str:
    """The DAG as a BPMN process: a parallel split for every fork, a parallel join for every
    join, plain (host-run) tasks for the items."""
    ids = {node: f"t{n}" for n, node in enumerate(graph)}
    dependents: dict[str, list[str]] = {node: [] for node in graph}
    for node, deps in graph.items():
        for dep in deps:
            dependents[dep].append(node)
    elements = [
        '<bpmn:startEvent id="start"/>',
        '<bpmn:parallelGateway id="fork"/>',
        '<bpmn:parallelGateway id="join"/>',
        '<bpmn:endEvent id="end"/>',
    ]
    flows: list[tuple[str, str]] = [("start", "fork"), ("join", "end")]
    for node, deps in graph.items():
        task = ids[node]
        elements.append(f'<bpmn:task id="{task}"/>')
        entry = task
        if len(deps) > 1:
            entry = f"j{task}"
            elements.append(f'<bpmn:parallelGateway id="{entry}"/>')
            flows.append((entry, task))
        if len(dependents[node]) > 1:
            elements.append(f'<bpmn:parallelGateway id="s{task}"/>')
            flows.append((task, f"s{task}"))
        if not dependents[node]:
            flows.append((task, "join"))
        if not deps:
            flows.append(("fork", entry))
        for dep in deps:
            source = f"s{ids[dep]}" if len(dependents[dep]) > 1 else ids[dep]
            flows.append((source, entry))
    elements += [
        f'<bpmn:sequenceFlow id="f{n}" sourceRef="{a}" targetRef="{b}"/>'
        for n, (a, b) in enumerate(flows)
    ]
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions '
        'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs" targetNamespace="om">'
        f'<bpmn:process id="order" isExecutable="true">{"".join(elements)}</bpmn:process>'
        "</bpmn:definitions>"
    )


def spiff_spec(graph: dict[str, tuple[str, ...]]) -> Any:
    parser = BpmnParser()
    parser.add_bpmn_xml(etree.fromstring(bpmn(graph).encode()), filename="order.bpmn")
    return parser.get_spec("order")


def run_spiff(specs: Sequence[Any], serialize: bool, budget_s: float) -> tuple[int, bool]:
    """Run every order's workflow; returns (tasks run, finished within the budget)."""
    serializer = BpmnWorkflowSerializer() if serialize else None
    deadline = time.perf_counter() + budget_s
    done = 0
    for spec in specs:
        workflow = BpmnWorkflow(spec)
        workflow.do_engine_steps()
        while not workflow.is_completed():
            for task in workflow.get_tasks(state=TaskState.READY, manual=True):
                task.run()
                done += 1
                if serializer is not None:
                    serializer.serialize_json(workflow)
            workflow.do_engine_steps()
            # Over the budget only while work is left: a workflow that just completed finished.
            if time.perf_counter() > deadline and not workflow.is_completed():
                return done, False
    return done, True


# ---- measuring --------------------------------------------------------------------------------


@dataclass
class SizeResult:
    size: int
    timings: dict[str, harness.Timing]
    latency: dict[str, Latency]
    peaks: dict[str, int]
    spiff: dict[str, tuple[float, int, bool]]
    """variant -> (seconds, tasks run, finished)"""

    def rate(self, key: str) -> float:
        return self.timings[key].rate(self.size)

    def total(self, case: str) -> float:
        return self.timings[f"{case}/submit"].median + self.timings[f"{case}/run"].median


def measure(catalog: ir.Catalog, size: int, repeats: int, spiff_budget: float) -> SizeResult:
    plans = [build_plan(catalog, work) for work in orders(catalog, size)]
    graphs = [dag(plan) for plan in plans]
    del plans
    latency = {"memory": Latency(), "sqlite": Latency()}
    cases: dict[str, Callable[[harness.Mark], object]] = {
        "memory": lambda mark: run_runtime(catalog, size, "memory", "inline", mark, None),
        "sqlite": lambda mark: run_runtime(catalog, size, "sqlite", "inline", mark, None),
        "graphlib": lambda _mark: run_graphlib(graphs),
    }
    if size <= 10_000:
        for flavour in ("async", "thread"):
            cases[f"memory-{flavour}"] = lambda mark, f=flavour: run_runtime(
                catalog, size, "memory", f, mark, None
            )
    timings = harness.time_interleaved(cases, repeats)
    for store, lat in latency.items():
        run_runtime(catalog, size, store, "inline", lambda _p: None, lat)
    peaks = {
        "memory": harness.peak_memory(
            lambda: run_runtime(catalog, size, "memory", "inline", lambda _p: None, None)
        )[1],
        "sqlite": harness.peak_memory(
            lambda: run_runtime(catalog, size, "sqlite", "inline", lambda _p: None, None)
        )[1],
    }
    spiff = measure_spiff(graphs, size, spiff_budget)
    return SizeResult(size, timings, latency, peaks, spiff)


def measure_spiff(
    graphs: Sequence[dict[str, tuple[str, ...]]], size: int, budget: float
) -> dict[str, tuple[float, int, bool]]:
    """SpiffWorkflow at 1k only: on this shape it does not finish 1k within the budget, so a
    larger size would only repeat that (the table says DNF and the rate it reached)."""
    if size != 1_000:
        return {}
    specs = [spiff_spec(graph) for graph in graphs]
    found = {}
    for variant, serialize in (("spiff", False), ("spiff+serialize", True)):
        start = time.perf_counter()
        done, finished = run_spiff(specs, serialize, budget)
        found[variant] = (time.perf_counter() - start, done, finished)
    return found


# ---- the reference shape: 100 parallel chains of 10 -------------------------------------------

CHAINS_CATALOG = (
    'catalog "Chains" version "1"\ncfs Chain { attribute n: int }\nplan Chain on add {\n'
    + "\n".join(
        f'  auto c{i} handler "noop"' + (f" after c{i - 1}" if i else "") for i in range(10)
    )
    + "\n}\n"
)


@dataclass
class ChainsResult:
    ours: harness.Timing
    spiff: dict[str, tuple[float, int, bool]]


def measure_chains(repeats: int, budget: float) -> ChainsResult:
    """SpiffWorkflow's best case (the issue's reference: ~260 tasks/s there) against ours."""
    result = compile_catalog("chains.om", CHAINS_CATALOG)
    assert result.catalog is not None
    catalog = result.catalog
    lines = [_line(f"c{n}", "Chain", "line", [f"r{n}"], f"fr:r{n}") for n in range(100)]
    requests = [
        FulfillmentRequest(id=f"fr:r{n}", root_item=f"r{n}", lines=[ln])
        for n, ln in enumerate(lines)
    ]
    work = Decomposition(order_id="C1", catalog_hash=catalog.content_hash, requests=requests)

    def ours() -> None:
        runtime = Runtime(catalog, handlers=noop_handlers("inline"), concurrency=64)
        runtime.submit(work)
        runtime.run_until_idle()

    timing = harness.time_call(ours, repeats)
    spec = spiff_spec(dag(build_plan(catalog, work)))
    spiff = {}
    for variant, serialize in (("spiff", False), ("spiff+serialize", True)):
        start = time.perf_counter()
        done, finished = run_spiff([spec], serialize, budget)
        spiff[variant] = (time.perf_counter() - start, done, finished)
    return ChainsResult(timing, spiff)


# ---- reporting --------------------------------------------------------------------------------


def _rate_rows(results: Sequence[SizeResult]) -> list[list[str]]:
    rows = []
    for r in results:
        row = [f"{r.size // 1000}k"]
        for case in ("memory", "sqlite"):
            total = harness.fmt_rate(r.size / r.total(case))
            row += [harness.fmt_rate(r.rate(f"{case}/run")), total]
        for case in ("memory-async", "memory-thread"):
            key = f"{case}/run"
            row.append(harness.fmt_rate(r.rate(key)) if key in r.timings else "-")
        row += [harness.fmt_rate(r.rate("graphlib")), _spiff(r.spiff, "spiff", r.size)]
        row.append(_spiff(r.spiff, "spiff+serialize", r.size))
        rows.append(row)
    return rows


def _spiff(found: dict[str, tuple[float, int, bool]], variant: str, size: int) -> str:
    if variant not in found:
        return "not run"
    seconds, done, finished = found[variant]
    text = harness.fmt_rate(done / seconds) if seconds else "-"
    return text if finished else f"{text} (DNF: {done}/{size} in {seconds:.0f} s)"


def _spiff_rate(found: dict[str, tuple[float, int, bool]], variant: str) -> float | None:
    if variant not in found or not found[variant][0]:
        return None
    seconds, done, _ = found[variant]
    return done / seconds


def _marginal(results: Sequence[SizeResult], index: int, store: str) -> str:
    """Bytes per extra item between this size and the previous one (fixed costs removed)."""
    if index == 0:
        return "-"
    a, b = results[index - 1], results[index]
    return harness.fmt_bytes((b.peaks[store] - a.peaks[store]) / (b.size - a.size))


def _detail_rows(results: Sequence[SizeResult]) -> list[list[str]]:
    rows = []
    for n, r in enumerate(results):
        floor = r.timings["graphlib"].median
        spiff = _spiff_rate(r.spiff, "spiff")
        latency = [
            f"{lat.percentile(0.5) * 1e3:.2f} / {lat.percentile(0.99) * 1e3:.0f} ms"
            for lat in r.latency.values()
        ]
        rows.append(
            [
                f"{r.size // 1000}k",
                f"{r.timings['memory/run'].median / floor:.1f}x",
                f"{r.total('memory') / floor:.1f}x",
                f"{r.rate('memory/run') / spiff:,.0f}x" if spiff else "-",
                *latency,
                harness.fmt_bytes(r.peaks["memory"] / r.size),
                _marginal(results, n, "memory"),
                harness.fmt_bytes(r.peaks["sqlite"] / r.size),
                f"{max(t.spread for t in r.timings.values()) * 100:.0f}%",
            ]
        )
    return rows


def _chains_rows(chains: ChainsResult) -> list[list[str]]:
    ours = chains.ours.rate(1_000)
    rows = [["om_dsl (memory store)", harness.fmt_rate(ours), "1x"]]
    for variant in ("spiff", "spiff+serialize"):
        rate = _spiff_rate(chains.spiff, variant)
        speedup = f"{ours / rate:,.0f}x" if rate else "-"
        rows.append([variant, _spiff(chains.spiff, variant, 1_000), speedup])
    return rows


def _targets(results: Sequence[SizeResult], chains: ChainsResult | None) -> list[str]:
    def ratio(r: SizeResult) -> float:
        return r.timings["memory/run"].median / r.timings["graphlib"].median

    worst = max(results, key=ratio)
    lines = [
        _verdict(
            f"memory store within {TARGET_GRAPHLIB_RATIO:.0f}x of graphlib (run)",
            f"worst {ratio(worst):.1f}x ({worst.size // 1000}k)",
            ratio(worst) <= TARGET_GRAPHLIB_RATIO,
        )
    ]
    lines += _spiff_targets(results, chains)
    slowest = min(results, key=lambda r: r.rate("sqlite/run"))
    rate = slowest.rate("sqlite/run")
    with_submit = slowest.size / slowest.total("sqlite")
    lines.append(
        _verdict(
            f"SQLite store >= {TARGET_SQLITE_RATE:,} items/s",
            f"slowest {rate:,.0f}/s executing, {with_submit:,.0f}/s with planning and "
            f"persisting ({slowest.size // 1000}k)",
            rate >= TARGET_SQLITE_RATE,
        )
    )
    largest = results[-1]
    per_item = largest.peaks["memory"] / largest.size
    lines.append(
        _verdict(
            f"<= {TARGET_BYTES_PER_ITEM} B of memory per item",
            f"{per_item:,.0f} B at {largest.size // 1000}k (memory store, event log and plans "
            "included; smaller sizes carry fixed costs, see the table)",
            per_item <= TARGET_BYTES_PER_ITEM,
        )
    )
    return lines


def _spiff_targets(results: Sequence[SizeResult], chains: ChainsResult | None) -> list[str]:
    lines = []
    for r in results:
        rate = _spiff_rate(r.spiff, "spiff")
        if rate:
            speedup = r.rate("memory/run") / rate
            lines.append(
                _verdict(
                    f">= {TARGET_SPIFF_RATIO:.0f}x SpiffWorkflow (same DAG)",
                    f"{speedup:,.0f}x at {r.size // 1000}k",
                    speedup >= TARGET_SPIFF_RATIO,
                )
            )
    rate = _spiff_rate(chains.spiff, "spiff") if chains else None
    if chains and rate:
        speedup = chains.ours.rate(1_000) / rate
        lines.append(
            _verdict(
                f">= {TARGET_SPIFF_RATIO:.0f}x SpiffWorkflow (its best case, 100 chains of 10)",
                f"{speedup:,.0f}x",
                speedup >= TARGET_SPIFF_RATIO,
            )
        )
    return lines


def _verdict(target: str, measured: str, met: bool) -> str:
    return f"target {target}: {measured}, {'met' if met else 'NOT met'}"


def _to_json(results: Sequence[SizeResult], chains: ChainsResult | None) -> dict[str, Any]:
    sizes = []
    for r in results:
        latency = {
            store: {
                "p50": round(lat.percentile(0.5) * 1e3, 3),
                "p99": round(lat.percentile(0.99) * 1e3, 3),
            }
            for store, lat in r.latency.items()
        }
        timings = {
            key: {**t.to_dict(), "items_per_s": round(r.rate(key))} for key, t in r.timings.items()
        }
        sizes.append(
            {
                "items": r.size,
                "timings": timings,
                "ready_to_running_ms": latency,
                "peak_bytes_per_item": {k: round(v / r.size) for k, v in r.peaks.items()},
                "spiff": _spiff_json(r.spiff),
            }
        )
    data: dict[str, Any] = {"sizes": sizes, "targets": _targets(results, chains)}
    if chains is not None:
        data["chains_100x10"] = {"ours": chains.ours.to_dict(), "spiff": _spiff_json(chains.spiff)}
    return data


def _spiff_json(found: dict[str, tuple[float, int, bool]]) -> dict[str, Any]:
    return {
        k: {"seconds": round(s, 3), "tasks": d, "finished": f} for k, (s, d, f) in found.items()
    }


RATE_HEADERS = [
    "size",
    "memory run",
    "+submit",
    "sqlite run",
    "+submit",
    "async run",
    "thread run",
    "graphlib",
    "spiff",
    "spiff+serialize",
]
DETAIL_HEADERS = [
    "size",
    "run/graphlib",
    "+submit",
    "vs spiff",
    "latency memory",
    "latency sqlite",
    "peak/item mem",
    "per extra item",
    "peak/item sqlite",
    "noise",
]


def main(argv: Sequence[str]) -> int:
    parser = harness.base_parser(NAME, __doc__ or "")
    parser.add_argument(
        "--spiff-budget", type=float, default=SPIFF_BUDGET_S, help="seconds per Spiff run"
    )
    args = parser.parse_args(list(argv))
    catalog = bench_catalog()
    results = []
    for size in QUICK_SIZES if args.quick else SIZES:
        repeats = args.repeats or (QUICK_REPEATS if args.quick else REPEATS[size])
        results.append(measure(catalog, size, repeats, args.spiff_budget))
        print(f"  measured {size // 1000}k items", flush=True)
    chains = measure_chains(args.repeats or 5, args.spiff_budget)
    print()
    harness.print_table(
        "items/s, medians (run = executing submitted plans; +submit = planning and persisting "
        "them too; async/thread = memory store with async / thread-pool no-op handlers)",
        [
            "size",
            "memory run",
            "+submit",
            "sqlite run",
            "+submit",
            "async run",
            "thread run",
            "graphlib",
            "spiff",
            "spiff+serialize",
        ],
        _rate_rows(results),
    )
    harness.print_table(
        "ratios to the graphlib floor (time), speed-up over SpiffWorkflow, ready->running "
        "latency p50/p99, peak memory per item (tracemalloc) and per extra item",
        [
            "size",
            "run/graphlib",
            "+submit",
            "vs spiff",
            "latency memory",
            "latency sqlite",
            "peak/item mem",
            "per extra item",
            "peak/item sqlite",
            "noise",
        ],
        _detail_rows(results),
    )
    harness.print_table(
        "SpiffWorkflow's reference shape (100 parallel chains of 10 tasks), items/s",
        ["engine", "items/s", "ours / it"],
        _chains_rows(chains),
    )
    for line in _targets(results, chains):
        print(line)
    if not args.no_write:
        path = harness.write_result(NAME, _to_json(results, chains), quick=args.quick)
        print(f"\nwrote {path}")
    return 0
