"""The start-up benchmark's commands run (figures are printed by the benchmark, not tested)."""

from __future__ import annotations

from benchmarks import bench_startup


def test_every_case_runs_and_is_timed() -> None:
    timings = bench_startup.measure(repeats=1)
    assert set(timings) == {"python", "import om_dsl", "om explain", "om check", "baseline"}
    assert all(len(t.samples) == 1 and t.median > 0 for t in timings.values())
    data = bench_startup._to_json(timings)
    assert data["ratio_om_check_over_baseline"] > 0
