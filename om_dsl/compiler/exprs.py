"""Type-check expressions against the attributes in scope and lower them to IR.

Every expression is typed at compile time, so a catalog designer learns about
``speed + "x"`` from ``om check``, not from a failed order.  A sub-expression that has an
error is lowered as ``any`` so that one mistake is reported once, not at every parent.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from om_dsl.compiler.build import builder
from om_dsl.compiler.names import a as _a
from om_dsl.compiler.names import did_you_mean, suggest, suggest_or_list
from om_dsl.compiler.symbols import Broken
from om_dsl.errors import DiagnosticBag
from om_dsl.expr import patterns
from om_dsl.expr import types as T
from om_dsl.expr.backtracking import catastrophic
from om_dsl.expr.change import LINE_FUNCTIONS, LineFunction, is_line_attribute
from om_dsl.expr.depth import MAX_DEPTH, ir_depth, json_depth
from om_dsl.expr.functions import FUNCTIONS
from om_dsl.expr.unparse import unparse
from om_dsl.ir import models as ir
from om_dsl.orders.trusted import maker
from om_dsl.source import Span
from om_dsl.suggest import closest
from om_dsl.syntax import ast
from om_dsl.syntax.hints import as_function, function_elsewhere

ORDER_FIELDS: dict[str, str] = {
    "id": "string",
    "external_id": "string",
    "account": "string",
    "customer": "string",
    "priority": "string",
    "category": "string",
    "requested_start_date": "date",
    "requested_completion_date": "date",
}


BUNDLE: Final = "bundle"
"""The root of ``bundle.NAME`` in a rule: the bundle item that includes the source item."""


BundleFound = tuple[list[tuple[str, dict[str, str]]], tuple[str, list[str]] | None, bool]
"""What :class:`BundleScope` is made of: bundles, problem and quiet, as named there."""


class BundleScope:
    """What ``bundle.NAME`` reads in a rule: the bundles that include the rule's source, each
    with its attributes (name -> type), in declaration order; or why the rule has no bundle
    to read (``problem``: the E053 message and its hints).  Worked out by ``find`` when a rule
    first reads ``bundle.NAME`` (most rules never do)."""

    def __init__(self, source: str, find: Callable[[], BundleFound]) -> None:
        self.source = source
        """The rule's source as the messages name it (``MobileLine``, ``family Mobile``)."""
        self.bundles: list[tuple[str, dict[str, str]]] = []
        self.problem: tuple[str, list[str]] | None = None
        self.quiet = False
        """A declaration dropped for a syntax error may have been the missing bundle or
        attribute: the errors are not reported (the syntax error is)."""
        self._find: Callable[[], BundleFound] | None = find

    def resolve(self) -> BundleScope:
        """The scope, worked out on the first call."""
        find = self._find
        if find is not None:
            self._find = None
            self.bundles, self.problem, self.quiet = find()
        return self


@dataclass(slots=True)
class ExprEnv:
    """What names mean where an expression is written."""

    where: str
    bare: dict[str, str] = field(default_factory=dict)
    bare_root: str = "source"
    roots: dict[str, dict[str, str] | None] = field(default_factory=dict)
    items: set[str] = field(default_factory=set)
    products: Mapping[str, Collection[str]] = field(default_factory=dict)
    outputs: Mapping[str, frozenset[str] | None] = field(default_factory=dict)
    """The outputs of the plan's items that have a fixed set (a callout's: its response
    mappings); None, or no entry, for an item whose outputs are open (a handler's, a task's)."""
    product_outputs: Mapping[str, Mapping[str, frozenset[str] | None]] = field(default_factory=dict)
    """The same for other products' items (over all plans of each product)."""
    why_not: Mapping[str, str] = field(default_factory=dict)
    """Why a name that looks declared cannot be read here (a hint for its E020 / E023)."""
    bundle: BundleScope | None = None
    """In a decomposition rule: what ``bundle.NAME`` reads (None elsewhere)."""

    def __init__(  # written out, as the AST nodes' are (om_dsl.syntax.ast): C when compiled
        self,
        where: str,
        bare: dict[str, str] | None = None,
        bare_root: str = "source",
        roots: dict[str, dict[str, str] | None] | None = None,
        items: set[str] | None = None,
        products: Mapping[str, Collection[str]] | None = None,
        outputs: Mapping[str, frozenset[str] | None] | None = None,
        product_outputs: Mapping[str, Mapping[str, frozenset[str] | None]] | None = None,
        why_not: Mapping[str, str] | None = None,
        bundle: BundleScope | None = None,
    ) -> None:
        self.where = where
        self.bare = {} if bare is None else bare
        self.bare_root = bare_root
        self.roots = {} if roots is None else roots
        self.items = set() if items is None else items
        self.products = {} if products is None else products
        self.outputs = {} if outputs is None else outputs
        self.product_outputs = {} if product_outputs is None else product_outputs
        self.why_not = {} if why_not is None else why_not
        self.bundle = bundle


@dataclass(frozen=True, slots=True)
class Table:
    """A ``table`` declaration, checked once: every ``map SUBJECT NAME`` lowers to the map it
    spells out (the IR has no tables, so engines and tools see an inline ``map``, which keeps
    the table's name only for printing it back: :attr:`~om_dsl.ir.models.MapOp.table`)."""

    key: str
    value: str
    cases: tuple[ir.MapCaseIR, ...]
    default: Any
    depth: int
    """The depth of the map's cases in its IR (0 without cases); see :func:`_cases_depth`."""


_ARITH = {"+", "-", "*", "/", "%"}
_COMPARE = {"==", "!=", "<", "<=", ">", ">="}


# Makers looked up once (see ``om_dsl.compiler.context``: ``trusted()`` per call is 1 us more).
_new_lit: Final = maker(ir.Lit)
_new_ref: Final = maker(ir.Ref)
_new_mapping: Final = maker(ir.MappingIR)
# The other expression nodes hold only values the checker made: built without validation too.
_new_obj_field: Final = builder(ir.ObjField)
_new_object: Final = builder(ir.ObjectOp)
_new_list: Final = builder(ir.ListOp)
_new_index: Final = builder(ir.IndexOp)
_new_unary: Final = builder(ir.UnaryOp)
_new_binary: Final = builder(ir.BinaryOp)
_new_if: Final = builder(ir.IfOp)
_new_map_case: Final = builder(ir.MapCaseIR)
_new_map: Final = builder(ir.MapOp)
new_call = builder(ir.CallOp)


