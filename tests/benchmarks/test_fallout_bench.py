"""The fallout benchmark measures what it says (figures are printed, not tested): both paths
on a small store, which find the same items."""

from __future__ import annotations

from benchmarks import bench_fallout as bench


def test_both_paths_are_timed_on_a_store_of_held_orders() -> None:
    result = bench.measure(20, 1)
    assert result.orders == 20
    assert result.store.median > 0 and result.statuses.median > 0 and result.ratio > 0
    assert len(bench._row(result)) == 7
