"""`om decompose CATALOG ORDER`: validate a commercial order and show the work it implies.

stdout carries the result only (JSON, the table or TMF641 payloads); every problem goes to
stderr.  An invalid order prints each issue with its JSON path and exits 1 with nothing on
stdout, so a script can tell "no output" from "empty output".
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from om_dsl.cli.app import EXIT_USAGE, app, err, fail, out, write_text
from om_dsl.cli.common import load_catalog_arg
from om_dsl.errors import DecompositionError, OmError, OrderIssue, OrderValidationError
from om_dsl.ir import models as ir
from om_dsl.orders.decompose import Decomposer
from om_dsl.orders.explain import explain, render_text
from om_dsl.orders.limits import DEFAULT_LIMITS
from om_dsl.orders.models import Decomposition, FulfillmentRequest, Order
from om_dsl.orders.tmf641 import service_orders
from om_dsl.rules.engine import ENGINES, EngineUnavailable

FORMATS = ("json", "table", "tmf641")


@app.command("decompose")
def decompose_cmd(
    catalog: Annotated[Path, typer.Argument(help="The catalog: a root .om file or IR JSON.")],
    order: Annotated[
        str, typer.Argument(help="The order: TMF622 ProductOrder or native JSON ('-' = stdin).")
    ],
    engine: Annotated[str, typer.Option("--engine", help="compiled or durable")] = "compiled",
    fmt: Annotated[str, typer.Option("--format", help="json, table or tmf641")] = "json",
    why: Annotated[
        bool, typer.Option("--explain", help="Also say which rules matched each item, and why.")
    ] = False,
    output: Annotated[str | None, typer.Option("-o", "--output", help="Write here.")] = None,
) -> None:
    """Decompose a commercial order into fulfillment requests and technical lines."""
    if engine not in ENGINES:
        fail(f"unknown engine '{engine}'; choose one of: {', '.join(ENGINES)}", EXIT_USAGE)
    if fmt not in FORMATS:
        fail(f"unknown format '{fmt}'; choose one of: {', '.join(FORMATS)}", EXIT_USAGE)
    raw = _read_order(order)
    decomposer = _decomposer(load_catalog_arg(catalog), engine)
    valid, result = _run(decomposer, raw)
    reasons = explain(decomposer.program, valid, result) if why else None
    if fmt == "table":
        text = _tables(result)
        write_text(text + ("\n" + render_text(reasons) if reasons is not None else ""), output)
        return
    if fmt == "tmf641":
        payloads = service_orders(result, valid, decomposer.catalog)
        write_text(json.dumps(payloads, indent=2, ensure_ascii=False) + "\n", output)
        if reasons is not None:
            err.print(render_text(reasons), markup=False, highlight=False, end="")
        return
    write_text(_json(result, reasons), output)


def _read_order(source: str) -> bytes:
    """The order's bytes; a file past the size limit is refused before it is read."""
    if source == "-":
        return sys.stdin.buffer.read(DEFAULT_LIMITS.max_bytes + 1)
    path = Path(source)
    try:
        size = path.stat().st_size
        if size > DEFAULT_LIMITS.max_bytes:
            _issues(
                "the order is invalid",
                [
                    OrderIssue(
                        "O002",
                        "$",
                        f"the order is {size:,} bytes; the limit is {DEFAULT_LIMITS.max_bytes:,}",
                    )
                ],
            )
        return path.read_bytes()
    except OSError as exc:
        fail(f"cannot read order {source}: {exc.strerror or exc}")


def _decomposer(catalog: ir.Catalog, engine: str) -> Decomposer:
    try:
        return Decomposer(catalog, engine)
    except EngineUnavailable as exc:
        fail(str(exc))


def _run(decomposer: Decomposer, raw: bytes) -> tuple[Order, Decomposition]:
    try:
        valid = decomposer.read(raw)
        return valid, decomposer.decompose(valid)
    except OrderValidationError as exc:
        _issues("the order is invalid", exc.issues)
    except DecompositionError as exc:
        _issues("the order cannot be decomposed", exc.issues)
    except OmError as exc:  # e.g. the durable engine failed: not the user's mistake, but clean
        fail(f"decomposition failed: {exc}")


def _issues(headline: str, issues: list[OrderIssue]) -> NoReturn:
    for issue in issues:
        err.print(
            f"{issue.path}: error[{issue.code}]: {issue.message}", markup=False, highlight=False
        )
    fail(f"{headline}: {len(issues)} problem(s)")


def _json(result: Decomposition, reasons: list[Any] | None) -> str:
    if reasons is None:
        return result.model_dump_json(indent=2) + "\n"
    payload = {
        "decomposition": result.model_dump(mode="json"),
        "explain": [r.to_dict() for r in reasons],
    }
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"


# ---- table -------------------------------------------------------------------------------------


def _tables(result: Decomposition) -> str:
    """A readable summary: one table per fulfillment request (plain text, no colours)."""
    console = Console(file=io.StringIO(), width=max(out.width, 100), color_system=None)
    console.print(
        f"order {result.order_id}: {len(result.requests)} fulfillment request(s), "
        f"{len(result.lines())} line(s)",
        markup=False,
        highlight=False,
    )
    for request in result.requests:
        console.print(_table(request))
    stream = console.file
    assert isinstance(stream, io.StringIO)
    return stream.getvalue()


def _table(request: FulfillmentRequest) -> Table:
    title = request.id + (f"  (uses {', '.join(request.uses)})" if request.uses else "")
    table = Table(title=title, title_justify="left", show_lines=False)
    for column in ("line", "kind", "action", "attributes", "changed", "from"):
        table.add_column(column, overflow="fold")
    for line in request.lines:
        attrs = ", ".join(f"{k}={_value(v)}" for k, v in line.attributes.items())
        table.add_row(
            line.id, line.kind, line.action, attrs, ", ".join(line.changed),
            ", ".join(line.source_items),
        )  # fmt: skip
    if not request.lines:
        table.add_row("(no lines)", "", "", "", "", "")
    return table


def _value(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
