"""The plan template view: one technical product's plan for one action, from the IR alone.

Items become nodes by kind; ``after`` gives edges inside the plan; catalog dependencies that
touch this plan bring in the other product's item as a context node with a dashed edge;
each ``undo`` attaches its compensation item with a dotted edge.
"""

from __future__ import annotations

import graphviz

from om_dsl.compiler.names import suggest
from om_dsl.expr.unparse import unparse
from om_dsl.ir import models as ir
from om_dsl.render.errors import RenderError
from om_dsl.render.plan_draw import PlanOptions, draw_plan
from om_dsl.render.plan_model import PlanCluster, PlanEdge, PlanGraph, PlanNode

Item = ir.AutoItem | ir.CalloutItem | ir.ManualItem | ir.MilestoneItem | ir.WaitItem
_PLAN_CLUSTER = "plan"
# How far a dependency reaches, in the words an architect reads on the edge.
_WITHIN = {"root": "same root item", "order": "same order", "relies_on": "same reliesOn group"}


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
    plans = [p for p in catalog.plans if p.product == tech.name]
    for plan in plans:
        if action in plan.actions:
            return plan
    actions = [a for p in plans for a in p.actions]
    has = f"it has plans for: {', '.join(actions)}" if actions else "it has no plans"
    raise RenderError(f"{tech.name} has no plan for action '{action}'; {has}")


# ---- items -------------------------------------------------------------------------------------


def _item_node(catalog: ir.Catalog, product: str, item: Item) -> PlanNode:
    details = [*_what(catalog, item)]
    if item.when is not None:
        details.append(f"when {unparse(item.when)}")
    if item.compensation:
        details.append("compensation")
    return PlanNode(
        id=_id(product, item.name),
        name=item.name,
        kind=item.kind,
        details=tuple(details),
        expect_ms=item.expect_ms,
        timeout_ms=item.timeout_ms,
        ponr=item.point_of_no_return,
        compensation=item.compensation,
        cluster=_PLAN_CLUSTER,
        tooltip=_tooltip(product, item),
    )


def _what(catalog: ir.Catalog, item: Item) -> list[str]:
    """What the item does, in the words of its kind."""
    if isinstance(item, ir.CalloutItem):
        mode = " (async)" if item.is_async else ""
        return [f"{item.system} {item.method} {item.path}{mode}"]
    if isinstance(item, ir.ManualItem):
        queue = next((q for q in catalog.queues if q.name == item.queue), None)
        return [f"queue {(queue.display_name if queue else None) or item.queue}"]
    if isinstance(item, ir.AutoItem):
        return [f"handler {item.handler}"]
    if isinstance(item, ir.WaitItem) and item.event:
        return [f"event {item.event}"]
    if isinstance(item, ir.WaitItem) and item.until is not None:
        return [f"until {unparse(item.until)}"]
    return []


def _tooltip(product: str, item: Item) -> str:
    lines = [f"{product}.{item.name} ({item.kind})"]
    if item.doc:
        lines.append(item.doc)
    if isinstance(item, ir.CalloutItem):
        lines.append(
            f"{item.system} {item.method} {item.path}" + (" async" if item.is_async else "")
        )
        if item.request is not None:
            lines.append(f"request {unparse(item.request)}")
        lines += [f"response {m.target} = {unparse(m.expr)}" for m in item.response]
    if item.when is not None:
        lines.append(f"when {unparse(item.when)}")
    if item.retry is not None:
        lines.append(f"retry {item.retry.kind} max {item.retry.max_retries}")
    if item.undo:
        lines.append(f"undone by {item.undo}")
    lines.append(f"declared at {item.span}")
    return "\n".join(lines)


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
        edges.append(PlanEdge(before, after, "depend", _WITHIN[dep.within]))
    products = list(dict.fromkeys(n.cluster for n in nodes.values() if n.cluster))
    clusters = [PlanCluster(c, c.removeprefix("other."), "external") for c in products]
    return list(nodes.values()), edges, clusters


def _context_node(
    catalog: ir.Catalog, product: str, item: str, action: str, nodes: dict[str, PlanNode]
) -> str:
    node_id = _id(product, item)
    if node_id in nodes:
        return node_id
    found = _find_item(catalog, product, item, action)
    nodes[node_id] = PlanNode(
        id=node_id,
        name=item,
        kind=found.kind if found is not None else "milestone",
        external=True,
        cluster=f"other.{product}",
        tooltip=f"{product}.{item}: an item of another product's plan",
    )
    return node_id


def _find_item(catalog: ir.Catalog, product: str, item: str, action: str) -> Item | None:
    """The item named ``item`` in ``product``'s plans, preferring the plan for ``action``."""
    plans = sorted(
        (p for p in catalog.plans if p.product == product), key=lambda p: action not in p.actions
    )
    return next((i for p in plans for i in p.items if i.name == item), None)
