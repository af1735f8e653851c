"""Listing fallout (``Runtime.fallout``, what ``GET /fallout`` and ``om retry --all-failed``
read) after an outage: 2,000 and 10,000 held orders on a SQLite store, against the old path.

Each order is one commercial item of two lines, 16 plan items: one line's six items completed,
the other's first item completed, its second in fallout (``fatally_failed``), the eight after
it pending.  The store is made by running one such order, then copying its plan and item rows
under other ids (as many orders held by one outage look), in a fresh file per size.

- ``store``: ``Runtime.fallout()`` as it is: one query for the rows in fallout, then each held
  order's plan items in fallout, read out of its plan by SQLite (``SqliteStore.fallout``);
- ``statuses`` is the in-run baseline, the path before it (and still the path of a host's own
  store without ``fallout``): the held orders, then each one's whole ``status()``;
- ``ratio``: statuses / store, medians of runs taken round-robin.  Both paths are checked to
  find the same items first.
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import harness
from om_dsl.compiler.driver import compile_catalog
from om_dsl.runtime import HandlerRegistry, Runtime, SqliteStore
from om_dsl.runtime.fallout import FalloutFilter, FalloutItem, fallout_items, status_rows
from om_dsl.runtime.store.base import NewOrder, OrderRecord, WriteBatch

NAME = "fallout"
SIZES = (2_000, 10_000)
QUICK_SIZES = (2_000,)
REPEATS = 5
QUICK_REPEATS = 2
BATCH = 500
"""Orders per write transaction while the store is made."""
CATALOG = (
    'catalog "Outage" version "1"\n'
    'offer Web "Web" id "100" { attribute speed: int default 100 }\n'
    "cfs Line { attribute speed: int }\n"
    "cfs Box { attribute speed: int }\n"
    "decompose Web { -> Line { speed = speed } -> Box { speed = speed } }\n"
    "plan Line on add {\n"
    '  auto prepare handler "ok"\n'
    '  auto configure handler "billing.down" after prepare\n'
    + "".join(f'  auto step{k} handler "ok" after configure\n' for k in range(8))
    + "}\nplan Box on add {\n"
    + "".join(f'  auto box{k} handler "ok"\n' for k in range(6))
    + "}\n"
)
ORDER = {"id": "HELD-0", "items": [{"id": "1", "product": "Web", "attributes": {"speed": 300}}]}


def held_store(path: Path, count: int) -> None:
    """A store of ``count`` held orders: one run for real (no handler for ``billing.down``:
    fallout at once), then copied."""
    registry = HandlerRegistry()
    registry.register("ok", lambda ctx: {"done": True})
    catalog = compile_catalog("outage.om", text=CATALOG).raise_on_error()
    with Runtime(catalog, store=SqliteStore(path), handlers=registry) as runtime:
        runtime.submit(ORDER)
        runtime.run_until_idle()
        stored = runtime.store.load_order("HELD-0")
        assert stored is not None and stored.record.state == "held"
        original = runtime.status("HELD-0")  # the copies must read as the original
        for start in range(1, count, BATCH):
            ids = [f"HELD-{n}" for n in range(start, min(start + BATCH, count))]
            runtime.store.apply(WriteBatch(new_orders=[_copy(stored, i, n) for n, i in
                                                       enumerate(ids, start)]))  # fmt: skip
        assert runtime.status(f"HELD-{count - 1}").items == original.items


def _copy(stored: Any, order_id: str, n: int) -> NewOrder:
    record = stored.record
    created = record.created_at + n / 1000
    copy = OrderRecord(order_id, record.catalog_hash, record.state, created, created,
                       started=True)  # fmt: skip
    plan_json = stored.plan_json.replace('"order_id":"HELD-0"', f'"order_id":"{order_id}"', 1)
    return NewOrder(copy, plan_json, [tuple(row) for row in stored.items])


def by_statuses(runtime: Runtime) -> list[FalloutItem]:
    """The baseline: what ``Runtime.fallout`` read before ``Store.fallout``."""
    ids = [record.id for record in runtime.orders(["held"])]
    statuses = (runtime.status(order_id) for order_id in ids)
    return fallout_items(status_rows(statuses), runtime._system_of, FalloutFilter())


@dataclass(frozen=True, slots=True)
class SizeResult:
    orders: int
    store: harness.Timing
    statuses: harness.Timing

    @property
    def ratio(self) -> float:
        return self.statuses.median / self.store.median


def measure(count: int, repeats: int) -> SizeResult:
    """Time both paths on a fresh store of ``count`` held orders."""
    with tempfile.TemporaryDirectory(prefix="om-bench-fallout-") as tmp:
        path = Path(tmp) / "om.db"
        held_store(path, count)
        with Runtime(store=SqliteStore(path)) as runtime:
            found = runtime.fallout()
            assert len(found) == count and found == by_statuses(runtime)
            timings = harness.time_interleaved(
                {"store": lambda _: runtime.fallout(), "statuses": lambda _: by_statuses(runtime)},
                repeats,
            )
    return SizeResult(count, timings["store"], timings["statuses"])


def main(argv: list[str]) -> int:
    args = harness.parse_args(NAME, argv, __doc__ or "")
    repeats = args.repeats or (QUICK_REPEATS if args.quick else REPEATS)
    results = []
    for count in QUICK_SIZES if args.quick else SIZES:
        results.append(measure(count, repeats))
        print(f"  measured {count:,} held orders", flush=True)
    harness.print_table(
        f"Runtime.fallout() on a SQLite store, held orders of 16 items, medians of {repeats}",
        ["held orders", "store", "statuses (old)", "ratio", "store cpu", "statuses cpu", "spread"],
        [_row(result) for result in results],
    )
    if not args.no_write:
        data = {str(r.orders): _to_json(r) for r in results}
        print(f"\nwrote {harness.write_result(NAME, data, quick=args.quick)}")
    return 0


def _row(result: SizeResult) -> list[str]:
    spread = max(result.store.spread, result.statuses.spread)
    return [f"{result.orders:,}", harness.fmt_s(result.store.median),
            harness.fmt_s(result.statuses.median), f"{result.ratio:.1f}",
            harness.fmt_s(result.store.cpu_median or 0), harness.fmt_s(result.statuses.cpu_median
            or 0), f"{spread:.0%}"]  # fmt: skip


def _to_json(result: SizeResult) -> dict[str, Any]:
    return {
        "store": result.store.to_dict(),
        "statuses": result.statuses.to_dict(),
        "statuses_over_store": round(result.ratio, 2),
    }


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
