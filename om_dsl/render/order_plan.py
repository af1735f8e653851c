"""The plan of a whole order before it runs: every item of every line, as the builder made it.

Items are clustered by fulfillment request, then by line, and keep the plan builder's
deterministic ids (``<line id>:<item name>``).  The builder records only *that* an item waits
for another (``deps``); this module says *why*, so each edge gets its style: ``after`` inside a
line, ``depend`` when the catalog declares a dependency between the two products, ``parent``
when one line was produced from the other, and the reverse order of compensations on a cancel.
The live view builds on the same graph (:func:`order_plan_graph`) and adds the states.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import graphviz

from om_dsl.expr.evaluate import EvalError
from om_dsl.ir import models as ir
from om_dsl.orders.models import Decomposition, FulfillmentRequest
from om_dsl.render.items import (
    PARENT_WAIT,
    Item,
    depend_label,
    depend_tooltip,
    find_plan_item,
    item_details,
    item_tooltip,
)
from om_dsl.render.plan_draw import PlanOptions, draw_plan
from om_dsl.render.plan_model import PlanCluster, PlanEdge, PlanGraph, PlanNode
from om_dsl.render.style import ITEM_KINDS, KIND_TITLES, ItemKind
from om_dsl.runtime.conditions import DependConditions
from om_dsl.runtime.plan import OrderPlan, PlanItemInstance, PlanLine

DependKey = tuple[str, str, str, str]
"""(product, item, after product, after item) of a catalog ``depend``."""


def render_order_plan(
    catalog: ir.Catalog,
    plan: OrderPlan,
    decomposition: Decomposition | None = None,
    options: PlanOptions | None = None,
) -> graphviz.Digraph:
    """The diagram of an order's whole plan: critical path, PONR regions, due offsets.

    ``decomposition`` (optional) names the fulfillment requests better (shared or not, the
    relies_on group or account); ``options.collapse`` draws big lines as one node each.
    """
    return draw_plan(order_plan_graph(catalog, plan, decomposition), options)


def order_plan_graph(
    catalog: ir.Catalog, plan: OrderPlan, decomposition: Decomposition | None = None
) -> PlanGraph:
    """The order's plan as a generic :class:`PlanGraph` (what the live view colours in)."""
    index = _Index.of(catalog, plan)
    return PlanGraph(
        title=f"Plan of order {plan.order_id}",
        nodes=tuple(_item_node(index, item) for item in plan.items),
        edges=tuple(edge for item in plan.items for edge in _item_edges(index, item)),
        clusters=tuple(_clusters(index, plan, decomposition)),
        notes=tuple(_notes(plan)),
    )


def request_cluster_id(request: str) -> str:
    return f"request:{request}"


def line_cluster_id(line: str) -> str:
    return f"line:{line}"


@dataclass(frozen=True, slots=True)
class _Index:
    """Lookups the edges and labels need, built once per plan."""

    catalog: ir.Catalog
    items: dict[str, PlanItemInstance]
    lines: dict[str, PlanLine]
    depends: Mapping[DependKey, list[ir.Dependency]]
    kinds: dict[str, str]
    conditions: DependConditions

    @classmethod
    def of(cls, catalog: ir.Catalog, plan: OrderPlan) -> _Index:
        deps = catalog.dependencies
        depends: dict[DependKey, list[ir.Dependency]] = {}
        for d in deps:
            depends.setdefault((d.product, d.item, d.after_product, d.after_item), []).append(d)
        return cls(
            catalog,
            {item.id: item for item in plan.items},
            {line.id: line for line in plan.lines},
            depends,
            {t.name: t.kind for t in catalog.technical},
            DependConditions(plan.order_fields),
        )

    def depend(self, item: PlanItemInstance, other: PlanItemInstance) -> ir.Dependency | None:
        """The `depend` that made ``item`` wait for ``other``: the last declared of those
        naming the two items whose condition (if any) holds for their lines."""
        for dep in reversed(
            self.depends.get((item.product, item.name, other.product, other.name), [])
        ):
            if dep.when is None or self._holds(dep, item, other):
                return dep
        return None

    def _holds(self, dep: ir.Dependency, item: PlanItemInstance, other: PlanItemInstance) -> bool:
        line, waited = self.lines.get(item.line_id), self.lines.get(other.line_id)
        if line is None or waited is None:
            return True
        try:
            return self.conditions.holds(dep, line, waited)
        except EvalError:
            return True  # linked, and the waiting item fails (PlanItemInstance.fails)

    def ancestors(self, line_id: str) -> list[str]:
        """The line's parent, grandparent, ... (lines produced from lines)."""
        found: list[str] = []
        parent = self.lines[line_id].parent_line if line_id in self.lines else None
        while parent is not None and parent not in found:
            found.append(parent)
            parent = self.lines[parent].parent_line if parent in self.lines else None
        return found


# ---- items -------------------------------------------------------------------------------------


def _item_node(index: _Index, item: PlanItemInstance) -> PlanNode:
    line = index.lines[item.line_id]
    found = find_plan_item(index.catalog, item.product, item.name, line.action)
    spec, records = (None, []) if found is None else (found[1], found[0].records)
    skipped = item.initial == "skipped"
    return PlanNode(
        id=item.id,
        name=item.name,
        kind=spec.kind if spec is not None else _kind(item.kind),
        details=tuple(item_details(index.catalog, spec)) if spec is not None else (),
        expect_ms=item.expect_ms,
        timeout_ms=item.timeout_ms,
        ponr=item.ponr,
        compensation=item.is_compensation,
        cluster=line_cluster_id(item.line_id),
        state="skipped" if skipped else None,
        roots=item.root_items,
        status=_status(item, skipped),
        tooltip=_tooltip(item, spec, records),
    )


