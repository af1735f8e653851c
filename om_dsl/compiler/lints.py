"""Warnings: things that compile but are probably not what the designer meant."""

from __future__ import annotations

from om_dsl.compiler.context import Context, back_span
from om_dsl.ir import models as ir


def lint(
    ctx: Context,
    offers: list[ir.CommercialProduct],
    technical: list[ir.TechnicalProduct],
    rules: list[ir.DecompositionRule],
    plans: list[ir.Plan],
) -> None:
    sources: set[str] = set()
    for rule in rules:
        members = ctx.symbols.families.get(rule.source, []) if rule.source_is_family else []
        sources.update(members or [rule.source])
    produced = {r.target for r in rules} | _targets_of_broken_sources(ctx)
    planned = {p.product for p in plans}
    for rule in rules:
        if isinstance(rule.when, ir.Lit) and rule.when.value is False:
            ctx.bag.warning(
                "W010", f"rule {rule.id} has `when false`, so it never applies",
                back_span(rule.span),
            )  # fmt: skip
    for offer in offers:
        if offer.kind == "offer" and offer.name not in sources and not _completed(ctx, offer):
            ctx.bag.warning(
                "W001",
                f"offer {offer.name} produces no technical work: no decompose rule applies to it",
                back_span(offer.span),
                f"add: decompose {offer.name} {{ -> SomeCfs {{ ... }} }}",
            )
    for product in technical:
        if _completed(ctx, product):
            continue  # a rule or plan for it (or for its family) has a syntax error
        if product.name not in produced:
            ctx.bag.warning(
                "W002",
                f"{product.kind} {product.name} is never produced: no decompose rule targets it",
                back_span(product.span),
            )
        elif product.name not in planned:
            ctx.bag.warning(
                "W004",
                f"{product.kind} {product.name} has no plan, so its lines carry no work",
                back_span(product.span),
                f"add: plan {product.name} on add {{ ... }}",
            )


def _completed(ctx: Context, product: ir.CommercialProduct | ir.TechnicalProduct) -> bool:
    """Whether a declaration with a syntax error would have given ``product`` its rule or plan:
    one for the product, or a family rule or plan (``plan family F``) for a family of it."""
    broken = ctx.symbols.broken
    return broken.completes(product.name) or any(broken.completes(f) for f in product.families)


def _targets_of_broken_sources(ctx: Context) -> set[str]:
    """Targets of rules whose source has a syntax error: they would be produced."""
    broken = ctx.symbols.broken
    return {
        rule.target.value
        for decl in ctx.symbols.decomposes
        if broken.declares(decl.source.value)
        for rule in decl.rules
    }
