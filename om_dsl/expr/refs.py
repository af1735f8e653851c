"""Walking IR expressions: the sub-expressions of a node and every reference it reads.

Shared by the compiler (which outputs an item reads), the plan builder (is a condition
decidable at plan time?) and ``om decompose --explain`` (which values a condition saw).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from om_dsl.ir import models as ir


def _map_children(expr: ir.MapOp) -> list[Any]:
    rest = [expr.default] if expr.default is not None else []
    return [expr.subject, *(c.value for c in expr.cases), *rest]


_CHILDREN: dict[type, Callable[[Any], list[Any]]] = {
    ir.UnaryOp: lambda e: [e.arg],
    ir.BinaryOp: lambda e: [e.left, e.right],
    ir.CallOp: lambda e: list(e.args),
    ir.IndexOp: lambda e: [e.subject, e.key],
    ir.ListOp: lambda e: list(e.items),
    ir.MapOp: _map_children,
    ir.IfOp: lambda e: [e.cond, e.then, e.otherwise],
    ir.ObjectOp: lambda e: [f.value for f in e.fields],
}
"""The direct sub-expressions of each kind of node, found by exact type: an object (a
callout's request) or an if used to come after five or six failed isinstance checks."""


def children(expr: Any) -> list[Any]:
    """The direct sub-expressions of an IR expression node (none for a leaf)."""
    get = _CHILDREN.get(type(expr))
    if get is None:  # a leaf, or a subclass of a node kind
        get = next((f for kind, f in _CHILDREN.items() if isinstance(expr, kind)), None)
    return get(expr) if get is not None else []


def item_exprs(item: Any, until: bool = True) -> Iterator[Any]:
    """The expressions of a plan item: its condition, a callout's request, path and response
    mappings, a wait's event name template, and (with ``until``) a wait's condition."""
    if item.when is not None:
        yield item.when
    if isinstance(item, ir.WaitItem):
        if until and item.until is not None:
            yield item.until
        if item.event_expr is not None:
            yield item.event_expr
    if isinstance(item, ir.CalloutItem):  # (getattr on a pydantic model without it is slow)
        if item.request is not None:
            yield item.request
        yield item.path_expr
        yield from (m.expr for m in item.response)


def calls(expr: Any) -> Iterator[ir.CallOp]:
    """Every function call inside an IR expression."""
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, ir.CallOp):
            yield node
        stack.extend(children(node))


def refs(expr: Any) -> Iterator[ir.Ref]:
    """Every reference inside an IR expression, depth first, left to right (literals, the
    commonest leaves, skipped first)."""
    stack = [expr]
    lit = ir.Lit
    while stack:
        node = stack.pop()
        if type(node) is lit:
            continue
        if isinstance(node, ir.Ref):
            yield node
            continue
        stack.extend(reversed(children(node)))