def _status(item: PlanItemInstance, skipped: bool) -> tuple[str, ...]:
    if skipped:
        return ("its condition is false at plan time",)
    if item.fails is not None:  # as `om plan` flags it; the reason is in the tooltip
        return ("fails when ready (depend condition)",)
    return ()


def _kind(kind: str) -> ItemKind:
    """The plan's kind as a drawable one (an unknown kind, from a newer catalog, as auto)."""
    return next((k for k in ITEM_KINDS if k == kind), "auto")


def _tooltip(item: PlanItemInstance, spec: Item | None, records: list[ir.Record]) -> str:
    """``records``: those of the item's plan, the ones reading the item's outputs told (as the
    plan template does): an architect reviewing an order's plan sees what it keeps."""
    lines = [item.id]
    if spec is not None:
        lines.append(item_tooltip(item.product, spec, records))
    if item.deps:
        lines.append("waits for " + ", ".join(item.deps))
    if item.compensation_of:
        lines.append("undoes " + ", ".join(item.compensation_of))
    if item.skip_reason:
        lines.append(f"skipped: {item.skip_reason}")
    if item.fails is not None:
        lines.append(f"fails when ready: {item.fails}")
    if item.root_items:
        lines.append("root order item(s): " + ", ".join(item.root_items))
    return "\n".join(lines)


# ---- edges -------------------------------------------------------------------------------------


def _item_edges(index: _Index, item: PlanItemInstance) -> list[PlanEdge]:
    edges = [_edge_for(index, item, dep) for dep in item.deps]
    edges += [PlanEdge(undone, item.id, "undo", "undo") for undone in item.compensation_of]
    return edges


def _edge_for(index: _Index, item: PlanItemInstance, dep: str) -> PlanEdge:
    """The edge ``dep -> item``, of the kind, label and tooltip of why the builder made it
    (a conditional `depend`'s edge is drawn as such)."""
    other = index.items[dep]
    if item.is_compensation:
        return PlanEdge(dep, item.id, "after", "on cancel", "")
    if other.line_id == item.line_id:
        return PlanEdge(dep, item.id, "after", "", "")
    found = index.depend(item, other)
    if found is not None:
        label, tip = depend_label(found), depend_tooltip(found)
        return PlanEdge(dep, item.id, "depend", label, tip, found.when is not None)
    if other.line_id in index.ancestors(item.line_id):
        return PlanEdge(dep, item.id, "parent", PARENT_WAIT["after_parent"], "")
    if item.line_id in index.ancestors(other.line_id):
        return PlanEdge(dep, item.id, "parent", PARENT_WAIT["before_parent"], "")
    return PlanEdge(dep, item.id, "depend", "", "")


# ---- clusters ----------------------------------------------------------------------------------


def _clusters(
    index: _Index, plan: OrderPlan, decomposition: Decomposition | None
) -> list[PlanCluster]:
    """One cluster per fulfillment request holding a planned line, and one per such line.

    Shared requests come first: other lines usually wait for them, so they read best on top.
    """
    planned = [line for line in plan.lines if line.planned]
    requests = {r.id: r for r in decomposition.requests} if decomposition else {}
    groups: list[list[PlanCluster]] = []
    for request_id in dict.fromkeys(line.request for line in planned):
        own = [line for line in planned if line.request == request_id]
        head = _request_cluster(request_id, own, requests.get(request_id))
        groups.append([head, *(_line_cluster(index, line) for line in own)])
    groups.sort(key=lambda group: group[0].tone != "shared")
    return [cluster for group in groups for cluster in group]


def _request_cluster(
    request_id: str, lines: list[PlanLine], request: FulfillmentRequest | None
) -> PlanCluster:
    shared = request.shared if request else all(line.scope != "line" for line in lines)
    if shared:
        scope = request.scope if request else lines[0].scope
        key = f" {request.key}" if request and request.key and scope != "order" else ""
        label = f"{request_id} · shared ({scope} scope{key})"
    else:
        roots = request.root_item if request and request.root_item else _roots(lines)
        label = f"{request_id} · root item {roots}"
    return PlanCluster(request_cluster_id(request_id), label, "shared" if shared else "request")


def _roots(lines: Iterable[PlanLine]) -> str:
    return ", ".join(dict.fromkeys(r for line in lines for r in line.root_items))


def _line_cluster(index: _Index, line: PlanLine) -> PlanCluster:
    kind = index.kinds.get(line.product, "cfs")
    scope = f" · scope {line.scope}" if line.scope != "line" else ""
    return PlanCluster(
        line_cluster_id(line.id),
        f"{line.id} · {KIND_TITLES[kind]} · {line.action}{scope}",
        kind,
        parent=request_cluster_id(line.request),
        line=True,
    )


def _notes(plan: OrderPlan) -> list[str]:
    planned = sum(1 for line in plan.lines if line.planned)
    requests = len({line.request for line in plan.lines})
    notes = [
        f"{len(plan.items)} items on {planned} of {len(plan.lines)} lines "
        f"in {requests} fulfillment requests · catalog {plan.catalog_hash[:19]}"
    ]
    skipped = sum(1 for item in plan.items if item.initial == "skipped")
    if skipped:
        notes.append(f"{skipped} item(s) skipped at plan time: their condition is false")
    unplanned = [f"{line.id} ({line.action})" for line in plan.lines if not line.planned]
    if unplanned:
        notes.append("lines without a plan for their action: " + ", ".join(unplanned))
    return notes