def _unified_or(current: str | None, new: str, expected: str) -> str:
    """The map's type so far, or ``expected`` once its values disagree (each was checked
    against ``expected`` already: the map is what the place takes, not a second error)."""
    if current is None:
        return new
    return T.unify(current, new) or expected


def lit(type_: str, value: Any) -> ir.Lit:
    """An IR literal, built without re-validation (the checker made type and value agree).

    Literals and references are most of an expression tree; ``tests/benchmarks`` checks that
    a compiled catalog equals its IR validated from JSON.
    """
    return _new_lit({"op": "lit", "type": type_, "value": value})


def ref(type_: str, root: str, path: list[str]) -> ir.Ref:
    """An IR reference, built without re-validation (``path`` must not change afterwards)."""
    return _new_ref({"op": "ref", "type": type_, "root": root, "path": path})


def mapping(target: str, expr: Any, span: ir.SourceSpan) -> ir.MappingIR:
    """``target = expr`` of a rule or a response, built without re-validation."""
    return _new_mapping({"target": target, "expr": expr, "span": span})


def _cases_depth(cases: list[ir.MapCaseIR], default: Any) -> int:
    """How deeply a map's cases nest in its IR, as :func:`om_dsl.expr.depth.ir_depth` counts:
    each value and key sits in a MapCaseIR in the cases list (0 without cases)."""
    if not cases:
        return 0 if default is None else 1 + ir_depth(default)
    inner = max(max(ir_depth(c.value), json_depth(c.key)) for c in cases)
    deepest = 3 + inner
    return deepest if default is None else max(deepest, 1 + ir_depth(default))


def _error_value() -> ir.Lit:
    return lit(T.ANY, None)


