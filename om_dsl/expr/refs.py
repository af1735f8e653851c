"""Walking IR expressions: the sub-expressions of a node and every reference it reads.

Shared by the compiler (which outputs an item reads), the plan builder (is a condition
decidable at plan time?) and ``om decompose --explain`` (which values a condition saw).
"""

from __future__ import annotations

from collections.abc import Iterator
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


def refs(expr: Any) -> Iterator[ir.Ref]:
    """Every reference inside an IR expression, depth first, left to right.

    A literal, the commonest leaf, is skipped by its exact type: :func:`children` would try
    seven isinstance checks to find it has none.
    """
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
