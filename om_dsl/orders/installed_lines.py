"""An installed base given as data: the lines each account has before the order.

``{"<account>": {"<account-scoped product>": {"<attribute>": value, ...}, ...}, ...}``

Until om_dsl keeps an installed base of its own (see :mod:`om_dsl.orders.installed_base`),
this is how a designer tries what an order does to an account that has lines already
(``om decompose --installed-base FILE``), and how a host whose inventory can list an account's
lines up front hands them over.  It is checked against the catalog before anything is
decomposed, like an order's values: the same codes (O034 to O037) and JSON paths into the
data, plus O080 for its shape, so a typo never silently leaves a line out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from om_dsl.errors import InstalledBaseError
from om_dsl.ir import models as ir
from om_dsl.orders.attributes import resolve_values
from om_dsl.orders.catalog_index import AttrTable
from om_dsl.orders.drafts import Value
from om_dsl.orders.issues import IssueLog, Path, key, show, typed
from om_dsl.orders.values import did_you_mean

Lines = Mapping[str, Mapping[str, Mapping[str, Any]]]


class InstalledLines:
    """An :class:`~om_dsl.orders.installed_base.InstalledBase` over data already checked
    (:func:`read_installed_lines`): account -> product -> the installed line's attributes."""

    def __init__(self, lines: Lines) -> None:
        self._lines = {
            account: {product: dict(attrs) for product, attrs in products.items()}
            for account, products in lines.items()
        }

    def account_line(self, account: str | None, product: str) -> Mapping[str, Any] | None:
        if account is None:
            return None
        return self._lines.get(account, {}).get(product)


def read_installed_lines(data: Any, catalog: ir.Catalog) -> InstalledLines:
    """The installed base in ``data`` (parsed JSON), checked against ``catalog``.

    Raises:
        InstalledBaseError: every problem, each with its JSON path in ``data``.
    """
    log = IssueLog()
    lines: dict[str, dict[str, dict[str, Any]]] = {}
    if not isinstance(data, dict):
        log.add("O080", "$", f"expected an object of accounts, got {typed(data)}")
    else:
        reader = _Reader(catalog, log)
        for account, products in data.items():
            lines[account] = reader.account(key("", account), products)
    log.raise_if_any(error=InstalledBaseError)  # in the order of the data: the walk's
    return InstalledLines(lines)


class _Reader:
    def __init__(self, catalog: ir.Catalog, log: IssueLog) -> None:
        self.catalog = catalog
        self.log = log
        self.enums = {e.name: e.members for e in catalog.enums}
        self.accounted = {t.name: t for t in catalog.technical if t.scope == "account"}

    def account(self, path: Path, products: Any) -> dict[str, dict[str, Any]]:
        if not isinstance(products, dict):
            self.log.add(
                "O080", path,
                f"expected an object of account-scoped products, got {typed(products)}",
            )  # fmt: skip
            return {}
        out = {}
        for name, attrs in products.items():
            where = key(path, name)
            product = self._product(where, name)
            if product is None:
                continue
            if not isinstance(attrs, dict):
                self.log.add(
                    "O080", where,
                    f"expected an object of {name}'s attributes, got {typed(attrs)}",
                )  # fmt: skip
                continue
            values = [Value(n, v, key(where, n), key(where, n)) for n, v in attrs.items()]
            table = AttrTable.build(product.attributes, self.enums)
            owner = f"{product.kind} {name}"
            out[name] = resolve_values(values, table, self.log, owner, container=where)
        return out

    def _product(self, path: Path, name: str) -> ir.TechnicalProduct | None:
        product = self.accounted.get(name)
        if product is not None:
            return product
        other = next((t for t in self.catalog.technical if t.name == name), None)
        if other is not None:
            why = f"{name} has scope {other.scope}: only account-scoped lines are installed"
        elif not self.accounted:
            why = f"unknown product {show(name)}; catalog {show(self.catalog.name)} has no "
            why += "account-scoped product"
        else:
            why = f"unknown product {show(name)}; account-scoped products: "
            why += ", ".join(self.accounted) + did_you_mean(name, list(self.accounted))
        self.log.add("O080", path, why)
        return None
