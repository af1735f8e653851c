"""Fulfillment requests: one per root order item, plus one per group of shared lines.

A root item (a bundle with everything below it, or a stand-alone item) gets a request even when
all of its lines are shared, so that every root can be tracked.  Lines of ``order``,
``relies_on`` and ``account`` scope serve several roots, so they live in a shared request of
their own (one per scope group: ``fr:order``, ``fr:relies_on:<first item>``,
``fr:account:<account>``), which each root's request lists in ``uses``.  A line-scope line
chained from a shared line belongs to its parent's shared request.
"""

from __future__ import annotations

from om_dsl.ir import models as ir
from om_dsl.orders.diff import Compared
from om_dsl.orders.models import FulfillmentLine, FulfillmentRequest
from om_dsl.orders.structure import ItemInfo
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
    grouped: dict[RequestKey, list[FulfillmentLine]] = {}
    first: dict[RequestKey, tuple[int, ...]] = {}
    for c in compared:
        grouped.setdefault(c.line.request, []).append(_line(c, infos, program))
        first.setdefault(c.line.request, c.line.sort)
    shared_keys = sorted(
        (k for k in grouped if k[0] != "root"), key=lambda k: (_SCOPE_RANK[k[0]], first[k])
    )
    shared = [_shared(k, grouped[k]) for k in shared_keys]
    roots = [
        _root(info, grouped.get(("root", info.item.id), []), shared)
        for info in infos
        if info.item.parent is None
    ]
    return [*roots, *shared]


def _root(
    info: ItemInfo, lines: list[FulfillmentLine], shared: list[FulfillmentRequest]
) -> FulfillmentRequest:
    root = info.item.id
    uses = [r.id for r in shared if any(root in line.root_items for line in r.lines)]
    return FulfillmentRequest(id=request_id(("root", root)), root_item=root, lines=lines, uses=uses)


def _shared(key: RequestKey, lines: list[FulfillmentLine]) -> FulfillmentRequest:
    return FulfillmentRequest(
        id=request_id(key),
        shared=True,
        scope=key[0],
        key=key[1] or None,
        lines=lines,
    )


def _line(c: Compared, infos: list[ItemInfo], program: RuleProgram) -> FulfillmentLine:
    line = c.line
    roots = dict.fromkeys(infos[i].root for i in c.items)
    rules: list[ir.DecompositionRule] = [program.rules[r].rule for r in c.rules]
    return FulfillmentLine(
        id=line.id,
        product=line.product,
        kind=program.technical[line.product].kind,
        scope=line.scope,
        action=c.action,
        attributes=line.attributes,
        changed=c.changed,
        previous=c.previous,
        source_items=[infos[i].item.id for i in c.items],
        root_items=list(roots),
        rules=[r.id for r in rules],
        rule_spans=[r.span for r in rules],
        parent_line=line.parent_line,
        wait=line.wait,
        request=request_id(line.request),
    )
