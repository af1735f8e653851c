"""Compile IR expressions into Python closures: no ``eval``, no ``exec``, no parsing at run time.

A compiled expression is a function of an *environment*: a mapping from root names
(``source``, ``line``, ``order``, ``parent``, ``body``, ``item``, ``product``) to nested dicts.
Missing values read as ``None`` (null), which propagates through arithmetic; comparisons other
than ``==``/``!=`` with null are false.  Roots named in ``strict`` raise :class:`MissingValue`
instead, which is how a response mapping that cannot find its field becomes a failure.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping
from math import isfinite
from typing import Any, Final

from om_dsl.errors import OmError
from om_dsl.expr.change import CHANGE_ROOT, LINE_FUNCTIONS, is_line_attribute
from om_dsl.expr.functions import FUNCTIONS, MAX_SIZE, too_large
from om_dsl.expr.types import SAFE_INTEGER
from om_dsl.expr.unparse import unparse
from om_dsl.ir import models as ir
from om_dsl.orders.issues import show

Env = Mapping[str, Any]
Compiled = Callable[[Env], Any]


class EvalError(OmError):
    """An expression failed at run time (division by zero, a bad date, ...)."""


class MissingValue(EvalError):
    """A strict reference found nothing, e.g. ``body.port.id`` in a response without a port."""

    def __init__(self, root: str, path: list[str], text: str | None = None) -> None:
        self.root = root
        self.path = path
        super().__init__(f"{text or '.'.join([root, *path])} is missing")


# Final: compiled (om_dsl.accel), a plain module global is a dict look-up on every use.
_MISSING: Final = object()


def compile_expr(expr: Any, strict: frozenset[str] = frozenset()) -> Compiled:
    """The closure for one IR expression."""
    return _COMPILERS[expr.op](expr, strict)


def _lit(expr: ir.Lit, strict: frozenset[str]) -> Compiled:
    value = expr.value
    return lambda env: value


def _ref(expr: ir.Ref, strict: frozenset[str]) -> Compiled:
    root = expr.root
    path = tuple(expr.path)
    must = root in strict

    def read(env: Env) -> Any:
        value: Any = env.get(root)
        for key in path:
            value = value.get(key, _MISSING) if isinstance(value, Mapping) else _MISSING
            if value is _MISSING:
                if must:
                    raise MissingValue(root, list(path))
                return None
        if value is None and must and root == "body" and not path:
            raise MissingValue(root, [])
        return value

    if len(path) == 1 and not must:
        key = path[0]

        def read_one(env: Env) -> Any:
            # type() first: an ABC isinstance check costs 4x more, and this runs per mapping.
            # The branches look alike but are not when compiled: a value narrowed to a dict
            # is read by a direct dict look-up, a Mapping by a method call.
            if type(env) is dict:  # noqa: SIM108 (see above)
                scope = env.get(root)
            else:
                scope = env.get(root)
            if type(scope) is dict:
                return scope.get(key)
            if isinstance(scope, Mapping):
                return scope.get(key)
            return None

        return read_one
    return read


def _not(expr: ir.UnaryOp, strict: frozenset[str]) -> Compiled:
    arg = compile_expr(expr.arg, strict)
    return lambda env: not arg(env)


def _neg(expr: ir.UnaryOp, strict: frozenset[str]) -> Compiled:
    arg = compile_expr(expr.arg, strict)

    def neg(env: Env) -> Any:
        value = arg(env)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise EvalError(f"cannot negate {show(value)}")  # an `any` output at run time
        return -value

    return neg


def _divide(a: Any, b: Any) -> Any:
    if b == 0:
        raise EvalError("division by zero")
    return a / b


def _modulo(a: Any, b: Any) -> Any:
    if b == 0:
        raise EvalError("modulo by zero")
    return a % b


def _ordered(op: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def compare(a: Any, b: Any) -> bool:
        if a is None or b is None:
            return False
        try:
            return op(a, b)
        except TypeError:
            raise _incomparable(a, b) from None

    return compare


def _incomparable(a: Any, b: Any) -> EvalError:
    return EvalError(f"cannot compare {a!r} with {b!r}")


def _contains(a: Any, b: Any) -> bool:
    """``a in b``: false when either side is null (``null in "abc"`` must not raise)."""
    if b is None or (a is None and isinstance(b, str)):
        return False
    if (isinstance(b, str) and not isinstance(a, str)) or not isinstance(b, str | list | dict):
        raise EvalError(f"cannot test whether {show(a)} is in {show(b)}")
    try:
        return a in b
    except TypeError:  # an unhashable key in a dict
        raise EvalError(f"cannot test whether {show(a)} is in {show(b)}") from None


def _in_range(value: Any, what: str) -> Any:
    """``value``, if it is a number every reader of the output represents: a float that
    overflowed to infinity (``x * x``), a NaN (``decimal("nan")``) or a whole number beyond
    2^53 would otherwise reach lines, outputs and JSON as null, ``NaN`` or a rounded value."""
    kind = type(value)
    if kind is float and not math.isfinite(value):
        raise EvalError(f"{what} gives {value!r}, not a finite number")
    if kind is int and not -SAFE_INTEGER <= value <= SAFE_INTEGER:
        raise EvalError(f"{what} gives {show(value)}, beyond the +-2^53 of a whole number")
    return value


_NULL_PROPAGATING: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": _divide,
    "%": _modulo,
}
_TOTAL: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": _ordered(operator.lt),
    "<=": _ordered(operator.le),
    ">": _ordered(operator.gt),
    ">=": _ordered(operator.ge),
    "in": _contains,
    "not in": lambda a, b: not _contains(a, b),
}


_SEQUENCES: Final = (str, list)
"""What ``*`` refuses to repeat (a tuple: ``isinstance`` with ``str | list`` builds the union
on every call)."""


def _bin(expr: ir.BinaryOp, strict: frozenset[str]) -> Compiled:
    left = compile_expr(expr.left, strict)
    right = compile_expr(expr.right, strict)
    op = expr.operator
    if op == "and":
        return lambda env: bool(left(env)) and bool(right(env))
    if op == "or":
        return lambda env: bool(left(env)) or bool(right(env))
    if op in _TOTAL:
        literal = expr.right
        if isinstance(literal, ir.Lit) and literal.value is not None and op in _LIT_COMPARE:
            return _LIT_COMPARE[op](left, literal.value)
        total = _TOTAL[op]
        return lambda env: total(left(env), right(env))
    arith = _NULL_PROPAGATING[op]
    repeat = op == "*"
    joins = op == "+"

    def apply(env: Env) -> Any:
        a, b = left(env), right(env)
        if a is None or b is None:
            return None
        if repeat and (isinstance(a, _SEQUENCES) or isinstance(b, _SEQUENCES)):
            # only an `any` output can get here; repeating it could take all the memory
            raise EvalError(f"cannot apply '*' to {show(a)} and {show(b)}")
        if joins and _too_long(a, b):
            _refuse_joined(a, b)  # raises: the result is not built
        try:
            result = arith(a, b)
        except (TypeError, ArithmeticError):  # ArithmeticError: a result too large (overflow)
            raise EvalError(f"cannot apply '{op}' to {show(a)} and {show(b)}") from None
        kind = type(result)  # _out_of_range inlined: this runs for every mapped number
        if (kind is float and not isfinite(result)) or (
            kind is int and not -SAFE_INTEGER <= result <= SAFE_INTEGER
        ):
            _in_range(result, f"{show(a)} {op} {show(b)}")  # raises; the message costs
        return result

    return apply


def _too_long(a: Any, b: Any) -> bool:
    """Whether ``a + b`` joins two texts or lists into one past ``MAX_SIZE``."""
    return isinstance(a, _SEQUENCES) and isinstance(b, _SEQUENCES) and len(a) + len(b) > MAX_SIZE


def _refuse_joined(a: Any, b: Any) -> None:
    """Refuse ``a + b`` of two texts (or two lists, from ``any`` outputs) that would be
    longer than :data:`~om_dsl.expr.functions.MAX_SIZE`: each level of ``s + s`` doubles it.
    A text and a number, which cannot be joined, fail as ever."""
    if type(a) is not type(b):
        raise EvalError(f"cannot apply '+' to {show(a)} and {show(b)}")
    unit = "characters" if type(a) is str else "items"
    raise EvalError(f"'+' failed: {too_large(len(a) + len(b), unit)}")


_NUMBERS: Final = (int, float)


def _out_of_range(value: Any) -> bool:
    """Whether :func:`_in_range` would refuse ``value``."""
    kind = type(value)
    if kind is float:
        return not math.isfinite(value)
    return kind is int and not -SAFE_INTEGER <= value <= SAFE_INTEGER


def _eq_lit(left: Compiled, value: Any) -> Compiled:
    return lambda env: left(env) == value


def _ne_lit(left: Compiled, value: Any) -> Compiled:
    return lambda env: left(env) != value


def _ordered_lit(op: Callable[[Any, Any], bool]) -> Callable[[Compiled, Any], Compiled]:
    """``_ordered(op)`` against a literal, with the literal bound once: a condition such as
    ``size > 50`` runs for every source."""
    compare_values = _ordered(op)

    def build(left: Compiled, value: Any) -> Compiled:
        return lambda env: compare_values(left(env), value)

    return build


_LIT_COMPARE: dict[str, Callable[[Compiled, Any], Compiled]] = {
    "==": _eq_lit,
    "!=": _ne_lit,
    "<": _ordered_lit(operator.lt),
    "<=": _ordered_lit(operator.le),
    ">": _ordered_lit(operator.gt),
    ">=": _ordered_lit(operator.ge),
}
"""Comparisons whose right side is a non-null literal, specialised (see :func:`_bin`)."""


def _call(expr: ir.CallOp, strict: frozenset[str]) -> Compiled:
    if expr.fn in LINE_FUNCTIONS:
        return _line_call(expr, strict)
    impl = FUNCTIONS[expr.fn].impl
    args = [compile_expr(a, strict) for a in expr.args]
    name = expr.fn

    # The arguments are evaluated inside the ``try``: a TypeError, ValueError or
    # ArithmeticError from one is this call's failure.
    if len(args) == 1:  # the common arities without a list and a star call per evaluation
        (only,) = args

        def call1(env: Env) -> Any:
            try:
                result = impl(only(env))
            except (TypeError, ValueError, ArithmeticError) as exc:
                raise EvalError(f"{name}() failed: {exc}") from None
            return _checked_result(result, name)

        return call1
    if len(args) == 2:
        first, second = args

        def call2(env: Env) -> Any:
            try:
                result = impl(first(env), second(env))
            except (TypeError, ValueError, ArithmeticError) as exc:
                raise EvalError(f"{name}() failed: {exc}") from None
            return _checked_result(result, name)

        return call2

    def call(env: Env) -> Any:
        try:
            result = impl(*[a(env) for a in args])
        except (TypeError, ValueError, ArithmeticError) as exc:
            raise EvalError(f"{name}() failed: {exc}") from None
        return _checked_result(result, name)

    return call


def _line_call(expr: ir.CallOp, strict: frozenset[str]) -> Compiled:
    """``changed(line.x)`` / ``previous(line.x)`` (see :mod:`om_dsl.expr.change`).  The
    compiler allows only a line attribute as the argument; IR from elsewhere that gives
    something else reads as unchanged (``changed`` false, ``previous`` the value now)."""
    impl = LINE_FUNCTIONS[expr.fn].impl
    arg = expr.args[0] if expr.args else None
    current = compile_expr(arg, strict) if arg is not None else (lambda env: None)
    if not is_line_attribute(arg):
        return lambda env: impl(None, "", current(env))
    name = arg.path[0]
    return lambda env: impl(env.get(CHANGE_ROOT), name, current(env))


def _checked_result(result: Any, name: str) -> Any:
    """A function's result, refused when it is a number expressions cannot keep, or a text
    or list longer than :data:`~om_dsl.expr.functions.MAX_SIZE` that was cheap to make
    (``upper`` of ``"ß"`` is ``"SS"``, ``split`` makes an item per separator): the functions
    that could make one far longer refuse before they build it."""
    kind = type(result)
    if kind in _NUMBERS and _out_of_range(result):
        _in_range(result, f"{name}()")  # raises
    elif (kind is str or kind is list) and len(result) > MAX_SIZE:
        unit = "characters" if kind is str else "items"
        raise EvalError(f"{name}() failed: {too_large(len(result), unit)}")
    return result


def _index(expr: ir.IndexOp, strict: frozenset[str]) -> Compiled:
    """``subject[key]``.  A position beyond the list, a field that is not there, or a value
    that has neither (an ``any`` output of another shape) reads as null, as a missing field
    of a reference does; read from a strict root (a response ``body``), it is missing."""
    subject = compile_expr(expr.subject, strict)
    key = compile_expr(expr.key, strict)
    strict_root = _strict_root(expr, strict)
    written = unparse(expr) if strict_root is not None else ""  # for MissingValue only
    fixed = isinstance(expr.key, ir.Lit)

    def read(env: Env) -> Any:
        value, at = subject(env), key(env)
        found = _item(value, at)
        if found is _MISSING:
            if strict_root is not None:
                raise MissingValue(strict_root, [], written + ("" if fixed else f" ({show(at)})"))
            return None
        return found

    return read


def _item(value: Any, at: Any) -> Any:
    """``value[at]`` by the language's rules, or ``_MISSING``."""
    kind = type(at)
    if type(value) is list and kind is int:
        return value[at] if -len(value) <= at < len(value) else _MISSING
    if isinstance(value, Mapping) and kind is str:
        return value.get(at, _MISSING)
    return _MISSING


