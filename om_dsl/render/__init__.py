"""Diagrams for architects and operators, rendered with Graphviz.

Views build a Graphviz ``Digraph`` (deterministic DOT source); :func:`render` turns any of
them into dot, svg, png or pdf bytes.  Phase 1 views need only the compiled IR:

- :func:`render_catalog`: offers, bundles and technical products, rules and systems;
- :func:`render_plan_template`: one technical product's plan for one action.

Plan views share :class:`PlanGraph` and :func:`draw_plan`, so the whole-order and live
views draw through the same code.
"""

from om_dsl.render.catalog import render_catalog
from om_dsl.render.errors import GraphvizNotFound, RenderError
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
    "parse_format",
    "render",
    "render_catalog",
    "render_plan_template",
    "template_graph",
]
