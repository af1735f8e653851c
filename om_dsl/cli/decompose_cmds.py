"""`om decompose CATALOG ORDER`: validate a commercial order and show the work it implies.

stdout carries the result only (JSON, the table or TMF641 payloads); every problem goes to
stderr.  An invalid order prints each issue with its JSON path and exits 1 with nothing on
stdout, so a script can tell "no output" from "empty output".
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Annotated, Any

import typer
from rich.table import Table

from om_dsl.cli.app import app, encodable, err, json_value, one_of, write_text
from om_dsl.cli.common import CatalogArg, load_catalog_and_spans
from om_dsl.cli.order_args import (
    InstalledBaseOption,
    decomposer_or_fail,
    installed_base_or_fail,
    read_order_bytes,
    validate_and_decompose,
)
from om_dsl.consoles import boxes_for, text_console, text_of
from om_dsl.orders.explain import explain, render_text
from om_dsl.orders.models import Decomposition, FulfillmentLine, FulfillmentRequest
from om_dsl.orders.tmf641 import service_orders
from om_dsl.rules.engine import ENGINES

FORMATS = ("json", "table", "text", "tmf641")
TEXT_FORMATS = ("table", "text")
"""`text` is another name of `table`, as on every command that prints for people."""


@app.command("decompose")
def decompose_cmd(
    catalog: CatalogArg,
    order: Annotated[
        str, typer.Argument(help="The order: TMF622 ProductOrder or native JSON ('-' = stdin).")
    ],
    engine: Annotated[str, typer.Option("--engine", help="compiled or durable")] = "compiled",
    fmt: Annotated[str, typer.Option("--format", help="json, table (or text) or tmf641")] = "json",
    why: Annotated[
        bool, typer.Option("--explain", help="Also say which rules matched each item, and why.")
    ] = False,
    output: Annotated[str | None, typer.Option("-o", "--output", help="Write here.")] = None,
    installed_base: InstalledBaseOption = None,
) -> None:
    """Decompose a commercial order into fulfillment requests and technical lines."""
    one_of(engine, ENGINES, "engine")
    one_of(fmt, FORMATS, "format")
    raw = read_order_bytes(order)
    ir, where = load_catalog_and_spans(catalog)
    installed = installed_base_or_fail(installed_base, ir)
    decomposer = decomposer_or_fail(ir, engine)
    valid, result = validate_and_decompose(decomposer, raw, installed)
    reasons = explain(decomposer.program, valid, result) if why else None
    if fmt in TEXT_FORMATS:
        text = _tables(result)
        text = boxes_for(text, sys.stdout) if output in (None, "-") else text
        why_text = "\n" + render_text(reasons, where) if reasons is not None else ""
        write_text(text + why_text, output)
        return
    if fmt == "tmf641":
        payloads = service_orders(result, valid, decomposer.catalog)
        text = json.dumps(payloads, indent=2, ensure_ascii=False) + "\n"
        _write_json(text, lambda: payloads, output)
        if reasons is not None:
            err.print(render_text(reasons, where), markup=False, highlight=False, end="")
        return
    _write_json(_json(result, reasons), lambda: _data(result, reasons), output)


def _write_json(text: str, data: Callable[[], Any], output: str | None) -> None:
    """JSON on stdout or in a file; on a stdout that cannot encode it as it is
    (``PYTHONIOENCODING=ascii``), with \\u escapes, which keep the value, as ``write_json``
    does: the stream's own fallback wrote ``"\\xc9"``, which is no JSON."""
    if output in (None, "-") and not encodable(text, sys.stdout):
        text = json.dumps(data(), indent=2) + "\n"
    write_text(text, output)


def _json(result: Decomposition, reasons: list[Any] | None) -> str:
    if reasons is None:
        return result.model_dump_json(indent=2) + "\n"
    return json.dumps(_data(result, reasons), indent=2, ensure_ascii=False) + "\n"


def _data(result: Decomposition, reasons: list[Any] | None) -> Any:
    if reasons is None:
        return result.model_dump(mode="json")
    return {
        "decomposition": result.model_dump(mode="json"),
        "explain": [r.to_dict() for r in reasons],
    }


# ---- table -------------------------------------------------------------------------------------


def _tables(result: Decomposition) -> str:
    """A readable summary: one table per fulfillment request (plain text, no colours)."""
    console = text_console()
    console.print(
        f"order {result.order_id}: {len(result.requests)} fulfillment request(s), "
        f"{len(result.lines())} line(s)",
        markup=False,
        highlight=False,
    )
    for request in result.requests:
        console.print(_table(request))
    return text_of(console)


def _table(request: FulfillmentRequest) -> Table:
    title = request.id + (f"  (uses {', '.join(request.uses)})" if request.uses else "")
    table = Table(title=title, title_justify="left", show_lines=False)
    for column in ("line", "kind", "action", "attributes", "changed", "from"):
        table.add_column(column, overflow="fold")
    for line in request.lines:
        attrs = ", ".join(f"{k}={_value(v)}" for k, v in line.attributes.items())
        table.add_row(
            line.id, line.kind, line.action, attrs, _changed(line), ", ".join(line.source_items),
        )  # fmt: skip
    if not request.lines:
        table.add_row("(no lines)", "", "", "", "", "")
    return table


def _changed(line: FulfillmentLine) -> str:
    """What a modify changes, with the value before where the order said it: a reviewer of a
    change order reads "from what to what" without the JSON."""
    previous = line.previous
    return ", ".join(
        f"{name} (was {_value(previous[name])})" if name in previous else name
        for name in line.changed
    )


def _value(value: Any) -> str:
    return json_value(value) if not isinstance(value, str) else value
