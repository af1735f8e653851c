"""Warnings: things that compile but are probably not what the designer meant."""

from __future__ import annotations

from om_dsl.compiler.context import Context, back_span
from om_dsl.ir import models as ir
from om_dsl.syntax import ast


def lint(
    ctx: Context,
    offers: list[ir.CommercialProduct],
    technical: list[ir.TechnicalProduct],
    rules: list[ir.DecompositionRule],
    plans: list[ir.Plan],
    deps: list[ir.Dependency],
) -> None:
    if not ctx.bag.has_errors:  # a rule or product an error dropped would change the answer
        _root_depends(ctx, offers, technical, rules, deps)
        _twin_rules(ctx, technical, rules)
        _unused_families(ctx)
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


# ---- `within root` depends that link nothing (W014) -------------------------------------------

_SHOWN_ROOTS = 3
"""How many offers a W014 message names before "and N more"."""


def _made_from(
    offers: list[ir.CommercialProduct],
    technical: list[ir.TechnicalProduct],
    rules: list[ir.DecompositionRule],
) -> dict[str, set[str]]:
    """Offer or bundle -> the technical products whose lines serve it as a root order item:
    those its rules (and its families' rules) make, then what rules make from those, and for a
    bundle also what its parts make (their lines have the bundle's item as their root)."""
    by_source: dict[str, list[str]] = {}
    for rule in rules:
        key = ("family ", rule.source) if rule.source_is_family else ("", rule.source)
        by_source.setdefault(key[0] + key[1], []).append(rule.target)
    families: dict[str, list[str]] = {p.name: p.families for p in offers}
    families.update((p.name, p.families) for p in technical)

    def direct(name: str) -> list[str]:
        out = list(by_source.get(name, ()))
        for family in families.get(name, ()):
            out.extend(by_source.get("family " + family, ()))
        return out

    made: dict[str, set[str]] = {}
    bundles = {p.name: p for p in offers}

    def reach(name: str, seen: set[str]) -> set[str]:
        if name in made:
            return made[name]
        found: set[str] = set()
        todo = direct(name)
        product = bundles.get(name)
        if product is not None and name not in seen:  # a bundle cycle is an error elsewhere
            for part in product.includes:
                found |= reach(part.product, seen | {name})
        while todo:
            target = todo.pop()
            if target not in found:
                found.add(target)
                todo.extend(direct(target))
        made[name] = found
        return found

    for offer in offers:
        reach(offer.name, set())
    return {offer.name: made[offer.name] for offer in offers}


def _root_depends(
    ctx: Context,
    offers: list[ir.CommercialProduct],
    technical: list[ir.TechnicalProduct],
    rules: list[ir.DecompositionRule],
    deps: list[ir.Dependency],
) -> None:
    """W014: a `depend ... within root` whose two products no root order item makes together
    (it never links), or, when one of them is shared (scope order, account, relies_on), that
    some root items make without the other, although the order may hold the other's line."""
    roots = [d for d in deps if d.within == "root"]
    if not roots:
        return
    made = _made_from(offers, technical, rules)
    scopes: dict[str, str] = {p.name: p.scope for p in technical}
    for dep in roots:
        waiter, waited = dep.product, dep.after_product
        with_waiter = [name for name, found in made.items() if waiter in found]
        with_waited = [name for name, found in made.items() if waited in found]
        if not with_waiter or not with_waited:
            continue  # not made from any order item: W002 (or a chain) says so already
        both = [name for name in with_waiter if waited in made[name]]
        shared = [p for p in (waited, waiter) if scopes.get(p, "line") != "line"]
        what = f"`depend {dep.product}.{dep.item} after {dep.after_product}.{dep.after_item}`"
        if not both:
            message = (
                f"{what} is `within root` (the default), but no offer or bundle makes both "
                f"{waiter} and {waited}: their lines never serve the same root order item, "
                "so it never links"
            )
        elif shared and len(both) < len(with_waiter):
            alone = [name for name in with_waiter if name not in both]
            message = (
                f"{what} is `within root` (the default): it links only where one root order "
                f"item makes both {waiter} and {waited} (an item of {_names(both, 'or')}); a "
                f"{waiter} made from {_names(alone, 'or')} ordered on its own waits for no "
                f"{waited}, even when another item of the order makes one"
            )
        else:
            continue
        hints = [_within_hint(shared, scopes)]
        hints.extend(_reads_through(ctx, dep))
        ctx.bag.warning("W014", message, back_span(dep.span), *hints)