class ExprChecker:
    """Checks and lowers expressions; diagnostics go to the shared bag."""

    def __init__(
        self,
        bag: DiagnosticBag,
        enums: dict[str, list[str]],
        broken: Broken | None = None,
        kind_of: Callable[[str], str | None] | None = None,
    ) -> None:
        self.bag = bag
        self.enums = enums
        self.broken = broken or Broken()
        self.kind_of: Callable[[str], str | None] = kind_of or (lambda _name: None)
        """What another declaration of that name is (for a table's E022)."""
        self.tables: dict[str, Table] = {}
        self._level = 0
        """How many expressions the checker is inside (0: at an entry point's own)."""
        self._deeper = False
        """A table made an expression deeper than its parse said: measure it at its top."""
        self._in_table: str | None = None
        """The table whose values are being checked: they are constants, no table look-ups."""
        self._member_owner: dict[str, list[str]] = {}
        for enum, members in enums.items():
            for m in members:
                self._member_owner.setdefault(m, []).append(enum)
        self._dispatch: dict[type, Callable[[Any, ExprEnv, str | None], Any]] = {
            ast.Literal: self._literal,
            ast.NameRef: self._ref,
            ast.AttrRef: self._ref,
            ast.Call: self._call,
            ast.Index: self._index,
            ast.ListLit: self._list,
            ast.Unary: self._unary,
            ast.Binary: self._binary,
            ast.IfExpr: self._if,
            ast.MapExpr: self._map,
            ast.MapTable: self._map_table,
        }

    # ---- entry points ------------------------------------------------------------------------

    def check(self, expr: Any, env: ExprEnv, expected: str | None = None) -> Any:
        """Lower ``expr``; when ``expected`` is given, also check assignability to it."""
        if expr.depth > MAX_DEPTH:
            return self._too_deep(expr)
        if isinstance(expr, ast.ObjectLit):
            return self.object(expr, env)
        self._level += 1
        lowered = self._dispatch[type(expr)](expr, env, expected)
        self._level -= 1
        if self._deeper and not self._level:
            lowered = self._measure(expr, lowered)
        if expected is not None and not T.assignable(lowered.type, expected):
            hint = _conversion(lowered, expected)
            self.bag.error(
                "E043",
                f"expected {T.describe(expected)} here, found {T.describe(lowered.type)}",
                expr.span,
                *([] if hint is None else [hint]),
            )
        return lowered

    def condition(self, expr: Any, env: ExprEnv) -> Any:
        if expr.depth > MAX_DEPTH:
            return self._too_deep(expr)
        self._level += 1
        lowered = self._dispatch[type(expr)](expr, env, "bool")
        self._level -= 1
        if self._deeper and not self._level:
            lowered = self._measure(expr, lowered)
        if not T.assignable(lowered.type, "bool"):
            self.bag.error(
                "E045",
                f"a condition must be bool, found {T.describe(lowered.type)}",
                expr.span,
                'compare it, e.g. `x > 0` or `x == "value"`',
            )
        return lowered

    def object(self, obj: ast.ObjectLit, env: ExprEnv) -> Any:
        if obj.depth > MAX_DEPTH:
            return self._too_deep(obj)
        seen: set[str] = set()
        fields = []
        self._level += 1
        for f in obj.fields:
            if f.key in seen:
                self.bag.error("E024", f"field '{f.key}' is given twice", f.span)
            seen.add(f.key)
            fields.append(_new_obj_field(key=f.key, value=self.check(f.value, env)))
        self._level -= 1
        lowered = _new_object(fields=fields)
        return self._measure(obj, lowered) if self._deeper and not self._level else lowered

    def _measure(self, expr: Any, lowered: Any) -> Any:
        """E052 for an expression that a table's cases made deeper than the limit: its parse
        counted a ``map SUBJECT TABLE`` as a map of scalar values (see ``_map_table``)."""
        self._deeper = False
        depth = ir_depth(lowered)
        return self._too_deep(expr, depth) if depth > MAX_DEPTH else lowered

    def _too_deep(self, expr: Any, depth: int | None = None) -> ir.Lit:
        """Refuse an expression whose IR could not be serialised or evaluated (see E052).

        Checked where an expression enters the checker, before any recursion into it: the
        parts of an expression are never deeper than the whole.
        """
        self.bag.error(
            "E052",
            f"expression nests too deeply: {depth or expr.depth} levels, the limit is {MAX_DEPTH}",
            expr.span,
            "each operator of a chain like `a or b or c` nests one level deeper; test many "
            'values at once with `code in ["a", "b", ...]`, or split the expression',
        )
        return _error_value()

    # ---- nodes -------------------------------------------------------------------------------

    def _literal(self, node: ast.Literal, env: ExprEnv, expected: str | None) -> ir.Lit:
        value = node.value
        if node.kind == "decimal":
            value = float(value)
            if not math.isfinite(value):
                self.bag.error("E005", "decimal number is too large", node.span)
                return _error_value()
        elif node.kind == "int" and abs(value) > T.SAFE_INTEGER:
            self.bag.error("E005", f"integer {value} is too large", node.span, "the limit is 2^53")
            return _error_value()
        return lit(node.kind, value)

    def _list(self, node: ast.ListLit, env: ExprEnv, expected: str | None) -> ir.ListOp:
        item_expected = T.list_item(expected) if expected and T.is_list(expected) else None
        items = [self.check(i, env, None) if item_expected is None else
                 self._dispatch[type(i)](i, env, item_expected) for i in node.items]  # fmt: skip
        item_type = items[0].type if items else (item_expected or T.ANY)
        for item, src in zip(items[1:], node.items[1:], strict=True):
            unified = T.unify(item_type, item.type)
            if unified is None:
                self.bag.error(
                    "E040",
                    f"list mixes {T.describe(item_type)} and {T.describe(item.type)}",
                    src.span,
                )
                return _new_list(type=T.list_type(T.ANY), items=items)
            item_type = unified
        return _new_list(type=T.list_type(item_type), items=items)

    def _unary(self, node: ast.Unary, env: ExprEnv, expected: str | None) -> Any:
        arg = self.check(node.arg, env)
        if node.op == "not":
            if not T.assignable(arg.type, "bool"):
                self._bad_operand("not", arg.type, node.span)
                return _error_value()
            return _new_unary(op="not", type="bool", arg=arg)
        if not (T.is_numeric(arg.type) or arg.type == T.ANY):
            self._bad_operand("-", arg.type, node.span)
            return _error_value()
        return _new_unary(op="neg", type=arg.type, arg=arg)

    def _binary(self, node: ast.Binary, env: ExprEnv, expected: str | None) -> Any:
        left = self.check(node.left, env)
        hint = left.type if T.is_enum(left.type) else None
        if node.op in ("in", "not in") and hint:
            hint = T.list_type(hint)
        right = self._dispatch[type(node.right)](node.right, env, hint)
        sides = _dated(left, right) if node.op in _COMPARE else (left.type, right.type)
        result = self._binary_type(node.op, *sides)
        if result is None:
            self.bag.error(
                "E040",
                f"operator '{node.op}' cannot combine {T.describe(left.type)} "
                f"and {T.describe(right.type)}",
                node.span,
                *self._qualify_hint(node.right, left.type),
                *self._qualify_hint(node.left, right.type),
                *self._binary_hint(node.op, left.type, right.type, node),
            )
            return _error_value()
        return _new_binary(type=result, operator=node.op, left=left, right=right)

    def _binary_type(self, op: str, a: str, b: str) -> str | None:
        any_side = T.ANY in (a, b)
        if op in ("and", "or"):
            return "bool" if T.assignable(a, "bool") and T.assignable(b, "bool") else None
        if op in _COMPARE:
            if not T.comparable(a, b):
                return None
            if op in ("==", "!="):
                return "bool"
            return "bool" if T.ordered(a) and T.ordered(b) else None
        if op in ("in", "not in"):
            if any_side or (T.is_list(b) and T.comparable(a, T.list_item(b))):
                return "bool"
            return "bool" if a == "string" and b == "string" else None
        if op == "+" and a == "string" and b == "string":
            return "string"
        if op in _ARITH and (any_side or (T.is_numeric(a) and T.is_numeric(b))):
            if any_side:
                return T.ANY
            if op == "/" or "decimal" in (a, b):
                return "decimal"
            return "int"
        return None

    def _binary_hint(self, op: str, a: str, b: str, node: ast.Binary) -> tuple[str, ...]:
        if op == "+" and "string" in (a, b):
            other, operand = (b, node.right) if a == "string" else (a, node.left)
            if T.is_numeric(other) or other == T.ANY:
                return ("to join text with a number, convert it: str(x) or concat(a, b)",)
            x = operand.name if isinstance(operand, ast.NameRef) else "x"
            if T.is_enum(other):
                return (
                    f"to join text with {_a(T.describe(other))} value (an enum member), convert "
                    f"it: str({x}) gives the member's name, or concat(a, b)",
                )
            return (
                f"to join text with {_a(T.describe(other))} value, convert it: str({x}) "
                "or concat(a, b)",
            )
        if {a, b} == {"date", "string"}:
            return ('write a date as date("YYYY-MM-DD")',)
        enum = a if T.is_enum(a) else b
        if T.is_enum(enum) and "string" in (a, b):
            name = T.enum_name(enum)
            example = f"{name}.{self.enums[name][0]}" if self.enums.get(name) else name
            return (f"enum members are names, not text: e.g. {example} without quotes",)
        return ()

    def _bad_operand(self, op: str, t: str, span: Span) -> None:
        self.bag.error("E040", f"operator '{op}' cannot take {T.describe(t)}", span)

    def _if(self, node: ast.IfExpr, env: ExprEnv, expected: str | None) -> Any:
        cond = self.condition(node.cond, env)
        then = self._dispatch[type(node.then)](node.then, env, expected)
        other = self._dispatch[type(node.otherwise)](node.otherwise, env, expected)
        result = T.unify(then.type, other.type)
        if result is None:
            self.bag.error(
                "E040",
                f"the branches of 'if' disagree: {T.describe(then.type)} "
                f"and {T.describe(other.type)}",
                node.span,
            )
            return _error_value()
        return _new_if(type=result, cond=cond, then=then, otherwise=other)

    # ---- map tables --------------------------------------------------------------------------

    def _map(self, node: ast.MapExpr, env: ExprEnv, expected: str | None) -> Any:
        subject = self.check(node.subject, env)
        place = expected if expected != T.ANY else None
        key_type = None if _is_error(subject) else subject.type
        cases, default, result, seen = self._cases(node.cases, env, place, expected, key_type)
        if key_type is not None:
            self._map_exhaustive(node.span, "map", key_type, seen, default is not None)
        return _new_map(type=result or T.ANY, subject=subject, cases=cases, default=default)

    def _cases(
        self,
        nodes: list[ast.MapCase],
        env: ExprEnv,
        place: str | None,
        expected: str | None,
        key_type: str | None,
        what: str = "map",
    ) -> tuple[list[ir.MapCaseIR], Any, str | None, set[Any]]:
        """The cases of a ``map`` (or a ``table``), the default's value, the values' type and
        the keys (for W005).

        ``place``: the type each value must have (E043 at the value), else the values must
        agree (E049); ``key_type``: the subject's (or the table's key) type, None when it is
        unknown for an error already reported (the keys are then not checked)."""
        cases: list[ir.MapCaseIR] = []
        default = None
        result: str | None = None
        seen: set[Any] = set()
        for case in nodes:
            if place is not None:  # each value against what the place takes: E043 at it
                value = self.check(case.value, env, place)
                result = _unified_or(result, value.type, place)
            else:
                value = self._dispatch[type(case.value)](case.value, env, expected)
                result = self._unify_case(result, value.type, case.value.span, what)
            if case.key is None:
                if default is not None:
                    self.bag.error("E049", f"{what} has two default cases", case.span)
                default = value
                continue
            if key_type is None:  # already reported: checking keys would only add noise
                continue
            key = self.const(case.key, key_type)
            mark = tuple(key) if isinstance(key, list) else key  # a list key, as looked up
            if case.key.kind == "bool" and (member := self._keyword_member(case.key, key_type)):
                seen.add(member)  # `true:` meant Flag.true (E041 says so): W005 counts it
            elif mark is not None and mark in seen:
                self.bag.error("E049", f"{what} has two cases for {key!r}", case.key.span)
            seen.add(mark)
            cases.append(_new_map_case(key=key, value=value))
        return cases, default, result, seen

    # ---- named tables ------------------------------------------------------------------------

    def table(self, decl: ast.TableDecl, key_type: str, value_type: str) -> None:
        """Check a ``table`` declaration once (its keys, its values, W005) and keep it for the
        ``map SUBJECT NAME`` that use it.  ``key_type`` or ``value_type`` is ``any`` when the
        declaration names an unknown type (reported): the cases are then not checked against
        it."""
        name = decl.name.value
        what = f"table {name}"
        env = ExprEnv(f"in table {name} (its values are constants)", why_not=_TABLE_WHY_NOT)
        place = value_type if value_type != T.ANY else None
        keys = key_type if key_type != T.ANY else None
        self._in_table = name
        cases, default, result, seen = self._cases(decl.cases, env, place, place, keys, what)
        self._in_table = None
        if keys is not None:
            self._map_exhaustive(decl.name.span, what, keys, seen, default is not None)
        depth = _cases_depth(cases, default)
        self.tables[name] = Table(key_type, place or result or T.ANY, tuple(cases), default, depth)

    def _map_table(self, node: ast.MapTable, env: ExprEnv, expected: str | None) -> Any:
        """``map SUBJECT NAME``: the map that table NAME spells out, with this subject."""
        if self._in_table is not None:  # tables are checked in no order: none reads another
            self.bag.error(
                "E022",
                f"the values of table {self._in_table} are constants, not look-ups in a table",
                node.span,
                "write the value itself",
            )
            return _error_value()
        subject = self.check(node.subject, env)
        table = self._resolve_table(node.table)
        if table is None or _is_error(subject):
            return _error_value()
        if not T.comparable(subject.type, table.key) and T.ANY not in (table.key, table.value):
            text = unparse(subject)
            hint = T.conversion(subject.type, table.key, text if len(text) <= 40 else "...")
            self.bag.error(
                "E043",
                f"table {node.table.value} is keyed by {T.describe(table.key)}, "
                f"found {T.describe(subject.type)}",
                node.subject.span,
                *([] if hint is None else [hint]),
            )
            return _error_value()
        depth = max(1 + node.subject.depth, table.depth)
        if depth > MAX_DEPTH:
            return self._too_deep(node, depth)
        if depth > node.depth:
            self._deeper = True  # its parents are deeper than parsed too
        return _new_map(
            type=table.value,
            subject=subject,
            cases=list(table.cases),
            default=table.default,
            table=node.table.value,
        )

    def _resolve_table(self, name: ast.Name) -> Table | None:
        table = self.tables.get(name.value)
        if table is not None:
            return table
        kind = self.kind_of(name.value)
        if kind is not None:
            self.bag.error(
                "E022",
                f"'{name.value}' is {_a(kind)}, not a table",
                name.span,
                "`map SUBJECT NAME` looks SUBJECT up in the table NAME; an inline table is "
                "written `map SUBJECT { KEY: VALUE, ..., default: VALUE }`",
            )
        elif not self.broken.declares(name.value):
            hints = suggest(name.value, self.tables) or (
                f"declare it: table {name.value}: KEY_TYPE -> VALUE_TYPE "
                "{ KEY: VALUE, ..., default: VALUE }",
            )
            self.bag.error("E020", f"unknown table '{name.value}'", name.span, *hints)
        return None

    def _unify_case(self, current: str | None, new: str, span: Span, what: str = "map") -> str:
        """The map's type so far, with ``new``; E049 where a value's type cannot join it (in a
        place whose type is unknown: where it is known, ``_unified_or`` is used instead)."""
        if current is None:
            return new
        unified = T.unify(current, new)
        if unified is None:
            self.bag.error(
                "E049",
                f"{what} values disagree: {T.describe(current)} and {T.describe(new)}",
                span,
            )
            return current
        return unified

    def _map_exhaustive(
        self, span: Span, what: str, subject: str, seen: set[Any], dflt: bool
    ) -> None:
        """W005 for a map (or a table) without a default whose keys leave values out."""
        if dflt:
            return
        missing: list[str] = []
        if T.is_enum(subject) or subject == "bool":  # closed types: cases can cover them all
            members: list[Any] = (
                [True, False] if subject == "bool" else self.enums.get(T.enum_name(subject), [])
            )
            missing = [
                m if isinstance(m, str) else str(m).lower() for m in members if m not in seen
            ]
            if not missing:
                return
        detail = f" (no case for {', '.join(missing)})" if missing else ""
        self.bag.warning(
            "W005",
            f"{what} has no default case{detail}; unmatched values give null",
            span,
            "add `default: ...`",
        )

    # ---- constants ---------------------------------------------------------------------------

    def const(self, node: ast.Const, expected: str, among: Sequence[str] | None = None) -> Any:
        """The JSON value of a constant, checked against ``expected`` (E041 on mismatch).

        ``among``: the members an enum constant may be (an attribute's ``values``), which a
        misspelt member's "did you mean" is drawn from."""
        if node.kind == "list":
            item = T.list_item(expected) if T.is_list(expected) else None
            if item is None and expected != T.ANY:
                self._const_mismatch(node, expected, "a list")
                return None
            return [self.const(c, item or T.ANY, among) for c in node.value]
        if node.kind == "name":
            return self._enum_const(node, expected, among)
        if self.broken.stands_in(node.span):  # E005 said what is wrong with it
            return None
        kind = node.kind
        value: Any = float(node.value) if kind == "decimal" else node.value
        if not T.assignable(kind, expected) and not (kind == "string" and expected == "date"):
            self._const_mismatch(node, expected, _a(kind), *self._qualify_hint(node, expected))
            return None
        if expected == "date" and not _is_iso_date(value):
            self.bag.error("E041", f"'{value}' is not a date (YYYY-MM-DD)", node.span)
        if kind == "int" and abs(value) > T.SAFE_INTEGER:
            self.bag.error("E005", f"integer {value} is too large", node.span, "the limit is 2^53")
        if kind == "decimal" and not math.isfinite(value):
            self.bag.error("E005", "decimal number is too large", node.span)
            return None
        return value

    def _enum_const(self, node: ast.Const, expected: str, among: Sequence[str] | None) -> Any:
        name: str = node.value
        if node.enum is not None:
            return self._qualified_const(node, node.enum, expected, among)
        if T.is_enum(expected):
            if name not in self.enums.get(T.enum_name(expected), []):
                self._not_a_member(name, T.enum_name(expected), node.span, among)
            return name
        if expected == T.ANY:
            if name in self._member_owner or self.broken.declares(name):
                return name
            self.bag.error(
                "E020",
                f"unknown name '{name}': not a member of any enum",
                node.span,
                *suggest(name, self._member_owner),
                f'to match a text value, quote it: "{name}"',
            )
            return None
        self._const_mismatch(node, expected, f"the name '{name}'", *literal_hint(name))
        return None

    def _qualified_const(
        self, node: ast.Const, enum: ast.Name, expected: str, among: Sequence[str] | None
    ) -> Any:
        """`Technology.FTTH` where a constant is expected: the member, once the enum exists,
        holds it and is the one expected (the IR keeps the bare member, as for `FTTH`)."""
        members = self.enums.get(enum.value)
        if members is None:
            if not self.broken.declares(enum.value):
                self.bag.error(
                    "E020", f"unknown enum '{enum.value}'", enum.span,
                    *suggest(enum.value, self.enums),
                )  # fmt: skip
            return None
        if node.value not in members:
            self._not_a_member(node.value, enum.value, node.span, among)
            return None
        if expected == T.ANY or (T.is_enum(expected) and T.enum_name(expected) == enum.value):
            return node.value
        self._const_mismatch(node, expected, f"a member of enum {enum.value}")
        return None

    def _keyword_member(self, node: Any, expected: str) -> str | None:
        """The member of enum ``expected`` that the literal ``node`` (`true`, `false`, `null`)
        is named like: a bare literal is never the member (W015), so it is worth a hint."""
        if not T.is_enum(expected) or not isinstance(node, ast.Literal | ast.Const):
            return None
        if node.kind == "null":
            text = "null"
        elif node.kind == "bool":
            text = "true" if node.value else "false"
        else:
            return None
        return text if text in self.enums.get(T.enum_name(expected), []) else None

    def _qualify_hint(self, node: Any, expected: str) -> tuple[str, ...]:
        member = self._keyword_member(node, expected)
        if member is None:
            return ()
        what = "null" if member == "null" else "the bool"
        return (f"write `{T.enum_name(expected)}.{member}`: a bare `{member}` is {what}",)

    def _const_mismatch(self, node: ast.Const, expected: str, found: str, *hints: str) -> None:
        want = _a(f"{T.describe(expected)} value")
        self.bag.error("E041", f"expected {want}, found {found}", node.span, *hints)

    # ---- functions ---------------------------------------------------------------------------

    def _call(self, node: ast.Call, env: ExprEnv, expected: str | None) -> Any:
        line_fn = LINE_FUNCTIONS.get(node.fn)
        if line_fn is not None:
            return self._line_call(node, env, line_fn)
        fn = FUNCTIONS.get(node.fn)
        if fn is None:
            return self._refuse_call(
                node, env, f"unknown function '{node.fn}'", *_function_hint(node)
            )
        count = len(node.args)
        if count < fn.min_args or (fn.max_args is not None and count > fn.max_args):
            return self._refuse_call(
                node,
                env,
                f"{node.fn}() takes {_arity(fn.min_args, fn.max_args)}, got {count}",
                f"signature: {fn.signature}",
            )
        args = [self.check(a, env) for a in node.args]
        result = fn.type_rule([a.type for a in args])
        if isinstance(result, tuple) and any(_date_literal(a) for a in args):
            result = fn.type_rule(["date" if _date_literal(a) else a.type for a in args])
        if isinstance(result, tuple):
            self.bag.error(
                "E046", f"{node.fn}(): {result[1]}", node.span, f"signature: {fn.signature}"
            )
            return _error_value()
        self._check_literal_args(node, args)
        return new_call(type=result, fn=node.fn, args=args)

    def _line_call(self, node: ast.Call, env: ExprEnv, fn: LineFunction) -> Any:
        """``changed(line.x)`` / ``previous(line.x)``: they read the change of the line a plan
        item runs for, so they need a line (a plan) and one of its attributes, by name."""
        if "line" not in env.roots:
            return self._refuse_call(
                node,
                env,
                f"{node.fn}() reads what an order changes on a line: it is for plans, "
                f"not {env.where}",
                f"a rule maps the order's values; a plan item can read {fn.signature}",
            )
        args = [self.check(a, env) for a in node.args]
        if len(args) != 1 or not is_line_attribute(args[0]):
            if not (len(args) == 1 and _is_error(args[0])):  # a bad name: reported once
                self.bag.error(
                    "E046",
                    f"{node.fn}() takes one attribute of the line",
                    node.span,
                    f"signature: {fn.signature}, e.g. {node.fn}(line.{_an_attribute(env)})",
                )
            return _error_value()
        return new_call(type=fn.result(args[0].type), fn=node.fn, args=args)

    def _refuse_call(self, node: ast.Call, env: ExprEnv, message: str, *hints: str) -> ir.Lit:
        """E046 for a call that cannot be typed; its arguments are still checked."""
        self.bag.error("E046", message, node.span, *hints)
        self._check_args_alone(node, env)
        return _error_value()

    def _check_args_alone(self, node: ast.Call, env: ExprEnv) -> None:
        """The arguments of a call that cannot be typed (unknown function, wrong count) are
        still checked on their own: `lowr(order.sit_id)` reported the function alone, and the
        misspelt attribute only once the function was fixed."""
        for arg in node.args:
            self.check(arg, env)

    def _check_literal_args(self, node: ast.Call, args: list[Any]) -> None:
        """Text literals are checked now; other arguments (null, errors) are not text."""
        if node.fn == "matches" and not _is_error(args[1]):
            self._check_pattern_arg(args[1], node.args[1].span)
        if node.fn == "date" and _text_literal(args[0]) and not _is_iso_date(args[0].value):
            self.bag.error(
                "E041", f"'{args[0].value}' is not a date (YYYY-MM-DD)", node.args[0].span
            )

    def _check_pattern_arg(self, pattern: Any, span: Span) -> None:
        """Only designers write patterns: a pattern computed from order data could be made to
        fail or backtrack at will, so ``matches`` takes a text literal, checked here."""
        if not _text_literal(pattern):
            self.bag.error(
                "E047",
                "matches() takes its pattern as a text literal, not an expression",
                span,
                'e.g. matches(code, "^[A-Z]{3}$"); compare computed values with ==, '
                "starts_with, ends_with or contains",
            )
            return
        problem = patterns.compile_error(str(pattern.value))
        if problem is not None:
            self.bag.error("E047", problem, span)
        else:
            warn_if_backtracking(self.bag, str(pattern.value), span)

    # ---- references --------------------------------------------------------------------------

    def _ref(self, node: ast.NameRef | ast.AttrRef, env: ExprEnv, expected: str | None) -> Any:
        path = _flatten(node)
        if path is None and isinstance(node, ast.AttrRef) and ast.has_index(node.obj):
            return self._field(node, env)
        if path is None:
            self.bag.error("E050", "fields can only be read from names", node.span)
            return _error_value()
        head, rest = path[0], path[1:]
        if head in env.roots or (head == BUNDLE and rest and env.bundle is not None):
            return self._root_ref(head, rest, env, node.span)  # (bare, `bundle` is an attribute)
        if head in self.enums and len(rest) == 1:
            return self._enum_literal(head, rest[0], node.span)
        if head in env.items and rest:
            self._check_output(head, rest[0], env.outputs.get(head), node.span)
            return ref(T.ANY, "item", path)
        if head in env.products and rest:
            return self._product_ref(head, rest, env, node.span)
        if head in env.bare:
            if rest:
                what = T.describe(env.bare[head])
                self.bag.error(
                    "E050", f"'{head}' is {_a(what)} value; it has no fields", node.span,
                    *_method_hint(head, rest),
                )  # fmt: skip
                return _error_value()
            return ref(env.bare[head], env.bare_root, [head])
        if not rest:
            member = self._bare_member(head, expected)
            if member is not None:
                return member
            if head in env.items or head in env.products:
                self._not_a_value(head, env, node.span)
                return _error_value()
        self._unknown(head, env, node.span, rest)
        return _error_value()

    # ---- indexing ----------------------------------------------------------------------------

    def _index(self, node: ast.Index, env: ExprEnv, expected: str | None) -> Any:
        """``xs[i]``: an item of a list (the item type), or of an ``any`` value (``any``, by
        position or by a field's name)."""
        subject = self.check(node.subject, env)
        key = self.check(node.key, env)
        if _is_error(subject) or _is_error(key):
            return _error_value()
        if subject.type == T.ANY:
            if not (T.assignable(key.type, "int") or T.assignable(key.type, "string")):
                self._bad_key(key.type, "a position (int) or a field name (string)", node)
                return _error_value()
            return _new_index(type=T.ANY, subject=subject, key=key)
        if not T.is_list(subject.type):
            self.bag.error(
                "E040",
                f"cannot index {T.describe(subject.type)}: only lists and outputs can be indexed",
                node.span,
                *_index_hint(subject.type),
            )
            return _error_value()
        if not T.assignable(key.type, "int"):
            self._bad_key(key.type, "a position (int)", node)
            return _error_value()
        return _new_index(type=T.list_item(subject.type), subject=subject, key=key)

    def _bad_key(self, found: str, wanted: str, node: ast.Index) -> None:
        self.bag.error(
            "E040",
            f"an index must be {wanted}, found {T.describe(found)}",
            node.key.span,
            "positions count from 0, and from the end when negative: xs[0], xs[-1]",
        )

    def _field(self, node: ast.AttrRef, env: ExprEnv) -> Any:
        """``body.ports[0].id``: a field of an item, which only an ``any`` value has."""
        subject = self.check(node.obj, env)
        if _is_error(subject):
            return _error_value()
        if subject.type != T.ANY:
            what = T.describe(subject.type)
            self.bag.error(
                "E050", f"'{unparse(subject)}' is {_a(what)} value; it has no fields", node.span
            )
            return _error_value()
        return _new_index(type=T.ANY, subject=subject, key=lit("string", node.name))

    def _not_a_value(self, name: str, env: ExprEnv, span: Span) -> None:
        """E050 for a plan item or a product written alone, where its outputs are values (it
        was "unknown name 'c'", with "did you mean 'c'?")."""
        if name in env.items:
            known = env.outputs.get(name)
            if known is None:
                hint = f"read one of its outputs: {name}.NAME"
            elif known:
                hint = "read one of its outputs: " + ", ".join(f"{name}.{o}" for o in sorted(known))
            else:
                hint = f"callout '{name}' has no outputs: they are its response mappings"
            self.bag.error("E050", f"'{name}' is a plan item, not a value", span, hint)
            return
        self.bag.error(
            "E050", f"'{name}' is a product, not a value", span,
            f"read an output of one of its plan items: {name}.ITEM.NAME",
        )  # fmt: skip

    def _root_ref(self, root: str, rest: list[str], env: ExprEnv, span: Span) -> Any:
        if root not in env.roots:  # bundle.NAME in a rule (see _ref)
            assert env.bundle is not None
            return self._bundle_ref(env.bundle.resolve(), rest, env, span)
        attrs = env.roots[root]
        if attrs is None:
            return ref(T.ANY, root, rest)
        if len(rest) != 1:
            what = "an attribute name" if not rest else "one attribute name"
            self.bag.error("E050", f"'{root}' must be followed by {what}", span)
            return _error_value()
        name = rest[0]
        if name not in attrs:
            if root == "order" and "order" in self.broken.kinds:
                return _error_value()  # the order block has a syntax error
            self.bag.error(
                "E023",
                f"'{root}' has no attribute '{name}' {env.where}",
                span,
                *(_why_not(name, env, attrs) if root == env.bare_root else suggest(name, attrs)),
            )
            return _error_value()
        return ref(attrs[name], root, rest)

    def _bundle_ref(self, scope: BundleScope, rest: list[str], env: ExprEnv, span: Span) -> Any:
        """``bundle.NAME``: the attribute of the bundles that include the rule's source, which
        all declare it with one type (E053, E054, E055 otherwise)."""
        if len(rest) != 1:
            self.bag.error("E050", f"'{BUNDLE}' must be followed by one attribute name", span)
            return _error_value()
        name = rest[0]
        if scope.problem is not None:
            if not scope.quiet:
                why, hints = scope.problem
                self.bag.error(
                    "E053", f"bundle.{name} cannot be read {env.where}: {why}", span, *hints
                )
            return _error_value()
        lacking = [b for b, attrs in scope.bundles if name not in attrs]
        if lacking:
            if not scope.quiet:
                self._not_in_bundle(scope, name, lacking, env, span)
            return _error_value()
        first, first_attrs = scope.bundles[0]
        type_ = first_attrs[name]
        for other, attrs in scope.bundles[1:]:
            if attrs[name] != type_:
                self.bag.error(
                    "E055",
                    f"bundle.{name} is {_a(T.describe(type_))} in {first} but "
                    f"{_a(T.describe(attrs[name]))} in {other}, which both include {scope.source} "
                    f"({env.where})",
                    span,
                    f"declare '{name}' with one type in every bundle that includes "
                    f"{scope.source}: {_listed([b for b, _attrs in scope.bundles])}",
                )
                return _error_value()
        return ref(type_, BUNDLE, rest)

    def _not_in_bundle(
        self, scope: BundleScope, name: str, lacking: list[str], env: ExprEnv, span: Span
    ) -> None:
        """E054: a bundle that includes the source has no attribute ``name``."""
        readable = [n for n in scope.bundles[0][1] if all(n in t for _b, t in scope.bundles)]
        hints = list(suggest(name, readable))
        having = [b for b, table in scope.bundles if name in table]
        if having:
            hints.append(
                f"'{name}' is an attribute of {_listed(having)}; bundle.{name} must be one of "
                f"every bundle that includes {scope.source}"
            )
        which = (
            f"bundle {lacking[0]}, which includes {scope.source}, has"
            if len(lacking) == 1
            else f"bundles {_listed(lacking)}, which include {scope.source}, have"
        )
        self.bag.error("E054", f"{which} no attribute '{name}' {env.where}", span, *hints)

    def _product_ref(self, product: str, rest: list[str], env: ExprEnv, span: Span) -> Any:
        items = env.products[product]
        if rest[0] not in items:
            if self.broken.completes(product):
                return _error_value()  # a plan of it has a syntax error
            self.bag.error(
                "E027",
                f"no plan of {product} has an item '{rest[0]}'",
                span,
                *suggest_or_list(rest[0], items, f"the items of {product}'s plans"),
            )
            return _error_value()
        if len(rest) > 1:
            known = env.product_outputs.get(product, {}).get(rest[0])
            self._check_output(f"{product}.{rest[0]}", rest[1], known, span)
        return ref(T.ANY, "product", [product, *rest])

    def _check_output(self, item: str, name: str, known: frozenset[str] | None, span: Span) -> None:
        """E098: a read of an output that the item never has.  A callout's outputs are its
        response mappings, so `reserve.prt` for `port` would read null at run time, making a
        condition quietly false or a request send nulls."""
        if known is None or name in known:
            return
        listed = ", ".join(sorted(known)) if known else "none: it has no response mapping"
        self.bag.error(
            "E098",
            f"callout '{item}' has no output '{name}'",
            span,
            *suggest(name, known),
            f"a callout's outputs are its response mappings ({listed})",
        )

    def _enum_literal(self, enum: str, member: str, span: Span) -> Any:
        if member not in self.enums[enum]:
            self._not_a_member(member, enum, span)
            return _error_value()
        return lit(T.enum_type(enum), member)

    def _not_a_member(
        self, member: str, enum: str, span: Span, among: Sequence[str] | None = None
    ) -> None:
        """E028, for a constant and for an expression alike; with ``among`` (the attribute's
        ``values``), the suggestion is one of those, not a member the attribute refuses."""
        members = self.enums.get(enum, [])
        if among is None:
            hints = suggest(member, members)
        else:
            hints = suggest_or_list(member, among, "the allowed values")
        self.bag.error("E028", f"'{member}' is not a member of enum {enum}", span, *hints)

    def _bare_member(self, name: str, expected: str | None) -> ir.Lit | None:
        if expected is not None and T.is_list(expected):
            expected = T.list_item(expected)
        if (
            expected is not None
            and T.is_enum(expected)
            and name in self.enums.get(T.enum_name(expected), [])
        ):
            return lit(expected, name)
        owners = self._member_owner.get(name, [])
        if len(owners) == 1:
            return lit(T.enum_type(owners[0]), name)
        return None

    def _unknown(self, name: str, env: ExprEnv, span: Span, rest: Sequence[str] = ()) -> None:
        """E020 for ``name``; ``rest`` is what follows it (``FTTH`` of ``Technolgy.FTTH``)."""
        if self.broken.completes(name):  # a declaration of it (or a plan) has a syntax error
            return
        if rest:
            hints = self._dotted_hint(name, rest, env)
            self.bag.error("E020", f"unknown name '{name}' {env.where}", span, *hints)
            return
        candidates = [*env.bare, *env.roots, *env.items, *env.products, *self._member_owner]
        if name in self._member_owner:
            owners = " or ".join(sorted(self._member_owner[name]))
            self.bag.error(
                "E020",
                f"'{name}' is ambiguous: it is a member of {owners}",
                span,
                f"qualify it, e.g. {sorted(self._member_owner[name])[0]}.{name}",
            )
            return
        self.bag.error(
            "E020", f"unknown name '{name}' {env.where}", span, *_why_not(name, env, candidates)
        )

    def _dotted_hint(self, name: str, rest: Sequence[str], env: ExprEnv) -> Sequence[str]:
        """The hint for an unknown ``name`` that has a field after it: what may be followed by
        one (an enum, a root, a plan item, a product), never a plain attribute, which has no
        field (`Technolgy.FTTH` suggested the attribute 'technology', then E050).  An enum that
        has the member written is preferred, and named even when far from ``name``
        (``Tec.FTTH``) when it is the only one that has it."""
        reason = env.why_not.get(name)
        if reason is not None:
            return [reason]
        if name == BUNDLE:
            return [
                "bundle.NAME is read in decomposition rules only; map the value onto the line "
                "there (`term = bundle.term`) and read it here as line.NAME"
            ]
        if name == ir.OTHER_ROOT:  # here it is no root: not in a depend's condition
            return [
                "other.NAME (the line waited for) is read in the condition of a `depend` only; "
                "a plan reads an item of another line as PRODUCT.ITEM.OUTPUT"
            ]
        owners = self._member_owner.get(rest[0], []) if len(rest) == 1 else []
        fielded = [*env.roots, *env.items, *env.products, *(self.enums if len(rest) == 1 else ())]
        if env.bundle is not None and len(rest) == 1:
            fielded.append(BUNDLE)  # `bundel.term` in a rule
        close = closest(name, owners) or closest(name, fielded)
        if close is None and len(owners) == 1:
            close = owners[0]
        return did_you_mean(close)


