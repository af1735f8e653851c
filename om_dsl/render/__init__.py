"""Diagrams for architects and operators, rendered with Graphviz.

Views build a Graphviz ``Digraph`` (deterministic DOT source); :func:`render` turns any of
them into dot, svg, png or pdf bytes.

- :func:`render_catalog`: offers, bundles and technical products, rules and systems;
- :func:`render_plan_template`: one technical product's plan for one action;
- :func:`render_decomposition`: an order's items, its fulfillment requests and lines;
- :func:`render_order_plan`: an order's whole plan before it runs (``collapse`` big lines);
- :func:`render_live`: an order's plan as the store has it now, coloured by state;
  :func:`live_svg` is the same as SVG bytes, for a host service.

Plan views share :class:`PlanGraph` and :func:`draw_plan`, so the template, whole-order and
live views draw through the same code.
"""

from om_dsl.render.catalog import render_catalog
from om_dsl.render.decomposition import render_decomposition
from om_dsl.render.errors import GraphvizNotFound, RenderError
from om_dsl.render.live import live_graph, live_svg, read_live, render_live
from om_dsl.render.order_plan import order_plan_graph, render_order_plan
from om_dsl.render.output import FORMATS, Format, choose_format, parse_format, render
from om_dsl.render.plan_draw import PlanOptions, draw_plan
from om_dsl.render.plan_model import PlanCluster, PlanEdge, PlanGraph, PlanNode
from om_dsl.render.template import render_plan_template, template_graph

__all__ = [
    "FORMATS",
    "Format",
    "GraphvizNotFound",
    "PlanCluster",
    "PlanEdge",
    "PlanGraph",
    "PlanNode",
    "PlanOptions",
    "RenderError",
    "choose_format",
    "draw_plan",
    "live_graph",
    "live_svg",
    "order_plan_graph",
    "parse_format",
    "read_live",
    "render",
    "render_catalog",
    "render_decomposition",
    "render_live",
    "render_order_plan",
    "render_plan_template",
    "template_graph",
]
