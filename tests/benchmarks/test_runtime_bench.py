"""The runtime benchmark measures what it says (figures are printed, not tested): one small
pass of every case, SpiffWorkflow with a budget of a fraction of a second (its quick run takes
two minutes)."""

from __future__ import annotations

from benchmarks import bench_runtime as bench

CASES = {"memory", "sqlite", "memory-async", "memory-thread"}


def test_every_case_runs_and_is_timed() -> None:
    result = bench.measure(bench.bench_catalog(), 1_000, 1, 0.2)
    timed = {name for name in result.timings if "/" not in name}
    assert timed == CASES | {"graphlib"}
    assert all(f"{case}/{phase}" in result.timings for case in CASES for phase in ("submit", "run"))
    assert set(result.spiff) == {"spiff", "spiff+serialize"}
    assert all(done > 0 for _seconds, done, _finished in result.spiff.values())
    chains = bench.measure_chains(1, 0.2)
    assert chains.ours.median > 0 and set(chains.spiff) == {"spiff", "spiff+serialize"}
    report = bench._targets([result], chains)
    assert len(report) == 5 and all(line.startswith("target ") for line in report)
