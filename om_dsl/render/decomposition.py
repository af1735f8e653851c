"""The decomposition of one order: order items on the left, the technical work on the right.

Order items keep the shape of the order (a bundle is a box around its children); each
fulfillment request is a box of its lines.  An edge goes from the item (or, for a line made
from a line, the parent line) to each line it produced and is named by the rule that did it.
What several items share is made obvious twice: a shared request has its own teal box, and a
shared line carries a "shared by ..." badge naming the items it serves.

Given the explanation (``om render decomposition --explain``), the diagram also answers "why
not": each rule that applied to an item or line but made nothing is a grey dashed edge to a
grey card of the product it would have made, with the reason (the condition and the values
it saw).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

import graphviz

from om_dsl.expr.refs import refs
from om_dsl.expr.unparse import unparse
from om_dsl.ir import models as ir
from om_dsl.orders.explain import RuleVerdict, SourceExplanation
from om_dsl.orders.models import (
    Decomposition,
    FulfillmentLine,
    FulfillmentRequest,
    Order,
    OrderItem,
)
from om_dsl.render.analysis import deepest
from om_dsl.render.legend import add_decomposition_legend
from om_dsl.render.style import EDGE_STYLES, KIND_TITLES, MUTED, TONES, Tone, new_graph
from om_dsl.render.text import dot_id, esc, font, plain, row, shorten, table, tooltip
from om_dsl.rules.program import rule_sources

ATTRIBUTES_SHOWN = 4
"""Attributes on a card before the rest are cut to ``+ N more`` (never one alone: the row that
says so would take the same room)."""
CHANGES_SHOWN = 3
_SHARED_BADGE = TONES["shared"].line


def render_decomposition(
    catalog: ir.Catalog,
    order: Order,
    decomposition: Decomposition,
    explanation: Sequence[SourceExplanation] | None = None,
) -> graphviz.Digraph:
    """The diagram of how ``order`` decomposed into fulfillment requests and lines; with
    ``explanation`` (:func:`om_dsl.orders.explain.explain`), the rules that made nothing too."""
    view = _View(catalog, order, decomposition)
    graph = new_graph("decomposition", f"Decomposition of order {order.id}", view.subtitle())
    graph.subgraph(view.order_box())
    for request in decomposition.requests:
        graph.subgraph(view.request_box(request))
    edges = view.edges()
    missed = not_matched(explanation or ())
    if missed:
        graph.subgraph(_missed_box(missed))
        edges += [_missed_edge(source, verdict) for source, verdict in missed]
    for source, target, attrs in edges:
        graph.edge(source, target, **attrs)
    ids = view.node_ids() + [_missed_id(source, v) for source, v in missed]
    anchor = deepest(ids, [(e[0], e[1]) for e in edges])
    add_decomposition_legend(graph, anchor, not_matched=bool(explanation))
    return graph


def not_matched(explanation: Iterable[SourceExplanation]) -> list[tuple[str, RuleVerdict]]:
    """(node id of the source, verdict) of each rule that matched in no world of its source
    (a ``modify`` is explained before and after the order: a rule true in either made a
    line), in the explanation's order."""
    matched = {(e.source, v.rule) for e in explanation for v in e.rules if v.matched}
    found: dict[tuple[str, str], tuple[str, RuleVerdict]] = {}
    for entry in explanation:
        kind, _, ident = entry.source.partition(" ")
        node = item_node_id(ident) if kind == "item" else line_node_id(ident)
        for verdict in entry.rules:
            if (entry.source, verdict.rule) not in matched:
                found.setdefault((entry.source, verdict.rule), (node, verdict))
    return list(found.values())


def _missed_id(source: str, verdict: RuleVerdict) -> str:
    return dot_id(f"missed:{source}:{verdict.rule}")


