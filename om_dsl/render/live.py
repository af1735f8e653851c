"""The live plan of an order, read from the store: where it stands, and what is late.

The whole-order plan (:func:`~om_dsl.render.order_plan.order_plan_graph`) coloured by each
item's committed state, with its attempts, due dates and reason on the node; an item that is
ready, running or waiting past its expected duration or its due time is *in jeopardy* and
stands out.  The title says the order's state and whether its point of no return was reached.

Everything comes from the store (plan, item rows, the catalog version the order was pinned
to), so a host service can draw any order from any thread, next to a running runtime:
:func:`live_svg` is what ``GET /productOrder/{id}/plan.svg`` serves.  ``now`` is injectable,
so a test or a document draws the same picture every time.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace

import graphviz

from om_dsl.errors import IRLoadError, NotFound
from om_dsl.ir import models as ir
from om_dsl.ir.io import load_ir
from om_dsl.render.errors import RenderError
from om_dsl.render.order_plan import order_plan_graph
from om_dsl.render.output import render
from om_dsl.render.plan_draw import PlanOptions, draw_plan
from om_dsl.render.plan_model import DONE, PlanGraph, PlanNode
from om_dsl.render.text import duration, stamp
from om_dsl.runtime.plan import OrderPlan
from om_dsl.runtime.runtime import Runtime
from om_dsl.runtime.states import ORDER_TERMINAL
from om_dsl.runtime.status import ItemStatus, OrderStatus, order_status, stored_plan
from om_dsl.runtime.store.base import Store

JEOPARDY_STATES = frozenset({"ready", "running", "waiting"})
"""States in which an item can be late: it should be moving and is not done."""
_REASON_STATES = frozenset(
    {"waiting", "failed", "fatally_failed", "on_hold", "skipped", "cancelled", "discarded"}
)


def live_options(collapse: int | None = None) -> PlanOptions:
    """How the live view draws: states and jeopardy, and the critical path of what is left.

    Due offsets from the plan's start mean nothing once it runs: the nodes carry their
    real due dates instead."""
    return PlanOptions(due_offsets=False, state_legend=True, collapse=collapse, from_now=True)


def render_live(
    source: Store | Runtime,
    order_id: str,
    now: float | None = None,
    collapse: int | None = None,
) -> graphviz.Digraph:
    """The live plan of ``order_id`` as the store has it at ``now`` (default: the wall clock).

    Raises:
        NotFound: no such order in the store.
        RenderError: the catalog version of the order is missing from the store.
    """
    live = read_live(source, order_id, time.time() if now is None else now)
    return draw_plan(live_graph(live), live_options(collapse))


def live_svg(
    source: Store | Runtime,
    order_id: str,
    now: float | None = None,
    collapse: int | None = None,
) -> bytes:
    """The live plan as SVG bytes: what a host service serves (``image/svg+xml``).

    Thread-safe (it only reads committed state).  Raises ``NotFound`` (unknown order),
    :class:`~om_dsl.render.GraphvizNotFound` (no ``dot`` binary) or ``RenderError``.
    """
    return render(render_live(source, order_id, now, collapse), "svg")


@dataclass(frozen=True, slots=True)
class LiveOrder:
    """What the live view draws: the order's catalog version, its plan, its status, when."""

    catalog: ir.Catalog
    plan: OrderPlan
    status: OrderStatus
    now: float


def read_live(source: Store | Runtime, order_id: str, now: float) -> LiveOrder:
    """Read the order's plan, its committed status and its catalog version from the store."""
    store = source.store if isinstance(source, Runtime) else source
    stored = store.load_order(order_id)
    if stored is None:
        raise NotFound(f"no order {order_id}")
    plan = stored_plan(stored)
    status = order_status(store, order_id, now)
    pinned = source.catalog if isinstance(source, Runtime) else None
    if pinned is None or pinned.content_hash != plan.catalog_hash:
        pinned = _stored_catalog(store, plan.catalog_hash, order_id)
    return LiveOrder(pinned, plan, status, now)


def _stored_catalog(store: Store, content_hash: str, order_id: str) -> ir.Catalog:
    try:
        return _parse_catalog(content_hash, store.load_catalog(content_hash))
    except (KeyError, IRLoadError) as exc:
        raise RenderError(
            f"order {order_id} was planned with catalog {content_hash[:19]}, "
            f"which the store cannot give back: {exc}"
        ) from None


