"""The bundles benchmark measures what it says (figures are printed, not tested)."""

from __future__ import annotations

import json

from benchmarks import bench_bundles
from om_dsl.compiler.driver import compile_catalog
from om_dsl.orders.decompose import Decomposer
from om_dsl.orders.limits import DEFAULT_LIMITS
from om_dsl.orders.parse import read_order
from om_dsl.orders.quick import read_quick


def test_every_form_is_read_by_the_quick_reader_as_the_thorough_one_reads_it() -> None:
    decomposer = Decomposer(compile_catalog(bench_bundles.CATALOG).raise_on_error())
    texts = bench_bundles.orders(3)
    assert set(texts) == set(bench_bundles.FORMS)
    for text in texts.values():
        quick = read_quick(json.loads(text), decomposer.index, DEFAULT_LIMITS)
        thorough = read_order(json.loads(text), decomposer.index, quick=False)
        assert quick is not None and quick == thorough and len(quick.items) == 12
        assert sum(item.parent is not None for item in quick.items) == 9


def test_every_case_runs_and_is_timed() -> None:
    decomposer = Decomposer(compile_catalog(bench_bundles.CATALOG).raise_on_error())
    result = bench_bundles.measure(decomposer, 2, 1)
    assert len(result["timings"]) == 3 * len(bench_bundles.FORMS)
    assert all(ratio > 0 for ratio in result["ratio_thorough_over_read"].values())