def _missed_box(missed: list[tuple[str, RuleVerdict]]) -> graphviz.Digraph:
    box = _box("not-made", "Not made: rules that did not match", MUTED, "#f8fafc")
    box.attr(style="rounded,dashed,filled")
    for source, verdict in missed:
        rows = [
            row(font("not made", size=8, colour=MUTED, bold=True)),
            row(font(esc(verdict.target), colour=MUTED, bold=True)),
            row(font(esc(shorten(_reason(verdict), 60)), size=9, colour=MUTED)),
        ]
        tip = "\n".join(
            [f"rule {verdict.rule} at {verdict.span} made no {verdict.target}", _reason(verdict)]
            + ([f"when {verdict.condition}"] if verdict.condition else [])
        )
        box.node(
            _missed_id(source, verdict),
            label=table(rows, padding=1),
            shape="box",
            style="rounded,dashed",
            color=MUTED,
            tooltip=tooltip(tip),
        )
    return box


def _reason(verdict: RuleVerdict) -> str:
    seen = ", ".join(f"{k} = {_show(v)}" for k, v in verdict.values.items())
    return verdict.reason + (f" ({seen})" if seen else "")


def _missed_edge(source: str, verdict: RuleVerdict) -> Edge:
    label = plain(
        verdict.rule + (f"\nwhen {shorten(verdict.condition, 30)}" if verdict.condition else "")
    )
    attrs = {"color": MUTED, "style": "dashed", "fontcolor": MUTED, "label": label}
    return source, _missed_id(source, verdict), attrs


def item_node_id(item_id: str) -> str:
    return dot_id(f"item:{item_id}")


def line_node_id(line_id: str) -> str:
    return dot_id(f"line:{line_id}")


Edge = tuple[str, str, dict[str, str]]


