"""The JSON shapes of the API, as pydantic models: request bodies are validated with them, and
they document the answers in the OpenAPI schema.

TMF622 resources (``ProductOrder``, ``CancelProductOrder``, ``EventSubscription``, ``Error``)
keep TMF's camelCase names and ignore unknown fields on input, as TMF clients send extensions;
the operations API (tasks, systems, fallout) is this project's own and refuses unknown fields,
so that a typo is an error rather than silently ignored.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

MAX_TEXT = 2000
"""Characters of a free-text field (a reason, a user name is shorter)."""


class _Tmf(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class _Ops(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


# ---- TMF622 ------------------------------------------------------------------------------------


class Issue(BaseModel):
    code: str
    path: str
    message: str


class Error(BaseModel):
    """TMF ``Error``, with ``issues`` (JSON paths into the request) for invalid input."""

    code: str
    reason: str
    message: str | None = None
    status: str | None = None
    issues: list[Issue] | None = None
    type_: str | None = Field(None, alias="@type")


class ProductOrderItem(_Tmf):
    id: str
    action: str | None = None
    state: str | None = None
    type_: str | None = Field(None, alias="@type")


class ProductOrder(_Tmf):
    """TMF ``ProductOrder`` as this service shows it (``fields`` may select fewer)."""

    id: str
    href: str | None = None
    externalId: str | None = None
    category: str | None = None
    priority: str | None = None
    state: str | None = None
    orderDate: str | None = None
    completionDate: str | None = None
    productOrderItem: list[ProductOrderItem] | None = None
    type_: str | None = Field(None, alias="@type")


class ProductOrderRef(_Tmf):
    id: str = Field(min_length=1, max_length=MAX_TEXT)
    href: str | None = None
    referredType: str | None = Field(None, alias="@referredType")


class CancelProductOrderCreate(_Tmf):
    """TMF ``CancelProductOrder_Create``."""

    productOrder: ProductOrderRef
    cancellationReason: str | None = Field(None, max_length=MAX_TEXT)
    requestedCancellationDate: str | None = None


class CancelProductOrder(_Tmf):
    """TMF ``CancelProductOrder``.  ``state`` is TMF's task state (accepted, inProgress, done,
    terminatedWithError); ``cancellationState`` (an extension) is the order's side of it:
    assessingCancellation, pendingCancellation, cancelled, or rejected (after the PONR)."""

    id: str
    href: str | None = None
    productOrder: ProductOrderRef
    cancellationReason: str | None = None
    requestedCancellationDate: str | None = None
    effectiveCancellationDate: str | None = None
    state: str
    cancellationState: str
    type_: str | None = Field(None, alias="@type")


class EventSubscriptionInput(_Tmf):
    callback: str = Field(max_length=4096)
    query: str | None = Field(None, max_length=MAX_TEXT)


class EventSubscription(_Tmf):
    id: str
    callback: str
    query: str | None = None


# ---- operations --------------------------------------------------------------------------------


class Task(BaseModel):
    """An open manual task.  ``id`` addresses it in ``/tasks/{id}/...``."""

    id: str
    orderId: str
    itemId: str
    name: str
    queue: str
    attempt: int
    createdAt: str
    expectedBy: str | None
    overdue: bool
    claimedBy: str | None
    claimedAt: str | None


class ClaimTask(_Ops):
    user: str | None = Field(None, max_length=200, description="default: the API client")


class CompleteTask(_Ops):
    user: str | None = Field(None, max_length=200)
    outputs: dict[str, Any] = Field(default_factory=dict)


class FailTask(_Ops):
    user: str | None = Field(None, max_length=200)
    reason: str = Field(min_length=1, max_length=MAX_TEXT)


class ReassignTask(_Ops):
    from_: str | None = Field(None, alias="from", max_length=200)
    to: str = Field(min_length=1, max_length=200)


class System(BaseModel):
    name: str
    displayName: str | None
    offline: bool
    source: str
    changedAt: str | None
    changedBy: str | None


class SystemSwitch(BaseModel):
    system: System
    released: int
    """Callouts released from hold by bringing the system online."""


class ItemAction(_Ops):
    itemId: str = Field(min_length=1, max_length=MAX_TEXT)
    reason: str | None = Field(None, max_length=MAX_TEXT)


class CompleteItem(_Ops):
    itemId: str = Field(min_length=1, max_length=MAX_TEXT)
    outputs: dict[str, Any] = Field(default_factory=dict)


class Signal(_Ops):
    event: str = Field(min_length=1, max_length=200)
    payload: dict[str, Any] = Field(default_factory=dict)


class Signalled(BaseModel):
    completed: int


class FalloutItem(BaseModel):
    orderId: str
    itemId: str
    name: str
    kind: str
    attempt: int
    failures: int
    reason: str | None


class Event(BaseModel):
    """One row of an order's event log."""

    seq: int
    time: str
    kind: str
    itemId: str | None
    fromState: str | None
    toState: str | None
    attempt: int | None
    detail: str | None


class Health(BaseModel):
    status: str
    detail: str | None = None
