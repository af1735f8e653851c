"""`om explain [CODE]`: what a diagnostic or issue code means and how to fix it.

rustc has ``--explain`` and ruff ``ruff rule``: a designer who meets ``error[E044]`` in a
terminal looks it up there, without the docs at hand.  The texts are the code tables of the
docs (:mod:`om_dsl.codes`, their single source).
"""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.markup import escape

from om_dsl.cli.app import EXIT_USAGE, FormatOption, app, fail, out, text_or_json
from om_dsl.codes import FAMILIES, INDEX, Explained, explain, normalize
from om_dsl.compiler.names import suggest


@app.command("explain")
def explain_cmd(
    code: Annotated[
        str | None, typer.Argument(help="A code such as E044, W006, O036 or S013; none lists all.")
    ] = None,
    fmt: FormatOption = "text",
) -> None:
    """Explain a diagnostic or issue code: what it means and how to fix it."""
    text_or_json(fmt)
    if code is None:
        _list(fmt)
        return
    found = explain(code)
    if found is None:
        known = normalize(code)
        hints = suggest(known, INDEX) if known is not None else ()
        fail(f"unknown code '{code}'" + (f"; {hints[0]}" if hints else ""), EXIT_USAGE)
    if fmt == "json":
        sys.stdout.write(json.dumps(_data(found), indent=2, ensure_ascii=False) + "\n")
        return
    _show(found)


def _show(found: Explained) -> None:
    doc = found.doc
    out.print(f"[bold]{found.code}[/]: {found.severity}, {found.family.about}", markup=True)
    out.print(escape(doc.meaning), markup=True)
    if doc.fix:
        out.print(f"[bold]fix:[/] {escape(doc.fix)}", markup=True)
    others = [c for c in doc.codes if c != found.code]
    if others:
        out.print(f"explained together with {', '.join(others)}")
    out.print(f"examples and context: {found.family.page} in the om_dsl repository")


def _data(found: Explained) -> dict[str, object]:
    return {
        "code": found.code,
        "severity": found.severity,
        "family": found.family.name,
        "meaning": found.doc.meaning,
        "fix": found.doc.fix or None,
        "related": [c for c in found.doc.codes if c != found.code],
        "page": found.family.page,
    }


def _list(fmt: str) -> None:
    if fmt == "json":
        sys.stdout.write(
            json.dumps([_data(e) for e in INDEX.values()], indent=2, ensure_ascii=False) + "\n"
        )
        return
    for family in FAMILIES:
        out.print(f"[bold]{family.about}[/] ({family.page})", markup=True)
        for doc in family.rows:
            out.print(f"  {', '.join(doc.codes):<22} {escape(doc.meaning)}", markup=True)
        out.print()
