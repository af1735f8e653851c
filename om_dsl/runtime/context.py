"""The context an item kind (and an auto handler) gets when its item starts.

Outputs of other items are read lazily, when the handler asks: most handlers never do, and a
snapshot of a large order per start would cost more than the handler.  Each output dict is set
once, when its item completes, so a sync handler reading from a worker thread sees whole values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from om_dsl.expr.change import CHANGE_ROOT, LINE_FUNCTIONS
from om_dsl.expr.evaluate import EvalError
from om_dsl.ir import models as ir
from om_dsl.orders.issues import show
from om_dsl.runtime.live import ItemRun, OrderRun
from om_dsl.runtime.templates import plain_text


class ItemContext:
    """One attempt of one item: what to do, for which line and order, and under which key.

    Attributes:
        order_id: the order.
        item_id: the item, ``<line id>:<item name>``.
        attempt: 1 for the first attempt, counting every retry and every restart.
        idempotency_key: ``<order id>/<item id>``, the same for every attempt and across
            restarts, so that a host can make the item's effect exactly-once.  An item that
            an amendment runs again with new values has ``@<revision>`` appended: the new
            run is another effect, which a downstream system must not take for a repeat.
        deadline: epoch seconds at which the attempt times out, or None.
        key_from: the attempt from which the key sent downstream counts: a callout's
            ``Idempotency-Key`` is another one after its system answered with a definite
            failure (docs/downstream.md); None for an item an older om_dsl started.
    """

    __slots__ = (
        "_item", "_order", "attempt", "deadline", "idempotency_key", "item_id", "key_from",
        "order_id",
    )  # fmt: skip

    def __init__(
        self, order: OrderRun, item: ItemRun, attempt: int, deadline: float | None
    ) -> None:
        self._order = order
        self._item = item
        self.order_id = order.id
        self.item_id = item.id
        self.attempt = attempt
        self.deadline = deadline
        key = f"{order.id}/{_first_id(item)}"
        self.idempotency_key = f"{key}@{item.revision}" if item.revision else key
        self.key_from = item.key_from

    @property
    def spec(self) -> Any:
        """The catalog's plan item (``AutoItem``, ``CalloutItem``, ``ManualItem``, ...)."""
        return self._item.tpl.spec

    @property
    def kind(self) -> str:
        return self._item.tpl.kind

    @property
    def name(self) -> str:
        return self._item.tpl.name

    @property
    def product(self) -> str:
        return self._item.line.product

    @property
    def line_id(self) -> str:
        return self._item.line.id

    @property
    def action(self) -> str:
        return self._item.line.action

    @property
    def line(self) -> Mapping[str, Any]:
        """The line's attributes (``line.x`` in expressions)."""
        return self._item.line.attributes

    def changed(self, attribute: str) -> bool:
        """``changed(line.x)`` of the catalog: whether the order sets (add) or changes
        (modify) the line's attribute, so a modify handler can redo only what changed."""
        return bool(self._line_function("changed", attribute))

    def previous(self, attribute: str) -> Any:
        """``previous(line.x)``: the attribute's value before the order (None before an add,
        or on a modify that did not give it)."""
        return self._line_function("previous", attribute)

    def _line_function(self, name: str, attribute: str) -> Any:
        line = self._item.line
        return LINE_FUNCTIONS[name].impl(line.change, attribute, line.attributes.get(attribute))

    @property
    def order(self) -> Mapping[str, Any]:
        """The order's fields and attributes (``order.x`` in expressions)."""
        return self._order.fields

    @property
    def root_items(self) -> tuple[str, ...]:
        return self._item.line.root_items

    @property
    def catalog(self) -> ir.Catalog:
        """The catalog version the order is pinned to (e.g. to find a callout's system)."""
        return self._order.catalog.catalog

    @property
    def outputs(self) -> dict[str, Any]:
        """Outputs of this line's completed items, by item name."""
        return self._item.line.outputs()

    @property
    def products(self) -> dict[str, dict[str, Any]]:
        """Outputs of related lines' items: ``{product: {item name: outputs}}``."""
        return self._item.line.product_outputs()

    @property
    def order_outputs(self) -> dict[str, Any]:
        """Outputs of every completed item of the order, by item id."""
        return self._order.order_outputs()

    def env(self) -> dict[str, Any]:
        """The environment of compiled expressions (``om_dsl.expr.evaluate``)."""
        return item_env(self._order, self._item)

    def until_holds(self) -> bool:
        """Whether the item's ``until`` condition holds now (True when it has none).

        Raises:
            EvalError: the condition failed to evaluate (e.g. a bad date).
        """
        until = self._item.tpl.until
        return until is None or until.holds(self.env())

    def event_name(self) -> str | None:
        """The event a ``wait ... event`` item waits for: its name, with its placeholders
        (``"link.up.{line.circuit_id}"``) filled from this item's line and outputs.

        Raises:
            EvalError: a placeholder failed to evaluate, or is null.
        """
        tpl = self._item.tpl
        if tpl.event is None:
            event: str | None = getattr(tpl.spec, "event", None)
            return event
        name = tpl.event.render(self.env(), "the event placeholder", plain_text, EvalError)
        if not name or len(name) > ir.MAX_EVENT_NAME:  # `om signal` and the API refuse such a name
            what = "empty" if not name else f"{len(name)} characters long"
            raise EvalError(
                f"the event name {tpl.spec.event!r} makes {show(name, 60)}, which is {what}: "
                f"nobody could signal it (1 to {ir.MAX_EVENT_NAME} characters)"
            )
        return name

    def __repr__(self) -> str:
        return f"ItemContext({self.idempotency_key!r}, attempt={self.attempt})"


def _first_id(item: ItemRun) -> str:
    """The id an item had when its request was first sent.  An item kept on the history line
    of an amendment (``1/Line~1:reserve``) because its outcome is unknown is sent again only to
    learn that outcome: under its old key, or the system would take it for a new request.
    (A compensation of a history line is work of its own, with its own key.)"""
    line = item.line
    if not line.superseded or item.comp_of:
        return item.id
    base = line.id.removesuffix(f"~{line.superseded}")
    return base + item.id[len(line.id) :]


def item_env(order: OrderRun, item: ItemRun) -> dict[str, Any]:
    line = item.line
    return {
        "line": line.attributes,
        CHANGE_ROOT: line.change,
        "order": order.fields,
        "item": line.outputs(),
        "product": line.product_outputs(),
    }