def _strict_root(expr: ir.IndexOp, strict: frozenset[str]) -> str | None:
    """The strict root an index reads from, through other indexes (``body.a[0].b``)."""
    node: Any = expr
    while isinstance(node, ir.IndexOp):
        node = node.subject
    return node.root if isinstance(node, ir.Ref) and node.root in strict else None


def _list(expr: ir.ListOp, strict: frozenset[str]) -> Compiled:
    items = [compile_expr(i, strict) for i in expr.items]
    return lambda env: [i(env) for i in items]


def _map(expr: ir.MapOp, strict: frozenset[str]) -> Compiled:
    subject = compile_expr(expr.subject, strict)
    table = {_key(c.key): compile_expr(c.value, strict) for c in expr.cases}
    default = compile_expr(expr.default, strict) if expr.default is not None else None

    def lookup(env: Env) -> Any:
        key = subject(env)
        branch = table.get(_key(key))
        if branch is None:
            return default(env) if default is not None else None
        return branch(env)

    return lookup


def _key(value: Any) -> Any:
    """Map keys are JSON values; lists are unhashable, so they are looked up as tuples."""
    return tuple(value) if isinstance(value, list) else value


def _if(expr: ir.IfOp, strict: frozenset[str]) -> Compiled:
    cond = compile_expr(expr.cond, strict)
    then = compile_expr(expr.then, strict)
    other = compile_expr(expr.otherwise, strict)
    return lambda env: then(env) if cond(env) else other(env)


def _object(expr: ir.ObjectOp, strict: frozenset[str]) -> Compiled:
    fields = [(f.key, compile_expr(f.value, strict)) for f in expr.fields]
    return lambda env: {key: value(env) for key, value in fields}


def _unary(expr: ir.UnaryOp, strict: frozenset[str]) -> Compiled:
    return _not(expr, strict) if expr.op == "not" else _neg(expr, strict)


_COMPILERS: dict[str, Callable[[Any, frozenset[str]], Compiled]] = {
    "lit": _lit,
    "ref": _ref,
    "not": _unary,
    "neg": _unary,
    "bin": _bin,
    "call": _call,
    "index": _index,
    "list": _list,
    "map": _map,
    "if": _if,
    "object": _object,
}