@functools.lru_cache(maxsize=8)
def _parse_catalog(content_hash: str, text: str) -> ir.Catalog:
    """Catalog versions never change, so a service drawing often parses each once."""
    return load_ir(text)


# ---- the graph ---------------------------------------------------------------------------------


def live_graph(live: LiveOrder) -> PlanGraph:
    """The order's plan graph, each node carrying its live state and details."""
    base = order_plan_graph(live.catalog, live.plan)
    items = {item.id: item for item in live.status.items}
    nodes = tuple(_live_node(node, items.get(node.id), live.now) for node in base.nodes)
    return replace(base, title=_title(live.status), nodes=nodes, notes=_notes(live, base))


def _title(status: OrderStatus) -> str:
    ponr = "point of no return reached" if status.ponr else "point of no return not reached"
    return f"Order {status.id}: {status.state} · {ponr}"


def _notes(live: LiveOrder, base: PlanGraph) -> tuple[str, ...]:
    status = live.status
    if status.state in ORDER_TERMINAL:
        ponr = f"the order is {status.state}: it can no longer change"
    elif status.cancelling:
        ponr = "the order is being cancelled: its compensations run"
    elif status.ponr:
        reached = ", ".join(f"root item {root} by {item}" for root, item in status.ponr.items())
        ponr = f"{reached}: a cancel or amend is rejected"
    else:
        ponr = "no point of no return reached: the order can still be cancelled"
    counts = " · ".join(
        f"{count} {state.replace('_', ' ')}" for state, count in status.counts.items()
    )
    late = sum(1 for n in status.items if is_jeopardy(n, live.now))
    when = f"as of {stamp(live.now)} · last change {stamp(status.updated_at)}"
    return (ponr, f"{counts} · {late} in jeopardy", when, *base.notes)


def is_jeopardy(item: ItemStatus, now: float) -> bool:
    """Ready, running or waiting past its expected duration (``started_at + expect``) or
    past its due time (the timeout of the current attempt)."""
    if item.state not in JEOPARDY_STATES:
        return False
    late = item.expected_by is not None and now > item.expected_by
    return late or (item.due_at is not None and now > item.due_at)


def _live_node(node: PlanNode, item: ItemStatus | None, now: float) -> PlanNode:
    if item is None:  # pragma: no cover - the plan and its rows come from one order
        return node
    times = list(_status_lines(item, now))
    reason = [item.reason] if item.reason and item.state in _REASON_STATES else []
    told = [f"reason: {item.reason}"] if item.reason else []
    return replace(
        node,
        state=item.state,
        status=(*times, *reason),
        jeopardy=is_jeopardy(item, now),
        tooltip="\n".join([node.tooltip, f"state {item.state}", *times, *told]),
        remaining_ms=remaining_ms(item, node.expect_ms, now),
    )


def remaining_ms(item: ItemStatus, expect_ms: int | None, now: float) -> int:
    """What is left of an item's expected duration at ``now``: the live critical path.

    Done (or never to run) takes nothing more; a started item has until its expected finish
    (nothing once it is late: jeopardy shows that); anything else, failed and held items
    included, still needs its whole expected duration.
    """
    if item.state in DONE:
        return 0
    if item.expected_by is not None and item.state in JEOPARDY_STATES:
        return max(0, round((item.expected_by - now) * 1000))
    return expect_ms or 0


def _status_lines(item: ItemStatus, now: float) -> Iterable[str]:
    """Attempts and times, as few lines as tell the story."""
    if item.attempt > 1 or item.failures:
        failed = f" · {item.failures} failed" if item.failures else ""
        yield f"attempt {item.attempt}{failed}"
    if item.ended_at is not None and item.state == "completed":
        yield f"done {stamp(item.ended_at)}"
    elif item.started_at is not None and item.state in JEOPARDY_STATES:
        yield f"started {stamp(item.started_at)}"
    if item.expected_by is not None and item.state not in DONE:  # a cancelled item is not due
        yield _due(item.expected_by, now, "due")
    if item.due_at is not None:
        yield _due(item.due_at, now, "retry at" if item.state == "failed" else "times out")


def _due(at: float, now: float, what: str) -> str:
    if now > at:
        return f"{what} {stamp(at)}, {_ago(now - at)} ago"
    return f"{what} {stamp(at)}"


def _ago(seconds: float) -> str:
    """How long ago, to the minute within a day and to the hour beyond: a label, not a log."""
    if seconds < 60:
        return "under a minute"
    unit = 3600 if seconds >= 86_400 else 60
    return duration(int(seconds) // unit * unit * 1000)
