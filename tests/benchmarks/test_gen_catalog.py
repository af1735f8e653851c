"""The benchmark helpers that other code relies on: the catalog generator and the runner.

Nothing here is timed: figures belong to ``python -m benchmarks``.  These tests keep the
generated catalogs honest (deterministic, clean, valid IR) since every benchmark reuses them.
"""

from __future__ import annotations

from lark import Lark

from benchmarks import harness
from benchmarks.__main__ import discover, split_argv
from benchmarks.gen_catalog import count_lines, generate
from om_dsl.compiler.driver import compile_catalog
from om_dsl.ir import models as ir
from om_dsl.ir.io import dump_ir
from om_dsl.syntax.parser import grammar_text


def test_generate_is_deterministic_and_near_the_requested_size() -> None:
    text = generate(2_000, seed=3)
    assert text == generate(2_000, seed=3)
    assert text != generate(2_000, seed=4)
    assert abs(count_lines(text) - 2_000) < 150  # half a region is ~120 lines


def test_a_generated_catalog_compiles_cleanly_and_its_ir_round_trips() -> None:
    result = compile_catalog("generated.om", generate(1_000))
    assert result.diagnostics == []
    catalog = result.raise_on_error()
    assert ir.Catalog.model_validate_json(dump_ir(catalog)) == catalog
    assert catalog.plans and catalog.rules and catalog.dependencies


def test_the_baseline_parser_reads_a_generated_catalog() -> None:
    Lark(grammar_text(), parser="lalr").parse(generate(1_000))


def test_the_runner_finds_every_bench_module_and_splits_its_arguments() -> None:
    assert "compile" in discover()
    assert split_argv(["compile", "--quick"]) == (["compile"], ["--quick"])
    assert split_argv(["--quick"]) == ([], ["--quick"])


def test_timings_report_the_median_and_the_spread() -> None:
    timing = harness.Timing((1.0, 3.0, 2.0))
    assert (timing.median, timing.best, timing.worst) == (2.0, 1.0, 3.0)
    assert timing.spread == 1.0
    assert timing.rate(10) == 5.0


def test_tables_align_their_columns() -> None:
    text = harness.table("t", ["size", "rate"], [["1k", "5"], ["100k", "12345"]])
    assert text.splitlines() == ["t", "size   rate", "----  -----", "1k        5", "100k  12345"]
