"""A catalog's decomposition rules compiled once into closures: the part both engines share.

Conditions and mappings are compiled with :func:`om_dsl.expr.evaluate.compile_expr` (no eval),
family rules are expanded to their member products, and every rule knows its position in the
catalog, which is what makes the output order independent of the engine and the hash seed.
Everything a produced line needs (its target's attribute order, defaults and checks, its id
suffix) is worked out here once, so producing a line is a few dict operations.  A program is
immutable after construction, so one program serves any number of threads.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from om_dsl.expr.evaluate import Compiled, EvalError, compile_expr
from om_dsl.expr.refs import refs
from om_dsl.expr.types import SAFE_INTEGER
from om_dsl.ir import models as ir
from om_dsl.ir.constraints import violation


@dataclass(frozen=True, slots=True)
class TargetSpec:
    """What a produced line of a technical product needs besides the rule's mappings."""

    product: ir.TechnicalProduct
    names: tuple[str, ...]
    """Attribute names in declaration order: the order of every produced line's attributes."""
    defaults: Mapping[str, Any]
    required: tuple[str, ...]
    constrained: tuple[tuple[str, dict[str, Any]], ...]
    """(name, constraints) of the attributes that declare a range, values or a pattern."""
    merge: Mapping[str, str]
    checked: bool
    """Whether :meth:`problem` can find anything (``required`` or ``constrained``): read for
    every produced line, so it is worked out once."""

    def complete(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Mapped values over defaults, in declaration order."""
        defaults = self.defaults
        out: dict[str, Any] = {}
        for name in self.names:
            if name in values:
                out[name] = values[name]
            elif name in defaults:
                out[name] = defaults[name]
        return out

    def problem(self, attrs: Mapping[str, Any]) -> str | None:
        """Every way produced attribute values break the target's declaration (one text, as
        one D003 per line), or None."""
        found: list[str] = []  # a plain loop: it runs for every line of a checked target
        for name in self.required:
            if attrs.get(name) is None:
                found.append(f"required attribute '{name}' is null")
        for name, constraints in self.constrained:
            value = attrs.get(name)
            issue = None if value is None else violation(value, constraints)
            if issue is not None:
                found.append(f"{name}: {issue}")
        return "; ".join(found) if found else None


class MappingFailed(Exception):
    """A mapping of a rule failed (e.g. a division by zero): which one, and why."""

    def __init__(self, name: str, cause: str) -> None:
        super().__init__(name, cause)
        self.name = name
        self.cause = cause


Step = tuple[str, Compiled | None, Any]
"""(attribute, its mapping or None, its default or None): one attribute of a produced line."""


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """One decomposition rule, ready to run."""

    index: int
    """Position in ``catalog.rules``: the tie-breaker of every ordering."""
    id: str
    rule: ir.DecompositionRule
    target: ir.TechnicalProduct
    spec: TargetSpec
    scope: ir.Scope
    """The target's scope, and the fields below, copied here because every produced line
    reads them (one attribute read instead of a chain through the IR)."""
    target_name: str
    wait: str
    span: ir.SourceSpan
    indices: tuple[int]
    """``(index,)``: the ``rules`` of a line that this rule alone produced."""
    when: Compiled | None
    mappings: tuple[tuple[str, Compiled], ...]
    """(target attribute, closure), in the order the rule writes them."""
    steps: tuple[Step, ...] | None
    """The target's attributes in declaration order, each with its mapping and its default;
    None when the rule's mappings cannot be evaluated in that order (see :func:`_steps`)."""
    mapped_complete: bool
    """Whether :meth:`mapped` gives what ``spec.complete`` would make of it (the mappings
    are in declaration order and the target has no defaults), so a shared line with one
    source can take its values as they are."""
    id_tails: Mapping[str, str]
    """Source product -> what a line id adds to its source's id: ``/Target``, and ``#2``,
    ``#3`` after it for the source's second and third rule to the same target."""
    chains: bool
    """Whether rules take the target's lines as their source (technical -> technical)."""

    def mapped(self, env: Mapping[str, Any]) -> dict[str, Any]:
        """The non-null values the mappings give, in the order the rule writes them.

        Raises:
            MappingFailed: a mapping failed (the first one, in the order written).
        """
        values: dict[str, Any] = {}
        name = ""
        try:
            for name, fn in self.mappings:
                value = fn(env)
                if value is not None:
                    values[name] = value
        except EvalError as exc:
            raise MappingFailed(name, str(exc)) from None
        return values

    def line_attributes(self, env: Mapping[str, Any]) -> dict[str, Any]:
        """The attributes of a line this rule produces: mapped values over the target's
        defaults, in declaration order (``spec.complete(mapped(env))`` in one pass).

        Raises:
            MappingFailed: as :meth:`mapped`.
        """
        steps = self.steps
        if steps is None:
            return self.spec.complete(self.mapped(env))
        out: dict[str, Any] = {}
        name = ""
        try:
            for name, fn, default in steps:
                value = None if fn is None else fn(env)
                if value is None:
                    value = default
                if value is not None:
                    out[name] = value
        except EvalError as exc:
            raise MappingFailed(name, str(exc)) from None
        return out


