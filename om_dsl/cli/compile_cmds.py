"""`om check` (and `om check --watch`), `om compile`, `om schema`."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from om_dsl.cli import watch as watching
from om_dsl.cli.app import (
    EXIT_ERRORS,
    EXIT_OK,
    EXIT_USAGE,
    FormatOption,
    app,
    err,
    fail,
    one_of,
    output_path,
    report_error,
    shown,
    text_or_json,
    write_text,
)
from om_dsl.cli.common import one_root
from om_dsl.cli.diagnostics import (
    print_compiled,
    print_explain_hint,
    print_json,
    print_text,
    relocate,
    summary,
)
from om_dsl.compiler.driver import CompileResult, compile_catalog
from om_dsl.compiler.roots import NO_ROOT, catalog_roots
from om_dsl.errors import Diagnostic
from om_dsl.ir.io import dump_ir, ir_json_schema


def _order_schema() -> dict[str, Any]:
    # Imported here: `om check` and `om compile` never load the order models.
    from om_dsl.orders.schema import order_json_schema  # noqa: PLC0415

    return order_json_schema()


def _decomposition_schema() -> dict[str, Any]:
    from om_dsl.orders.schema import decomposition_json_schema  # noqa: PLC0415

    return decomposition_json_schema()


SCHEMAS: dict[str, Callable[[], dict[str, Any]]] = {
    "ir": ir_json_schema,
    "order": _order_schema,
    "decomposition": _decomposition_schema,
}

WatchOption = Annotated[
    bool, typer.Option("--watch", help="Check again each time a .om file changes (Ctrl-C stops).")
]
IntervalOption = Annotated[
    float | None,
    typer.Option("--interval", help="With --watch: seconds between looks for changes (0.5)."),
]
StrictOption = Annotated[
    bool, typer.Option("--strict", help="Warnings fail too (exit 1), as errors do: for CI.")
]


@app.command()
def check(
    paths: Annotated[list[Path], typer.Argument(help="Catalog root files (.om) or folders.")],
    fmt: FormatOption = "text",
    watch: WatchOption = False,
    interval: IntervalOption = None,
    strict: StrictOption = False,
) -> None:
    """Check catalogs and print every error and warning (exit 1 on errors)."""
    text_or_json(fmt)
    if not watch:
        if interval is not None:
            fail("--interval goes with --watch", EXIT_USAGE)
        sys.exit(_check(paths, fmt, strict=strict))
    interval = watching.DEFAULT_INTERVAL_S if interval is None else interval
    if not watching.MIN_INTERVAL_S <= interval <= watching.MAX_INTERVAL_S:
        fail(
            f"--interval must be between {watching.MIN_INTERVAL_S} and "
            f"{watching.MAX_INTERVAL_S:.0f} seconds",
            EXIT_USAGE,
        )
    _watch(paths, fmt, interval, strict)


def _check(paths: list[Path], fmt: str, watching_now: bool = False, strict: bool = False) -> int:
    """Check every root once; the exit code it deserves."""
    results: dict[str, list[Diagnostic]] = {}
    reached: set[Path] = set()
    for path in paths:
        for root in catalog_roots(path):
            _check_root(root, fmt, results, reached, strict)
        if path.is_dir():
            for stray in _strays(path, reached):
                _check_stray(stray, fmt, results)
    if not results:
        message = f"no catalog files found ({NO_ROOT})"
        if fmt == "json":
            print_json(results)  # stdout stays one JSON document, with no files in it
        if not watching_now:
            fail(message)
        report_error(message)
        return EXIT_ERRORS
    if fmt == "json":
        print_json(results)
    else:
        print_explain_hint([d for diagnostics in results.values() for d in diagnostics])
    counts = [summary(diagnostics) for diagnostics in results.values()]
    errors, warnings = sum(e for e, _ in counts), sum(w for _, w in counts)
    if strict and warnings and not errors:
        report_error(f"{warnings} warning(s), which --strict makes fail")
    return EXIT_ERRORS if errors or (strict and warnings) else EXIT_OK


def _check_root(
    root: Path, fmt: str, results: dict[str, list[Diagnostic]], reached: set[Path], strict: bool
) -> None:
    result = compile_catalog(root)
    diagnostics, sources = relocate(result.diagnostics, result.sources, root)
    results[str(root)] = diagnostics
    reached.add(root.resolve())
    reached.update((root.parent / name).resolve() for name in result.sources)
    if fmt == "text":
        print_text(diagnostics, sources)
        _report(root, result, strict)


def _strays(folder: Path, reached: set[Path]) -> list[Path]:
    """The ``.om`` files directly in ``folder`` that no root checked so far imports: a root
    whose header is misspelt (``catlog "Acme"``), or a file of declarations that a root
    elsewhere imports (or nothing does)."""
    return sorted(p for p in folder.glob("*.om") if p.is_file() and p.resolve() not in reached)


SYNTAX_CODES = frozenset({"E001", "E002", "E003", "E004", "E005", "E009", "E010"})
"""What is wrong with a file whatever catalog it belongs to: it cannot be read or parsed."""


def _check_stray(path: Path, fmt: str, results: dict[str, list[Diagnostic]]) -> None:
    """Report a stray file's syntax errors (a folder whose root had a misspelt header used to
    pass, that file never read).  A file that parses is taken for a file of declarations
    that some root imports: its names may be declared elsewhere, so it is not checked alone."""
    result = compile_catalog(path)
    found = [d for d in result.diagnostics if d.code in SYNTAX_CODES]
    if not found:
        return
    diagnostics, sources = relocate(found, result.sources, path)
    results[str(path)] = diagnostics
    if fmt == "text":
        print_text(diagnostics, sources)
        _report(path, CompileResult(None, diagnostics, result.sources))


def _watch(paths: list[Path], fmt: str, interval: float, strict: bool) -> None:
    """Check, then check again after each change, until Ctrl-C (see om_dsl/cli/watch.py)."""
    roots = watching.folders(paths)
    before = watching.snapshot(roots)
    while True:
        _check(paths, fmt, watching_now=True, strict=strict)
        shown = ", ".join(str(r) for r in roots)
        err.print(f"watching {len(before)} .om file(s) in {shown}; Ctrl-C stops", highlight=False)
        before, changed = watching.wait_for_change(before, roots, interval)
        names = ", ".join(p.name for p in changed[:3]) + (" ..." if len(changed) > 3 else "")
        err.print(f"\n--- changed: {names}; checking again", highlight=False)


def _report(root: Path, result: CompileResult, strict: bool = False) -> None:
    """The root's last line: `ok` with what it holds, or its counts in red when it failed
    (with --strict, warnings fail it too, so it is not `ok`)."""
    errors, warnings = summary(result.diagnostics)
    if result.catalog is not None and not (strict and warnings):
        cat = result.catalog
        name, version, where = (shown(str(x)) for x in (cat.name, cat.version, root))
        err.print(
            f"[green]ok[/] {where}: catalog '{name}' version {version}, "
            f"{len(cat.offers)} offers, {len(cat.technical)} technical products, "
            f"{len(cat.plans)} plans" + (f", {warnings} warning(s)" if warnings else ""),
            markup=True,
        )
    else:
        err.print(
            f"[red]{shown(str(root))}: {errors} error(s), {warnings} warning(s)[/]", markup=True
        )


@app.command("compile")
def compile_cmd(
    catalog: Annotated[
        Path, typer.Argument(help="The catalog root file (.om), or the folder that holds it.")
    ],
    output: Annotated[str | None, typer.Option("-o", "--output", help="IR JSON file.")] = None,
    strict: StrictOption = False,
) -> None:
    """Compile a catalog to IR JSON (nothing is written when there are errors)."""
    catalog = one_root(catalog)
    result = compile_catalog(catalog)
    if output and output != "-":
        _not_a_source(catalog, result, output_path(output))
    print_compiled(result, catalog)
    print_explain_hint(result.diagnostics)
    errors, warnings = summary(result.diagnostics)
    if result.catalog is None:
        fail(f"{catalog}: {errors} error(s); no IR written")
    if strict and warnings:
        fail(f"{catalog}: {warnings} warning(s), which --strict makes fail; no IR written")
    write_text(dump_ir(result.catalog), output)
    if output:
        err.print(f"wrote {output} ({result.catalog.content_hash[:19]})")


def _not_a_source(root: Path, result: CompileResult, target: Path) -> None:
    """A usage error when ``target`` is a file the catalog was read from (the root or an
    import, however it is spelt: ``./``, ``..``, a symbolic or hard link), as gcc refuses
    "input file is the same as output file": `om compile self.om -o self.om` replaced the
    catalog's source with its IR."""
    if not target.exists():
        return
    for name in sorted(result.sources):
        source = root.parent / name
        try:
            same = source.exists() and target.samefile(source)
        except OSError:  # unreadable since the compile: not the same file we can tell
            continue
        if same:
            what = "the catalog's root file" if name == root.name else f"imported file {source}"
            fail(
                f"-o {target} is {what}: writing the IR there would replace the catalog's "
                "source; write it to another file (nothing was written)",
                EXIT_USAGE,
            )


@app.command()
def schema(
    name: Annotated[str, typer.Argument(help="Which schema: " + ", ".join(SCHEMAS))] = "ir",
    output: Annotated[str | None, typer.Option("-o", "--output")] = None,
) -> None:
    """Print a JSON Schema (the IR by default)."""
    factory = SCHEMAS[one_of(name, sorted(SCHEMAS), "schema")]
    write_text(json.dumps(factory(), indent=2, sort_keys=True) + "\n", output)
