"""Fulfillment requests: one per root order item, plus one per group of shared lines.

A root item (a bundle with everything below it, or a stand-alone item) gets a request even when
all of its lines are shared, so that every root can be tracked.  Lines of ``order``,
``relies_on`` and ``account`` scope serve several roots, so they live in a shared request of
their own (one per scope group: ``fr:order``, ``fr:relies_on:<first item>``,
``fr:account:<account>``), which each root's request lists in ``uses``.  A line-scope line
chained from a shared line belongs to its parent's shared request.
"""

from __future__ import annotations

from typing import Any

from om_dsl.orders.diff import Compared
from om_dsl.orders.models import FulfillmentLine, FulfillmentRequest
from om_dsl.orders.structure import ItemInfo
from om_dsl.orders.trusted import trusted
from om_dsl.orders.worlds import RequestKey
from om_dsl.rules.program import RuleProgram

_SCOPE_RANK = {"order": 0, "relies_on": 1, "account": 2}


def request_id(key: RequestKey) -> str:
    kind, value = key
    if kind == "root":
        return f"fr:{value}"
    return "fr:order" if kind == "order" else f"fr:{kind}:{value or '-'}"


def assemble(
    compared: list[Compared], infos: list[ItemInfo], program: RuleProgram
) -> list[FulfillmentRequest]:
    compared.sort(key=lambda c: c.line.sort)
    lookup = _Lookup(infos, program)
    grouped: dict[RequestKey, list[FulfillmentLine]] = {}
    first: dict[RequestKey, tuple[int, ...]] = {}
    ids: dict[RequestKey, str] = {}
    for c in compared:
        key = c.line.request
        if key not in ids:
            ids[key] = request_id(key)
            first[key] = c.line.sort
        grouped.setdefault(key, []).append(_line(c, lookup, ids[key]))
    shared_keys = sorted(
        (k for k in grouped if k[0] != "root"), key=lambda k: (_SCOPE_RANK[k[0]], first[k])
    )
    shared = [_shared(k, grouped[k]) for k in shared_keys]
    uses = _uses(shared)
    roots = [
        _root(info.item.id, grouped.get(("root", info.item.id), []), uses.get(info.item.id, {}))
        for info in infos
        if info.item.parent is None
    ]
    return [*roots, *shared]


def _uses(shared: list[FulfillmentRequest]) -> dict[str, dict[str, None]]:
    """Root item id -> the shared requests its lines are in (in shared-request order)."""
    uses: dict[str, dict[str, None]] = {}
    for request in shared:
        for line in request.lines:
            for root in line.root_items:
                uses.setdefault(root, {})[request.id] = None
    return uses


def _root(root: str, lines: list[FulfillmentLine], uses: dict[str, None]) -> FulfillmentRequest:
    return _request(request_id(("root", root)), root, False, "line", None, lines, list(uses))


def _shared(key: RequestKey, lines: list[FulfillmentLine]) -> FulfillmentRequest:
    return _request(request_id(key), None, True, key[0], key[1] or None, lines, [])


def _request(
    id_: str,
    root: str | None,
    shared: bool,
    scope: str,
    key: str | None,
    lines: list[FulfillmentLine],
    uses: list[str],
) -> FulfillmentRequest:
    fields: dict[str, Any] = {"id": id_, "root_item": root, "shared": shared, "scope": scope}
    fields.update(key=key, lines=lines, uses=uses)
    return trusted(FulfillmentRequest, fields)


class _Lookup:
    """Tables, so that each of thousands of lines is a few index reads.  The catalog's come
    from the program (built once per catalog: a per-call copy cost more than a 10-item order)."""

    def __init__(self, infos: list[ItemInfo], program: RuleProgram) -> None:
        self.item_ids = [info.item.id for info in infos]
        self.roots = [info.root for info in infos]
        self.rules = program.rules
        self.kinds = program.kinds


def _line(c: Compared, lookup: _Lookup, request: str) -> FulfillmentLine:
    line = c.line
    items, rules = c.items, c.rules
    if len(items) == 1:
        source_items, root_items = [lookup.item_ids[items[0]]], [lookup.roots[items[0]]]
    else:
        source_items = [lookup.item_ids[i] for i in items]
        root_items = list(dict.fromkeys(lookup.roots[i] for i in items))
    fields = {
        "id": line.id,
        "product": line.product,
        "kind": lookup.kinds[line.product],
        "scope": line.scope,
        "action": c.action,
        "attributes": line.attributes,
        "changed": c.changed,
        "previous": c.previous,
        "source_items": source_items,
        "root_items": root_items,
        "rules": [lookup.rules[r].id for r in rules],
        "rule_spans": [lookup.rules[r].rule.span for r in rules],
        "parent_line": line.parent_line,
        "wait": line.wait,
        "request": request,
    }
    return trusted(FulfillmentLine, fields)