class _View:
    """The lookups one decomposition diagram needs, and the pieces it is drawn from."""

    def __init__(self, catalog: ir.Catalog, order: Order, work: Decomposition) -> None:
        self.catalog = catalog
        self.order = order
        self.work = work
        self.offers = {o.name: o for o in catalog.offers}
        self.rules = {r.id: r for r in catalog.rules}
        self.users: dict[str, list[str]] = {}
        for request in work.requests:
            for used in request.uses:
                self.users.setdefault(used, []).append(request.id)
        self.children: dict[str | None, list[OrderItem]] = {}
        for item in order.items:
            self.children.setdefault(item.parent, []).append(item)
        self.products = {item.id: item.product for item in order.items}
        self.sources = {
            catalog.rules[i].id: set(products) for i, products in rule_sources(catalog).items()
        }
        """Rule id -> the products it applies to, families expanded (as the engines see it)."""
        self.decisive = _condition_reads(catalog, self.sources)
        """Product -> the attributes its rules' conditions read: shown first on a cut card."""

    def subtitle(self) -> list[str]:
        lines = self.work.lines()
        shared = sum(1 for r in self.work.requests if r.shared)
        head = (
            f"{len(self.order.items)} order items → {len(self.work.requests)} fulfillment "
            f"requests ({shared} shared) with {len(lines)} lines"
        )
        who = [f"{self.order.format} order"]
        who += [f"account {self.order.account}"] if self.order.account else []
        who += [f"catalog {self.work.catalog_hash[:19]}"]
        return [head, " · ".join(who)]

    def node_ids(self) -> list[str]:
        ids = [item_node_id(i.id) for i in self.order.items]
        return ids + [line_node_id(line.id) for line in self.work.lines()]

    # ---- the order ---------------------------------------------------------------------------

    def order_box(self) -> graphviz.Digraph:
        box = _box("order", f"Order {self.order.id}", TONES["offer"].line, "#fcfcfd")
        self._fill_items(box, None)
        return box

    def _fill_items(self, graph: graphviz.Digraph, parent: str | None) -> None:
        for item in self.children.get(parent, []):
            if item.id in self.children:
                title = f"{self._kind(item)} item {item.id}: {item.product}"
                sub = _box(f"item:{item.id}", title, TONES["bundle"].line, "#faf5ff")
                self._item_node(sub, item)
                self._fill_items(sub, item.id)
                graph.subgraph(sub)
            else:
                self._item_node(graph, item)

    def _kind(self, item: OrderItem) -> str:
        offer = self.offers.get(item.product)
        return offer.kind if offer is not None else "offer"

    def _item_node(self, graph: graphviz.Digraph, item: OrderItem) -> None:
        kind = self._kind(item)
        tone = TONES[kind]
        rows = _card_rows(f"{kind} · {item.action}", tone, item.product, _item_caption(item))
        rows += _value_rows(item.attributes, _item_changes(item), self.decisive.get(item.product))
        _card(graph, item_node_id(item.id), rows, tone, "1.2", _item_tooltip(item))

    # ---- the requests ------------------------------------------------------------------------

    def request_box(self, request: FulfillmentRequest) -> graphviz.Digraph:
        tone = TONES["shared" if request.shared else "request"]
        title = _request_title(request, self.users.get(request.id, []))
        box = _box(f"request:{request.id}", title, tone.line, tone.fill)
        if request.shared:
            box.attr(penwidth="2.5")
        for line in request.lines:
            self._line_node(box, line)
        if not request.lines:
            box.node(_empty_id(request), label="(no lines)", shape="plain", fontcolor=MUTED)
        return box

    def _line_node(self, graph: graphviz.Digraph, line: FulfillmentLine) -> None:
        tone = TONES[line.kind]
        head = f"{KIND_TITLES[line.kind]} · {line.action}"
        if line.scope != "line":
            head += f" · scope {line.scope}"
        rows = _card_rows(head, tone, line.product, shorten(line.id))
        rows += _value_rows(line.attributes, _line_changes(line), self.decisive.get(line.product))
        if line.scope != "line":
            badge = f"shared by {', '.join(line.source_items)}"
            rows.append(
                row(
                    font(esc(shorten(badge)), size=8, colour="white", bold=True),
                    bgcolor=_SHARED_BADGE,
                )
            )
        penwidth = "2" if line.scope != "line" else "1.2"
        _card(graph, line_node_id(line.id), rows, tone, penwidth, _line_tooltip(line))

    # ---- edges -------------------------------------------------------------------------------

    def edges(self) -> list[Edge]:
        """Rules (item -> line, parent line -> child line), then reliesOn between items."""
        found: list[Edge] = []
        for line in self.work.lines():
            found += self._rule_edges(line)
        return found + self._relies_on_edges()

    def _rule_edges(self, line: FulfillmentLine) -> list[Edge]:
        target = line_node_id(line.id)
        if line.parent_line is not None:
            rule = line.rules[0] if line.rules else ""
            return [(line_node_id(line.parent_line), target, self._rule_attrs(rule, line.wait))]
        return [
            (item_node_id(source), target, self._rule_attrs(rule))
            for source in line.source_items
            for rule in self._rules_of(line, source)
        ]

    def _rules_of(self, line: FulfillmentLine, item_id: str) -> list[str]:
        """The line's rules that apply to this source item's product (directly or through a
        family): one edge each.  A shared line lists the rules of all its sources, and
        pairing them by position put one product's rule on another's edge."""
        product = self.products.get(item_id)
        found = [r for r in line.rules if product in self.sources.get(r, ())]
        return found or line.rules[:1] or [""]

    def _rule_attrs(self, rule_id: str, wait: str = "none") -> dict[str, str]:
        attrs = dict(EDGE_STYLES["rule"])
        rule = self.rules.get(rule_id)
        label = [rule_id]
        if rule is not None and rule.when is not None:
            label.append(f"when {shorten(unparse(rule.when), 30)}")
        if wait != "none":
            label.append(wait.replace("_", " "))
        attrs["label"] = plain("\n".join(label))
        attrs["tooltip"] = attrs["labeltooltip"] = tooltip(_rule_tooltip(rule_id, rule))
        return attrs

    def _relies_on_edges(self) -> list[Edge]:
        style = {**EDGE_STYLES["member"], "label": "reliesOn", "constraint": "false"}
        return [
            (item_node_id(item.id), item_node_id(rel.id), dict(style))
            for item in self.order.items
            for rel in item.relationships
            if rel.type == "reliesOn" and any(i.id == rel.id for i in self.order.items)
        ]


