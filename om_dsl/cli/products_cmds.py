"""`om products` and `om products show ID`: the product inventory of a store.

What completed orders installed, by TMF product instance id (docs/runtime.md, Product
inventory): the list an operator checks before a CRM's `modify` (is the product there, active,
of the offer the CRM says?), and one product whole.  They only read the store, so they work
beside a process that runs it and for an account that may only read it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from om_dsl.cli.app import (
    EXIT_NOT_FOUND,
    EXIT_USAGE,
    FormatOption,
    OmTyper,
    TableFormatOption,
    app,
    err,
    fail,
    json_value,
    out,
    table_format,
    text_or_json,
    when_text,
    write_json,
    write_stdout,
)
from om_dsl.cli.runtime_args import DbOption, open_runtime
from om_dsl.consoles import fitted_table_text, rows_table, tsv_text
from om_dsl.orders.inventory import STATUSES, InventoryProduct
from om_dsl.runtime.inventory_view import product_view
from om_dsl.runtime.store.base import ProductFilter

products_app = OmTyper(
    help="The product inventory: what completed orders installed (`om products show ID`).",
    invoke_without_command=True,
    no_args_is_help=False,
)
app.add_typer(products_app, name="products")

HEADER = ("product", "status", "offer", "account", "since", "orders")


@products_app.callback()
def products_cmd(
    ctx: typer.Context,
    db: DbOption = Path("om.db"),
    status: Annotated[
        str | None, typer.Option("--status", help="Only products in this status (active, ...).")
    ] = None,
    fmt: TableFormatOption = "text",
) -> None:
    """List the inventory's products by start date: status, offer, account, orders."""
    if ctx.invoked_subcommand is not None:
        return
    fmt = table_format(fmt)
    if status is not None and status not in STATUSES:
        fail(f"--status: unknown product status {status!r}; use {', '.join(STATUSES)}", EXIT_USAGE)
    with open_runtime(db, None, None, 1, read_only=True) as runtime:
        found = runtime.store.products(ProductFilter(status=status))
    if fmt == "json":
        write_json([product_view(product) for product in found])
    elif fmt == "tsv":  # the header even with no rows, as `om orders` (scripts read it)
        write_stdout(tsv_text(HEADER, [_cells(product) for product in found]))
    elif not found:
        err.print(f"no products{f' in status {status}' if status else ''} in {db}")
    else:
        write_stdout(fitted_table_text(_table(found), sys.stdout, keep=("product",)))


@products_app.command("show")
def show_cmd(
    product_id: Annotated[str, typer.Argument(help="The product id (TMF product.id).")],
    db: DbOption = Path("om.db"),
    fmt: FormatOption = "text",
) -> None:
    """Show one product: its offer, values, dates and the order items that touched it."""
    text_or_json(fmt)
    with open_runtime(db, None, None, 1, read_only=True) as runtime:
        product = runtime.store.product(product_id)
    if product is None:
        fail(f"no product {product_id} in the inventory of {db}", EXIT_NOT_FOUND)
    if fmt == "json":
        write_json(product_view(product))
        return
    out.print(f"product {product.id}: {product.status}", markup=False, highlight=False)
    for line in _details(product):
        out.print(f"  {line}", markup=False, highlight=False)


def _details(product: InventoryProduct) -> list[str]:
    offer = (
        f"{product.offering} (id {product.offering_id})"
        if product.offering_id
        else product.offering
    )
    lines = [f"offer {offer}, account {product.account or '-'}, customer {product.customer or '-'}"]
    dates = f"since {when_text(product.start_date)}" if product.start_date else "no start date"
    if product.termination_date is not None:
        dates += f", terminated {when_text(product.termination_date)}"
    lines.append(dates)
    lines += [f"{name} = {json_value(value)}" for name, value in product.attributes.items()]
    lines += [f"order {r.order_id} item {r.item_id}: {r.action}" for r in product.order_items]
    return lines


def _table(products: list[InventoryProduct]) -> Table:
    """The rows as people read them (see :func:`~om_dsl.consoles.fitted_table_text`)."""
    return rows_table(HEADER, [_cells(product) for product in products], right={"orders"})


def _cells(product: InventoryProduct) -> list[str]:
    since = when_text(product.start_date) if product.start_date else "-"
    return [product.id, product.status, product.offering, product.account or "-", since,
            str(len(product.order_items))]  # fmt: skip
