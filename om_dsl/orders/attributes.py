"""Attribute values of an item (or of the order): names resolved, typed, constrained, defaulted."""

from __future__ import annotations

from typing import Any

from om_dsl.orders.catalog_index import AttrTable
from om_dsl.orders.drafts import Value
from om_dsl.orders.issues import IssueLog, Path, show
from om_dsl.orders.values import did_you_mean


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
            which lists only what changed).
        container: Where the values sit, for a missing attribute's path.
    """
    out: dict[str, Any] = {}
    where: dict[str, Path] = {}
    for value in values:
        spec = table.lookup(value.name)
        if spec is None:
            log.add("O034", value.name_path, _unknown(value.name, table, owner))
            continue
        name = spec.attr.name
        if name in where:
            log.add("O035", value.name_path, f"'{name}' is given twice (first at {where[name]})")
            continue
        where[name] = value.path
        problem = spec.check(value.value)
        if problem is not None:
            log.add("O036", value.path, f"{name}: {problem}")
            continue
        out[name] = value.value
    if complete:
        out = _complete(out, table, log, owner, container, where)
    return out


def _unknown(name: str, table: AttrTable, owner: str) -> str:
    known = table.names()
    if not known:
        return f"unknown attribute {show(name)}: {owner} has no attributes"
    return f"unknown attribute {show(name)} for {owner}" + did_you_mean(name, known)


def _complete(
    values: dict[str, Any],
    table: AttrTable,
    log: IssueLog,
    owner: str,
    container: Path,
    given: dict[str, Path],
) -> dict[str, Any]:
    """Declaration order, defaults filled in; a required attribute that is missing is an issue."""
    out: dict[str, Any] = {}
    for name, spec in table.by_name.items():
        if name in values:
            out[name] = values[name]
        elif name in table.defaults:
            out[name] = table.defaults[name]
        elif spec.attr.required and name not in given:
            alias = f" (alias {spec.attr.alias})" if spec.attr.alias else ""
            log.add("O037", container, f"{owner} needs attribute '{name}'{alias}; it is required")
    return out
