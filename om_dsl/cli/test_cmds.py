"""`om test CATALOG ORDERS...`: a catalog's regression cases (see :mod:`om_dsl.casebook`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from om_dsl.casebook import CaseClash, CaseResult, find_cases, run_case
from om_dsl.cli.app import EXIT_ERRORS, EXIT_OK, EXIT_USAGE, app, fail, one_of, out
from om_dsl.cli.common import CatalogArg, load_catalog_arg
from om_dsl.cli.order_args import InstalledBaseOption, decomposer_or_fail, installed_base_or_fail
from om_dsl.rules.engine import ENGINES

MARKS = {
    "passed": "[green]ok[/]",
    "updated": "[cyan]updated[/]",
    "failed": "[red]FAILED[/]",
    "missing": "[yellow]NO EXPECTATION[/]",
    "error": "[red]ERROR[/]",
}


@app.command("test")
def test_cmd(
    catalog: CatalogArg,
    orders: Annotated[
        list[Path],
        typer.Argument(help="Order files, or folders of them (every *.json in them)."),
    ],
    update: Annotated[
        bool, typer.Option("--update", help="Record what each order does now as expected.")
    ] = False,
    expectations: Annotated[
        Path | None,
        typer.Option(
            "--expectations",
            help="Keep NAME.expected.json here rather than next to each order.",
            file_okay=False,
        ),
    ] = None,
    engine: Annotated[str, typer.Option("--engine", help="compiled or durable")] = "compiled",
    installed_base: InstalledBaseOption = None,
) -> None:
    """Check that orders still decompose and plan as recorded (regression cases)."""
    one_of(engine, ENGINES, "engine")
    try:
        cases = find_cases(orders, expectations)
    except (FileNotFoundError, CaseClash) as exc:
        fail(str(exc), EXIT_USAGE)
    if not cases:
        fail("no order files found in " + ", ".join(map(str, orders)), EXIT_USAGE)
    ir = load_catalog_arg(catalog)
    installed = installed_base_or_fail(installed_base, ir)
    decomposer = decomposer_or_fail(ir, engine)
    results = []
    for case in cases:  # each shown when done: an interrupted --update says what it wrote
        results.append(run_case(case, decomposer, installed, update))
        _show(results[-1])
    raise typer.Exit(_summary(results))


def _show(result: CaseResult) -> None:
    """One line a case, a failed one's diff under it: on stdout, as the command's result
    (`om test ... > report.txt` gave an empty report)."""
    out.print(f"{MARKS[result.status]} {result.case.name}", markup=True, highlight=False, end="")
    one_line = result.status in ("missing", "error")
    out.print(f": {result.detail}" if one_line else "", markup=False, highlight=False)
    if result.detail and not one_line:
        out.print(result.detail, markup=False, highlight=False)


def _summary(results: list[CaseResult]) -> int:
    counts: dict[str, int] = {}
    for result in results:
        counts[result.status] = counts.get(result.status, 0) + 1
    order = ("passed", "updated", "failed", "missing", "error")
    out.print(", ".join(f"{counts[s]} {s}" for s in order if s in counts), highlight=False)
    bad = any(r.status in ("failed", "missing", "error") for r in results)
    return EXIT_ERRORS if bad else EXIT_OK
