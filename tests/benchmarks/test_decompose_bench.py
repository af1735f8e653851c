"""The decompose benchmark measures what it says (figures are printed, not tested)."""

from __future__ import annotations

import json

import pytest

from benchmarks import bench_decompose as bench
from benchmarks import harness
from om_dsl.compiler.driver import compile_catalog
from om_dsl.ir import models as ir
from om_dsl.orders.decompose import decompose, decomposer_for
from om_dsl.rules.durable_adapter import durable_available


@pytest.fixture(scope="module")
def catalog() -> ir.Catalog:
    return compile_catalog("bench.om", bench.generate_catalog(100)).raise_on_error()


def test_orders_are_deterministic_and_their_tmf622_form_decomposes_the_same(
    catalog: ir.Catalog,
) -> None:
    text = bench.generate_order(catalog, 30)
    assert text == bench.generate_order(catalog, 30)
    assert len(json.loads(text)["items"]) == 30
    assert decompose(catalog, bench.tmf622_form(catalog, text)) == decompose(catalog, text)


def test_every_case_runs_and_is_timed(catalog: ir.Catalog) -> None:
    engines = ["compiled", "durable"] if durable_available() else ["compiled"]
    decomposers = {name: decomposer_for(catalog, name) for name in engines}
    result = bench.measure(decomposers, catalog, 20, 1)
    cases = {"validate", "compiled tmf622", *engines, *(f"match {e}" for e in engines)}
    assert set(result.timings) == cases
    assert result.lines > 20
    if durable_available():
        assert result.ratio > 0 and result.engine_ratio > 0


def _result(items: int, lines: int, compiled_s: float) -> bench.SizeResult:
    timing = harness.Timing((compiled_s,), (compiled_s,))
    slow = harness.Timing((compiled_s * 6,), (compiled_s * 6,))
    timings = {"compiled": timing, "durable": slow, "match compiled": timing, "match durable": slow}
    return bench.SizeResult(items, lines, timings, {}, {})


def test_the_targets_are_judged_on_10k_items_and_the_other_reading_is_shown() -> None:
    report = bench._targets([_result(bench.LINES_10K, 10_164, 0.12), _result(10_000, 37_790, 0.5)])
    assert report[0] == "target 10k items compiled (end to end) <= 0.2 s: 0.500 s, NOT met"
    assert report[1] == (
        "(read as 10k technical lines: 2,650 items make 10,164 lines, 0.120 s, met; "
        "the target is judged on 10k items)"
    )
    assert "end to end): worst ratio 6.0x (2,650 items), NOT met" in report[3]
