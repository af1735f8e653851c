"""What the catalog map shows, as plain data: nodes, edges and the focus neighbourhood.

Kept apart from the drawing (:mod:`om_dsl.render.catalog`) so that selecting a product's
neighbourhood in a big catalog is a graph question answered and tested without Graphviz.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Literal

from om_dsl.compiler.names import suggest
from om_dsl.compiler.plan_cycles import wait_clauses
from om_dsl.expr.unparse import unparse
from om_dsl.ir import models as ir
from om_dsl.render.errors import RenderError
from om_dsl.render.items import depend_tooltip
from om_dsl.render.style import MapKind
from om_dsl.render.text import shorten

MapEdgeKind = Literal["includes", "member", "rule", "calls", "depend", "requires"]
PRODUCTION: frozenset[str] = frozenset({"includes", "member", "rule"})
BESIDE: frozenset[str] = frozenset({"depend", "requires"})
"""Edges that say how products go together, not what makes what: a focused map shows one
step of them, never what lies beyond."""
CONDITION_LIMIT = 30


@dataclass(frozen=True, slots=True)
class MapNode:
    """A box on the map; ``lines`` go under the name, ``tooltip`` holds the full story.

    A system or queue also lists its ``callers``: (product, its actions) per calling plan's
    product; ``hidden_callers`` counts those left out of a focused map.
    """

    id: str
    kind: MapKind
    name: str
    lines: tuple[str, ...] = ()
    tooltip: str = ""
    callers: tuple[tuple[str, str], ...] = ()
    hidden_callers: int = 0


@dataclass(frozen=True, slots=True)
class MapEdge:
    source: str
    target: str
    kind: MapEdgeKind
    label: str = ""
    tooltip: str = ""
    conditional: bool = False
    """Every ``depend`` the edge stands for has a ``when``: drawn dotted."""


@dataclass(frozen=True, slots=True)
class CatalogMap:
    title: str
    nodes: tuple[MapNode, ...]
    edges: tuple[MapEdge, ...]
    focus: str | None = None

    def node(self, node_id: str) -> MapNode:
        return next(n for n in self.nodes if n.id == node_id)


def product_id(name: str) -> str:
    return f"product.{name}"


def catalog_map(catalog: ir.Catalog) -> CatalogMap:
    """Every offer, bundle, family, technical product, system and queue.

    The catalog's plans are indexed once, by product and by the system or queue they call:
    looking them up per product made a map of 2,000 products take 3 s in Python.
    """
    families = _families(catalog)
    plans: dict[str, list[ir.Plan]] = {}
    for plan in catalog.plans:
        plans.setdefault(plan.product, []).append(plan)
    uses = _all_uses(catalog)
    scopes: dict[str, str] = {}
    for tech in catalog.technical:
        scopes.setdefault(tech.name, tech.scope)
    nodes = [
        *(_offer_node(o) for o in catalog.offers if o.kind == "bundle"),
        *(_offer_node(o) for o in catalog.offers if o.kind == "offer"),
        *(MapNode(f"family.{f}", "family", f, tooltip=f"family {f}") for f in families),
        *(_technical_node(t, plans.get(t.name, [])) for t in catalog.technical),
        *(_system_node(s, uses.get(f"system.{s.name}", {})) for s in catalog.systems),
        *(_queue_node(q, uses.get(f"queue.{q.name}", {})) for q in catalog.queues),
    ]
    edges = [
        *_include_edges(catalog),
        *_requires_edges(catalog),
        *_member_edges(catalog, families),
        *(_rule_edge(r, scopes) for r in catalog.rules),
        *_call_edges(catalog),
        *_depend_edges(catalog),
    ]
    return CatalogMap(f"Catalog map: {catalog.name} {catalog.version}", tuple(nodes), tuple(edges))


# ---- nodes -------------------------------------------------------------------------------------


def _offer_node(offer: ir.CommercialProduct) -> MapNode:
    lines = [offer.display_name or ""]
    if offer.external_id:
        lines.append(f"id {offer.external_id}")
    tip = [f"{offer.kind} {offer.name}", offer.doc or "", *_attribute_lines(offer.attributes)]
    return MapNode(product_id(offer.name), offer.kind, offer.name, _nonempty(lines), _join(tip))


def _technical_node(tech: ir.TechnicalProduct, plans: list[ir.Plan]) -> MapNode:
    """``plans``: the product's, in declaration order."""
    planned = {a for p in plans for a in p.actions}
    actions = [a for a in ir.ACTIONS if a in planned]  # as items.planned_actions
    lines = [tech.display_name or "", f"scope {tech.scope}", *_no_return(plans)]
    planned_line = f"plans: {', '.join(actions)}" if actions else "no plan"
    tip = [
        f"{tech.kind} {tech.name} (scope {tech.scope})",
        tech.doc or "",
        planned_line,
        *_records(plans),
        *_attribute_lines(tech.attributes),
    ]
    return MapNode(product_id(tech.name), tech.kind, tech.name, _nonempty(lines), _join(tip))


