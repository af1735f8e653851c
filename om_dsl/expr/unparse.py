"""Print IR expressions back as DSL text: for diagram labels, tooltips and ``--explain``.

The output is what a catalog designer would have written, with the fewest parentheses the
grammar needs (``om.lark`` precedence, lowest first: ``if``, ``or``, ``and``, ``not``,
comparisons, ``+ -``, ``* / %``, unary ``-``, postfix).  Printing and re-compiling an
expression gives the same IR, so a label never shows something the catalog does not say.

Two choices favour readability over literal fidelity: a rule's ``source`` attributes print
bare (``speed``, as written in ``decompose``), and enum members print unqualified (``FTTH``),
which the compiler resolves from the expected type.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from om_dsl.ir import models as ir

# Precedence levels of the grammar, lowest binding first.
_IF, _OR, _AND, _NOT, _CMP, _SUM, _TERM, _UNARY, _ATOM = range(9)

_BINARY_LEVEL: dict[str, int] = {
    "or": _OR,
    "and": _AND,
    **dict.fromkeys(("==", "!=", "<", "<=", ">", ">=", "in", "not in"), _CMP),
    "+": _SUM,
    "-": _SUM,
    "*": _TERM,
    "/": _TERM,
    "%": _TERM,
}

# Roots that a bare name would be mistaken for, so an attribute with such a name stays qualified.
_ROOT_NAMES = frozenset({"source", "line", "order", "parent", "body"})
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def unparse(expr: Any) -> str:
    """The DSL text of an IR expression (any member of :data:`om_dsl.ir.models.Expr`)."""
    return _PRINTERS[type(expr)](expr)


def _level(expr: Any) -> int:
    if isinstance(expr, ir.IfOp):
        return _IF
    if isinstance(expr, ir.BinaryOp):
        return _BINARY_LEVEL[expr.operator]
    if isinstance(expr, ir.UnaryOp):
        return _NOT if expr.op == "not" else _UNARY
    if isinstance(expr, ir.Lit) and _is_negative(expr.value):
        return _UNARY
    return _ATOM


def _at(expr: Any, minimum: int) -> str:
    """``expr`` printed where the grammar needs at least precedence ``minimum``."""
    text = unparse(expr)
    return f"({text})" if _level(expr) < minimum else text


def _binary(expr: ir.BinaryOp) -> str:
    level = _BINARY_LEVEL[expr.operator]
    # Comparisons do not chain (`sum op sum`); the others are left-associative.
    left_min = level + 1 if level == _CMP else level
    return f"{_at(expr.left, left_min)} {expr.operator} {_at(expr.right, level + 1)}"


def _unary(expr: ir.UnaryOp) -> str:
    # Tighter than the grammar needs, for the reader: `not (a > b)`, never `not a > b`;
    # `-(-5)`, never `--5`.
    if expr.op == "not":
        return f"not {_at(expr.arg, _SUM)}"
    return f"-{_at(expr.arg, _ATOM)}"


def _if(expr: ir.IfOp) -> str:
    return f"if {unparse(expr.cond)} then {unparse(expr.then)} else {unparse(expr.otherwise)}"


def _ref(expr: ir.Ref) -> str:
    if expr.root == "source" and len(expr.path) == 1 and expr.path[0] not in _ROOT_NAMES:
        return expr.path[0]
    if expr.root in ("item", "product"):
        return ".".join(expr.path)
    return ".".join([expr.root, *expr.path])


def _literal(expr: ir.Lit) -> str:
    if expr.type == "date" and isinstance(expr.value, str):
        return f"date({_const(expr.value)})"
    return _const(expr.value, bare_names="enum:" in expr.type)


def _const(value: Any, bare_names: bool = False) -> str:
    """A JSON value as a DSL constant; ``bare_names`` prints strings as enum member names."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _decimal(value)
    if isinstance(value, list):
        return "[" + ", ".join(_const(v, bare_names) for v in value) + "]"
    if isinstance(value, str):
        return value if bare_names else json.dumps(value, ensure_ascii=False)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _decimal(value: float) -> str:
    """Plain notation (``0.0000001``, never ``1e-07``): the grammar has no exponents."""
    text = format(Decimal(repr(value)), "f")
    return text if "." in text else f"{text}.0"


def _is_negative(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value < 0


def _map(expr: ir.MapOp) -> str:
    if expr.table is not None:  # as written: a big table's cases would bury the condition
        return f"map {_at(expr.subject, _CMP)} {expr.table}"
    enum_keys = expr.subject.type.startswith("enum:")
    cases = [f"{_const(c.key, enum_keys)}: {unparse(c.value)}" for c in expr.cases]
    if expr.default is not None:
        cases.append(f"default: {unparse(expr.default)}")
    return f"map {_at(expr.subject, _CMP)} {{ {', '.join(cases)} }}"


def _object(expr: ir.ObjectOp) -> str:
    if not expr.fields:
        return "{}"
    fields = ", ".join(f"{_key(f.key)}: {unparse(f.value)}" for f in expr.fields)
    return f"{{ {fields} }}"


def _index(expr: ir.IndexOp) -> str:
    """``xs[0]``; ``body.ports[0].id`` for a field of an item (a text key that is a name,
    read from an index: ``body["id"]`` stays as written, since ``body.id`` is a reference,
    which compiles to other IR)."""
    subject = _at(expr.subject, _ATOM)
    key = expr.key
    if (
        isinstance(expr.subject, ir.IndexOp)
        and isinstance(key, ir.Lit)
        and isinstance(key.value, str)
        and _IDENT.match(key.value)
    ):
        return f"{subject}.{key.value}"
    return f"{subject}[{unparse(key)}]"


def _key(key: str) -> str:
    return key if _IDENT.match(key) else json.dumps(key, ensure_ascii=False)


_PRINTERS: dict[type, Callable[[Any], str]] = {
    ir.Lit: _literal,
    ir.Ref: _ref,
    ir.UnaryOp: _unary,
    ir.BinaryOp: _binary,
    ir.CallOp: lambda e: f"{e.fn}({', '.join(unparse(a) for a in e.args)})",
    ir.IndexOp: _index,
    ir.ListOp: lambda e: "[" + ", ".join(unparse(i) for i in e.items) + "]",
    ir.MapOp: _map,
    ir.IfOp: _if,
    ir.ObjectOp: _object,
}
