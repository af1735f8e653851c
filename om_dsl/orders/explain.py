"""``--explain``: for each order item (and each line that feeds further rules), which rules
matched, which did not, and why: the condition as the catalog says it and the values it saw.

Explaining re-evaluates the conditions with the same compiled closures the engines use, on the
attributes the decomposition worked with, in each world it ran them in (see
:mod:`om_dsl.orders.worlds`): after the order for an ``add``, before it for a ``delete``, and
for a ``modify`` whose values changed both, one entry each, since a line's action comes from
comparing the two (a condition that was true before and is false after deletes its line).  So
it can never tell a different story from the decomposition it explains.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

from om_dsl.expr.evaluate import EvalError, compile_expr
from om_dsl.expr.refs import children
from om_dsl.expr.unparse import unparse
from om_dsl.ir import models as ir
from om_dsl.orders.issues import show
from om_dsl.orders.models import Decomposition, FulfillmentLine, Order, OrderItem
from om_dsl.orders.worlds import bundle_values, unknown_bundles
from om_dsl.rules.program import CompiledRule, RuleProgram

WorldName = Literal["before", "after", "both"]
Worlds = list[tuple[WorldName, dict[str, Any]]]
ItemWorlds = list[tuple[WorldName, dict[str, Any], dict[str, Any] | None]]
"""(world, the item's values, its bundle's values) for each world an item is explained in."""


@dataclass(frozen=True, slots=True)
class RuleVerdict:
    rule: str
    target: str
    span: str
    matched: bool
    condition: str | None
    values: dict[str, Any]
    reason: str
    wait: str = "none"
    """A chained rule's wait (``after_parent``, ``before_parent``): which of the two lines'
    plans runs first (``before parent on add, modify``).  The wait of the line the rule made
    from the source, whose own action chooses it (a condition that turns true on a modify
    adds its line, with the add's wait); for a line of the source's action when the rule made
    no line of its own there (it fed a shared line another source leads)."""


@dataclass(slots=True)
class SourceExplanation:
    source: str
    """``item <id>`` or ``line <id>``."""
    product: str
    action: str
    world: WorldName = "both"
    """The world whose values the rules read: ``after`` the order (an ``add``, or the new
    values of a ``modify``), ``before`` it (a ``delete``, or the previous values of a
    ``modify``), or ``both`` when the values are the same in both (``noChange``, a ``modify``
    that changes nothing the rules read or does not say its previous values).  An item whose
    bundle's values change (``bundle.NAME``) has one entry per world, even on ``noChange``."""
    rules: list[RuleVerdict] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def explain(program: RuleProgram, order: Order, result: Decomposition) -> list[SourceExplanation]:
    order_env = order.order_fields()
    out: list[SourceExplanation] = []
    bundles = (
        {
            "before": bundle_values(order.items, "before"),
            "after": bundle_values(order.items, "after"),
        }
        if program.reads_bundle
        else None
    )
    for item in order.items:
        label = f"item {item.id}"
        for world, attrs, bundle in _item_worlds(item, bundles):
            entry = _source(
                program, label, item.product, item.action, world, attrs, order_env, bundle
            )
            out.append(entry)
    unknown = {i.id for i in order.items if i.action == "modify" and i.previous is None}
    if program.reads_bundle:  # the parts that read such a bundle: their values before too
        unknown.update(
            order.items[n].id for n in unknown_bundles(order.items, program.bundle_readers)
        )
    made = {
        (line.parent_line, rule): line.wait
        for line in result.lines()
        if line.parent_line is not None
        for rule in line.rules
    }
    for line in result.lines():
        if program.rules_for(line.product):
            label = f"line {line.id}"
            for world, attrs in _line_worlds(line, unknown):
                entry = _source(program, label, line.product, line.action, world, attrs, order_env)
                entry.rules = [_made_wait(v, made.get((line.id, v.rule))) for v in entry.rules]
                out.append(entry)
    return out


def _made_wait(verdict: RuleVerdict, wait: str | None) -> RuleVerdict:
    """The verdict with the wait of the line its rule made from the source, when it made one
    (``made``: (parent line, rule id) -> that line's wait)."""
    if wait is None or not verdict.matched or wait == verdict.wait:
        return verdict
    return replace(verdict, wait=wait)


def _item_worlds(
    item: OrderItem, bundles: dict[str, dict[str, dict[str, Any]]] | None
) -> ItemWorlds:
    """The values the rules saw for an item, and for its bundle (``bundles``: bundle item id
    -> values, in each world; None when no rule reads ``bundle.NAME``), in each world it exists
    in (as :meth:`om_dsl.orders.worlds.WorldRun._item_facts` builds them)."""
    attrs = item.attributes
    parent = item.parent
    if bundles is None or parent is None:
        old_bundle = new_bundle = None
    else:
        old_bundle, new_bundle = bundles["before"].get(parent), bundles["after"].get(parent)
    if item.action == "add":
        return [("after", attrs, new_bundle)]
    if item.action == "delete":
        return [("before", attrs, old_bundle)]
    before = item.values_before()
    if before == attrs and old_bundle == new_bundle:
        return [("both", attrs, new_bundle)]
    return [("before", before, old_bundle), ("after", attrs, new_bundle)]


def _line_worlds(line: FulfillmentLine, unknown: set[str]) -> Worlds:
    """The values of a line in each world it exists in.  A ``modify`` line's values before are
    its values less what changed, plus what those were (``previous``: a changed attribute not
    in it had no value); when a source item does not say its previous values (``unknown``),
    the line's values before are not known, and only the after world is explained."""
    attrs = line.attributes
    if line.action == "add":
        return [("after", attrs)]
    if line.action == "delete":
        return [("before", attrs)]
    if line.action == "noChange":
        return [("both", attrs)]
    if unknown.intersection(line.source_items):
        return [("after", attrs)]
    changed = set(line.changed)
    before = {n: v for n, v in attrs.items() if n not in changed} | line.previous
    return [("both", attrs)] if before == attrs else [("before", before), ("after", attrs)]


def _source(
    program: RuleProgram,
    label: str,
    product: str,
    action: str,
    world: WorldName,
    attrs: dict[str, Any],
    order_env: dict[str, Any],
    bundle: dict[str, Any] | None = None,
) -> SourceExplanation:
    """``bundle``: the values of the item's bundle, which the facts carry when a rule reads
    ``bundle.NAME`` (None: a line, or an item that no bundle includes)."""
    env: dict[str, Any] = {"source": attrs, "order": order_env}
    if program.reads_bundle:
        env["bundle"] = bundle
    entry = SourceExplanation(label, product, action, world)
    entry.rules = [_verdict(rule, env, action) for rule in program.rules_for(product)]
    return entry


def _verdict(rule: CompiledRule, env: dict[str, Any], action: str) -> RuleVerdict:
    wait = rule.rule.wait_for(action)

    def verdict(
        matched: bool, condition: str | None, values: dict[str, Any], why: str
    ) -> RuleVerdict:
        return RuleVerdict(
            rule.id, rule.target.name, str(rule.rule.span), matched, condition, values, why, wait
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
    """Every reference the condition reads, with the value it read (null when absent), and
    what each look-up in a named table found: the condition prints ``map tech Speeds``, not
    the table's cases, so the value it got is shown instead."""
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
        if isinstance(node, ir.MapOp) and node.table is not None:
            with suppress(EvalError):  # the verdict says why the condition failed
                seen.setdefault(unparse(node), compile_expr(node)(env))
        stack.extend(children(node))
    return dict(sorted(seen.items()))


def render_text(explanations: list[SourceExplanation], where: Callable[[str], str] = str) -> str:
    """The explanation as people read it (``om decompose --explain --format table``), each
    rule's span named by ``where`` (the CLI names it from where `om` runs)."""
    lines: list[str] = []
    for entry in explanations:
        world = _WORLD_TEXT[entry.world] if entry.action != "add" else ""
        lines.append(f"{entry.source} ({entry.product}, {entry.action}){world}")
        if not entry.rules:
            lines.append("  no rule has this product as its source")
        for v in entry.rules:
            mark = "matched" if v.matched else "no match"
            waits = f", {v.wait.replace('_', ' ')}" if v.matched and v.wait != "none" else ""
            lines.append(f"  {mark:<8}  {_rule_text(v.rule, v.target)}  [{where(v.span)}]{waits}")
            if v.condition is not None:
                seen = ", ".join(f"{k} = {_show(val)}" for k, val in v.values.items())
                lines.append(f"            when {v.condition}")
                lines.append(f"            {v.reason}" + (f" ({seen})" if seen else ""))
    return "\n".join(lines) + "\n"


def _rule_text(rule: str, target: str) -> str:
    """A rule as the explanation names it: its id, which names the target already unless the
    rule is named with `as` (`Tv->TvService`, `Tv->TvService#2`; `fast_profile -> Internet`)."""
    arrow = "->" + target
    if rule.endswith(arrow) or arrow + "#" in rule:
        return rule
    return f"{rule} -> {target}"


_WORLD_TEXT = {"before": ", before the order", "after": ", after the order", "both": ""}


def _show(value: Any) -> str:
    return show(value, limit=200)