def _records(plans: list[ir.Plan]) -> list[str]:
    """``records on add: port_id``: what the product's plans keep on the inventory products
    of its lines' order items, as PONR says where they pass the point of no return."""
    return [
        f"records on {'/'.join(plan.actions)}: {', '.join(r.name for r in plan.records)}"
        for plan in plans
        if plan.records
    ]


def _no_return(plans: list[ir.Plan]) -> list[str]:
    """``PONR on add: activate_line``: where the product's plans pass their point of no
    return, so that a reviewer sees on the map which products make an order uncancellable."""
    return [
        f"PONR on {'/'.join(plan.actions)}: {', '.join(ponr)}"
        for plan in plans
        if (ponr := [i.name for i in plan.items if i.point_of_no_return])
    ]


def _system_node(system: ir.System, uses: Uses) -> MapNode:
    return _user_node(
        f"system.{system.name}", "system", system.name, system.display_name, system.doc, uses
    )


def _queue_node(queue: ir.Queue, uses: Uses) -> MapNode:
    return _user_node(
        f"queue.{queue.name}", "queue", queue.name, queue.display_name, queue.doc, uses
    )


Uses = dict[str, list[tuple[list[str], list[str]]]]
"""Per calling product, in declaration order: (actions of a plan, items of it that call)."""


def _all_uses(catalog: ir.Catalog) -> dict[str, Uses]:
    """Per system or queue id (``system.X``, ``queue.Y``): the plans that call it."""
    found: dict[str, Uses] = {}
    for plan in catalog.plans:
        items: dict[str, list[str]] = {}
        for item in plan.items:
            target = _called(item)
            if target is not None:
                items.setdefault(target, []).append(item.name)
        for target, names in items.items():
            calls = found.setdefault(target, {}).setdefault(plan.product, [])
            calls.append((list(plan.actions), names))
    return found


def _user_node(
    node_id: str, kind: MapKind, name: str, display: str | None, doc: str | None, uses: Uses
) -> MapNode:
    """A system or queue, listing the plans (product and actions) that call it."""
    callers = tuple(
        (p, ", ".join(a for acts, _ in plans for a in acts)) for p, plans in uses.items()
    )
    tip = [f"{kind} {name}", doc or ""]
    tip += [
        f"{p} on {', '.join(acts)}: {', '.join(items)}"
        for p, plans in uses.items()
        for acts, items in plans
    ]
    return MapNode(node_id, kind, name, _nonempty([display or ""]), _join(tip), callers)


def _attribute_lines(attributes: Iterable[ir.Attribute]) -> list[str]:
    return [f"  {a.name}: {a.type}" + (" (required)" if a.required else "") for a in attributes]


def _nonempty(lines: Iterable[str]) -> tuple[str, ...]:
    return tuple(line for line in lines if line)


def _join(lines: Iterable[str]) -> str:
    return "\n".join(line for line in lines if line)


