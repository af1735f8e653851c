"""`om fmt` throughput against a plain Lark parse and against `om check`'s compile, same run.

For each size of the generated catalog (:mod:`benchmarks.gen_catalog`), medians over repeats
taken round-robin of:

- ``fmt``: :func:`om_dsl.syntax.formatter.format_text` on a copy of the text laid out badly
  (every indent dropped, every run of blanks doubled), so that every line is rewritten: the
  parse that settles soft keywords, the layout, and the check that the tokens are unchanged;
- ``compile``: ``compile_catalog`` on the same text, what `om check` runs on it;
- ``baseline``: ``Lark(grammar_text(), parser="lalr").parse(text)``, a plain parse.

No target: issue 2 sets none for the formatter.  The figures say how long `om fmt` takes on a
large catalog, compared with what a designer already waits for.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from lark import Lark

from benchmarks import harness
from benchmarks.bench_compile import FILE, QUICK_REPEATS, QUICK_SIZES, SIZES
from benchmarks.gen_catalog import count_lines, generate
from om_dsl.compiler.driver import compile_catalog
from om_dsl.errors import DiagnosticBag
from om_dsl.syntax.formatter import format_text
from om_dsl.syntax.parser import grammar_text

NAME = "fmt"
REPEATS = {1_000: 9, 10_000: 5, 100_000: 3}


def badly_laid_out(text: str) -> str:
    """``text`` with no indentation and every space doubled (strings and comments left alone)."""
    parts = re.split(r'("(?:[^"\\\n]|\\.)*"|//[^\n]*)', text)
    parts = [p if n % 2 else re.sub(r"(?m)^[ \t]+", "", p.replace(" ", "  ")) for n, p in
             enumerate(parts)]  # fmt: skip
    return "".join(parts)


def _fmt(text: str) -> str:
    result = format_text(FILE, text, DiagnosticBag())
    if result is None:
        raise AssertionError("the generated catalog does not parse")
    return result


def measure(size: int, repeats: int, baseline: Lark) -> dict[str, object]:
    text = badly_laid_out(generate(size))
    formatted = _fmt(text)
    if formatted == text or _fmt(formatted) != formatted:
        raise AssertionError("the formatter changed nothing, or is not idempotent")
    timings = harness.time_interleaved(
        {
            "fmt": lambda _mark: _fmt(text),
            "compile": lambda _mark: compile_catalog(FILE, text),
            "baseline": lambda _mark: baseline.parse(text),
        },
        repeats,
    )
    fmt, comp, base = (timings[k].median for k in ("fmt", "compile", "baseline"))
    return {
        "target_lines": size,
        "lines": count_lines(text),
        "timings": {k: t.to_dict() for k, t in timings.items()},
        "ratio_fmt_over_baseline": round(fmt / base, 4),
        "ratio_fmt_over_compile": round(fmt / comp, 4),
    }


def main(argv: Sequence[str]) -> int:
    args = harness.parse_args(NAME, argv, __doc__ or "")
    baseline = Lark(grammar_text(), parser="lalr")
    rows: list[list[str]] = []
    sizes: list[dict[str, object]] = []
    for size in QUICK_SIZES if args.quick else SIZES:
        repeats = args.repeats or (QUICK_REPEATS if args.quick else REPEATS[size])
        result = measure(size, repeats, baseline)
        sizes.append(result)
        t = result["timings"]
        assert isinstance(t, dict)
        rows.append([
            f"{size // 1000}k", str(result["lines"]), harness.fmt_s(t["fmt"]["median_s"]),
            harness.fmt_s(t["compile"]["median_s"]), harness.fmt_s(t["baseline"]["median_s"]),
            f"{result['ratio_fmt_over_baseline']:.2f}", f"{result['ratio_fmt_over_compile']:.2f}",
        ])  # fmt: skip
    harness.print_table(
        "om fmt, medians (ratios: fmt time / baseline time, fmt time / compile time)",
        ["size", "lines", "fmt", "compile", "baseline", "fmt/base", "fmt/compile"],
        rows,
    )
    if not args.no_write:
        path = harness.write_result(NAME, {"sizes": sizes}, args.quick)
        print(f"wrote {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
    return 0
