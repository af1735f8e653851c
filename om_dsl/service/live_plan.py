"""``GET /productOrder/{id}/plan.svg``: an order's plan, coloured by the live state of each item.

The render package draws any :class:`~om_dsl.render.PlanGraph` (shapes by kind, critical path,
the region beyond the point of no return) and leaves a live view to its callers through
``PlanNode.state`` and ``PlanOptions.node_fill``.  This module is the small glue: the stored plan
and the order's committed status become a PlanGraph (one box per fulfillment line, ``after``
edges within a line, ``depend`` edges across lines, ``undo`` edges to compensations), and each
node is filled with the colour of its state.  When the render package grows its own live view,
this module should call it instead.
"""

from __future__ import annotations

from om_dsl.render import GraphvizNotFound, PlanOptions, RenderError, draw_plan, render
from om_dsl.render.plan_model import PlanCluster, PlanEdge, PlanGraph, PlanNode
from om_dsl.render.style import ITEM_KINDS, ItemKind
from om_dsl.runtime.notify.tmf import iso
from om_dsl.runtime.plan import OrderPlan, PlanItemInstance, PlanLine
from om_dsl.runtime.status import ItemStatus, OrderStatus
from om_dsl.service.context import Service
from om_dsl.service.errors import ApiError

STATE_FILLS = {
    "pending": "#ffffff",
    "ready": "#e0f2fe",
    "running": "#93c5fd",
    "waiting": "#fde68a",
    "on_hold": "#ddd6fe",
    "failed": "#fdba74",
    "fatally_failed": "#f87171",
    "completed": "#86efac",
    "skipped": "#e5e7eb",
    "discarded": "#f3f4f6",
    "cancelled": "#d1d5db",
}


def plan_svg(svc: Service, order_id: str) -> bytes:
    """Raises NotFound for an unknown order, a 503 ApiError without Graphviz."""
    status = svc.runtime.status(order_id)
    stored = svc.runtime.store.load_order(order_id)
    if stored is None:  # pragma: no cover - status found it a moment ago
        raise ApiError(404, "notFound", f"no product order {order_id}")
    graph = live_graph(OrderPlan.model_validate_json(stored.plan_json), status, _kinds(svc))
    options = PlanOptions(node_fill=lambda node: STATE_FILLS.get(node.state or ""))
    try:
        return render(draw_plan(graph, options), "svg")
    except GraphvizNotFound as exc:
        raise ApiError(503, "graphvizMissing", str(exc)) from None
    except RenderError as exc:
        raise ApiError(500, "renderFailed", str(exc)) from None


def live_graph(plan: OrderPlan, status: OrderStatus, kinds: dict[str, str]) -> PlanGraph:
    """The plan as a PlanGraph whose nodes carry the items' states."""
    line_of = {item.id: item.line_id for item in plan.items}
    nodes = [_node(spec, item) for spec, item in zip(plan.items, status.items, strict=True)]
    edges = [
        PlanEdge(dep, spec.id, "after" if line_of.get(dep) == spec.line_id else "depend")
        for spec in plan.items
        for dep in spec.deps
    ]
    edges += [
        PlanEdge(source, spec.id, "undo", "undo")
        for spec in plan.items
        for source in spec.compensation_of
    ]
    clusters = [
        PlanCluster(line.id, _line_label(line), kinds.get(line.product, "external"))
        for line in plan.lines
        if line.planned
    ]
    notes = (f"live states at {iso(status.updated_at)}", _ponr_note(status))
    title = f"Order {status.id}: {status.state}"
    return PlanGraph(title, tuple(nodes), tuple(edges), tuple(clusters), notes)


def _line_label(line: PlanLine) -> str:
    return f"{line.id} · {line.product} ({line.action})"


def _node(spec: PlanItemInstance, item: ItemStatus) -> PlanNode:
    details = [item.state + (f" · attempt {item.attempt}" if item.attempt > 1 else "")]
    if item.reason:
        details.append(item.reason)
    kind: ItemKind = spec.kind if spec.kind in ITEM_KINDS else "auto"
    return PlanNode(
        id=spec.id,
        name=spec.name,
        kind=kind,
        details=tuple(details),
        expect_ms=spec.expect_ms,
        timeout_ms=spec.timeout_ms,
        ponr=spec.ponr,
        compensation=spec.is_compensation,
        cluster=spec.line_id,
        state=item.state,
        tooltip=f"{spec.id}: {item.state}" + (f" ({item.reason})" if item.reason else ""),
    )


def _ponr_note(status: OrderStatus) -> str:
    if not status.ponr:
        return "point of no return not reached"
    return "point of no return reached by " + ", ".join(sorted(set(status.ponr.values())))


def _kinds(svc: Service) -> dict[str, str]:
    """Technical product -> cfs/rfs/resource, for the colour of each line's box."""
    catalog = svc.runtime.catalog
    return {tech.name: tech.kind for tech in catalog.technical} if catalog else {}
