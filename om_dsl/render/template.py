"""The plan template view: one technical product's plan for one action, from the IR alone.

Items become nodes by kind; ``after`` gives edges inside the plan; catalog dependencies that
touch this plan bring in the other product's item as a context node with a dashed edge;
each ``undo`` attaches its compensation item with a dotted edge.
"""

from __future__ import annotations

import graphviz

from om_dsl.compiler.names import suggest
from om_dsl.ir import models as ir
from om_dsl.ir.models import ACTIONS
from om_dsl.render.errors import RenderError
from om_dsl.render.items import (
    WITHIN,
    Item,
    depend_tooltip,
    find_item,
    item_details,
    item_tooltip,
    planned_actions,
)
from om_dsl.render.plan_draw import PlanOptions, draw_plan
from om_dsl.render.plan_model import PlanCluster, PlanEdge, PlanGraph, PlanNode

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
    nodes = [_item_node(catalog, product, item) for item in plan.items]
    edges = [
        PlanEdge(_id(product, a), _id(product, i.name), "after")
        for i in plan.items
        for a in i.after
    ]
    edges += [
        PlanEdge(_id(product, i.name), _id(product, i.undo), "undo", "undo")
        for i in plan.items
        if i.undo
    ]
    ext_nodes, ext_edges, ext_clusters = _dependencies(catalog, product, own, action)
    cluster = PlanCluster(_PLAN_CLUSTER, f"{product} ({_kind_title(tech)}) on {action}", tech.kind)
    return PlanGraph(
        title=f"Plan template: {product} on {action}",
        nodes=(*nodes, *ext_nodes),
        edges=(*edges, *ext_edges),
        clusters=(cluster, *ext_clusters),
    )


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


def _item_node(catalog: ir.Catalog, product: str, item: Item) -> PlanNode:
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
        tooltip=item_tooltip(product, item),
    )


# ---- cross-product dependencies ----------------------------------------------------------------


def _dependencies(
    catalog: ir.Catalog, product: str, own: set[str], action: str
) -> tuple[list[PlanNode], list[PlanEdge], list[PlanCluster]]:
    """Context nodes and dashed edges for every ``depend`` that touches this plan's items."""
    nodes: dict[str, PlanNode] = {}
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
        edges.append(PlanEdge(before, after, "depend", WITHIN[dep.within], depend_tooltip(dep)))
    products = list(dict.fromkeys(n.cluster for n in nodes.values() if n.cluster))
    clusters = [PlanCluster(c, c.removeprefix("other."), "external") for c in products]
    return list(nodes.values()), edges, clusters


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
