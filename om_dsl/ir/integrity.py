"""What the IR's readers rely on beyond its JSON shape: every name it uses is declared, names
are unique, and the graphs it holds have no cycles.

The compiler guarantees all of it, so compiled IR always passes.  IR written by another tool,
or edited by hand and rehashed, may not: without this check the decomposer and the plan
builder met it as a ``KeyError`` ("internal error") or, for a cycle of rules, as work that
never ends.  :func:`problems` lists what is wrong, in words, for :class:`IRLoadError`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from om_dsl.base_urls import dot_segment
from om_dsl.expr.change import LINE_FUNCTIONS
from om_dsl.expr.functions import FUNCTIONS
from om_dsl.expr.refs import calls, item_exprs, refs
from om_dsl.expr.types import SCALARS, enum_type
from om_dsl.graphs import find_cycles
from om_dsl.ir.models import (
    Attribute,
    CallOp,
    CalloutItem,
    Catalog,
    CommercialProduct,
    Lit,
    Plan,
)

_LIST = re.compile(r"list\[(.+)\]")


def problems(catalog: Catalog) -> list[str]:
    """Every broken reference, duplicate name and cycle, in a stable order."""
    return [
        *_duplicates(catalog),
        *_types(catalog),
        *_includes(catalog),
        *_requires(catalog),
        *_rules(catalog),
        *_plans(catalog),
        *_dependencies(catalog),
        *_functions(catalog),
    ]


def _duplicates(catalog: Catalog) -> Iterator[str]:
    declared = [
        *(e.name for e in catalog.enums),
        *(o.name for o in catalog.offers),
        *(t.name for t in catalog.technical),
        *(s.name for s in catalog.systems),
        *(q.name for q in catalog.queues),
    ]
    yield from (f"'{name}' is declared twice" for name in _twice(declared))
    yield from (f"rule id '{i}' is used twice" for i in _twice(r.id for r in catalog.rules))


def _twice(names: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    again: list[str] = []
    for name in names:
        if name in seen and name not in again:
            again.append(name)
        seen.add(name)
    return again


def _types(catalog: Catalog) -> Iterator[str]:
    known = {*SCALARS, *(enum_type(e.name) for e in catalog.enums)}
    owners: list[tuple[str, list[Attribute]]] = [("the order block", catalog.order_attributes)]
    owners += [(o.name, o.attributes) for o in catalog.offers]
    owners += [(t.name, t.attributes) for t in catalog.technical]
    for owner, attributes in owners:
        for attr in attributes:
            listed = _LIST.fullmatch(attr.type)
            if (listed.group(1) if listed else attr.type) not in known:
                yield f"{owner}.{attr.name} has unknown type '{attr.type}'"


def _includes(catalog: Catalog) -> Iterator[str]:
    offers = {o.name for o in catalog.offers}
    for offer in catalog.offers:
        for inc in offer.includes:
            for name in inc.products:
                if name not in offers:
                    yield f"bundle {offer.name} includes unknown offer '{name}'"
        yield from _grouped_twice(offer)
    graph = {o.name: [n for i in o.includes for n in i.products] for o in catalog.offers}
    yield from (f"bundles include each other: {' -> '.join(c)}" for c in find_cycles(graph))


def _grouped_twice(offer: CommercialProduct) -> Iterator[str]:
    """A product of a choice group named twice in it, or in another include too (E024 in the
    compiler): its parts would count against two cardinalities.  A single include repeated is
    left as it was (its bounds all apply, as the readers agree)."""
    counts = Counter(n for inc in offer.includes for n in inc.products)
    grouped = (n for inc in offer.includes if inc.alternatives for n in inc.products)
    for name in dict.fromkeys(grouped):
        if counts[name] > 1:
            yield f"bundle {offer.name} includes '{name}' in a choice group and again"


def _requires(catalog: Catalog) -> Iterator[str]:
    """Order validation looks each required name up among the offers: one that is missing,
    or a group with no alternative (that no order could meet), must fail here, in words; so
    must a repeat the compiler refuses (E024), which would report one problem twice."""
    offers = {o.name for o in catalog.offers}
    for offer in catalog.offers:
        groups = [frozenset(group) for group in offer.requires]
        if len(set(groups)) != len(groups):
            yield f"{offer.kind} {offer.name} repeats a requirement"
        for group in offer.requires:
            if not group:
                yield f"{offer.kind} {offer.name} has a requirement with no offer in it"
            if len(set(group)) != len(group):
                yield f"{offer.kind} {offer.name} names an offer twice in one requirement"
            for name in group:
                if name == offer.name:
                    yield f"{offer.kind} {offer.name} requires itself"
                elif name not in offers:
                    yield f"{offer.kind} {offer.name} requires unknown offer '{name}'"


def _rules(catalog: Catalog) -> Iterator[str]:
    technical = {t.name for t in catalog.technical}
    products = technical | {o.name for o in catalog.offers}
    families = {f for o in catalog.offers for f in o.families}
    families |= {f for t in catalog.technical for f in t.families}
    for rule in catalog.rules:
        known = families if rule.source_is_family else products
        if rule.source not in known:
            kind = "family" if rule.source_is_family else "product"
            yield f"rule {rule.id} decomposes unknown {kind} '{rule.source}'"
        if rule.target not in technical:
            yield f"rule {rule.id} produces unknown technical product '{rule.target}'"
    chains: dict[str, list[str]] = {}
    for rule in catalog.rules:
        if not rule.source_is_family and rule.source in technical:
            chains.setdefault(rule.source, []).append(rule.target)
    yield from (f"decomposition rules form a cycle: {' -> '.join(c)}" for c in find_cycles(chains))


def _plans(catalog: Catalog) -> Iterator[str]:
    technical = {t.name for t in catalog.technical}
    systems = {s.name for s in catalog.systems}
    queues = {q.name for q in catalog.queues}
    for plan in catalog.plans:
        where = f"plan {plan.product} on {', '.join(plan.actions)}"
        if plan.product not in technical:
            yield f"{where}: unknown technical product '{plan.product}'"
        yield from (f"{where}: {p}" for p in _items(plan, systems, queues))


def _items(plan: Plan, systems: set[str], queues: set[str]) -> Iterator[str]:
    names = [item.name for item in plan.items]
    yield from (f"item '{name}' is declared twice" for name in _twice(names))
    for item in plan.items:
        for ref in [*item.after, *([item.undo] if item.undo else [])]:
            if ref not in names:
                yield f"item {item.name} names unknown item '{ref}'"
        if item.kind == "callout" and item.system not in systems:
            yield f"item {item.name} calls unknown system '{item.system}'"
        if item.kind == "callout":
            yield from (f"item {item.name}: {p}" for p in _callout_path(item))
        if item.kind == "manual" and item.queue not in queues:
            yield f"item {item.name} uses unknown queue '{item.queue}'"
    graph = {item.name: list(item.after) for item in plan.items}
    yield from (f"items wait for each other: {' -> '.join(c)}" for c in find_cycles(graph))
    yield from _records(plan, names)


def _records(plan: Plan, names: list[str]) -> Iterator[str]:
    """A record reads only items of its own plan (the runtime looks them up on the line),
    and names each attribute once (the second would silently win)."""
    yield from (f"'{n}' is recorded twice" for n in _twice(r.name for r in plan.records))
    for record in plan.records:
        for ref in refs(record.value):
            if ref.root == "product" or (ref.root == "item" and ref.path[0] not in names):
                yield f"record {record.name} reads '{'.'.join(ref.path[:2])}', no item of its plan"


def _callout_path(item: CalloutItem) -> Iterator[str]:
    """The path as written and the one the runtime renders (``path_expr``, which an editor of
    the IR could change alone) each start with ``/`` and have no ``.``/``..`` segment (E083,
    E099): either would let the callout leave its system's base URL path."""
    for path in dict.fromkeys([item.path, _rendered(item.path_expr)]):
        if not path.startswith("/"):
            yield f"the path {path!r} does not start with '/'"
        elif dot_segment(path) is not None:
            yield f"the path {path!r} has a '{dot_segment(path)}' segment"


