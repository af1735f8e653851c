"""``--explain``: for each order item (and each line that feeds further rules), which rules
matched, which did not, and why: the condition as the catalog says it and the values it saw.

Explaining re-evaluates the conditions with the same compiled closures the engines use, on the
attributes the decomposition worked with (after the order; before it for a ``delete``), so it
can never tell a different story from the decomposition it explains.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from om_dsl.expr.evaluate import EvalError, compile_expr
from om_dsl.expr.refs import children
from om_dsl.expr.unparse import unparse
from om_dsl.ir import models as ir
from om_dsl.orders.models import Decomposition, Order
from om_dsl.rules.program import CompiledRule, RuleProgram


@dataclass(frozen=True, slots=True)
class RuleVerdict:
    rule: str
    target: str
    span: str
    matched: bool
    condition: str | None
    values: dict[str, Any]
    reason: str


@dataclass(slots=True)
class SourceExplanation:
    source: str
    """``item <id>`` or ``line <id>``."""
    product: str
    action: str
    rules: list[RuleVerdict] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def explain(program: RuleProgram, order: Order, result: Decomposition) -> list[SourceExplanation]:
    order_env = order.order_fields()
    out: list[SourceExplanation] = []
    for item in order.items:
        attrs = item.attributes
        out.append(_source(program, f"item {item.id}", item.product, item.action, attrs, order_env))
    for line in result.lines():
        if program.rules_for(line.product):
            out.append(
                _source(
                    program,
                    f"line {line.id}",
                    line.product,
                    line.action,
                    line.attributes,
                    order_env,
                )
            )
    return out


def _source(
    program: RuleProgram,
    label: str,
    product: str,
    action: str,
    attrs: dict[str, Any],
    order_env: dict[str, Any],
) -> SourceExplanation:
    env = {"source": attrs, "order": order_env}
    entry = SourceExplanation(label, product, action)
    entry.rules = [_verdict(rule, env) for rule in program.rules_for(product)]
    return entry


def _verdict(rule: CompiledRule, env: dict[str, Any]) -> RuleVerdict:
    def verdict(
        matched: bool, condition: str | None, values: dict[str, Any], why: str
    ) -> RuleVerdict:
        return RuleVerdict(
            rule.id, rule.target.name, str(rule.rule.span), matched, condition, values, why
        )

    when = rule.rule.when
    if when is None or rule.when is None:
        return verdict(True, None, {}, "the rule has no condition")
    text, seen = unparse(when), _values(when, env)
    try:
        matched = bool(rule.when(env))
    except EvalError as exc:
        return verdict(False, text, seen, f"the condition failed: {exc}")
    return verdict(
        matched, text, seen, "the condition is true" if matched else "the condition is false"
    )


def _values(expr: Any, env: dict[str, Any]) -> dict[str, Any]:
    """Every reference the condition reads, with the value it read (null when absent)."""
    seen: dict[str, Any] = {}
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, ir.Ref):
            name = (
                ".".join(node.path) if node.root == "source" else ".".join([node.root, *node.path])
            )
            seen.setdefault(name, compile_expr(node)(env))
            continue
        stack.extend(children(node))
    return dict(sorted(seen.items()))


def render_text(explanations: list[SourceExplanation]) -> str:
    """The explanation as people read it (``om decompose --explain --format table``)."""
    lines: list[str] = []
    for entry in explanations:
        lines.append(f"{entry.source} ({entry.product}, {entry.action})")
        if not entry.rules:
            lines.append("  no rule has this product as its source")
        for v in entry.rules:
            mark = "matched" if v.matched else "no match"
            lines.append(f"  {mark:<8}  {v.rule} -> {v.target}  [{v.span}]")
            if v.condition is not None:
                seen = ", ".join(f"{k} = {_show(val)}" for k, val in v.values.items())
                lines.append(f"            when {v.condition}")
                lines.append(f"            {v.reason}" + (f" ({seen})" if seen else ""))
    return "\n".join(lines) + "\n"


def _show(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)
