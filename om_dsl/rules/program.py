"""A catalog's decomposition rules compiled once into closures: the part both engines share.

Conditions and mappings are compiled with :func:`om_dsl.expr.evaluate.compile_expr` (no eval),
family rules are expanded to their member products, and every rule knows its position in the
catalog, which is what makes the output order independent of the engine and the hash seed.
A program is immutable after construction, so one program serves any number of threads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from om_dsl.expr.evaluate import Compiled, Env, compile_expr
from om_dsl.ir import models as ir
from om_dsl.ir.constraints import violation


@dataclass(frozen=True, slots=True)
class CompiledMapping:
    target: str
    fn: Compiled
    ir: ir.MappingIR


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """One decomposition rule, ready to run."""

    index: int
    """Position in ``catalog.rules``: the tie-breaker of every ordering."""
    rule: ir.DecompositionRule
    target: ir.TechnicalProduct
    when: Compiled | None
    mappings: tuple[CompiledMapping, ...]

    @property
    def id(self) -> str:
        return self.rule.id

    def applies(self, env: Env) -> bool:
        return self.when is None or bool(self.when(env))


@dataclass(frozen=True, slots=True)
class TargetSpec:
    """What a produced line of a technical product needs besides the rule's mappings."""

    product: ir.TechnicalProduct
    names: tuple[str, ...]
    """Attribute names in declaration order: the order of every produced line's attributes."""
    defaults: Mapping[str, Any]
    required: tuple[str, ...]
    constrained: tuple[ir.Attribute, ...]
    merge: Mapping[str, str]

    def problem(self, attrs: Mapping[str, Any]) -> str | None:
        """Why produced attribute values break the target's declaration, or None."""
        for name in self.required:
            if attrs.get(name) is None:
                return f"required attribute '{name}' is null"
        for attr in self.constrained:
            issue = violation(attrs.get(attr.name), attr.__dict__)
            if issue is not None:
                return f"{attr.name}: {issue}"
        return None


class RuleProgram:
    """Every rule of a catalog, indexed by the product a source item or line has."""

    def __init__(self, catalog: ir.Catalog) -> None:
        self.catalog = catalog
        self.technical = {t.name: t for t in catalog.technical}
        members = _family_members(catalog)
        self.rules = tuple(
            _compile(i, r, self.technical[r.target]) for i, r in enumerate(catalog.rules)
        )
        by_product: dict[str, list[CompiledRule]] = {}
        for rule in self.rules:
            sources = (
                members.get(rule.rule.source, [])
                if rule.rule.source_is_family
                else [rule.rule.source]
            )
            for source in sources:
                by_product.setdefault(source, []).append(rule)
        self.by_product: Mapping[str, tuple[CompiledRule, ...]] = {
            p: tuple(sorted(rs, key=lambda r: r.index)) for p, rs in by_product.items()
        }
        self.targets = {t.name: _target_spec(t) for t in catalog.technical}
        self.suffixes = _suffixes(self.by_product)
        self.stratum = _strata(self.by_product, [o.name for o in catalog.offers])

    def rules_for(self, product: str) -> tuple[CompiledRule, ...]:
        return self.by_product.get(product, ())


def _compile(index: int, rule: ir.DecompositionRule, target: ir.TechnicalProduct) -> CompiledRule:
    return CompiledRule(
        index=index,
        rule=rule,
        target=target,
        when=compile_expr(rule.when) if rule.when is not None else None,
        mappings=tuple(CompiledMapping(m.target, compile_expr(m.expr), m) for m in rule.mappings),
    )


def _family_members(catalog: ir.Catalog) -> dict[str, list[str]]:
    members: dict[str, list[str]] = {}
    products: list[ir.CommercialProduct | ir.TechnicalProduct] = [
        *catalog.offers,
        *catalog.technical,
    ]
    for product in products:
        for family in product.families:
            members.setdefault(family, []).append(product.name)
    return members


def _target_spec(product: ir.TechnicalProduct) -> TargetSpec:
    attrs = product.attributes
    return TargetSpec(
        product=product,
        names=tuple(a.name for a in attrs),
        defaults={a.name: a.default for a in attrs if a.has_default and a.default is not None},
        required=tuple(a.name for a in attrs if a.required),
        constrained=tuple(
            a for a in attrs if any(v is not None for v in (a.min, a.max, a.allowed, a.pattern))
        ),
        merge={a.name: a.merge for a in attrs},
    )


def _suffixes(by_product: Mapping[str, tuple[CompiledRule, ...]]) -> dict[tuple[str, int], str]:
    """``#2``, ``#3`` for a product's second and third rule to the same target: stable line ids."""
    out: dict[tuple[str, int], str] = {}
    for product, rules in by_product.items():
        seen: dict[str, int] = {}
        for rule in rules:
            n = seen[rule.target.name] = seen.get(rule.target.name, 0) + 1
            out[(product, rule.index)] = "" if n == 1 else f"#{n}"
    return out


def _strata(by_product: Mapping[str, tuple[CompiledRule, ...]], roots: list[str]) -> dict[str, int]:
    """The longest chain of rules from any offer to each technical product.

    A shared line is merged only once every product that can feed it is done, and products
    feed only products of a higher stratum (the compiler rejects cycles, E060).
    """
    stratum: dict[str, int] = dict.fromkeys(roots, 0)
    frontier = list(roots)
    while frontier:
        nxt: list[str] = []
        for product in frontier:
            for rule in by_product.get(product, ()):
                target, level = rule.target.name, stratum[product] + 1
                if stratum.get(target, -1) < level:
                    stratum[target] = level
                    nxt.append(target)
        frontier = nxt
    return stratum
