"""``GET /productOrder/{id}/plan.svg``: the render package's live view of an order.

:func:`om_dsl.render.live_svg` draws the order's whole plan from the store, coloured by each
item's committed state, with attempts, due dates, reasons and the items in jeopardy.  This module
only turns its errors into HTTP answers: an unknown order is a 404, a missing Graphviz a 503
that says how to install it.
"""

from __future__ import annotations

from om_dsl.render import GraphvizNotFound, RenderError, live_svg
from om_dsl.service.context import Service
from om_dsl.service.errors import ApiError


def plan_svg(svc: Service, order_id: str) -> bytes:
    """Raises NotFound for an unknown order, a 503 ApiError without Graphviz."""
    try:
        return live_svg(svc.runtime, order_id)
    except GraphvizNotFound as exc:
        raise ApiError(503, "graphvizMissing", str(exc)) from None
    except RenderError as exc:
        raise ApiError(500, "renderFailed", str(exc)) from None
