"""Decomposition rules: resolved, type-checked against source and target, lowered to IR."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final

from om_dsl.compiler.build import builder
from om_dsl.compiler.context import Context, back_span
from om_dsl.compiler.exprs import ORDER_FIELDS, BundleFound, BundleScope, ExprEnv, mapping
from om_dsl.compiler.names import a, did_you_mean, suggest
from om_dsl.compiler.symbols import TECHNICAL
from om_dsl.expr import types as T
from om_dsl.ir import models as ir
from om_dsl.ir.constraints import fitting_merges
from om_dsl.source import Span
from om_dsl.suggest import closest
from om_dsl.syntax import ast

# A rule holds only checked values: built without validation (see om_dsl.compiler.build).
_new_rule: Final = builder(ir.DecompositionRule)


@dataclass(slots=True)
class _Source:
    name: str
    is_family: bool
    members: list[str]
    attrs: dict[str, str]
    why_not: dict[str, str] = field(default_factory=dict)


def order_scope(ctx: Context) -> dict[str, str]:
    """What ``order.x`` may read: the order's built-in fields and its attributes, by type.

    Made once per set of order attributes and shared by the environment of every rule and
    plan, which only read it (it was rebuilt for each of them, 10k times at 100k lines).
    """
    cached = ctx.order_scope_cache
    if cached is not None and cached[0] is ctx.order_attributes:
        return cached[1]
    fields = dict(ORDER_FIELDS)
    fields.update({name: a.type for name, a in ctx.order_attributes.items()})
    ctx.order_scope_cache = (ctx.order_attributes, fields)
    return fields


def lower_rules(ctx: Context) -> list[ir.DecompositionRule]:
    out: list[ir.DecompositionRule] = []
    ids: dict[str, ast.RuleDecl] = {}
    failed: set[int] = set()  # id() of the mappings whose expression has an error
    for decl in ctx.symbols.decomposes:
        source = _source(ctx, decl)
        if source is None:  # reported: its targets would be produced but for that error
            ctx.symbols.broken.completed.update(rule.target.value for rule in decl.rules)
            continue
        for rule in decl.rules:
            lowered = _rule(ctx, source, rule, ids, rule.doc or decl.doc, failed)
            if lowered is not None:
                out.append(lowered)
            else:  # its error is reported: "no rule applies to the offer" would echo it
                ctx.symbols.broken.completed.add(source.name)
    _merge_conflicts(ctx, out, failed)
    _chain_cycles(ctx, out)
    return out


def _source(ctx: Context, decl: ast.DecomposeDecl) -> _Source | None:
    name = decl.source.value
    if decl.family:
        members = family_members(ctx, decl.source)
        if members is None:
            return None
        common, why_not = common_attrs(ctx, name, members, "rule")
        return _Source(name, True, members, common, why_not)
    if name not in ctx.symbols.products:
        kind = ctx.symbols.kind_of(name)
        if kind is None and ctx.symbols.broken.declares(name):
            return None
        message = f"'{name}' is {a(kind)}, not a product" if kind else f"unknown product '{name}'"
        hint = _meant(ctx, name, ctx.symbols.products)
        ctx.bag.error("E022" if kind else "E020", message, decl.source.span, *hint)
        return None
    attrs = {a: spec.type for a, spec in ctx.attributes.get(name, {}).items()}
    return _Source(name, False, [name], attrs)


def family_members(ctx: Context, family: ast.Name) -> list[str] | None:
    """The products that declare ``family``, or None after an E032 for a family nobody
    declares (a family rule or a family plan names it)."""
    name = family.value
    members = ctx.symbols.families.get(name)
    if members:
        return members
    if ctx.symbols.broken.declares(name):
        return None
    close = closest(name, ctx.symbols.families)
    ctx.bag.error("E032", f"no product declares family '{name}'", family.span, *did_you_mean(close))
    if close is not None:  # its members count as decomposed and planned: no W001/W004 each
        ctx.symbols.broken.completed.update(ctx.symbols.families[close])
    return None


def common_attrs(
    ctx: Context, family: str, members: list[str], what: str
) -> tuple[dict[str, str], dict[str, str]]:
    """A family ``what`` (rule, plan) may read only attributes that every member declares
    with the same type; and, for each attribute that only some members declare alike, why it
    cannot be read."""
    tables = {m: {a: s.type for a, s in ctx.attributes.get(m, {}).items()} for m in members}
    first = tables[members[0]]
    common = {n: t for n, t in first.items() if all(t2.get(n) == t for t2 in tables.values())}
    why_not: dict[str, str] = {}
    for attr in sorted({n for table in tables.values() for n in table} - set(common)):
        has = ", ".join(f"{m}: {T.describe(tables[m][attr])}" for m in members if attr in tables[m])
        lacks = [m for m in members if attr not in tables[m]]
        why_not[attr] = (
            f"a family {what} reads only attributes that every member of {family} declares with "
            f"one type; '{attr}' is {has}" + (f", and not in {', '.join(lacks)}" if lacks else "")
        )
    return common, why_not


def _rule_id(
    source: _Source, rule: ast.RuleDecl, ids: dict[str, ast.RuleDecl], ctx: Context
) -> str:
    if rule.name is not None:
        rid = rule.name.value
        if rid in ids:
            ctx.bag.error(
                "E021", f"rule name '{rid}' is used twice", rule.name.span,
                f"first used at {ids[rid].span}",
            )  # fmt: skip
        ids[rid] = rule
        return rid
    prefix = f"family {source.name}" if source.is_family else source.name
    base = f"{prefix}->{rule.target.value}"
    rid, n = base, 1
    while rid in ids:
        n += 1
        rid = f"{base}#{n}"
    ids[rid] = rule
    return rid


_CLAUSE_NAMES = {"as": "as", "when": "when"}


def _clauses_once(ctx: Context, rule: ast.RuleDecl, rid: str) -> None:
    """Each of ``as`` and ``when`` at most once, as for plan items: the builder keeps the last
    one, so a second ``when`` silently dropped the first condition.  Waits may come once per
    action (:func:`_waits`)."""
    seen: dict[str, Span] = {}
    for key, span in rule.option_spans:
        if key == "wait":
            continue
        if key not in seen:
            seen[key] = span
            continue
        hints = [f"first at {seen[key]}"]
        if key == "when":
            hints.append("join the conditions with `and`")
        ctx.bag.error("E087", f"'{_CLAUSE_NAMES[key]}' is given twice for rule {rid}", span, *hints)


def _rule(
    ctx: Context,
    source: _Source,
    rule: ast.RuleDecl,
    ids: dict[str, ast.RuleDecl],
    doc: str | None,
    failed: set[int],
) -> ir.DecompositionRule | None:
    """``doc``: the rule's own doc comment, else the one above its ``decompose`` block;
    ``failed`` collects the mappings whose expression has an error."""
    rid = _rule_id(source, rule, ids, ctx)
    _clauses_once(ctx, rule, rid)
    label = f"family {source.name}" if source.is_family else source.name
    target = _target(ctx, rule)
    env = ExprEnv(
        where=f"in rule {rid}",
        bare=source.attrs,
        bare_root="source",
        roots={"source": source.attrs, "order": order_scope(ctx)},
        why_not=source.why_not,
        bundle=BundleScope(label, lambda: bundle_scope(ctx, label, source.members)),
    )
    when = ctx.exprs.condition(rule.when, env) if rule.when is not None else None
    wait, waits = _waits(ctx, rule, rid)
    if rule.waits and not _all_technical(ctx, source):
        ctx.bag.error(
            "E022",
            "'after parent' / 'before parent' need a technical source (a parent line)",
            rule.waits[0].span,
        )
    if target is None:
        return None
    mappings = _mappings(ctx, rule, target, env, rid, failed)
    return _new_rule(
        id=rid,
        source=source.name,
        source_is_family=source.is_family,
        target=target,
        when=when,
        mappings=mappings,
        wait=wait,
        doc=doc,
        span=ctx.span(rule.span),
        waits=waits,
    )


def includers(ctx: Context) -> dict[str, list[str]]:
    """Product -> the bundles that include it (directly, in a choice group or alone)."""
    if ctx.includers_cache is None:
        out: dict[str, list[str]] = {}
        for decl in ctx.symbols.commercial():
            for inc in decl.includes:
                for name in inc.products:
                    found = out.setdefault(name.value, [])
                    if decl.name.value not in found:
                        found.append(decl.name.value)
        ctx.includers_cache = out
    return ctx.includers_cache


def _unknown_includes(ctx: Context) -> bool:
    """Whether a bundle includes a name that is no product (E020): the include meant may be
    the one missing, so "no bundle includes X" would only repeat that error."""
    products = ctx.symbols.products
    return any(name not in products for name in includers(ctx))


def bundle_scope(ctx: Context, label: str, members: list[str]) -> BundleFound:
    """The bundles that include every member of a rule's source, each with its attributes'
    types; or the E053 message and hints when a member is technical or in no bundle; and
    whether a syntax error may be the cause (the errors are then not reported)."""
    quiet = bool(ctx.symbols.broken.declared)
    table = includers(ctx)
    bundles: list[str] = []
    for member in members:
        decl = ctx.symbols.products.get(member)
        of = "" if member == label else f" (a member of {label})"
        if decl is not None and decl.kind in TECHNICAL:
            return (
                [],
                (
                    f"its source {member}{of} is {a(decl.kind)}, whose lines no bundle includes "
                    "(a bundle includes order items)",
                    [
                        "map the value onto the line in the rule whose source is the bundle's "
                        "part (`term = bundle.term`), and read it here as source.NAME",
                    ],
                ),
                quiet,
            )
        found = table.get(member)
        if not found:
            return (
                [],
                (
                    f"no bundle includes {member}{of}, so it would always be null",
                    [
                        f"add `includes {member}` to the bundle meant, or read an order attribute "
                        "(order.NAME) instead",
                    ],
                ),
                quiet or _unknown_includes(ctx),  # `includes Hme`: its E020 says it
            )
        bundles.extend(b for b in found if b not in bundles)
    scopes = [(b, {n: spec.type for n, spec in ctx.attributes.get(b, {}).items()}) for b in bundles]
    return scopes, None, quiet or any(ctx.symbols.broken.completes(b) for b in bundles)


def _waits(
    ctx: Context, rule: ast.RuleDecl, rid: str
) -> tuple[ir.ParentWait, dict[ir.Action, ir.ParentWait] | None]:
    """The rule's ``wait`` and per-action ``waits`` (see :class:`ir.DecompositionRule`).

    One wait per action: a second one for an action (a clause without ``on`` covers all four)
    is E087, as two ``when``s are, since the builder could keep only one.
    """
    if len(rule.waits) == 1 and rule.waits[0].actions is None:
        return rule.waits[0].how, None  # type: ignore[return-value]
    given: dict[str, ast.RuleWait] = {}
    for clause in rule.waits:
        named = _wait_actions(ctx, clause)
        again = [a for a in named if a in given]
        if again:
            first = given[again[0]]
            ctx.bag.error(
                "E087", f"the wait for {_listed(again)} is given twice for rule {rid}",
                clause.span, f"first at {first.span}",
                "each action of the line takes one wait: list the actions with `on`",
            )  # fmt: skip
        given.update((a, clause) for a in named if a not in given)
    if not given:
        return "none", None
    return "none", {a: given[a].how for a in ir.ACTIONS if a in given}  # type: ignore[misc]


def _listed(actions: list[str]) -> str:
    return ", ".join(f"'{a}'" for a in actions)


def _wait_actions(ctx: Context, clause: ast.RuleWait) -> list[str]:
    """The actions a wait clause names (all four without ``on`` or with ``on *``); an unknown
    one is E033, one named twice E080 (as in a plan's ``on``)."""
    if not clause.actions:
        return list(ir.ACTIONS)
    out: list[str] = []
    for name in clause.actions:
        if name.value in out:
            ctx.bag.error("E080", f"action '{name.value}' is listed twice", name.span)
            continue
        if name.value in ir.ACTIONS:
            out.append(name.value)
            continue
        ctx.bag.error(
            "E033", f"unknown action '{name.value}'", name.span,
            *suggest(name.value, ir.ACTIONS), "actions: add, modify, delete, noChange or *",
        )  # fmt: skip
    return out


def _all_technical(ctx: Context, source: _Source) -> bool:
    return all(ctx.symbols.products[m].kind in TECHNICAL for m in source.members)


def _target(ctx: Context, rule: ast.RuleDecl) -> str | None:
    name = rule.target.value
    wrong = f"'{name}' is {{kind}}; decomposition produces cfs, rfs or resource products"
    return name if technical_product(ctx, rule.target, wrong) else None


def _meant(ctx: Context, name: str, candidates: Iterable[str]) -> tuple[str, ...]:
    """The did-you-mean hint for a misspelt product name.  The product it most likely meant
    counts as completed by the declaration with the typo, so "never produced" or "has no
    plan" about it would not echo the E020 that names it."""
    close = closest(name, candidates)
    if close is not None:
        ctx.symbols.broken.completed.add(close)
    return did_you_mean(close)


def technical_product(ctx: Context, name: ast.Name, wrong_kind: str, *hints: str) -> bool:
    """True when ``name`` is a cfs, rfs or resource; otherwise report E020 or E022.

    ``wrong_kind`` is the E022 message, with ``{kind}`` for what the name is instead ("an
    offer"); ``hints`` follow it.  Decomposition targets and plans both need this.
    """
    decl = ctx.symbols.products.get(name.value)
    if decl is None:
        kind = ctx.symbols.kind_of(name.value)  # an enum, a system, a queue
        if kind is not None:  # ``hints`` are about products: not for these
            ctx.bag.error("E022", wrong_kind.format(kind=a(kind)), name.span)
            return False
        if ctx.symbols.broken.declares(name.value):
            return False
        technical = [p.name.value for p in ctx.symbols.technical()]
        hint = _meant(ctx, name.value, technical)
        ctx.bag.error("E020", f"unknown technical product '{name.value}'", name.span, *hint)
        return False
    if decl.kind not in TECHNICAL:
        ctx.bag.error("E022", wrong_kind.format(kind=a(decl.kind)), name.span, *hints)
        return False
    return True


def _mappings(
    ctx: Context, rule: ast.RuleDecl, target: str, env: ExprEnv, rid: str, failed: set[int]
) -> list[ir.MappingIR]:
    attrs = ctx.attributes.get(target, {})
    out: list[ir.MappingIR] = []
    seen: set[str] = set()
    meant: set[str] = set()  # what the misspelt targets most likely meant
    for m in rule.mappings:
        name = m.target.value
        spec = attrs.get(name)
        if spec is None:
            close = closest(name, attrs)
            ctx.bag.error(
                "E023", f"{target} has no attribute '{name}'", m.target.span,
                *did_you_mean(close),
            )  # fmt: skip
            if close is not None:  # `bandwith = ...` maps 'bandwidth', with an error: no E044
                meant.add(close)
            ctx.exprs.check(m.expr, env)
            continue
        if name in seen:
            ctx.bag.error("E024", f"rule {rid} maps '{name}' twice", m.target.span)
        seen.add(name)
        before = len(ctx.bag.items)
        expr = ctx.exprs.check(m.expr, env, spec.type)
        out.append(mapping(name, expr, ctx.span(m.span)))
        if any(d.is_error for d in ctx.bag.items[before:]):
            failed.add(id(out[-1]))
    for name, spec in attrs.items():
        if spec.required and not spec.has_default and name not in seen | meant:
            ctx.bag.error(
                "E044",
                f"rule {rid} does not map required attribute '{name}' of {target}",
                rule.target.span,
                f"add `{name} = ...` to the rule, or give the attribute a default",
            )
    return out


def _merge_conflicts(ctx: Context, rules: list[ir.DecompositionRule], failed: set[int]) -> None:
    """Two sources mapping a shared line's attribute differently need a declared merge rule.

    A mapping whose expression has an error (``v = sped``) is left out: its error is reported,
    and a conflict with what it stands in for would be a second error for one mistake.  So is
    an attribute whose declared merge rule was refused (E071: ``merge union`` on an int): the
    designer did declare how to merge, and is told what is wrong with it."""
    scoped = {p.name.value for p in ctx.symbols.technical() if p.scope and p.scope.value != "line"}
    refused = {
        (p.name.value, a.name.value)
        for p in ctx.symbols.technical()
        if p.name.value in scoped
        for a in p.attributes
        for o in a.options
        if o.key == "merge" and o.value.value != "same"
    }
    first: dict[tuple[str, str], tuple[ir.DecompositionRule, ir.MappingIR, str]] = {}
    for rule in rules:
        if rule.target not in scoped:
            continue
        for m in rule.mappings:
            attr = ctx.attributes[rule.target][m.target]
            if attr.merge != "same" or id(m) in failed or (rule.target, m.target) in refused:
                continue
            dumped = m.expr.model_dump_json()
            key = (rule.target, m.target)
            seen = first.setdefault(key, (rule, m, dumped))
            if seen[0].source != rule.source and seen[2] != dumped:
                _report_conflict(ctx, key, seen[0], seen[1], rule, m)


def _report_conflict(
    ctx: Context,
    key: tuple[str, str],
    rule_a: ir.DecompositionRule,
    map_a: ir.MappingIR,
    rule_b: ir.DecompositionRule,
    map_b: ir.MappingIR,
) -> None:
    product, attr = key
    scope = ctx.symbols.products[product].scope
    ctx.bag.error(
        "E070",
        f"{product}.{attr} is merged from several items ({scope.value if scope else 'line'} "
        f"scope) but rules {rule_a.id} and {rule_b.id} map it differently",
        back_span(map_b.span),
        f"{rule_a.id} maps it at {map_a.span}",
        f"declare how to merge: attribute {attr}: ... merge {_fitting_merges(ctx, key)}",
    )


def _fitting_merges(ctx: Context, key: tuple[str, str]) -> str:
    """The merge rules the attribute's type takes (the hint offered `sum` for a string)."""
    return fitting_merges(ctx.attributes[key[0]][key[1]].type)


def _chain_cycles(ctx: Context, rules: list[ir.DecompositionRule]) -> None:
    graph: dict[str, list[str]] = {}
    by_edge: dict[tuple[str, str], ir.DecompositionRule] = {}
    for rule in rules:
        sources = (
            ctx.symbols.families.get(rule.source, []) if rule.source_is_family else [rule.source]
        )
        for src in sources:
            graph.setdefault(src, []).append(rule.target)
            by_edge.setdefault((src, rule.target), rule)
    for cycle in ctx.cycles(graph):
        rule = by_edge[(cycle[-2], cycle[-1])]
        ctx.bag.error(
            "E060",
            "decomposition cycle: " + " -> ".join(cycle),
            back_span(rule.span),
            "a chain of decompose rules leads back to where it started",
        )
