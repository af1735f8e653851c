"""Formats: DOT without Graphviz, SVG that parses and names everything, clear errors."""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from render_examples import ORDER_NAMES, example

from om_dsl.ir.models import Catalog
from om_dsl.render import (
    GraphvizNotFound,
    PlanOptions,
    RenderError,
    choose_format,
    parse_format,
    render,
    render_catalog,
    render_decomposition,
    render_order_plan,
    render_plan_template,
)

SVG = "{http://www.w3.org/2000/svg}"


def _svg_texts(data: bytes) -> str:
    root = ET.fromstring(data)
    assert root.tag == f"{SVG}svg"
    return "\n".join("".join(el.itertext()) for el in root.iter(f"{SVG}text"))


def test_catalog_svg_parses_and_shows_every_product_system_and_queue(acme: Catalog) -> None:
    texts = _svg_texts(render(render_catalog(acme), "svg"))
    names = [p.name for p in (*acme.offers, *acme.technical)]
    names += [s.name for s in acme.systems] + [q.name for q in acme.queues]
    missing = [n for n in names if n not in texts]
    assert not missing


@pytest.mark.parametrize(
    ("product", "action"),
    [("AccessLine", "add"), ("MobileSubscription", "add"), ("VoiceService", "add")],
)
def test_template_svg_parses_and_shows_every_item(acme: Catalog, product: str, action: str) -> None:
    plan = next(p for p in acme.plans if p.product == product and action in p.actions)
    data = render(render_plan_template(acme, product, action), "svg")
    texts = _svg_texts(data)
    assert all(item.name in texts for item in plan.items)
    titles = [el.text for el in ET.fromstring(data).iter(f"{SVG}title")]
    assert all(f"{product}.{item.name}" in titles for item in plan.items)


@pytest.mark.parametrize("name", ORDER_NAMES)
def test_order_plan_svg_parses_and_names_every_item(acme: Catalog, name: str) -> None:
    ex = example(name)
    data = render(render_order_plan(acme, ex.plan, ex.work), "svg")
    assert ET.fromstring(data).tag == f"{SVG}svg"
    text = html.unescape(data.decode())  # Graphviz writes '-' as &#45;
    missing = [item.id for item in ex.plan.items if item.id not in text]
    assert not missing


def test_a_collapsed_plan_still_names_every_item_in_its_tooltips(acme: Catalog) -> None:
    ex = example("home-trio-tv")
    data = render(render_order_plan(acme, ex.plan, ex.work, PlanOptions(collapse=1)), "svg")
    ET.fromstring(data)
    assert all(item.id.encode() in data for item in ex.plan.items)


@pytest.mark.parametrize("name", ORDER_NAMES)
def test_decomposition_svg_parses_and_names_every_item_and_line(acme: Catalog, name: str) -> None:
    ex = example(name)
    data = render(render_decomposition(acme, ex.order, ex.work), "svg")
    texts = _svg_texts(data)
    assert all(item.product in texts for item in ex.order.items)
    assert all(line.id in texts for line in ex.work.lines())


@pytest.mark.parametrize("fmt", ["png", "pdf"])
def test_binary_formats_have_their_magic_number(acme: Catalog, fmt: str) -> None:
    data = render(render_plan_template(acme, "Router", "add"), fmt)
    assert data.startswith(b"\x89PNG" if fmt == "png" else b"%PDF")


def test_dot_needs_no_graphviz_binary(
    acme: Catalog, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    data = render(render_catalog(acme), "dot")
    assert data.startswith(b"digraph catalog {")


def test_a_missing_binary_says_how_to_install_it(
    acme: Catalog, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(GraphvizNotFound) as caught:
        render(render_catalog(acme), "svg")
    message = str(caught.value)
    assert "apt-get install graphviz" in message
    assert "brew install graphviz" in message
    assert "--format dot" in message


def test_formats_are_chosen_by_flag_then_suffix_then_dot() -> None:
    assert choose_format("SVG", "out.svg") == "svg"
    assert choose_format("png", "out.txt") == "png"  # a name of no format: written as asked
    with pytest.raises(RenderError, match=r"--format svg would write svg into out\.png"):
        choose_format("SVG", "out.png")  # a file named for another format: a mistake
    assert choose_format(None, "docs/out.png") == "png"
    assert choose_format(None, "out.gv") == "dot"
    assert choose_format(None, "out") == "dot"
    with pytest.raises(RenderError, match=r"cannot tell the format of out\.jpg: name the file"):
        choose_format(None, "out.jpg")
    assert choose_format("dot", "out.jpg") == "dot"  # asked for: written as asked
    assert choose_format(None, None) == "dot"
    assert choose_format(None, "-") == "dot"


def test_an_unknown_format_lists_the_choices() -> None:
    with pytest.raises(RenderError, match="choose one of: dot, svg, png, pdf"):
        parse_format("gif")
