"""``record NAME = VALUE`` in plans: what fulfilment produced, kept on the inventory product.

A completed order records each TMF product of its items in the inventory with the values the
*order* gave; a value that only fulfilment learns (the port a line was installed on) is lost,
and a later ``delete`` of the product by id has nothing to send.  A ``record`` names such a
value: when the order completes, it is set on the products of the line's order items.

It is checked here against the offers those order items can be of (the offers and bundles
whose rules make the plan's product, directly or through chained rules): a name that none of
them declares could never be recorded (E085), and a value whose type is known must fit the
attribute's (E043).  The value reads what the plan's requests read, but only its own plan's
items that run in the normal flow: another product's item, or a compensation (it runs only
when the order is cancelled, and a cancelled order records nothing), is E085 too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Final

from om_dsl.compiler.build import builder
from om_dsl.compiler.context import Context
from om_dsl.compiler.exprs import ExprEnv
from om_dsl.compiler.names import suggest
from om_dsl.compiler.symbols import TECHNICAL
from om_dsl.expr import types as T
from om_dsl.expr.refs import refs
from om_dsl.ir import models as ir
from om_dsl.syntax import ast

_new_record: Final = builder(ir.Record)
_LISTED = 6
"""How many offers a hint names before "and N more"."""


def lower_records(
    ctx: Context,
    decl: ast.PlanDecl,
    env: ExprEnv,
    items: dict[str, ast.ItemDecl],
    products: Sequence[str],
) -> list[ir.Record]:
    """The plan's records, checked; ``env`` is the plan's (its items known), ``products``
    the technical products whose lines run the plan (a family plan's members)."""
    if not decl.records:
        return []
    offers = _offers_of(ctx, products)
    where = f"in a record of the plan of {_label(decl)}"
    record_env = replace(env, where=where)
    out: list[ir.Record] = []
    seen: dict[str, ast.RecordDecl] = {}
    for record in decl.records:
        name = record.name.value
        if name in seen:
            ctx.bag.error(
                "E024",
                f"'{name}' is recorded twice in this plan",
                record.name.span,
                f"first recorded at {seen[name].name.span}",
            )
            ctx.exprs.check(record.value, record_env)
            continue
        seen[name] = record
        out.append(_record(ctx, record, record_env, items, offers, products))
    return out


def _record(
    ctx: Context,
    record: ast.RecordDecl,
    env: ExprEnv,
    items: dict[str, ast.ItemDecl],
    offers: list[str],
    products: Sequence[str],
) -> ir.Record:
    name = record.name.value
    having = [o for o in offers if name in ctx.attributes.get(o, {})]
    types = list(dict.fromkeys(ctx.attributes[o][name].type for o in having))
    value = ctx.exprs.check(record.value, env, types[0] if len(types) == 1 else None)
    if len(types) > 1:
        _mixed_types(ctx, record, value, having)
    if not having:
        _no_offer(ctx, record, offers, products)
    _foreign_reads(ctx, record, value, items)
    return _new_record(name=name, value=value, doc=record.doc, span=ctx.span(record.span))


def _label(decl: ast.PlanDecl) -> str:
    return f"family {decl.product.value}" if decl.family else decl.product.value


def _mixed_types(ctx: Context, record: ast.RecordDecl, value: Any, having: list[str]) -> None:
    """E043 for each offer whose attribute the value does not fit, when the offers declare
    the attribute with different types (one type is checked as any mapping is)."""
    name = record.name.value
    for offer in having:
        wanted = ctx.attributes[offer][name].type
        if not T.assignable(value.type, wanted):
            ctx.bag.error(
                "E043",
                f"expected {T.describe(wanted)} here ({offer}'s '{name}'), "
                f"found {T.describe(value.type)}",
                record.value.span,
            )


def _no_offer(
    ctx: Context, record: ast.RecordDecl, offers: list[str], products: Sequence[str]
) -> None:
    """E085: no offer that the plan's lines can come from declares the attribute."""
    if _hidden_by_syntax_errors(ctx):
        return  # an offer or rule with a syntax error may declare or bring it
    name = record.name.value
    made = " or ".join(products) if products else "this product"
    if not offers:
        ctx.bag.error(
            "E085",
            f"'{name}' cannot be recorded: no offer or bundle decomposes into {made}",
            record.name.span,
            "a record is kept on the inventory products of the order items a line comes "
            "from: decompose an offer into this product first",
        )
        return
    known = sorted({a for o in offers for a in ctx.attributes.get(o, {})})
    ctx.bag.error(
        "E085",
        f"'{name}' is an attribute of no offer or bundle that decomposes into {made}",
        record.name.span,
        *suggest(name, known),
        f"the offers whose items make its lines: {_listed(offers)}; declare "
        f"`attribute {name}: ...` in the ones whose products keep it",
    )


def _hidden_by_syntax_errors(ctx: Context) -> bool:
    broken = ctx.symbols.broken
    return bool(broken.kinds & {"offer", "bundle", "decompose", "family"})


def _listed(names: list[str]) -> str:
    if len(names) <= _LISTED:
        return ", ".join(names)
    return ", ".join(names[:_LISTED]) + f" and {len(names) - _LISTED} more"


def _foreign_reads(
    ctx: Context, record: ast.RecordDecl, value: Any, items: dict[str, ast.ItemDecl]
) -> None:
    """E085: the value reads an item that is not one of this plan's normal items, so that
    what it records would depend on another line, or would always be null."""
    for ref in refs(value):
        if ref.root == "product":
            product, item = ref.path[0], ref.path[1]
            ctx.bag.error(
                "E085",
                f"a record reads the items of its own plan; {product}.{item} is an item of "
                f"{product}",
                record.value.span,
                f"record it in {product}'s plan, or have an item of this plan produce it",
            )
            return
        found = items.get(ref.path[0]) if ref.root == "item" else None
        if found is not None and found.compensation:
            ctx.bag.error(
                "E085",
                f"'{found.name.value}' is a compensation item: it runs only when the order is "
                "cancelled, and a cancelled order records nothing",
                record.value.span,
                "record an output of an item that runs in the normal flow",
            )
            return


# ---- which offers make a product ----------------------------------------------------------


def makers(ctx: Context) -> dict[str, list[str]]:
    """Technical product -> the offers and bundles whose rules make it (directly, through
    family rules or through chained rules), in declaration order; worked out once."""
    if ctx.makers_cache is None:
        ctx.makers_cache = _makers(ctx)
    return ctx.makers_cache


def _makers(ctx: Context) -> dict[str, list[str]]:
    by_source: dict[str, list[str]] = {}
    for decl in ctx.symbols.decomposes:
        name = decl.source.value
        sources = ctx.symbols.families.get(name, []) if decl.family else [name]
        for source in sources:
            by_source.setdefault(source, []).extend(r.target.value for r in decl.rules)
    made: dict[str, list[str]] = {}
    for product in ctx.symbols.commercial():
        for target in _reach(product.name.value, by_source, ctx):
            made.setdefault(target, []).append(product.name.value)
    return made


def _reach(name: str, by_source: dict[str, list[str]], ctx: Context) -> list[str]:
    """The technical products that ``name``'s rules make, then the rules of those."""
    found: dict[str, None] = {}
    todo = list(by_source.get(name, ()))
    while todo:
        target = todo.pop()
        decl = ctx.symbols.products.get(target)
        if target in found or decl is None or decl.kind not in TECHNICAL:
            continue
        found[target] = None
        todo.extend(by_source.get(target, ()))
    return list(found)


def _offers_of(ctx: Context, products: Sequence[str]) -> list[str]:
    table = makers(ctx)
    offers = {o: None for p in products for o in table.get(p, ())}
    order = {p.name.value: n for n, p in enumerate(ctx.symbols.commercial())}
    return sorted(offers, key=order.__getitem__)