def _rendered(expr: Any) -> str:
    """A path template's text, each placeholder written ``{}`` (see ``dot_segment``)."""
    parts = expr.args if isinstance(expr, CallOp) and expr.fn == "concat" else [expr]
    return "".join(str(p.value) if isinstance(p, Lit) else "{}" for p in parts)


def _dependencies(catalog: Catalog) -> Iterator[str]:
    items: dict[str, set[str]] = {}
    for plan in catalog.plans:
        items.setdefault(plan.product, set()).update(i.name for i in plan.items)
    for dep in catalog.dependencies:
        for product, item in ((dep.product, dep.item), (dep.after_product, dep.after_item)):
            if item not in items.get(product, ()):
                yield f"depend {dep.product}.{dep.item} names unknown plan item '{product}.{item}'"


def _functions(catalog: Catalog) -> Iterator[str]:
    """Every call names a built-in function, and ``changed()``/``previous()`` are in plans:
    the closure compiler looks functions up by name, and met an unknown one as a KeyError."""
    for rule in catalog.rules:
        exprs = [*([rule.when] if rule.when is not None else []), *(m.expr for m in rule.mappings)]
        yield from (f"rule {rule.id} {p}" for p in _calls(exprs, in_plan=False))
    for plan in catalog.plans:
        where = f"plan {plan.product} on {', '.join(plan.actions)}"
        for item in plan.items:
            found = _calls(item_exprs(item), in_plan=True)
            yield from (f"{where}: item {item.name} {p}" for p in found)
        for record in plan.records:
            found = _calls([record.value], in_plan=True)
            yield from (f"{where}: record {record.name} {p}" for p in found)
    for dep in catalog.dependencies:
        if dep.when is not None:
            found = _calls([dep.when], in_plan=True)
            yield from (f"depend {dep.product}.{dep.item} {p}" for p in found)


def _calls(exprs: Iterable[Any], in_plan: bool) -> Iterator[str]:
    for expr in exprs:
        for call in calls(expr):
            if call.fn in LINE_FUNCTIONS and not in_plan:
                yield f"calls {call.fn}(), which only plans can"
            elif call.fn not in FUNCTIONS and call.fn not in LINE_FUNCTIONS:
                yield f"calls unknown function '{call.fn}'"
