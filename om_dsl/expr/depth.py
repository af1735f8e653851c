"""How deeply an expression may nest, and how deeply its IR does.

A chain of 300 `or` terms is 300 nested IR nodes.  Several things bound that nesting, and the
compiler refuses (E052) any expression that would exceed the smallest of them, so that a
compiled catalog can always be serialised, loaded and evaluated:

- pydantic-core refuses to serialise a value nested deeper than 255 levels (every model and
  every list is a level), and its JSON parser (``model_validate_json``) stops at 200;
- the catalog puts up to 5 levels above an expression (catalog, plans, plan, items, item);
- the checker, the closures of :mod:`om_dsl.expr.evaluate` and :mod:`om_dsl.expr.unparse`
  recurse up to three Python frames per level, below Python's default limit of 1,000 frames
  with room for the caller's stack.

128 levels is a `when` of about 125 `or` terms, or 125 strings joined by `+`; more is better
written with `in [...]` or split over several attributes.
"""

from __future__ import annotations

from typing import Any

from om_dsl.ir import models as ir

MAX_DEPTH = 128


def ir_depth(expr: Any) -> int:
    """The nesting of an IR expression as pydantic counts it (one level per model and list).

    Iterative, so that it can measure what the recursive walkers could not.
    """
    deepest = 0
    stack: list[tuple[Any, int]] = [(expr, 0)]
    while stack:
        node, above = stack.pop()
        level = above + _own_levels(node)
        deepest = max(deepest, level + _value_depth(node))
        stack.extend((child, level + extra) for child, extra in _children(node))
    return deepest


def _own_levels(node: Any) -> int:
    """The node itself, plus its list of arguments or items (a Ref's path is a list too)."""
    return 2 if isinstance(node, ir.Ref | ir.CallOp | ir.ListOp) else 1


def _value_depth(node: Any) -> int:
    """Levels of JSON values held by the node itself: a literal list, a map's list keys."""
    if isinstance(node, ir.Lit):
        return json_depth(node.value)
    if isinstance(node, ir.MapOp) and node.cases:  # in its cases list, in a MapCaseIR
        return 2 + max(json_depth(c.key) for c in node.cases)
    return 0


def _children(node: Any) -> list[tuple[Any, int]]:
    """Sub-expressions, each with the levels between this node and them."""
    if isinstance(node, ir.UnaryOp):
        return [(node.arg, 0)]
    if isinstance(node, ir.BinaryOp):
        return [(node.left, 0), (node.right, 0)]
    if isinstance(node, ir.IfOp):
        return [(node.cond, 0), (node.then, 0), (node.otherwise, 0)]
    if isinstance(node, ir.CallOp):
        return [(a, 0) for a in node.args]
    if isinstance(node, ir.IndexOp):
        return [(node.subject, 0), (node.key, 0)]
    if isinstance(node, ir.ListOp):
        return [(i, 0) for i in node.items]
    if isinstance(node, ir.ObjectOp):  # in its fields list, in an ObjField
        return [(f.value, 2) for f in node.fields]
    if isinstance(node, ir.MapOp):  # cases: in its cases list, in a MapCaseIR
        rest = [(node.default, 0)] if node.default is not None else []
        return [(node.subject, 0), *((c.value, 2) for c in node.cases), *rest]
    return []


def json_depth(value: Any) -> int:
    """Levels of lists and objects in a JSON value (0 for a scalar)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, list | dict):
            level += 1
            items = item.values() if isinstance(item, dict) else item
            stack.extend((x, level) for x in items)
        deepest = max(deepest, level)
    return deepest
