"""The JSON shapes of the API, as pydantic models: request bodies are validated with them, and
they document the answers in the OpenAPI schema.

TMF622 resources (``ProductOrder``, ``CancelProductOrder``, ``EventSubscription``, ``Error``)
keep TMF's camelCase names and ignore unknown fields on input, as TMF clients send extensions;
the operations API (tasks, systems, fallout) is this project's own and refuses unknown fields,
so that a typo is an error rather than silently ignored.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from om_dsl.durations import parse_duration
from om_dsl.ir.models import MAX_EVENT_NAME
from om_dsl.orders.issues import show

MAX_TEXT = 2000
"""Characters of a free-text field (a reason, a user name is shorter)."""
_DATE_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})", re.ASCII
)


DATE_TIME_ERROR = "date_time"
DATE_TIME_RULE = "must be an RFC 3339 date-time with an offset, such as 2026-01-31T10:00:00Z"


def date_time(value: str) -> str:
    """An RFC 3339 date-time (TMF's ``format: date-time``), kept as the client wrote it.

    Raises:
        PydanticCustomError: anything else (``tomorrow``, a date without a time or an offset,
            a 13th month): a 400 whose issue has the field's JSON path, the rule, the value and
            what is wrong with it when the form is right.
    """
    problem = _date_time_problem(value)
    if problem is not None:
        raise PydanticCustomError(
            DATE_TIME_ERROR, "{rule}; got {value}{problem}",
            {"rule": DATE_TIME_RULE, "value": show(value), "problem": problem},
        )  # fmt: skip
    return value


def _date_time_problem(value: str) -> str | None:
    """None for a valid date-time; else what to add to the rule (the calendar's objection)."""
    if not _DATE_TIME.fullmatch(value):
        return ""
    try:
        datetime.fromisoformat(value.upper())
    except ValueError as exc:
        if "timedelta" in str(exc):  # Python's words: "strictly between -timedelta(hours=24)..."
            return " (an offset is at most 23:59 either way)"
        return f" ({exc})"
    return None


DateTime = Annotated[
    str, AfterValidator(date_time), Field(max_length=64, json_schema_extra={"format": "date-time"})
]


DURATION_ERROR = "duration"


def duration(value: str) -> str:
    """A duration as ``om prune --older-than`` takes it (``90d``, ``12h``), kept as written.

    Raises:
        PydanticCustomError: anything else (``90days``, ``1.5d``): a 400 whose issue says the
            forms and what was likely meant (``90d``, ``36h``).
    """
    try:
        parse_duration(value)
    except ValueError as exc:
        raise PydanticCustomError(DURATION_ERROR, "{reason}", {"reason": str(exc)}) from None
    return value


class _Tmf(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class _Ops(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    not_here: ClassVar[dict[str, str]] = {}
    """Fields a client may expect that the route does not take, and why: said with the
    unknown field's 400 (S012)."""


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


AS_SENT = "as the client sent it"
Echo = Annotated[Any, Field(description=AS_SENT)]
"""An attribute the service shows back as its client sent it.  Typed ``Any``: decomposition
reads none of them, so they are not checked on the way in, and the answer must not claim a
type the client's value may not have."""


class ProductOrderItem(_Tmf):
    id: str
    action: str | None = None
    state: str | None = None
    quantity: Echo = None
    appointment: Echo = None
    billingAccount: Echo = None
    itemPrice: Echo = None
    itemTerm: Echo = None
    itemTotalPrice: Echo = None
    payment: Echo = None
    product: Echo = None
    productOffering: Echo = None
    productOfferingQualificationItem: Echo = None
    productOrderItemRelationship: Echo = None
    qualification: Echo = None
    quoteItem: Echo = None
    baseType: Echo = Field(None, alias="@baseType")
    schemaLocation: Echo = Field(None, alias="@schemaLocation")
    type_: str | None = Field(None, alias="@type")


class ProductOrder(_Tmf):
    """TMF ``ProductOrder`` as this service shows it (``fields`` may select fewer): ours
    (id, href, state, dates, items' states) over the rest, shown as the client sent it."""

    id: str
    href: str | None = None
    externalId: str | None = None
    category: str | None = None
    priority: str | None = None
    state: str | None = None
    orderDate: str | None = None
    completionDate: str | None = None
    cancellationDate: Echo = None
    cancellationReason: Echo = None
    description: Echo = None
    expectedCompletionDate: str | None = None
    notificationContact: Echo = None
    requestedCompletionDate: Echo = None
    requestedStartDate: Echo = None
    agreement: Echo = None
    billingAccount: Echo = None
    channel: Echo = None
    note: Echo = None
    orderTotalPrice: Echo = None
    payment: Echo = None
    productOfferingQualification: Echo = None
    quote: Echo = None
    relatedParty: Echo = None
    characteristic: Echo = None
    productOrderItem: list[ProductOrderItem] | None = None
    baseType: Echo = Field(None, alias="@baseType")
    schemaLocation: Echo = Field(None, alias="@schemaLocation")
    type_: str | None = Field(None, alias="@type")


class Product(_Tmf):
    """TMF637 ``Product``: a product instance of the inventory, as completed orders left it
    (``fields`` may select fewer)."""

    id: str
    href: str | None = None
    name: str | None = None
    status: str | None = None
    isBundle: bool | None = None
    startDate: str | None = None
    terminationDate: str | None = None
    productOffering: dict[str, Any] | None = None
    productCharacteristic: list[dict[str, Any]] | None = None
    billingAccount: dict[str, Any] | None = None
    relatedParty: list[dict[str, Any]] | None = None
    productOrderItem: list[dict[str, Any]] | None = None
    type_: str | None = Field(None, alias="@type")


class ProductOrderRef(_Tmf):
    id: str = Field(min_length=1, max_length=MAX_TEXT)
    href: str | None = None
    referredType: str | None = Field(None, alias="@referredType")


class CancelProductOrderCreate(_Tmf):
    """TMF ``CancelProductOrder_Create``."""

    productOrder: ProductOrderRef
    cancellationReason: str | None = Field(None, max_length=MAX_TEXT)
    requestedCancellationDate: DateTime | None = None
    baseType: str | None = Field(None, alias="@baseType", max_length=MAX_TEXT)
    schemaLocation: str | None = Field(None, alias="@schemaLocation", max_length=MAX_TEXT)
    type_: str | None = Field(None, alias="@type", max_length=MAX_TEXT)
    """The client's class of the request (a subclass of ``CancelProductOrder``), shown back."""


class CancelProductOrder(_Tmf):
    """TMF ``CancelProductOrder``.  ``state`` is TMF's task state (accepted, inProgress, done,
    terminatedWithError); ``cancellationState`` (an extension) is the order's side of it:
    assessingCancellation, pendingCancellation, cancelled, or rejected (after the PONR, with
    ``rejectionReason``, another extension)."""

    id: str
    href: str | None = None
    productOrder: ProductOrderRef
    cancellationReason: str | None = None
    requestedCancellationDate: str | None = None
    effectiveCancellationDate: str | None = None
    state: str
    cancellationState: str
    rejectionReason: str | None = None
    baseType: str | None = Field(None, alias="@baseType")
    schemaLocation: str | None = Field(None, alias="@schemaLocation")
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
    """A manual task (``GET /tasks`` lists the open ones).  ``id`` addresses it in
    ``/tasks/{id}/...``."""

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
    state: str = Field(
        description="open, or what became of it: completed, failed, skipped, cancelled, "
        "closed (its item was sent back to run again: its next attempt opens a new task)"
    )


class ClaimTask(_Ops):
    user: str | None = Field(
        None, min_length=1, max_length=200, description="default: the API client"
    )


class CompleteTask(_Ops):
    user: str | None = Field(None, min_length=1, max_length=200)
    outputs: dict[str, Any] = Field(default_factory=dict)


class FailTask(_Ops):
    user: str | None = Field(None, min_length=1, max_length=200)
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
    reason: str | None = None
    """Why the switch was flipped last, as the client who flipped it said."""


class SwitchSystem(_Ops):
    reason: str | None = Field(
        None,
        max_length=MAX_TEXT,
        description="Why (a maintenance window, an incident): kept with the switch, shown in "
        "the held callouts' state and in the released items' event log",
    )


class SystemSwitch(BaseModel):
    system: System
    released: int
    """Callouts released from hold by bringing the system online."""


class ItemAction(_Ops):
    itemId: str = Field(min_length=1, max_length=MAX_TEXT)
    reason: str | None = Field(
        None,
        max_length=MAX_TEXT,
        description="Why, kept in the event log with the client's name (who acted)",
    )


class SkipItem(ItemAction):
    force: bool = Field(
        False,
        description="Skip even though items still to run read the item's outputs (they read "
        "null): without it such a skip is refused (409), naming them",
    )


class CompleteItem(ItemAction):
    outputs: dict[str, Any] = Field(default_factory=dict)


class Signal(_Ops):
    event: str = Field(min_length=1, max_length=MAX_EVENT_NAME)
    payload: dict[str, Any] = Field(default_factory=dict)
    reason: str | None = Field(
        None,
        max_length=MAX_TEXT,
        description="Why, kept in the event log with the client's name (who signalled)",
    )


class Signalled(BaseModel):
    completed: int


class FalloutItem(BaseModel):
    orderId: str
    itemId: str
    name: str
    kind: str
    product: str
    """The technical product of the item's line."""
    system: str | None
    """The downstream system the item's callout calls (null: the item is no callout)."""
    attempt: int
    failures: int
    reason: str | None


Name = Annotated[str, Field(min_length=1, max_length=200)]


class FalloutRetry(_Ops):
    """``POST /fallout/retry``: which items in fallout to retry (every field given must
    match), and why.  Naming none is refused unless ``all`` says so: a bulk retry of every
    item by accident (an empty body) would be hard to take back."""

    system: Name | None = Field(None, description="The system the item's callout calls")
    orderId: str | None = Field(None, min_length=1, max_length=MAX_TEXT)
    itemIdPattern: str | None = Field(
        None,
        min_length=1,
        max_length=MAX_TEXT,
        description="A shell-style pattern of item ids (*:subscribe, 7/*), case-sensitive",
    )
    product: Name | None = Field(None, description="The technical product of the item's line")
    all: bool = Field(False, description="Retry every item in fallout (when no filter is given)")
    reason: str | None = Field(
        None,
        max_length=MAX_TEXT,
        description="Why, kept in each retried item's event log with the client's name",
    )


class ItemRef(BaseModel):
    orderId: str
    itemId: str


class RefusedItem(ItemRef):
    reason: str
    """Why its retry was refused (it moved since it was found: retried, cancelled...)."""


class FalloutRetried(BaseModel):
    """What a bulk retry did.  The lists name at most the first 100 items; the counts are
    all of them."""

    retried: int
    items: list[ItemRef]
    refused: int
    refusedItems: list[RefusedItem]


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
    by: str | None = None
    """Who took the operator action the row records: the API client's name (the principal),
    or ``om``'s ``--user``; null for the runtime's own moves."""
    reason: str | None = None
    """The reason they gave."""


class CallbackAnswer(BaseModel):
    """The answer to an async callout's callback (the runtime's own small shape)."""

    status: str | None = None
    result: str | None = None
    """``resolved``, ``early`` (kept for the item's next attempt) or ``ignored``."""
    error: str | None = None
    code: str | None = None
    """On a 400 for a body that is not UTF-8 text (``S010``) or gives a key twice (``S026``)."""


class Health(BaseModel):
    status: str
    detail: str | None = None


class WhoAmI(BaseModel):
    """``GET /whoami``: what the service made of the caller's token (never the token)."""

    client: str
    """The name the token is registered under (``dev`` in dev mode)."""
    role: Literal["read", "client", "operator", "admin"]
    roles: list[str]
    """The role and every role below it: what the token may do."""
    devMode: bool


class NotificationView(BaseModel):
    """One notification of the outbox (an event for one listener)."""

    eventId: str
    """The TMF event's id, kept when it is sent again: a listener drops one it had."""
    eventType: str
    orderId: str
    orderState: str | None
    """The state the event reports (a cancel request's event: the request's)."""
    listener: str
    """The listener's URL as logs show it (no credentials; ``?...`` for a query)."""
    state: str
    """``pending``, ``delivered`` or ``abandoned`` (given up after its attempts)."""
    attempts: int
    lastError: str | None
    nextAttemptAt: str | None
    deliveredAt: str | None


class NotificationRetry(_Ops):
    """``POST /notifications/retry``: which abandoned notifications to send again (each field
    given must match); naming none is refused unless ``all`` says so."""

    orderId: str | None = Field(None, min_length=1, max_length=MAX_TEXT)
    listener: str | None = Field(
        None,
        min_length=1,
        max_length=4096,
        description="The listener's URL, or as GET /notifications shows it",
    )
    all: bool = Field(False, description="Every abandoned notification (when no filter is given)")
    reason: str | None = Field(
        None, max_length=MAX_TEXT, description="Why, kept in each order's event log"
    )


class NotificationRetried(BaseModel):
    retried: int
    """How many abandoned notifications became pending again, with fresh attempts."""


class Prune(_Ops):
    """``POST /prune``: remove the orders that finished longer ago than ``olderThan``, as
    ``om prune`` does (its options, in the API's spelling)."""

    olderThan: Annotated[str, AfterValidator(duration)] = Field(
        max_length=32,
        description="Prune the orders that finished longer ago than this: 90d, 12h, 30m "
        "(required: there is no default retention)",
    )
    dryRun: bool = Field(False, description="Say what would be pruned; change nothing")
    includeUndelivered: bool = Field(
        False,
        description="Prune orders whose notifications are not all delivered (pending, "
        "abandoned) too",
    )
    not_here: ClassVar[dict[str, str]] = {
        "vacuum": "the service does not vacuum: VACUUM rewrites the whole store file and "
        "needs the runner lock, which the running service holds; stop the service and run "
        "om prune --vacuum (pruned space is reused by new orders meanwhile)",
    }


class PruneAnswer(BaseModel):
    """What a prune did, in the shape of ``om prune --format json`` (snake case, epoch
    seconds), so that one script reads both."""

    dry_run: bool
    finished_before: float
    """The cutoff: orders whose final transition is before it went (epoch seconds)."""
    orders: int
    states: dict[str, int]
    """Orders pruned (or, in a dry run, to prune) by final state."""
    oldest: float | None
    newest: float | None
    kept_undelivered: int
    """Finished orders older than the cutoff kept for notifications still owed."""
    bytes: int
    """A dry run: about the bytes of their rows; a prune: bytes of the file freed for new
    orders."""
    transactions: int
    seconds: float
    vacuum: None = None
    """Always null here: ``om prune --vacuum`` only (it needs the runner lock)."""