# ---- edges -------------------------------------------------------------------------------------


def _include_edges(catalog: ir.Catalog) -> list[MapEdge]:
    """One edge per included product; those of a choice group labelled ``one of [c]`` (its
    cardinality counts them together), the whole group in the tooltip."""
    return [
        MapEdge(
            product_id(o.name),
            product_id(name),
            "includes",
            f"one of {_cardinality(inc)}" if inc.alternatives else _cardinality(inc),
            f"{o.name} includes {' or '.join(inc.products)} {_cardinality(inc)}",
        )
        for o in catalog.offers
        for inc in o.includes
        for name in inc.products
    ]


def _requires_edges(catalog: ir.Catalog) -> list[MapEdge]:
    """One dashed edge from an offer to each offer it requires: ``requires``, or ``requires
    (one of)`` for each alternative of a ``requires A or B``; the whole requirement in the
    tooltip."""
    return [
        MapEdge(
            product_id(o.name),
            product_id(name),
            "requires",
            "requires" if len(group) == 1 else "requires (one of)",
            f"{o.name} requires {' or '.join(group)}",
        )
        for o in catalog.offers
        for group in o.requires
        for name in group
    ]


def _cardinality(inc: ir.Include) -> str:
    if inc.max == inc.min:
        return f"[{inc.min}]"
    return f"[{inc.min}..{'*' if inc.max is None else inc.max}]"


def _families(catalog: ir.Catalog) -> list[str]:
    """Families of rules first, then every other declared one (a family that only a plan
    names, ``plan family F``, is lowered to its members' plans and has no rule to show it)."""
    ruled = (r.source for r in catalog.rules if r.source_is_family)
    offered = (f for p in catalog.offers for f in p.families)
    technical = (f for p in catalog.technical for f in p.families)
    return list(dict.fromkeys(itertools.chain(ruled, offered, technical)))


def _member_edges(catalog: ir.Catalog, families: list[str]) -> list[MapEdge]:
    products: list[ir.CommercialProduct | ir.TechnicalProduct] = [
        *catalog.offers,
        *catalog.technical,
    ]
    return [
        MapEdge(product_id(p.name), f"family.{f}", "member", "", f"{p.name} is in family {f}")
        for f in families
        for p in products
        if f in p.families
    ]


def _rule_edge(rule: ir.DecompositionRule, scopes: dict[str, str]) -> MapEdge:
    source = f"family.{rule.source}" if rule.source_is_family else product_id(rule.source)
    scope = scopes.get(rule.target, "line")
    label = []
    if rule.when is not None:
        label.append(f"when {shorten(unparse(rule.when), CONDITION_LIMIT)}")
    if scope != "line":
        label.append(f"scope {scope}")
    label += wait_clauses(rule)
    tip = [f"rule {rule.id}", rule.doc or ""]
    if rule.when is not None:
        tip.append(f"when {unparse(rule.when)}")
    tip.append(f"{rule.target} has scope {scope}")
    tip += [f"  {m.target} = {unparse(m.expr)}" for m in rule.mappings]
    return MapEdge(source, product_id(rule.target), "rule", "\n".join(label), _join(tip))


def _call_edges(catalog: ir.Catalog) -> list[MapEdge]:
    """One dashed edge per (technical product, system or queue) its plans use."""
    edges: dict[tuple[str, str], list[str]] = {}
    for plan in catalog.plans:
        for item in plan.items:
            target = _called(item)
            if target is not None:
                calls = edges.setdefault((product_id(plan.product), target), [])
                calls.append(f"on {'/'.join(plan.actions)}: {item.name}")
    return [MapEdge(src, dst, "calls", "", "\n".join(calls)) for (src, dst), calls in edges.items()]


