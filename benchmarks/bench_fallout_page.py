"""A page of ``GET /fallout`` (20 items) after an outage: 5,000 held orders on a SQLite store
(``--quick``: 2,000), the store's page against the old path, in the same run.

The store is :mod:`bench_fallout`'s: each held order has 16 plan items, one in fallout.

- ``page``: what the route does now: ``Runtime.fallout_page`` (the rows in fallout in one
  query, the plans of the page's orders alone), then the page's JSON views;
- ``whole`` is the in-run baseline, what the route did before: every item in fallout
  (``Runtime.fallout``: each held order's plan read), every item's view, then the slice;
- ``ratio``: whole / page, medians of runs taken round-robin.  Both are checked to answer
  the same page and count first.

Cases: the first page, the last one, a page of an item-id pattern (a SQL function on the
rows: no plan read for the count), and a page of a product (in the plan: SQLite reads it
from each candidate's plan for the count, ``json_extract``).
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import harness
from benchmarks.bench_fallout import held_store
from om_dsl.runtime import Runtime, SqliteStore
from om_dsl.runtime.fallout import FalloutFilter
from om_dsl.service.fallout import view

NAME = "fallout_page"
SIZE = 5_000
QUICK_SIZE = 2_000
REPEATS = 7
QUICK_REPEATS = 3
PAGE = 20
Answer = tuple[list[dict[str, Any]], int]


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    wanted: FalloutFilter
    last: bool = False
    """The last page (its offset: the count less a page), rather than the first."""


CASES = (
    Case("first page", FalloutFilter()),
    Case("last page", FalloutFilter(), last=True),
    Case("itemIdPattern page", FalloutFilter(item_pattern="*:configure")),
    Case("product page", FalloutFilter(product="Line")),
)


@dataclass(frozen=True, slots=True)
class CaseResult:
    name: str
    orders: int
    page: harness.Timing
    whole: harness.Timing

    @property
    def ratio(self) -> float:
        return self.whole.median / self.page.median


def paged(runtime: Runtime, wanted: FalloutFilter, offset: int) -> Answer:
    """The route now."""
    items, total = runtime.fallout_page(wanted, offset, PAGE)
    return [view(item) for item in items], total


def whole(runtime: Runtime, wanted: FalloutFilter, offset: int) -> Answer:
    """The route before: the whole list, then the slice."""
    views = [view(item) for item in runtime.fallout(wanted)]
    return views[offset : offset + PAGE], len(views)


def measure(count: int, repeats: int) -> list[CaseResult]:
    """Time both paths for each case on a fresh store of ``count`` held orders."""
    with tempfile.TemporaryDirectory(prefix="om-bench-fallout-page-") as tmp:
        path = Path(tmp) / "om.db"
        held_store(path, count)
        with Runtime(store=SqliteStore(path)) as runtime:
            return [_measure(runtime, case, count, repeats) for case in CASES]


def _measure(runtime: Runtime, case: Case, count: int, repeats: int) -> CaseResult:
    offset = max(0, count - PAGE) if case.last else 0
    expected = whole(runtime, case.wanted, offset)
    assert paged(runtime, case.wanted, offset) == expected and expected[0]
    cases: dict[str, Callable[[harness.Mark], object]] = {
        "page": lambda _: paged(runtime, case.wanted, offset),
        "whole": lambda _: whole(runtime, case.wanted, offset),
    }
    timings = harness.time_interleaved(cases, repeats)
    return CaseResult(case.name, count, timings["page"], timings["whole"])


def main(argv: list[str]) -> int:
    args = harness.parse_args(NAME, argv, __doc__ or "")
    repeats = args.repeats or (QUICK_REPEATS if args.quick else REPEATS)
    count = QUICK_SIZE if args.quick else SIZE
    results = measure(count, repeats)
    harness.print_table(
        f"a page of {PAGE} of GET /fallout, {count:,} held orders of 16 items on a SQLite "
        f"store, medians of {repeats}",
        ["case", "page (now)", "whole (before)", "ratio", "page cpu", "whole cpu", "spread"],
        [_row(result) for result in results],
    )
    if not args.no_write:
        data = {result.name: _to_json(result) for result in results}
        print(f"\nwrote {harness.write_result(NAME, data, quick=args.quick)}")
    return 0


def _row(result: CaseResult) -> list[str]:
    spread = max(result.page.spread, result.whole.spread)
    return [result.name, harness.fmt_s(result.page.median), harness.fmt_s(result.whole.median),
            f"{result.ratio:.1f}", harness.fmt_s(result.page.cpu_median or 0),
            harness.fmt_s(result.whole.cpu_median or 0), f"{spread:.0%}"]  # fmt: skip


def _to_json(result: CaseResult) -> dict[str, Any]:
    return {
        "orders": result.orders,
        "page": result.page.to_dict(),
        "whole": result.whole.to_dict(),
        "whole_over_page": round(result.ratio, 2),
    }


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
