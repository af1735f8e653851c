"""``GET /productOrder/{id}/plan.svg``: the render package's live view of an order.

:func:`om_dsl.render.live_svg` draws the order's whole plan from the store, coloured by each
item's committed state, with attempts, due dates, reasons and the items in jeopardy;
``collapse`` draws each fulfillment line of more than that many items as one node (for big
orders).  This module only turns its errors into HTTP answers: an unknown order is a 404, a
missing Graphviz a 503 that says what the service's operator must install (the client cannot
fix it, and the CLI's hint to ask for DOT text means nothing over HTTP).
"""

from __future__ import annotations

from om_dsl.render import GraphvizNotFound, RenderError, live_svg
from om_dsl.service.context import Service
from om_dsl.service.errors import ApiError

NO_GRAPHVIZ = (
    "the plan cannot be drawn: Graphviz's 'dot' program is not installed on the server; the "
    "service's operator can install it (e.g. `apt-get install graphviz`). Meanwhile the plan's "
    "items and their states are at {status}"
)


def plan_svg(svc: Service, order_id: str, collapse: int | None = None) -> bytes:
    """Raises NotFound for an unknown order, a 503 ApiError without Graphviz."""
    try:
        return live_svg(svc.runtime, order_id, collapse=collapse)
    except GraphvizNotFound:
        status = f"{svc.href('productOrder', order_id)}/status"
        raise ApiError(503, "graphvizMissing", NO_GRAPHVIZ.format(status=status)) from None
    except RenderError as exc:
        raise ApiError(500, "renderFailed", str(exc)) from None
