"""The fallout page benchmark measures what it says (figures are printed, not tested): both
paths on a small store, which answer the same page and count."""

from __future__ import annotations

from benchmarks import bench_fallout_page as bench


def test_both_paths_are_timed_for_each_case_on_a_store_of_held_orders() -> None:
    results = bench.measure(30, 1)
    assert [result.name for result in results] == [case.name for case in bench.CASES]
    for result in results:
        assert result.orders == 30 and result.page.median > 0 and result.whole.median > 0
        assert len(bench._row(result)) == 7
