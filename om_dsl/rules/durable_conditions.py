"""Translating rule conditions into durable-rules JSON, where durable can say the same thing.

durable tests fields of one fact against literals.  The subset of the condition language that
maps onto that exactly is: a ``source.x``, ``order.x`` or ``bundle.x`` reference compared
(``== != < <= > >=``) with a literal number, string or bool; a bool reference on its own; and
``and``, ``or``, ``not`` of those.  Anything else (arithmetic, functions, ``in``, ``map``,
``if``, two references compared) is not translated: the shared closure computes the whole
condition before the fact is asserted and stores the result in a bool field that the durable
rule tests.  The whole condition, not a part, so that ``and``/``or`` short-circuit exactly as
in the compiled engine (``x != 0 and 10 / x > 1`` never divides by zero).

Null semantics follow the compiled closures: a null (absent) field makes ``==`` and the
ordered comparisons false and ``!=`` true.  Facts never carry null fields, so "null" is
durable's "field does not exist" (``$nex``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from om_dsl.ir import models as ir

Json = dict[str, Any]

_FLIP = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_NEGATE = {"==": "!=", "!=": "==", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}
_DURABLE_OP = {"!=": "$neq", "<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte"}
_ROOT_PREFIX = {"source": "a_", "order": "o_", "bundle": "b_"}


class Untranslatable(Exception):
    """The condition uses something durable cannot test; it is precomputed instead."""


@dataclass(slots=True)
class Translation:
    """A translated condition and the fact fields it reads (root, name) -> field."""

    expr: Json
    fields: dict[str, tuple[str, str]] = field(default_factory=dict)


def fact_field(root: str, name: str) -> str:
    """The durable fact field that holds ``root.name`` (``a_speed``, ``o_site_id``,
    ``b_term``: an item's bundle's attribute, absent for an item no bundle includes)."""
    return _ROOT_PREFIX[root] + name


MAX_DNF_TERMS = 1024
"""durable expands a condition into a disjunction of conjunctions: a test that may be null
(``!=``) is two alternatives, so ``a != 1 and b != 2 and ...`` doubles per term.  Measured
(durable-rules 2.0.28): 2^12 alternatives load, 2^14 are rejected ("Could not create
ruleset, error code: 113"), and the process then crashed in ``free()`` at a later ruleset.
Past this bound the condition is precomputed instead, like any untranslatable one."""


def translate(expr: Any) -> Translation | None:
    """The durable m-expression for a condition, or None when it must be precomputed."""
    out = Translation({})
    try:
        out.expr = _node(expr, False, out)
    except Untranslatable:
        return None
    return out if dnf_terms(out.expr) <= MAX_DNF_TERMS else None


def dnf_terms(expr: Json) -> int:
    """How many conjunctions durable makes of ``expr`` (its disjunctive normal form)."""
    if list(expr) == ["$or"]:
        return sum(dnf_terms(part) for part in expr["$or"])
    if list(expr) == ["$and"]:
        product = 1
        for part in expr["$and"]:
            product *= dnf_terms(part)
        return product
    return 1


def _node(expr: Any, negated: bool, out: Translation) -> Json:
    if isinstance(expr, ir.UnaryOp) and expr.op == "not":
        return _node(expr.arg, not negated, out)
    if isinstance(expr, ir.BinaryOp) and expr.operator in ("and", "or"):
        key = "$and" if (expr.operator == "and") != negated else "$or"
        parts: list[Json] = []
        for side in (expr.left, expr.right):  # a chain becomes one flat list, not a deep tree
            part = _node(side, negated, out)
            parts.extend(part[key] if list(part) == [key] else [part])
        return {key: parts}
    if isinstance(expr, ir.BinaryOp) and expr.operator in _FLIP:
        return _comparison(expr, negated, out)
    if isinstance(expr, ir.Ref) and expr.type == "bool":
        name = _field(expr, out)
        if negated:
            return {"$or": [{name: False}, {"$nex": {name: 1}}]}
        return {name: True}
    raise Untranslatable


def _comparison(expr: ir.BinaryOp, negated: bool, out: Translation) -> Json:
    op: str = expr.operator
    if isinstance(expr.left, ir.Ref) and isinstance(expr.right, ir.Lit):
        ref, lit = expr.left, expr.right
    elif isinstance(expr.left, ir.Lit) and isinstance(expr.right, ir.Ref):
        ref, lit, op = expr.right, expr.left, _FLIP[op]
    else:
        raise Untranslatable
    value = _literal(lit, op)
    name = _field(ref, out)
    # What the closure says when the field is null: only "!=" is true; negation flips it.
    null_is_true = (op == "!=") != negated
    if negated:
        op = _NEGATE[op]
    test = {name: value} if op == "==" else {_DURABLE_OP[op]: {name: value}}
    return {"$or": [test, {"$nex": {name: 1}}]} if null_is_true else test


def _literal(lit: ir.Lit, op: str) -> Any:
    value = lit.value
    if isinstance(value, bool):
        if op not in ("==", "!="):
            raise Untranslatable
        return value
    if isinstance(value, int | float):
        return value
    if isinstance(value, str) and op in ("==", "!="):
        return value  # ordering strings is left to Python: collation must not differ
    raise Untranslatable


def _field(ref: ir.Ref, out: Translation) -> str:
    if ref.root not in _ROOT_PREFIX or len(ref.path) != 1:
        raise Untranslatable
    name = fact_field(ref.root, ref.path[0])
    out.fields[name] = (ref.root, ref.path[0])
    return name