class RuleProgram:
    """Every rule of a catalog, indexed by the product a source item or line has."""

    def __init__(self, catalog: ir.Catalog) -> None:
        self.catalog = catalog
        self.technical = {t.name: t for t in catalog.technical}
        self.kinds = {t.name: t.kind for t in catalog.technical}
        self.targets = {t.name: _target_spec(t) for t in catalog.technical}
        sources = rule_sources(catalog)
        suffixes = _suffixes(catalog.rules, sources)
        fed = frozenset(p for products in sources.values() for p in products)
        self.rules = tuple(
            _compile(i, r, self.targets[r.target], suffixes.get(i, {}), sources, fed)
            for i, r in enumerate(catalog.rules)
        )
        self.rule_ids = tuple(rule.id for rule in self.rules)
        """Rule index -> id, and below -> span: what every output line names its rules by."""
        self.rule_spans = tuple(rule.span for rule in self.rules)
        self.rule_waits = tuple(rule.rule.waits for rule in self.rules)
        """Rule index -> its per-action waits, None for most rules (see ``wait_for``)."""
        by_product: dict[str, list[CompiledRule]] = {}
        for rule in self.rules:
            for product in sources.get(rule.index, ()):
                by_product.setdefault(product, []).append(rule)
        self.by_product: Mapping[str, tuple[CompiledRule, ...]] = {
            p: tuple(rs) for p, rs in by_product.items()
        }
        self.stratum = _strata(self.by_product, [o.name for o in catalog.offers])
        readers = {rule.index for rule in self.rules if _reads_bundle(rule.rule)}
        self.bundle_readers = frozenset(
            p for p, rs in self.by_product.items() if any(r.index in readers for r in rs)
        )
        """The products some rule of which reads ``bundle.NAME``."""
        self.reads_bundle = bool(readers)
        """Whether a rule reads ``bundle.NAME``: only then does an item's fact carry its
        bundle's values (a catalog that never reads one pays nothing per item)."""

    def rules_for(self, product: str) -> tuple[CompiledRule, ...]:
        return self.by_product.get(product, ())


def _reads_bundle(rule: ir.DecompositionRule) -> bool:
    exprs = [m.expr for m in rule.mappings]
    if rule.when is not None:
        exprs.append(rule.when)
    return any(ref.root == "bundle" for expr in exprs for ref in refs(expr))


def _compile(
    index: int,
    rule: ir.DecompositionRule,
    spec: TargetSpec,
    suffixes: Mapping[str, str],
    sources: Mapping[int, list[str]],
    fed: frozenset[str],
) -> CompiledRule:
    """One rule ready to run; ``fed`` is every product some rule takes as its source (looked
    up once per catalog: asking every rule's sources for each rule grew with the square of
    the catalog, 0.6 s at 3,000 products)."""
    target = rule.target
    mappings = tuple((m.target, compile_expr(m.expr)) for m in rule.mappings)
    steps = _steps(mappings, spec)
    return CompiledRule(
        index=index,
        id=rule.id,
        rule=rule,
        target=spec.product,
        spec=spec,
        scope=spec.product.scope,
        target_name=target,
        wait=rule.wait,
        span=rule.span,
        indices=(index,),
        when=compile_expr(rule.when) if rule.when is not None else None,
        mappings=mappings,
        steps=steps,
        mapped_complete=steps is not None and not spec.defaults,
        id_tails={
            product: f"/{target}{suffixes.get(product, '')}" for product in sources.get(index, ())
        },
        chains=target in fed,
    )