def _listed(names: Sequence[str]) -> str:
    """``A``, ``A and B``, ``A, B and C``."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


_TABLE_WHY_NOT: Final = {
    BUNDLE: "a table is declared outside any rule and reads no attribute; look the bundle's "
    "attribute up where a rule reads it: `map bundle.NAME TABLE`"
}
"""The hint for `bundle.NAME` in a table's values: the one for plans (map it onto the line,
read it as line.NAME) is no way out in a table, which reads no line either."""


def _why_not(name: str, env: ExprEnv, candidates: Collection[str]) -> Sequence[str]:
    reason = env.why_not.get(name)
    if reason is not None:
        return [reason]
    return literal_hint(name) or suggest(name, candidates)


_LITERALS = {"true": "true", "false": "false", "null": "null", "none": "null", "nil": "null"}


def literal_hint(name: str) -> list[str]:
    """`True`, `FALSE`, `None`: another language's spelling of a literal, which here is a
    name (and so unknown, or not a value of the type wanted)."""
    literal = _LITERALS.get(name.lower())
    if literal is None or literal == name:
        return []
    return [f"write {literal} (literals are lower case)"]


def _text_literal(lowered: Any) -> bool:
    return isinstance(lowered, ir.Lit) and lowered.type == "string"


def _date_literal(lowered: Any) -> bool:
    """A text literal that is a real YYYY-MM-DD date: a date wherever a date is expected, as
    in ``start = "2026-06-01"`` (dates are ISO text at run time, so it needs no conversion)."""
    return _text_literal(lowered) and _is_iso_date(lowered.value)


def _dated(left: Any, right: Any) -> tuple[str, str]:
    """The types a comparison checks: a date literal compared with a date is a date."""
    a, b = left.type, right.type
    if a == "date" and _date_literal(right):
        b = "date"
    elif b == "date" and _date_literal(left):
        a = "date"
    return a, b


def _is_error(lowered: Any) -> bool:
    """Whether ``lowered`` is the placeholder of an expression whose error was reported."""
    return isinstance(lowered, ir.Lit) and lowered.type == T.ANY and lowered.value is None


def _flatten(node: Any) -> list[str] | None:
    parts: list[str] = []
    while isinstance(node, ast.AttrRef):
        parts.append(node.name)
        node = node.obj
    if not isinstance(node, ast.NameRef):
        return None
    parts.append(node.name)
    parts.reverse()
    return parts


def _arity(low: int, high: int | None) -> str:
    if high is None:
        return f"at least {low} arguments"
    if low == high:
        return f"{low} argument{'s' if low != 1 else ''}"
    return f"{low} to {high} arguments"


_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _is_iso_date(value: Any) -> bool:
    if not isinstance(value, str) or not _DATE_RE.match(value):
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _conversion(lowered: Any, expected: str) -> str | None:
    """The hint of an E043: the call that converts the value, or for a constant, the constant
    to write (`"10"` where an int goes; `int("fast")` would only fail later)."""
    if isinstance(lowered, ir.Lit):
        value = lowered.value
        number = _NUMBERS.get(expected)
        if isinstance(value, str) and number is not None and number.fullmatch(value):
            return f"write {value}, without quotes"
        return None
    text = unparse(lowered)
    return T.conversion(lowered.type, expected, text if len(text) <= 40 else "...")


_NUMBERS: Final = {
    "int": re.compile(r"-?[0-9]+"),
    "decimal": re.compile(r"-?[0-9]+(\.[0-9]+)?"),
}


ENV_HINT = (
    "an expression reads no environment variable: a system names the variables of its base "
    'URL and credentials (`url env("NAME")`, `auth bearer env("NAME")`, `auth header '
    '"X-Api-Key" env("NAME")`) and its callouts send them (docs/language.md, Systems)'
)
"""The hint of ``env("NAME")`` in an expression: a designer who wants a secret in a request
(a token in a header or a body) got "did you mean 'len'?"."""


def _function_hint(node: ast.Call) -> tuple[str, ...]:
    """Another language's function first: `strip` is spelt closest to `str`, but means
    `trim`; and ``env``, which only a system's ``url`` and ``auth`` take."""
    if node.fn == "env":
        return (ENV_HINT,)
    instead = function_elsewhere(node.fn)
    known = [*FUNCTIONS, *LINE_FUNCTIONS]
    return suggest(node.fn, known) if instead is None else (f"write {instead}",)