def _names(names: list[str], word: str = "and") -> str:
    shown = names[:_SHOWN_ROOTS]
    if len(names) > _SHOWN_ROOTS:
        return ", ".join(shown) + f" {word} {len(names) - _SHOWN_ROOTS} more"
    if len(shown) == 1:
        return shown[0]
    return ", ".join(shown[:-1]) + f" {word} " + shown[-1]


def _within_hint(shared: list[str], scopes: dict[str, str]) -> str:
    if not shared:
        return "did you mean `within order`?"
    said = "; ".join(f"{p} is `scope {scopes[p]}`" for p in shared)
    return f"did you mean `within order`? ({said}: its lines are shared across root items)"


def _reads_through(ctx: Context, dep: ir.Dependency) -> list[str]:
    """A hint for a read of the waited-for product's outputs by the waiting product (one that
    this depend orders): where it does not link, the read gives null."""
    for read in ctx.product_reads:
        path = read.ref.path
        if (read.product, path[0]) == (dep.product, dep.after_product):
            shown = ".".join(str(p) for p in path)
            return [f"{dep.product}.{read.item.name} reads {shown}: null where it does not link"]
    return []


# ---- rules that make the same line twice (W016), families nothing uses (W017) ---------------


def _twin_rules(
    ctx: Context, technical: list[ir.TechnicalProduct], rules: list[ir.DecompositionRule]
) -> None:
    """W016: a second rule from the same source to the same `line`-scoped target, neither with
    a `when`: every source item then gets two lines of the target (`tv/TvService#2`), which a
    copied line more often explains than intent.  Rules named with `as` say the two lines are
    meant; a shared target (scope order, ...) gets one line whatever the rules."""
    scopes = {p.name: p.scope for p in technical}
    first: dict[tuple[bool, str, str], ir.DecompositionRule] = {}
    for rule in rules:
        if rule.when is not None or "->" not in rule.id or scopes.get(rule.target) != "line":
            continue
        seen = first.setdefault((rule.source_is_family, rule.source, rule.target), rule)
        if seen is rule:
            continue
        source = f"family {rule.source}" if rule.source_is_family else rule.source
        ctx.bag.warning(
            "W016",
            f"rule {rule.id} makes a second {rule.target} line from every {source} item, as "
            f"rule {seen.id} does (at {back_span(seen.span)}): neither has a `when`",
            back_span(rule.span),
            "remove the copy, or give each rule a `when`; if two lines are meant, name the "
            f"rules with `as` (`-> {rule.target} as second_{rule.target.lower()}`)",
        )


def _unused_families(ctx: Context) -> None:
    """W017: a family that no `decompose family` or `plan family` names: putting products in
    it changes nothing (a family rule or plan was meant, or the name is misspelt)."""
    used = {d.source.value for d in ctx.symbols.decomposes if d.family}
    used.update(p.product.value for p in ctx.symbols.plans if p.family)
    places: dict[str, tuple[ast.ProductDecl, ast.Name]] = {}
    for product in ctx.symbols.products.values():
        for family in product.families:
            places.setdefault(family.value, (product, family))
    for name, (product, family) in places.items():
        if name in used or ctx.symbols.broken.completes(name):
            continue
        ctx.bag.warning(
            "W017",
            f"family {name} is used by no `decompose family {name}` or `plan family {name}`: "
            f"being in it changes nothing for {product.name.value}",
            family.span,
            f"only family rules and plans read a family: add `decompose family {name} "
            "{ -> ... }` or `plan family " + name + " on add { ... }`, or remove it",
        )