def _steps(mappings: tuple[tuple[str, Compiled], ...], spec: TargetSpec) -> tuple[Step, ...] | None:
    """The one-pass plan of :meth:`CompiledRule.line_attributes`, when it is equivalent.

    Evaluating in declaration order gives the same line only if the rule maps declared
    attributes, each once, in declaration order: then the first mapping to fail is the same
    one either way (mappings have no side effects), and it is the one an error names.
    """
    names = [name for name, _fn in mappings]
    positions = [spec.names.index(n) if n in spec.names else -1 for n in names]
    if -1 in positions or positions != sorted(set(positions)):
        return None
    fns = dict(mappings)
    return tuple((name, fns.get(name), spec.defaults.get(name)) for name in spec.names)


def rule_sources(catalog: ir.Catalog) -> dict[int, list[str]]:
    """Rule index -> the products whose items or lines it applies to (families expanded)."""
    members: dict[str, list[str]] = {}
    products: list[ir.CommercialProduct | ir.TechnicalProduct] = [
        *catalog.offers,
        *catalog.technical,
    ]
    for product in products:
        for family in product.families:
            members.setdefault(family, []).append(product.name)
    return {
        i: (members.get(r.source, []) if r.source_is_family else [r.source])
        for i, r in enumerate(catalog.rules)
    }


def _target_spec(product: ir.TechnicalProduct) -> TargetSpec:
    attrs = product.attributes
    required = tuple(a.name for a in attrs if a.required)
    constrained = tuple(
        (a.name, _constraints(a))
        for a in attrs
        if a.merge == "sum" or any(v is not None for v in (a.min, a.max, a.allowed, a.pattern))
    )
    return TargetSpec(
        product=product,
        names=tuple(a.name for a in attrs),
        defaults={a.name: a.default for a in attrs if a.has_default and a.default is not None},
        required=required,
        constrained=constrained,
        merge={a.name: a.merge for a in attrs},
        checked=bool(required or constrained),
    )


def _constraints(a: ir.Attribute) -> dict[str, Any]:
    """The attribute's declared constraints; a ``merge sum`` is also kept to what a number
    can be (+-2^53 for an int, finite for a decimal), as expressions keep every value they
    compute: adding the sources' values is the one computation outside them."""
    low, high = a.min, a.max
    if a.merge == "sum":
        limit = SAFE_INTEGER if a.type == "int" else sys.float_info.max
        low = -limit if low is None else max(low, -limit)
        high = limit if high is None else min(high, limit)
    return {"min": low, "max": high, "allowed": a.allowed, "pattern": a.pattern}


def _suffixes(
    rules: list[ir.DecompositionRule], sources: Mapping[int, list[str]]
) -> dict[int, dict[str, str]]:
    """Rule index -> product -> id suffix: a product's second rule to a target is ``#2``."""
    seen: dict[tuple[str, str], int] = {}
    out: dict[int, dict[str, str]] = {}
    for index, rule in enumerate(rules):
        for product in sources.get(index, ()):
            n = seen[(product, rule.target)] = seen.get((product, rule.target), 0) + 1
            if n > 1:
                out.setdefault(index, {})[product] = f"#{n}"
    return out


def _strata(by_product: Mapping[str, tuple[CompiledRule, ...]], roots: list[str]) -> dict[str, int]:
    """The longest chain of rules from any offer to each technical product.

    A shared line is merged only once every product that can feed it is done, and products
    feed only products of a higher stratum (the compiler rejects cycles, E060).
    """
    stratum: dict[str, int] = dict.fromkeys(roots, 0)
    frontier = list(roots)
    while frontier:
        nxt: dict[str, None] = {}
        for product in frontier:
            for rule in by_product.get(product, ()):
                target, level = rule.target.name, stratum[product] + 1
                if stratum.get(target, -1) < level:
                    stratum[target] = level
                    nxt[target] = None
        frontier = list(nxt)
    return stratum