# ---- helpers -----------------------------------------------------------------------------------


_TITLE_LIMIT = 100


def _box(name: str, title: str, colour: str, fill: str) -> graphviz.Digraph:
    box = graphviz.Digraph(name=f"cluster_{dot_id(name)}")
    box.attr(  # ids come from orders: a 150-character one made dot lose an edge and fail
        label=f"<{font(esc(shorten(title, _TITLE_LIMIT)), bold=True, colour=colour)}>",
        labeljust="l",
        style="rounded,filled",
        color=colour,
        fillcolor=fill,
        penwidth="1.5",
        fontsize="12",
    )
    return box


def _request_title(request: FulfillmentRequest, users: list[str]) -> str:
    """Who the request is for, and the ``uses`` link between root and shared requests.

    The link is written in both titles rather than drawn: the two boxes share a rank, and
    Graphviz draws an edge within a rank as a loop across the rule edges.
    """
    if not request.shared:
        uses = f" · uses {', '.join(request.uses)}" if request.uses else ""
        return f"{request.id} · root item {request.root_item}{uses}"
    key = f" {request.key}" if request.key and request.scope != "order" else ""
    used = f" · used by {', '.join(users)}" if users else ""
    return f"{request.id} · shared ({request.scope} scope{key}){used}"


def _empty_id(request: FulfillmentRequest) -> str:
    return dot_id(f"empty:{request.id}")


def _item_caption(item: OrderItem) -> str:
    caption = f"item {shorten(item.id)}"
    if item.quantity != 1:
        caption += f", quantity {item.quantity}"
    return caption


