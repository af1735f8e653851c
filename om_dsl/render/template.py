"""The plan template view: one technical product's plan for one action, from the IR alone.

Items become nodes by kind; ``after`` gives edges inside the plan; catalog dependencies that
touch this plan bring in the other product's item as a context node with a dashed edge;
the waits a chained rule puts on it (``after parent``, ``before parent``) bring in the parent's
or the child's items the same way, with the teal edge the order plan draws between those lines;
each ``undo`` attaches its compensation item with a dotted edge.
"""

from __future__ import annotations

import graphviz

from om_dsl.compiler.names import suggest
from om_dsl.compiler.plan_cycles import ChainWait, ChainWaits, ItemRef
from om_dsl.ir import models as ir
from om_dsl.ir.models import ACTIONS
from om_dsl.render.errors import RenderError
from om_dsl.render.items import (
    PARENT_WAIT,
    Item,
    depend_label,
    depend_tooltip,
    find_item,
    item_details,
    item_tooltip,
    planned_actions,
    record_texts,
)
from om_dsl.render.plan_draw import PlanOptions, draw_plan
from om_dsl.render.plan_model import PlanCluster, PlanEdge, PlanGraph, PlanNode
from om_dsl.rules.program import rule_sources

_PLAN_CLUSTER = "plan"


def render_plan_template(
    catalog: ir.Catalog, product: str, action: str, options: PlanOptions | None = None
) -> graphviz.Digraph:
    """The diagram of the plan that ``product`` runs on ``action``.

    Raises:
        RenderError: no such technical product, or it has no plan for ``action``.
    """
    return draw_plan(template_graph(catalog, product, action), options)


def template_graph(catalog: ir.Catalog, product: str, action: str) -> PlanGraph:
    """The plan of ``product`` on ``action`` as a generic :class:`PlanGraph`."""
    tech = _technical(catalog, product)
    plan = _plan(catalog, tech, action)
    own = {item.name for item in plan.items}
    nodes = [_item_node(catalog, product, item, plan.records) for item in plan.items]
    edges: list[PlanEdge] = [
        PlanEdge(_id(product, a), _id(product, i.name), "after")
        for i in plan.items
        for a in i.after
    ]
    edges += [
        PlanEdge(_id(product, i.name), _id(product, i.undo), "undo", "undo")
        for i in plan.items
        if i.undo
    ]
    context: dict[str, PlanNode] = {}
    edges += _dependencies(catalog, product, own, action, context)
    edges += _chain_waits(catalog, product, action, context)
    cluster = PlanCluster(_PLAN_CLUSTER, f"{product} ({_kind_title(tech)}) on {action}", tech.kind)
    return PlanGraph(
        title=f"Plan template: {product} on {action}",
        nodes=(*nodes, *context.values()),
        edges=tuple(edges),
        clusters=(cluster, *_context_clusters(context)),
        notes=tuple(_record_notes(plan)),
    )


def _record_notes(plan: ir.Plan) -> list[str]:
    """What the plan keeps on the inventory products when the order completes."""
    return [
        f"on completion, {text} on the inventory product" for text in record_texts(plan.records)
    ]


def _id(product: str, item: str) -> str:
    return f"{product}.{item}"


def _kind_title(tech: ir.TechnicalProduct) -> str:
    kind = {"cfs": "CFS", "rfs": "RFS", "resource": "resource"}[tech.kind]
    return f"{kind}, scope {tech.scope}"


def _technical(catalog: ir.Catalog, product: str) -> ir.TechnicalProduct:
    for tech in catalog.technical:
        if tech.name == product:
            return tech
    names = [t.name for t in catalog.technical]
    hint = " ".join(suggest(product, names)) or f"choose one of: {', '.join(names)}"
    if any(o.name == product for o in catalog.offers):
        hint = "plans belong to technical products (CFS, RFS, resource), not offers"
    members = [t.name for t in catalog.technical if product in t.families]
    if members:  # `plan family F`: each member runs it as its own plan
        hint = (
            f"{product} is a family: its plan runs as each member's own, so render a member: "
            + ", ".join(members)
        )
    raise RenderError(f"no technical product '{product}' in catalog '{catalog.name}'; {hint}")


def _plan(catalog: ir.Catalog, tech: ir.TechnicalProduct, action: str) -> ir.Plan:
    if action not in ACTIONS:
        raise RenderError(f"unknown action '{action}'; choose one of: {', '.join(ACTIONS)}")
    plans = [p for p in catalog.plans if p.product == tech.name]
    for plan in plans:
        if action in plan.actions:
            return plan
    actions = planned_actions(catalog, tech.name)
    has = f"it has plans for: {', '.join(actions)}" if actions else "it has no plans"
    raise RenderError(f"{tech.name} has no plan for action '{action}'; {has}")


