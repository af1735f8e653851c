"""Reading an order argument the way every order-taking command does (`om decompose`,
`om plan`, `om run`, `om render ...`): a file or stdin, size-checked before it is read,
validated and decomposed, with each problem printed as `path: error[code]: message`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from om_dsl.cli.app import err, fail
from om_dsl.cli.diagnostics import print_explain_code
from om_dsl.errors import (
    DecompositionError,
    InstalledBaseError,
    OmError,
    OrderIssue,
    OrderValidationError,
)
from om_dsl.ir import models as ir
from om_dsl.orders.decompose import Decomposer
from om_dsl.orders.installed_base import InstalledBase
from om_dsl.orders.installed_lines import InstalledLines, read_installed_lines
from om_dsl.orders.inventory import ProductInventory
from om_dsl.orders.jsondoc import data_issues, repeated_pairs
from om_dsl.orders.limits import DEFAULT_LIMITS
from om_dsl.orders.models import Decomposition, Order
from om_dsl.rules.engine import EngineUnavailable


def read_order_bytes(source: str) -> bytes:
    """The order's bytes; a file past the size limit is refused before it is read."""
    if source == "-":
        return sys.stdin.buffer.read(DEFAULT_LIMITS.max_bytes + 1)
    path = Path(source)
    try:
        size = path.stat().st_size
        if size > DEFAULT_LIMITS.max_bytes:
            print_issues_and_fail(
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


def decomposer_or_fail(catalog: ir.Catalog, engine: str) -> Decomposer:
    try:
        return Decomposer(catalog, engine)
    except EngineUnavailable as exc:
        fail(str(exc))


InstalledBaseOption = Annotated[
    Path | None,
    typer.Option(
        "--installed-base",
        help="JSON: the lines accounts have before the order, {account: {product: {attr: value}}}.",
    ),
]


def installed_base_or_fail(path: Path | None, catalog: ir.Catalog) -> InstalledLines | None:
    """The installed base in the file at ``path``, checked against ``catalog``; its problems
    are printed with their JSON paths, as an order's are."""
    if path is None:
        return None
    try:  # keys as written: {"hubs": 1, "hubs": 2} took the last value without a word
        data = json.loads(path.read_bytes(), object_pairs_hook=repeated_pairs)
    except OSError as exc:
        fail(f"cannot read the installed base {path}: {exc.strerror or exc}")
    except (ValueError, RecursionError) as exc:
        fail(f"{path}: the installed base is not JSON: {exc}")
    problems = data_issues(data)
    if problems:
        print_issues_and_fail(f"{path}: the installed base is invalid", problems)
    try:
        return read_installed_lines(data, catalog)
    except InstalledBaseError as exc:
        print_issues_and_fail(f"{path}: the installed base is invalid", exc.issues)


def validate_and_decompose(
    decomposer: Decomposer, raw: bytes, installed: InstalledBase | None = None
) -> tuple[Order, Decomposition]:
    try:
        valid = decomposer.read(raw)
        return valid, decomposer.decompose(valid, installed)
    except OrderValidationError as exc:
        print_issues_and_fail("the order is invalid", exc.issues)
    except DecompositionError as exc:
        print_issues_and_fail("the order cannot be decomposed", exc.issues)
    except OmError as exc:  # e.g. the durable engine failed: not the user's mistake, but clean
        fail(f"decomposition failed: {exc}")


def with_inventory_or_fail(
    decomposer: Decomposer,
    order: Order,
    installed: InstalledBase | None,
    inventory: ProductInventory | None,
) -> Decomposition:
    """``order`` decomposed with a store's product inventory (its ``modify`` items compared
    with the recorded values), once the store is open; its problems (O072 to O074) printed as
    an order's are."""
    try:
        return decomposer.decompose(order, installed, inventory)
    except OrderValidationError as exc:
        print_issues_and_fail("the order is invalid", exc.issues)
    except DecompositionError as exc:
        print_issues_and_fail("the order cannot be decomposed", exc.issues)


def print_issues_and_fail(headline: str, issues: list[OrderIssue]) -> NoReturn:
    for issue in issues:
        err.print(
            f"{issue.path}: error[{issue.code}]: {issue.message}", markup=False, highlight=False
        )
    if issues:
        print_explain_code(issues[0].code)
    fail(f"{headline}: {len(issues)} problem(s)")
