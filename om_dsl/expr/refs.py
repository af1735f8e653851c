"""Walking IR expressions: the sub-expressions of a node and every reference it reads.

Shared by the compiler (which outputs an item reads), the plan builder (is a condition
decidable at plan time?) and ``om decompose --explain`` (which values a condition saw).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from om_dsl.ir import models as ir


def children(expr: Any) -> list[Any]:
    """The direct sub-expressions of an IR expression node."""
    if isinstance(expr, ir.UnaryOp):
        return [expr.arg]
    if isinstance(expr, ir.BinaryOp):
        return [expr.left, expr.right]
    if isinstance(expr, ir.CallOp):
        return list(expr.args)
    if isinstance(expr, ir.ListOp):
        return list(expr.items)
    if isinstance(expr, ir.MapOp):
        rest = [expr.default] if expr.default is not None else []
        return [expr.subject, *(c.value for c in expr.cases), *rest]
    if isinstance(expr, ir.IfOp):
        return [expr.cond, expr.then, expr.otherwise]
    if isinstance(expr, ir.ObjectOp):
        return [f.value for f in expr.fields]
    return []


_CHILDREN: dict[type, Callable[[Any], list[Any]]] = {
    ir.UnaryOp: lambda e: [e.arg],
    ir.BinaryOp: lambda e: [e.left, e.right],
    ir.CallOp: lambda e: list(e.args),
    ir.ListOp: lambda e: list(e.items),
    ir.IfOp: lambda e: [e.cond, e.then, e.otherwise],
    ir.ObjectOp: lambda e: [f.value for f in e.fields],
}
""":func:`children` by exact node type, for the walk of :func:`refs`: an object (a callout's
request) or an if came after five or six failed isinstance checks."""


def refs(expr: Any) -> Iterator[ir.Ref]:
    """Every reference inside an IR expression, depth first, left to right.

    Nodes are told apart by exact type, the commonest leaf (a literal) first; anything else
    (a subclass, a map) goes through the isinstance checks of :func:`children`.
    """
    stack = [expr]
    lit, ref, by_type = ir.Lit, ir.Ref, _CHILDREN
    while stack:
        node = stack.pop()
        kind = type(node)
        if kind is lit:
            continue
        if kind is ref:
            yield node
            continue
        get = by_type.get(kind)
        if get is not None:
            stack.extend(reversed(get(node)))
        elif isinstance(node, ir.Ref):
            yield node
        else:
            stack.extend(reversed(children(node)))
