"""Fulfillment requests: one per root order item, plus one per group of shared lines.

A root item (a bundle with everything below it, or a stand-alone item) gets a request even when
all of its lines are shared, so that every root can be tracked.  Lines of ``order``,
``relies_on`` and ``account`` scope serve several roots, so they live in a shared request of
their own (one per scope group: ``fr:order``, ``fr:relies_on:<first item>``,
``fr:account:<account>``), which each root's request lists in ``uses``.  A line-scope line
chained from a shared line belongs to its parent's shared request.
"""

from __future__ import annotations

from operator import attrgetter
from typing import Any

from om_dsl.orders.models import FulfillmentLine, FulfillmentRequest
from om_dsl.orders.structure import ItemInfo
from om_dsl.orders.trusted import maker
from om_dsl.orders.worlds import Built, RequestKey
from om_dsl.rules.program import RuleProgram

_SCOPE_RANK = {"order": 0, "relies_on": 1, "account": 2}


def request_id(key: RequestKey) -> str:
    kind, value = key
    if kind == "root":
        return f"fr:{value}"
    return "fr:order" if kind == "order" else f"fr:{kind}:{value or '-'}"


def assemble(
    lines: list[Built], infos: list[ItemInfo], program: RuleProgram
) -> list[FulfillmentRequest]:
    """The requests: root ones in item order, then the shared ones (by scope, then by their
    first line).  Lines are sorted once; each request's lines come out in that order."""
    lines.sort(key=_BY_SORT)
    table = _Tables(infos, program)
    grouped: dict[RequestKey, list[FulfillmentLine]] = {}
    ids: dict[RequestKey, str] = {}
    for line in lines:
        key = line.request
        group = grouped.get(key)
        if group is None:
            group = grouped[key] = []
            ids[key] = request_id(key)
        group.append(_line(line, table, ids[key]))
    # grouped keeps first-line order, so a stable sort by scope rank alone is enough
    shared_keys = sorted((k for k in grouped if k[0] != "root"), key=_scope_rank)
    shared = [_shared(k, ids[k], grouped[k]) for k in shared_keys]
    uses = _uses(shared)
    roots = [
        _root(info.item.id, grouped.get(("root", info.item.id), []), uses.get(info.item.id, {}))
        for info in infos
        if info.item.parent is None
    ]
    return [*roots, *shared]


_BY_SORT = attrgetter("sort")
_new_line = maker(FulfillmentLine)
_new_request = maker(FulfillmentRequest)


def _scope_rank(key: RequestKey) -> int:
    return _SCOPE_RANK[key[0]]


def _uses(shared: list[FulfillmentRequest]) -> dict[str, dict[str, None]]:
    """Root item id -> the shared requests its lines are in (in shared-request order)."""
    uses: dict[str, dict[str, None]] = {}
    for request in shared:
        for line in request.lines:
            for root in line.root_items:
                uses.setdefault(root, {})[request.id] = None
    return uses


def _root(root: str, lines: list[FulfillmentLine], uses: dict[str, None]) -> FulfillmentRequest:
    return _request(f"fr:{root}", root, False, "line", None, lines, list(uses))


def _shared(key: RequestKey, id_: str, lines: list[FulfillmentLine]) -> FulfillmentRequest:
    return _request(id_, None, True, key[0], key[1] or None, lines, [])


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
    return _new_request(fields)


class _Tables:
    """Lookups, so that each of thousands of lines is a few index reads.  The catalog's come
    from the program (built once per catalog: a per-call copy cost more than a 10-item order)."""

    def __init__(self, infos: list[ItemInfo], program: RuleProgram) -> None:
        self.item_ids = [info.item.id for info in infos]
        self.roots = [info.root for info in infos]
        self.rules = program.rules
        self.kinds = program.kinds


def _line(line: Built, table: _Tables, request: str) -> FulfillmentLine:
    items, rules = line.items, line.rules
    if len(items) == 1:
        source_items, root_items = [table.item_ids[items[0]]], [table.roots[items[0]]]
    else:
        source_items = [table.item_ids[i] for i in items]
        root_items = list(dict.fromkeys(table.roots[i] for i in items))
    if len(rules) == 1:
        rule = table.rules[rules[0]]
        rule_ids, spans = [rule.id], [rule.rule.span]
    else:
        rule_ids = [table.rules[r].id for r in rules]
        spans = [table.rules[r].rule.span for r in rules]
    fields = {
        "id": line.id,
        "product": line.product,
        "kind": table.kinds[line.product],
        "scope": line.scope,
        "action": line.action,
        "attributes": line.attributes,
        "changed": [] if line.changed is None else line.changed,
        "previous": {} if line.previous is None else line.previous,
        "source_items": source_items,
        "root_items": root_items,
        "rules": rule_ids,
        "rule_spans": spans,
        "parent_line": line.parent_line,
        "wait": line.wait,
        "request": request,
    }
    return _new_line(fields)
