"""The formatter benchmark measures what it says (figures are printed, not tested)."""

from __future__ import annotations

from lark import Lark

from benchmarks import bench_fmt
from benchmarks.gen_catalog import generate
from om_dsl.syntax.formatter import same_tokens
from om_dsl.syntax.parser import grammar_text


def test_the_input_is_badly_laid_out_but_the_same_catalog() -> None:
    text = generate(1_000)
    bad = bench_fmt.badly_laid_out(text)
    assert bad != text and same_tokens(text, bad)
    assert not any(line.startswith((" ", "\t")) for line in bad.splitlines())


def test_every_case_runs_and_is_timed() -> None:
    result = bench_fmt.measure(1_000, 1, Lark(grammar_text(), parser="lalr"))
    assert set(result["timings"]) == {"fmt", "compile", "baseline"}  # type: ignore[arg-type]
    assert float(result["ratio_fmt_over_baseline"]) > 0  # type: ignore[arg-type]