def _show(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _card_rows(head: str, tone: Tone, product: str, caption: str) -> list[str]:
    """The top of an item's or a line's card: kind and action, product, id or caption."""
    return [
        row(font(esc(head), size=8, colour=tone.line, bold=True)),
        row(font(esc(product), bold=True)),
        row(font(esc(caption), size=9, colour=MUTED)),
    ]


def _card(
    graph: graphviz.Digraph, node_id: str, rows: list[str], tone: Tone, penwidth: str, tip: str
) -> None:
    """Order items and fulfillment lines are drawn as the same rounded, tinted card."""
    graph.node(
        node_id,
        label=table(rows, padding=1),
        shape="box",
        style="rounded,filled",
        fillcolor=tone.fill,
        color=tone.line,
        penwidth=penwidth,
        tooltip=tooltip(tip),
    )


def _value_rows(
    values: Mapping[str, Any], changes: list[str], first: Collection[str] | None = None
) -> list[str]:
    """Key attributes, then what changed on a modify.  A card with too many attributes shows
    those in ``first`` (what its rules' conditions read, which decides the lines it gets)
    before the others, in the order of ``values``; the rest are counted."""
    shown = [f"{k}={_show(values[k])}" for k in _shown_keys(values, first or ())]
    if len(values) > len(shown):
        shown.append(f"+ {len(values) - len(shown)} more")
    rows = [row(font(esc(shorten(text)), size=9, colour=MUTED)) for text in shown]
    rows += [row(font(esc(shorten(text)), size=9, colour="#9a3412")) for text in changes]
    return rows


def _shown_keys(values: Mapping[str, Any], first: Collection[str]) -> list[str]:
    """The keys of the attributes a card has room for, in the order of ``values``."""
    keys = list(values)
    if len(keys) <= ATTRIBUTES_SHOWN + 1:
        return keys
    ranked = sorted(keys, key=lambda k: k not in first)  # stable: the order of values
    kept = set(ranked[:ATTRIBUTES_SHOWN])
    return [k for k in keys if k in kept]


def _condition_reads(
    catalog: ir.Catalog, sources: Mapping[str, Collection[str]]
) -> dict[str, frozenset[str]]:
    """Product -> the attributes of its items (or lines) that the ``when`` of the rules
    applying to it read (``speed``, ``source.speed``); for a bundle, also those that the rules
    of its parts read as ``bundle.NAME``: they decide its parts' lines."""
    including = _including(catalog)
    reads: dict[str, set[str]] = {}
    for rule in catalog.rules:
        if rule.when is None:
            continue
        read = [r for r in refs(rule.when) if r.path]
        names = {r.path[0] for r in read if r.root == "source"}
        of_bundle = {r.path[0] for r in read if r.root == "bundle"}
        for product in sources.get(rule.id, ()):
            reads.setdefault(product, set()).update(names)
            for bundle in including.get(product, ()) if of_bundle else ():
                reads.setdefault(bundle, set()).update(of_bundle)
    return {product: frozenset(names) for product, names in reads.items()}


def _including(catalog: ir.Catalog) -> dict[str, list[str]]:
    """Product -> the bundles that include it (what its items' ``bundle.NAME`` reads)."""
    out: dict[str, list[str]] = {}
    for offer in catalog.offers:
        for include in offer.includes:
            for product in include.products:
                out.setdefault(product, []).append(offer.name)
    return out


def _item_changes(item: OrderItem) -> list[str]:
    """What the item changes, as the decomposition sees it: an attribute ``previous`` does not
    list is unchanged (marking it drowned the real change in ``+ 2 more changed``)."""
    return _changes(item.changed_attributes(), item.previous or {}, item.attributes)


def _line_changes(line: FulfillmentLine) -> list[str]:
    if line.action != "modify":
        return []
    return _changes(line.changed, line.previous, line.attributes)


def _changes(keys: list[str], before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    texts = [
        f"changed {k}: {_show(before[k])} → {_show(after.get(k))}"
        if k in before
        else f"changed {k}"
        for k in keys[:CHANGES_SHOWN]
    ]
    if len(keys) > CHANGES_SHOWN:
        texts.append(f"+ {len(keys) - CHANGES_SHOWN} more changed")
    return texts


def _pairs(values: Mapping[str, Any]) -> Iterable[str]:
    return (f"  {k} = {_show(v)}" for k, v in values.items())


def _item_tooltip(item: OrderItem) -> str:
    lines = [f"order item {item.id}: {item.product} ({item.action})"]
    lines += [f"at {item.path}"] if item.path else []
    lines += ["attributes:", *_pairs(item.attributes)] if item.attributes else []
    lines += ["before:", *_pairs(item.previous)] if item.previous else []
    lines += [f"{r.type} {r.id}" for r in item.relationships]
    lines += [f"account {item.account}"] if item.account else []
    return "\n".join(lines)


def _line_tooltip(line: FulfillmentLine) -> str:
    lines = [f"line {line.id}: {line.product} ({line.kind}, scope {line.scope}, {line.action})"]
    lines += [f"request {line.request}", "from order item(s) " + ", ".join(line.source_items)]
    lines += ["serves root item(s) " + ", ".join(line.root_items)]
    lines += [f"made from line {line.parent_line} ({line.wait})"] if line.parent_line else []
    lines += ["attributes:", *_pairs(line.attributes)] if line.attributes else []
    lines += ["before:", *_pairs(line.previous)] if line.previous else []
    lines += [f"rule {r} at {s}" for r, s in zip(line.rules, line.rule_spans, strict=False)]
    return "\n".join(lines)


def _rule_tooltip(rule_id: str, rule: ir.DecompositionRule | None) -> str:
    if rule is None:
        return f"rule {rule_id}"
    lines = [f"rule {rule.id}", rule.doc or ""]
    if rule.when is not None:
        lines.append(f"when {unparse(rule.when)}")
    lines += [f"  {m.target} = {unparse(m.expr)}" for m in rule.mappings]
    lines.append(f"declared at {rule.span}")
    return "\n".join(line for line in lines if line)
