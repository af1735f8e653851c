"""Attribute values of an item (or of the order): names resolved, typed, constrained, defaulted."""

from __future__ import annotations

from collections.abc import Set
from typing import Any

from om_dsl.orders.catalog_index import AttrTable
from om_dsl.orders.drafts import Value
from om_dsl.orders.issues import IssueLog, Path, show
from om_dsl.suggest import closest


def resolve_values(
    values: list[Value],
    table: AttrTable,
    log: IssueLog,
    owner: str,
    *,
    complete: bool = True,
    container: Path = "",
) -> dict[str, Any]:
    """The values keyed by attribute name, every problem reported to ``log``.

    Args:
        values: As written in the order (names or aliases).
        table: The attributes they must belong to.
        owner: Who declares the attributes, for messages (``offer HomeFibre``).
        complete: Apply defaults and require required attributes (False for ``previous``,
            which lists only what changed: there a null says the attribute had no value
            before, and stands for its default, or stays null).
        container: Where the values sit, for a missing attribute's path.
    """
    out: dict[str, Any] = {}
    where: dict[str, Path] = {}
    nulls: dict[str, Path] = {}
    hinted: set[str] = set()
    for value in values:
        spec = table.lookup(value.name)
        if spec is None:
            close = closest(value.name, table.names())
            log.add("O034", value.name_path, _unknown(value.name, table, owner, close))
            meant = None if close is None else table.lookup(close)
            if meant is not None:  # the fix its hint gives: not also a missing attribute
                hinted.add(meant.attr.name)
            continue
        name = spec.attr.name
        if value.value is None and complete:  # null is absent; its name is checked all the
            nulls.setdefault(name, value.path)  # same, and a required one is reported where
            continue  # it stood
        if name in where:
            log.add("O035", value.name_path, f"'{name}' is given twice (first at {where[name]})")
            continue
        where[name] = value.path
        if value.value is None:  # previous: the attribute had no value before the order (so
            out[name] = table.defaults.get(name)  # its default, when it has one)
            continue
        problem = spec.check(value.value)
        if problem is not None:
            log.add("O036", value.path, f"{name}: {problem}")
            continue
        out[name] = value.value
    if complete:
        out = _complete(out, table, log, owner, container, where.keys() | hinted, nulls)
    return out


def _unknown(name: str, table: AttrTable, owner: str, close: str | None) -> str:
    if not table.names():
        return f"unknown attribute {show(name)}: {owner} has no attributes"
    return f"unknown attribute {show(name)} for {owner}" + (
        f" (did you mean {show(close)}?)" if close else ""
    )


def _complete(
    values: dict[str, Any],
    table: AttrTable,
    log: IssueLog,
    owner: str,
    container: Path,
    given: Set[str],
    nulls: dict[str, Path],
) -> dict[str, Any]:
    """Declaration order, defaults filled in; a required attribute that is missing is an issue
    (at the null that stood for it, when one did).  ``given``: the names given, with a value
    in error or not, and those a misspelt name's hint names."""
    out: dict[str, Any] = {}
    for name, spec in table.by_name.items():
        if name in values:
            out[name] = values[name]
        elif name in table.defaults:
            out[name] = table.defaults[name]
        elif spec.attr.required and name not in given:
            alias = f" (alias {spec.attr.alias})" if spec.attr.alias else ""
            null = ", which has no value here (null or left out)" if name in nulls else ""
            log.add(
                "O037", nulls.get(name, container),
                f"{owner} needs attribute '{name}'{alias}{null}; it is required",
            )  # fmt: skip
    return out