# ---- items -------------------------------------------------------------------------------------


def _item_node(catalog: ir.Catalog, product: str, item: Item, records: list[ir.Record]) -> PlanNode:
    return PlanNode(
        id=_id(product, item.name),
        name=item.name,
        kind=item.kind,
        details=tuple(item_details(catalog, item)),
        expect_ms=item.expect_ms,
        timeout_ms=item.timeout_ms,
        ponr=item.point_of_no_return,
        compensation=item.compensation,
        cluster=_PLAN_CLUSTER,
        tooltip=item_tooltip(product, item, records),
    )


# ---- cross-product dependencies ----------------------------------------------------------------


def _dependencies(
    catalog: ir.Catalog, product: str, own: set[str], action: str, nodes: dict[str, PlanNode]
) -> list[PlanEdge]:
    """Dashed edges for every ``depend`` that touches this plan's items (their context items
    added to ``nodes``)."""
    edges: list[PlanEdge] = []
    for dep in catalog.dependencies:
        into = dep.product == product and dep.item in own
        out_of = dep.after_product == product and dep.after_item in own
        if not (into or out_of):
            continue
        before = (
            _id(product, dep.after_item)
            if out_of
            else _context_node(catalog, dep.after_product, dep.after_item, action, nodes)
        )
        after = (
            _id(product, dep.item)
            if into
            else _context_node(catalog, dep.product, dep.item, action, nodes)
        )
        edges.append(
            PlanEdge(
                before, after, "depend", depend_label(dep), depend_tooltip(dep),
                conditional=dep.when is not None,
            )
        )  # fmt: skip
    return edges


def _chain_waits(
    catalog: ir.Catalog, product: str, action: str, nodes: dict[str, PlanNode]
) -> list[PlanEdge]:
    """Teal edges for the waits chained rules put on this plan, as the builder wires them
    between lines (the edges E062 checks, from :class:`ChainWaits`): under ``after parent``
    the child's entry items wait for the parent's exit items, under ``before parent`` the
    parent's entry items wait for the child's exit items."""
    plans = {p.product: p for p in catalog.plans if action in p.actions}
    edges: dict[tuple[str, str], PlanEdge] = {}
    technical = {t.name for t in catalog.technical}
    chains = ChainWaits.of(catalog.rules, list(rule_sources(catalog).values()), technical)
    for waiter, awaited, wait in chains.edges(plans, action):
        if product not in (waiter[0], awaited[0]):
            continue
        source = _end(catalog, product, awaited, action, nodes)
        target = _end(catalog, product, waiter, action, nodes)
        label = PARENT_WAIT[wait.how]
        edges.setdefault((source, target), PlanEdge(source, target, "parent", label, _why(wait)))
    return list(edges.values())


def _end(
    catalog: ir.Catalog, product: str, ref: ItemRef, action: str, nodes: dict[str, PlanNode]
) -> str:
    """The node of one end of a wait: this plan's item, or another product's as context."""
    other, item = ref
    return (
        _id(product, item)
        if other == product
        else _context_node(catalog, other, item, action, nodes)
    )


def _why(wait: ChainWait) -> str:
    """What a wait's edge says on hover: which line waits for which, the rule, its doc."""
    if wait.how == "after_parent":
        head = f"a {wait.child} line starts once its parent {wait.parent} line is complete"
    else:
        head = f"a {wait.parent} line starts once its child {wait.child} line is complete"
    lines = [head, wait.describe()]
    return "\n".join(lines + ([wait.rule.doc] if wait.rule.doc else []))


def _context_clusters(nodes: dict[str, PlanNode]) -> list[PlanCluster]:
    """One dashed box per other product whose items are shown for context."""
    products = list(dict.fromkeys(n.cluster for n in nodes.values() if n.cluster))
    return [PlanCluster(c, c.removeprefix("other."), "external") for c in products]


def _context_node(
    catalog: ir.Catalog, product: str, item: str, action: str, nodes: dict[str, PlanNode]
) -> str:
    node_id = _id(product, item)
    if node_id in nodes:
        return node_id
    found = find_item(catalog, product, item, action)
    nodes[node_id] = PlanNode(
        id=node_id,
        name=item,
        kind=found.kind if found is not None else "milestone",
        external=True,
        cluster=f"other.{product}",
        tooltip=f"{product}.{item}: an item of another product's plan",
    )
    return node_id