def _depend_edges(catalog: ir.Catalog) -> list[MapEdge]:
    """One dashed edge per pair of products whose plans wait for one another (``depend A.x
    after B.y``: from B to A), labelled with the items; each declaration, its reach and its
    ``///`` comment in the tooltip.  Plan templates show them item by item, one product at a
    time: the map shows the cross-product ordering of the whole catalog at once."""
    pairs: dict[tuple[str, str], list[ir.Dependency]] = {}
    for dep in catalog.dependencies:
        key = (product_id(dep.after_product), product_id(dep.product))
        pairs.setdefault(key, []).append(dep)
    return [
        MapEdge(
            source,
            target,
            "depend",
            "\n".join(f"{d.after_item} → {d.item}{_if(d)}" for d in deps[:2])
            + (f"\n+ {len(deps) - 2} more" if len(deps) > 2 else ""),
            "\n".join(depend_tooltip(d) for d in deps),
            all(d.when is not None for d in deps),
        )
        for (source, target), deps in pairs.items()
    ]


def _if(dep: ir.Dependency) -> str:
    """A conditional ``depend`` on the map: the condition is in the tooltip, too long here."""
    return " (when …)" if dep.when is not None else ""


def _called(item: object) -> str | None:
    if isinstance(item, ir.CalloutItem):
        return f"system.{item.system}"
    if isinstance(item, ir.ManualItem):
        return f"queue.{item.queue}"
    return None


# ---- focus -------------------------------------------------------------------------------------


def resolve_focus(cmap: CatalogMap, name: str) -> str:
    """The node id that ``name`` (a product, system, queue or family name) refers to.

    Families have names of their own, apart from products, systems and queues: a product
    and a family may share one: the product is meant, and ``family.NAME`` is the family.
    """
    by_name: dict[str, str] = {}
    for node in sorted(cmap.nodes, key=lambda n: n.kind == "family"):
        by_name.setdefault(node.name, node.id)
    if name in by_name:
        return by_name[name]
    if any(node.id == name for node in cmap.nodes):  # `family.NAME`
        return name
    hint = " ".join(suggest(name, by_name)) or "give a product, system, queue or family name"
    raise RenderError(f"cannot focus on '{name}': not in the catalog; {hint}")


def focus_on(cmap: CatalogMap, name: str) -> CatalogMap:
    """Only ``name`` and its neighbourhood: what produces it (transitively, with the bundles
    that include it), what it produces (transitively), the systems and queues that the plans
    of it and its products call, and the products its plans wait for or that wait for it
    (``depend``), and the offers it requires or that require it (``requires``): one step,
    further ones are those products' own story."""
    focus = resolve_focus(cmap, name)
    production = [e for e in cmap.edges if e.kind in PRODUCTION]
    upstream = _reach(focus, [(e.target, e.source) for e in cmap.edges if e.kind not in BESIDE])
    downstream = _reach(focus, [(e.source, e.target) for e in production])
    called = {e.target for e in cmap.edges if e.kind == "calls" and e.source in downstream}
    waits = {n for e in cmap.edges if e.kind in BESIDE and focus in (e.source, e.target)
             for n in (e.source, e.target)}  # fmt: skip
    keep = upstream | downstream | called | waits
    return replace(
        cmap,
        title=f"{cmap.title} · focus {name}",
        nodes=tuple(_only_callers(n, keep) for n in cmap.nodes if n.id in keep),
        edges=tuple(e for e in cmap.edges if e.source in keep and e.target in keep),
        focus=focus,
    )


def _only_callers(node: MapNode, keep: set[str]) -> MapNode:
    """``node`` listing only the callers that the focused map shows."""
    shown = tuple(c for c in node.callers if product_id(c[0]) in keep)
    hidden = node.hidden_callers + len(node.callers) - len(shown)
    return replace(node, callers=shown, hidden_callers=hidden) if hidden else node


def _reach(start: str, pairs: list[tuple[str, str]]) -> set[str]:
    """``start`` and every node reachable from it along ``pairs`` (from, to)."""
    succs: dict[str, list[str]] = {}
    for a, b in pairs:
        succs.setdefault(a, []).append(b)
    seen = {start}
    stack = [start]
    while stack:
        for nxt in succs.get(stack.pop(), []):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen
