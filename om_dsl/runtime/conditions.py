"""Item conditions (``when``, ``until``): which data they read, and evaluating them safely.

A condition that reads only the line's and the order's data is decided when the plan is built,
so the plan shows which items will be skipped; one that reads outputs of other items can only be
decided once those items have run, so it is evaluated when the item becomes ready.
"""

from __future__ import annotations

from typing import Any

from om_dsl.expr.change import CHANGE_ROOT, line_change
from om_dsl.expr.evaluate import Compiled, Env, EvalError, compile_expr
from om_dsl.expr.refs import refs
from om_dsl.ir import models as ir

PLAN_TIME_ROOTS = frozenset({"line", "order", "source"})


def is_plan_time(expr: Any) -> bool:
    """True when the condition reads nothing that only exists once items have run."""
    return all(ref.root in PLAN_TIME_ROOTS for ref in refs(expr))


class Condition:
    """A compiled ``when`` / ``until`` with the declaration it came from, for error messages."""

    __slots__ = ("fn", "span", "what")

    def __init__(self, expr: Any, span: ir.SourceSpan, what: str) -> None:
        self.fn: Compiled = compile_expr(expr)
        self.span = span
        self.what = what

    def holds(self, env: Env) -> bool:
        """The truth of the condition; a run-time error names the declaration that failed."""
        try:
            return bool(self.fn(env))
        except EvalError as exc:
            raise EvalError(f"{self.what} at {self.span} failed: {exc}") from None


def depend_env(line: Any, other: Any, order_fields: dict[str, Any]) -> Env:
    """What a `depend`'s condition reads for one pair: ``line`` (the waiting line, and what
    the order changed on it), ``other`` (the line waited for) and the order.  The lines are
    fulfillment lines or a plan's lines: both have ``attributes``, ``action``, ``changed``
    and ``previous``."""
    return {
        "line": line.attributes,
        CHANGE_ROOT: line_change(line.action, line.changed, line.previous),
        "order": order_fields,
        ir.OTHER_ROOT: other.attributes,
    }


def _depend_condition(dep: ir.Dependency) -> Condition:
    """A `depend`'s ``when``, compiled, named in its error messages by the declaration."""
    what = (
        f"the condition of `depend {dep.product}.{dep.item} "
        f"after {dep.after_product}.{dep.after_item}`"
    )
    return Condition(dep.when, dep.span, what)


class DependConditions:
    """The conditions of an order's conditional `depend`s, each compiled once: the plan
    builder, `om plan`'s notes and the order plan diagram ask them for many pairs of lines."""

    def __init__(self, order_fields: dict[str, Any]) -> None:
        self.order_fields = order_fields
        self._compiled: dict[int, Condition] = {}

    def holds(self, dep: ir.Dependency, line: Any, other: Any) -> bool:
        """Whether ``dep`` links ``line`` (waiting) to ``other`` (true without a condition).

        Raises:
            EvalError: the condition failed to evaluate (each caller decides what that means).
        """
        if dep.when is None:
            return True
        condition = self._compiled.get(id(dep))
        if condition is None:
            condition = self._compiled[id(dep)] = _depend_condition(dep)
        return condition.holds(depend_env(line, other, self.order_fields))
