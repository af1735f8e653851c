"""The plan of one order: an immutable spec of item instances and the edges between them.

Like SpiffWorkflow's WorkflowSpec, a plan never changes once built; execution state (states,
attempts, outputs, timers) lives apart from it, one store row per item.  Ids are deterministic:
an item is ``<line id>:<item name>``, so the same order always gets the same plan, whatever the
hash seed, and a host can reason about ids before anything runs.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from om_dsl.ir.models import Action, Scope, SourceSpan

WhenAt = Literal["none", "plan", "ready"]
"""When an item's ``when`` is evaluated: never (no condition), at plan time (it reads only line
and order data), or when the item becomes ready (it reads outputs of other items)."""


def _is_none(value: object) -> bool:
    return value is None


class PlanModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PlanLine(PlanModel):
    """A fulfillment line as the runtime needs it: the data its items read."""

    id: str
    product: str
    action: Action
    scope: Scope = "line"
    request: str
    root_items: tuple[str, ...] = ()
    source_items: tuple[str, ...] = ()
    parent_line: str | None = None
    wait: Literal["none", "after_parent", "before_parent"] = "none"
    attributes: dict[str, Any] = {}
    changed: tuple[str, ...] = ()
    """On modify: the attributes the order changes (``changed(line.x)`` in plans)."""
    previous: dict[str, Any] = {}
    """On modify: the values of changed attributes before the order, those it gave
    (``previous(line.x)``)."""
    peers: tuple[str, ...] = ()
    """Other lines whose item outputs this line's expressions may read as ``Product.item.x``:
    lines sharing a root item, the parent and child lines, and lines linked by a dependency."""
    planned: bool = True
    """False when the catalog has no plan for (product, action), e.g. most noChange lines."""
    superseded: int = 0
    """The revision that replaced this line (0: the line is live).  An amendment keeps the
    work already done on a line it changes or removes, under the id ``<line id>~<revision>``:
    its compensations undo that work now, and the history stays readable."""


class PlanItemInstance(PlanModel):
    """One task of the order: a plan item of the catalog instantiated for one line."""

    id: str
    line_id: str
    request_id: str
    product: str
    name: str
    kind: str
    deps: tuple[str, ...] = ()
    """Ids of the items this one waits for (all must be completed or skipped)."""
    ponr: bool = False
    root_items: tuple[str, ...] = ()
    compensation_of: tuple[str, ...] = ()
    """For a compensation item: the items whose ``undo`` names it.  It runs only on cancel, and
    only if one of them completed; its ``deps`` then order the compensations in reverse."""
    expect_ms: int | None = None
    timeout_ms: int | None = None
    when: WhenAt = "none"
    initial: Literal["pending", "skipped"] = "pending"
    skip_reason: str | None = None
    revision: int = 0
    """The amendment that planned this run of the item (0: the order as submitted): an item
    an amendment runs again gets a new idempotency key (``@<revision>``)."""
    span: SourceSpan
    fails: str | None = Field(default=None, exclude_if=_is_none)
    """Why the item fails (fatally) when it becomes ready: the condition of a `depend` that
    names it failed to evaluate when the plan was built.  Left out of the JSON while None, so
    the plans of catalogs without such conditions keep their bytes (``exclude_if``: a wrap
    serializer on the model made every plan item's serialization 2.7 times slower)."""

    @property
    def is_compensation(self) -> bool:
        return bool(self.compensation_of)


class OrderPlan(PlanModel):
    """Everything the runtime needs to execute an order, without re-running decomposition."""

    order_id: str
    catalog_hash: str
    order_fields: dict[str, Any] = {}
    order_items: tuple[tuple[str, str], ...] = ()
    """(id, action) of every item of the commercial order, in its order: what its TMF622 view
    lists, with the action the client sent, including items that produced no work.  Empty
    when the plan was built without the order."""
    client: dict[str, Any] = {}
    """The TMF622 order's own fields as its client sent them (:attr:`Order.client`), shown
    back in its views; rules and items never read them."""
    client_items: dict[str, dict[str, Any]] = {}
    """Item id -> the item's fields as its client sent them (:attr:`Order.client_items`)."""
    lines: tuple[PlanLine, ...] = ()
    items: tuple[PlanItemInstance, ...] = ()
    revision: int = 0
    """How many amendments the order had (0: as submitted)."""

    def item(self, item_id: str) -> PlanItemInstance:
        """The item with this id (a linear scan: for tests and tools, not the hot path)."""
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    def line(self, line_id: str) -> PlanLine:
        for line in self.lines:
            if line.id == line_id:
                return line
        raise KeyError(line_id)