def _index_hint(subject: str) -> tuple[str, ...]:
    if subject == "string":
        return ("for characters, write substr(text, start, 1)",)
    return ()


def _an_attribute(env: ExprEnv) -> str:
    """An attribute of the line for an example (its first), or a placeholder."""
    line = env.roots.get("line")
    return next(iter(line), "ATTRIBUTE") if line else "ATTRIBUTE"


def _method_hint(head: str, rest: list[str]) -> tuple[str, ...]:
    call = as_function(rest[0], head) if len(rest) == 1 else None
    return () if call is None else (f"write {call}",)


def warn_if_backtracking(bag: DiagnosticBag, pattern: str, span: Span) -> None:
    """W013 for a valid pattern (``pattern`` of an attribute, ``matches``) that can backtrack
    catastrophically (:mod:`om_dsl.expr.backtracking`): matched against order values with a
    time limit, it would refuse the values it runs out of time on."""
    group = catastrophic(pattern)
    if group is None:
        return
    bag.warning(
        "W013",
        f"the pattern {pattern!r} can backtrack catastrophically: its repeated group {group!r} "
        "can match the same text in more than one way",
        span,
        "make each repetition match in one way only, e.g. `(a|aa)+` is `a+`, "
        "`([A-Z]|[A-Z0-9])+` is `[A-Z0-9]+`: a value it backtracks on fails its check "
        "after 0.25 s",
    )
